"""The `llmkit` console script: one command over run/report/compare/view/models/cache/prompt."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit
import llmkit.evals as ev
from llmkit.cli import main


def test_console_script_entry_point_resolves_and_prints_the_version() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "llmkit"]
    assert script.value == "llmkit.cli:main" and script.load() is main
    done = subprocess.run([sys.executable, "-m", "llmkit.cli", "--version"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"llmkit {llmkit.__version__}"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("run", "report", "compare", "view", "models", "cache", "prompt"):
        assert command in out


def test_models_json_and_runtime_in_any_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--runtime", "MOCK", "--json"]) == 0
    models = json.loads(capsys.readouterr().out)
    oracle = next(m for m in models if m["id"] == "oracle:mock")
    assert {m["runtime"] for m in models} == {"mock"} and oracle["available"] is True
    assert oracle["usd_per_mtok"]["input"] and oracle["price_illustrative"] is True
    assert main(["models", "--runtime", "Mock"]) == 0 and "oracle:mock" in capsys.readouterr().out
    assert main(["models", "--runtime", "nope"]) == 2 and "allowed:" in capsys.readouterr().err


def test_prompt_streams_the_answer_then_a_stats_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompt", "-m", "reasoner-effort:mock", "-o", "reasoning_effort=low", "-o", "temperature=0.2",
                 "What is 6 * 7?"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "The answer is 42.\n"
    assert captured.err.startswith("reasoner-effort:mock · latency ") and "tokens in " in captured.err
    assert "reasoning " in captured.err and "cost $" in captured.err


def test_prompt_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("What is the capital of France?\n"))
    assert main(["prompt", "-m", "oracle:mock", "--no-stats"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "The capital of France is Paris.\n" and captured.err == ""


def test_prompt_errors_exit_with_an_actionable_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompt", "-m", "flaky:mock", "hi [fail:auth]"]) == 1
    err = capsys.readouterr().err
    assert "AuthenticationError" in err and "[fail:auth]" in err
    assert "MOCK_API_KEY" not in err, "no variable to set for a simulated failure (notebook 01 showed this hint)"
    assert main(["prompt", "-m", "nope:mock", "hi"]) == 2
    assert "Unknown model" in capsys.readouterr().err
    assert main(["prompt", "-m", "oracle:mock", "-o", "temperature", "hi"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_cache_command_forwards_to_the_cache_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "stats", "--json", "--dir", str(tmp_path / "none")]) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 0


def test_view_writes_the_report_and_opens_a_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = ev.run(write_spec(tmp_path, models=["oracle:mock"], repeats=1), progress=False).run_dir
    assert main(["view", str(run_dir), "--no-open", "--no-figures"]) == 0
    assert capsys.readouterr().out.strip() == f"report: {run_dir / 'report' / 'report.html'}"
    import webbrowser

    monkeypatch.setattr(webbrowser, "_tryorder", None)  # forget browsers found earlier in this process
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setenv("BROWSER", "true")  # the `true` command stands in for a browser: it accepts the URL
    assert main(["view", str(run_dir), "--no-figures"]) == 0
    assert "no browser" not in capsys.readouterr().err
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setenv("BROWSER", str(tmp_path / "no-such-browser"))
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing else to fall back on
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["view", str(run_dir), "--no-figures"]) == 0
    captured = capsys.readouterr()
    assert "report.html" in captured.out and "no browser found" in captured.err


def test_compare_pairs_two_runs_by_prompt_and_repeat(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = ev.run(write_spec(tmp_path, models=["echo:mock"], configs=[{"label": "default"}]), progress=False).run_dir
    b = ev.run(write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}]), progress=False).run_dir
    out_csv = tmp_path / "cmp.csv"
    assert main(["compare", str(a), str(b), "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "echo:mock/default" in out and "oracle:mock/default" in out and "diff = B − A" in out
    import pandas as pd

    row = pd.read_csv(out_csv).iloc[0]
    assert row["pairs"] == 10 and row["contains_a"] == 0 and row["contains_b"] == 1
    assert row["contains_diff"] == 1 and row["contains_changed"] == 10
    both = ev.run(write_spec(tmp_path, models=["echo:mock", "oracle:mock"]), progress=False).run_dir
    assert main(["compare", str(both), str(a)]) == 0  # shared variants pair with themselves
    assert main(["compare", str(both), str(tmp_path)]) == 2


def test_python_m_llmkit_evals_still_works(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock"], repeats=1)
    done = subprocess.run([sys.executable, "-m", "llmkit.evals", "run", str(spec), "--no-progress"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "report: llmkit report" in done.stdout
