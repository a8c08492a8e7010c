"""A run's files under faults: a full disk mid-sweep (issue 16.7) and unreadable lines in rows.jsonl (16.9).

The full disk is real and needs no root: the sweep runs in a child process whose RLIMIT_FSIZE stops rows.jsonl
from growing (CPython ignores SIGXFSZ, so the write fails with EFBIG after a short write, exactly where a full
disk would tear a line); /dev/full gives the ENOSPC of a really full device.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.errors import RunWriteError
from llmkit.evals.cli import main
from llmkit.evals.row import RowKey
from llmkit.evals.store import RowWriter, iter_rows

LIMIT = 16 * 1024  # bytes any file of the child may reach: room for run.json, about 20 of the 60 rows


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_fails_the_run_in_one_line_and_resume_loses_nothing(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "llmkit.evals", "run", str(spec), "--no-progress", "--no-cache",
                           "--concurrency", "4"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          preexec_fn=_file_size_limit(LIMIT))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    error = proc.stderr.strip()
    assert "\n" not in error and error.startswith("error: ")
    assert "rows.jsonl: cannot write (File too large)" in error and "--resume" in error
    run_dir = next((tmp_path / "runs").glob("*/"))
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "failed" and "File too large" in manifest["error"]
    data = (run_dir / "rows.jsonl").read_bytes()
    assert data.endswith(b"\n") and len(data) <= LIMIT  # rolled back to the last whole row: no torn line
    before = [json.loads(line) for line in data.splitlines()]
    assert 5 < len(before) < 60
    assert manifest["summary"]["rows"] == len(before)

    assert main(["run", "--resume", str(run_dir), "--no-progress", "--no-cache"]) == 0
    after = list(iter_rows(run_dir))
    keys = {RowKey.of(r) for r in after}
    assert len(after) == 60 and len(keys) == 60  # every row once: nothing finished was re-run (re-billed)
    assert after[: len(before)] == before
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "completed" and "error" not in manifest
    assert len(ev.load(run_dir)) == 60


def test_no_space_left_is_a_typed_error_not_an_oserror(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    (tmp_path / "rows.jsonl").symlink_to("/dev/full")
    writer = RowWriter(tmp_path / "rows.jsonl")
    with pytest.raises(RunWriteError, match="No space left on device") as caught:
        writer.write({"model": "m", "config_label": "c", "prompt_id": "p", "repeat": 0})
    assert caught.value.path == str(tmp_path / "rows.jsonl")
    writer.close()


def _run_with_garbage(tmp_path: Path) -> Path:
    spec = write_spec(tmp_path, models=["echo:mock"], configs=[{"label": "default"}])
    run_dir = ev.run(spec, progress=False).run_dir
    lines = (run_dir / "rows.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 10
    damaged = [*lines[:3], b"garbage{\n", lines[3], b"\xff\xfe not utf-8\n", b"[1, 2]\n", b"\n",
               b'{"model": "echo:mock"}\n', lines[4], b"#" * 40 + b"\n", *lines[6:], lines[5][:30]]
    (run_dir / "rows.jsonl").write_bytes(b"".join(damaged))  # line 11 replaced row 6; the last line is torn
    return run_dir


def test_garbage_lines_are_skipped_with_their_line_numbers(tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    run_dir = _run_with_garbage(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="llmkit.evals"):
        df = ev.load(run_dir)
    assert len(df) == 9
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    path = run_dir / "rows.jsonl"
    assert warned == [f"{path}:4: skipped a line that is not JSON",
                      f"{path}:6: skipped a line that is not JSON",
                      f"{path}:7: skipped a line that is not a row (not a JSON object)",
                      f"{path}:9: skipped a line that is not a row (no 'repeat')",
                      f"{path}:11: skipped a line that is not JSON"]
    torn = [r.getMessage() for r in caplog.records if r.levelno < logging.WARNING]
    assert torn == [f"{path}:16: dropped a torn last line (a writer was killed); resume re-runs its row"]


def test_resume_after_garbage_redoes_only_the_lost_rows(tmp_path: Path) -> None:
    run_dir = _run_with_garbage(tmp_path)
    assert main(["run", "--resume", str(run_dir), "--no-progress"]) == 0
    df = ev.load(run_dir)
    assert len(df) == 10 and not df.duplicated(["prompt_id", "repeat"]).any()
    assert len(list(iter_rows(run_dir))) == 10  # 9 kept + the replaced row; the torn line was cut, not counted


def test_report_warns_on_stderr_once_per_bad_line(tmp_path: Path) -> None:
    run_dir = _run_with_garbage(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "llmkit.evals", "report", str(run_dir), "--no-figures"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in lines] == ["4", "6", "7", "9", "11"]


def test_a_disk_full_before_the_first_row_leaves_no_half_made_run(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "llmkit.evals", "run", str(spec), "--no-progress", "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          preexec_fn=_file_size_limit(2048))  # prompts.jsonl fits, run.json does not
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    error = proc.stderr.strip()
    assert "\n" not in error and "run.json" in error and "start the run again" in error
    assert list((tmp_path / "runs").iterdir()) == []
