"""One writer per run directory (issue 16.3): two `--resume` of the same run at once used to write 568 lines for
300 rows and spend 1.9x the budget. Now the second process exits 2 naming the holder, the first finishes the run
alone, and the lock a kill -9 leaves behind is taken over by the next resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.errors import RunLockedError, RunStoreError
from llmkit.evals.runlock import OWNER_FILE, RunLock
from llmkit.evals.spec import SpecError
from llmkit.evals.store import iter_rows

SLOW = [{"label": "default", "extra_params": {"latency_ms": 100}},
        {"label": "cold", "temperature": 0.0, "extra_params": {"latency_ms": 100}}]


def _cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "llmkit.evals", "run", *args, "--no-progress"], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rows(run_dir: Path) -> int:
    path = run_dir / "rows.jsonl"
    return sum(1 for _ in path.open()) if path.exists() else 0


def _killed_run(tmp_path: Path, minimum: int) -> Path:
    """A run SIGKILLed after `minimum` rows: status running, its lock owner record left behind."""
    proc = _cli(str(write_spec(tmp_path, configs=SLOW)), "--concurrency", "2", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dirs = list((tmp_path / "runs").glob("*/"))
        if dirs and _rows(dirs[0]) >= minimum:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            return dirs[0]
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.02)
    raise AssertionError("the run wrote no rows")


def test_two_resumes_at_once_one_writes_the_other_exits_2_naming_it(tmp_path: Path) -> None:
    run_dir = _killed_run(tmp_path, 4)
    stale = json.loads((run_dir / OWNER_FILE).read_text())  # kill -9 released nothing by hand
    assert stale["pid"] > 0 and json.loads((run_dir / "run.json").read_text())["status"] == "running"
    first = _cli("--resume", str(run_dir), "--concurrency", "2", cwd=tmp_path)
    deadline = time.monotonic() + 30
    while not ((run_dir / OWNER_FILE).exists()
               and json.loads((run_dir / OWNER_FILE).read_text())["pid"] == first.pid):
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.02)
    second = _cli("--resume", str(run_dir), cwd=tmp_path)
    out2, err2 = second.communicate(timeout=60)
    assert first.poll() is None  # the two really overlapped
    _, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 2, (out2, err2)
    message = err2.strip()
    assert "\n" not in message and "Traceback" not in err2
    assert "another process is writing this run" in message and f"pid {first.pid}" in message
    assert "--resume" in message
    keys = Counter((r["model"], r["config_label"], r["prompt_id"], r["repeat"]) for r in iter_rows(run_dir))
    assert len(keys) == 60 and set(keys.values()) == {1}  # 60 lines for 60 rows: nothing billed twice
    assert _rows(run_dir) == 60
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "completed" and len(manifest["resumes"]) == 1
    assert not (run_dir / OWNER_FILE).exists()  # released on a clean exit


def test_a_second_writer_in_the_same_process_is_refused(tmp_path: Path) -> None:
    result = ev.run(write_spec(tmp_path, models=["echo:mock"], repeats=1), progress=False)
    with RunLock(result.run_dir):
        with pytest.raises(RunLockedError) as caught:
            ev.run(resume=result.run_dir, progress=False)
        assert caught.value.holder["pid"] == os.getpid()
        assert f"pid {os.getpid()}" in str(caught.value)
    assert ev.run(resume=result.run_dir, progress=False).status == "completed"  # free again once released


def test_store_errors_are_their_own_exception(tmp_path: Path) -> None:
    with pytest.raises(RunStoreError, match="not a run directory") as caught:
        ev.load(tmp_path)
    assert not isinstance(caught.value, SpecError)
    assert not (tmp_path / ".lock").exists()
    with pytest.raises(RunStoreError, match="not a run directory"):
        ev.run(resume=tmp_path, progress=False)
    assert not (tmp_path / ".lock").exists()  # no lock file left in a directory that is not a run
    (tmp_path / "run.json").write_text("[1, 2")
    with pytest.raises(RunStoreError, match="unreadable manifest"):
        ev.load(tmp_path)
