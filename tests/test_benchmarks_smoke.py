"""`python -m benchmarks --smoke` checks the suite runs without touching the committed results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_smoke_writes_to_the_temp_dir_not_the_committed_results(tmp_path: Path) -> None:
    committed = ROOT / "benchmarks" / "results" / "latest.json"
    before = committed.read_bytes() if committed.exists() else None
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--only", "imports"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    (written,) = tmp_path.glob("*/latest.json")  # a fresh directory in the (redirected) temp dir
    assert str(written) in done.stdout
    assert (committed.read_bytes() if committed.exists() else None) == before
