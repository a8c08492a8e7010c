"""One writer per run directory.

`RunLock` takes an OS-level lock on `RUN_DIR/.lock` (filelock: `flock` on POSIX, `LockFileEx` on Windows) for as
long as a run or a resume writes the directory, and records who holds it in `RUN_DIR/.lock.owner.json` (pid,
host, start time, command) so a second writer can say which process to wait for. The kernel drops the lock when
its process dies, even on `kill -9`, so a stale lock cannot block a resume: the next writer simply gets it and
overwrites the owner record. Readers (`load`, `report`) never lock; they tolerate a half-written last line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from llmkit.errors import RunLockedError, RunWriteError
from llmkit.secrets import redact_secrets

LOCK_FILE = ".lock"
OWNER_FILE = ".lock.owner.json"

logger = logging.getLogger("llmkit.evals")


class RunLock:
    """Exclusive, non-blocking lock on a run directory; raises RunLockedError naming the holder."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._lock = FileLock(run_dir / LOCK_FILE, timeout=0, thread_local=False)
        self._owner = run_dir / OWNER_FILE

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except Timeout:
            holder = self.holder()
            raise RunLockedError(
                f"{self.run_dir}: another process is writing this run ({describe_holder(holder)})",
                path=str(self.run_dir), holder=holder,
                hint="wait for it to finish or stop it, then run again with --resume") from None
        except OSError as exc:
            raise RunWriteError(f"{self.run_dir}: cannot lock the run directory ({exc.strerror})",
                                path=str(self.run_dir)) from None
        previous = self.holder()
        if previous.get("pid") is not None:  # its process died without releasing (kill -9, power loss)
            logger.info("%s: taking over from %s, which stopped without releasing the run",
                        self.run_dir, describe_holder(previous))
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "command": redact_secrets(" ".join(sys.argv))[:300]}
        try:
            self._owner.write_text(json.dumps(record) + "\n", "utf-8")
        except OSError as exc:  # the lock itself holds; only the courtesy record is missing
            logger.warning("%s: could not record the lock's owner (%s)", self.run_dir, exc.strerror)

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        with contextlib.suppress(OSError):  # a stale record is harmless: the next writer overwrites it
            self._owner.unlink(missing_ok=True)
        self._lock.release()

    def holder(self) -> dict[str, Any]:
        """What the current (or last) holder recorded; {} when nothing readable is there."""
        try:
            data = json.loads(self._owner.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def describe_holder(holder: dict[str, Any]) -> str:
    if not holder.get("pid"):
        return "its owner has not recorded itself yet"
    text = f"pid {holder['pid']} on {holder.get('host', '?')} since {holder.get('started_at', '?')}"
    if holder.get("command"):
        text += f": {redact_secrets(str(holder['command']))}"
    return text
