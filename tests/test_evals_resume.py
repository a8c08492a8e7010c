"""Crash safety: SIGKILL mid-run then --resume gives every row once; SIGINT stops cleanly and is resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.evals.cli import main
from llmkit.evals.store import iter_rows

SLOW = [{"label": "default", "extra_params": {"latency_ms": 60}},
        {"label": "cold", "temperature": 0.0, "extra_params": {"latency_ms": 60}}]


def _start(spec: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "llmkit.evals", "run", str(spec), "--concurrency", "2",
                             "--no-progress"], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(runs: Path, minimum: int, proc: subprocess.Popen[str]) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for rows in runs.glob("*/rows.jsonl"):
            if sum(1 for _ in rows.open()) >= minimum:
                return rows.parent
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    raise AssertionError("the run wrote no rows")


def _lines(run_dir: Path) -> list[dict[str, object]]:
    return list(iter_rows(run_dir))


def test_sigkill_then_resume_gives_60_rows_without_rebilling(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, configs=SLOW)
    proc = _start(spec, tmp_path)
    run_dir = _wait_for_rows(tmp_path / "runs", 8, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = _lines(run_dir)
    assert 8 <= len(before) < 60
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"  # killed: never finalised

    assert main(["run", "--resume", str(run_dir), "--no-progress"]) == 0
    after = _lines(run_dir)
    keys = [(r["model"], r["config_label"], r["prompt_id"], r["repeat"]) for r in after]
    assert len(after) == 60 and len(set(keys)) == 60  # every row written exactly once: nothing re-billed
    assert after[: len(before)] == before
    df = ev.load(run_dir)
    assert len(df) == 60 and df["error_type"].isna().all()
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "completed" and len(manifest["resumes"]) == 1


def test_sigint_stops_cleanly_with_summary_and_resumable_dir(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, configs=SLOW)
    proc = _start(spec, tmp_path)
    run_dir = _wait_for_rows(tmp_path / "runs", 4, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted:" in out and "resume: python -m llmkit.evals run --resume" in out
    assert "Traceback" not in err
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "interrupted"
    done = len(_lines(run_dir))
    assert done < 60 and manifest["summary"]["rows"] == done
    assert main(["run", "--resume", str(run_dir), "--no-progress"]) == 0
    assert len(ev.load(run_dir)) == 60 and len(_lines(run_dir)) == 60


def test_resume_retries_error_rows_only_when_asked(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["flaky:mock"], configs=[{"label": "default"}], repeats=1,
                      prompts=[{"id": "ok", "prompt": "What is 2 + 2?"},
                               {"id": "bad", "prompt": "What is 3 + 3? [fail:rate_limit]"}])
    result = ev.run(spec, progress=False)
    assert result.summary.errors == 1
    again = ev.run(resume=result.run_dir, progress=False)
    assert len(_lines(result.run_dir)) == 2 and again.summary.errors == 1
    ev.run(resume=result.run_dir, retry_errors=True, progress=False)
    lines = _lines(result.run_dir)
    assert len(lines) == 3 and lines[-1]["prompt_id"] == "bad"  # only the error row re-ran
    assert len(ev.load(result.run_dir)) == 2


def test_environment_names_only_never_values(tmp_path: Path) -> None:
    os.environ["OPENAI_API_KEY"] = "sk-test-secret-value-123456"
    try:
        result = ev.run(write_spec(tmp_path, models=["echo:mock"], repeats=1), progress=False)
    finally:
        del os.environ["OPENAI_API_KEY"]
    text = (result.run_dir / "run.json").read_text()
    assert "OPENAI_API_KEY" in json.loads(text)["environment"]["env_vars_set"]
    assert "sk-test-secret-value-123456" not in text
    assert "sk-test-secret-value-123456" not in (result.run_dir / "rows.jsonl").read_text()
