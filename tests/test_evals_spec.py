"""Spec validation: one actionable line naming file, line and field; exit code 2 from the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmkit.evals.cli import main
from llmkit.evals.spec import SpecError, load_spec

BAD_FIELD = """\
name: bad
models: [echo:mock]
prompts:
  - {id: a, prompt: hi}
configs:
  - label: default
  - label: hot
    temprature: 0.9
"""


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_unknown_config_field_names_file_line_and_allowed(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, BAD_FIELD))
    message = str(info.value)
    assert "bad.yaml:8:" in message
    assert "configs[1]" in message and "temprature" in message and "temperature" in message
    assert "\n" not in message


def test_out_of_range_value(tmp_path: Path) -> None:
    text = BAD_FIELD.replace("temprature: 0.9", "temperature: 7")
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, text))
    assert "bad.yaml:8: configs[1].temperature" in str(info.value)
    assert "2" in str(info.value)


def test_bad_selector_and_yaml_syntax(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, "name: x\nmodels:\n  - echo:mock\n  - {runtim: ollama}\nprompts: [{prompt: hi}]\n"))
    assert "bad.yaml:4: models[1]" in str(info.value) and "runtim" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, "name: x\nmodels: [echo:mock\nprompts: []\n", "syntax.yaml"))
    assert "syntax.yaml:" in str(info.value) and "YAML syntax error" in str(info.value)


def test_bad_scorer_and_missing_prompt_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, "name: x\nmodels: [echo:mock]\nprompts: [{prompt: hi}]\nscorers: [fuzzy]\n"))
    assert "bad.yaml:4: scorers" in str(info.value) and "allowed" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, "name: x\nmodels: [echo:mock]\nprompts: nowhere.jsonl\n"))
    assert "bad.yaml:3: prompts" in str(info.value) and "nowhere.jsonl" in str(info.value)


def test_prompt_file_errors_name_their_line(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text('{"id": "a", "prompt": "hi"}\n{"id": "b", "prompt": \n', "utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, "name: x\nmodels: [echo:mock]\nprompts: p.jsonl\n"))
    assert "p.jsonl:2" in str(info.value)


def test_csv_prompts_and_data_dir_lookup(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "p.csv").write_text("id,prompt,expected,topic\na,What is 2+2?,4,math\n", "utf-8")
    (tmp_path / "evals").mkdir()
    spec = load_spec(_write(tmp_path / "evals", "name: x\nmodels: [echo:mock]\nprompts: p.csv\n"))
    assert spec.prompts[0].expected == "4" and spec.prompts[0].metadata == {"topic": "math"}


def test_unknown_model_is_a_usage_error_with_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "name: x\nmodels:\n  - echo:mock\n  - orakle:mock\nprompts: [{prompt: hi}]\n")
    assert main(["run", str(path), "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "bad.yaml:4: models[1]" in err and "oracle:mock" in err


def test_cli_subprocess_malformed_spec_exits_2_with_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, BAD_FIELD)
    proc = subprocess.run([sys.executable, "-m", "llmkit.evals", "run", str(path)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: ") and "bad.yaml:8" in proc.stderr


def test_no_arguments_prints_help_with_first_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "python -m llmkit.evals run evals/quickstart.yaml" in capsys.readouterr().out
