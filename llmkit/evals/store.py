"""A run directory on disk, and loading it back as one tidy DataFrame.

    RUN_DIR/
      run.json       manifest: spec, llmkit version, start/end, status, models, skipped configs, env var NAMES
      prompts.jsonl  the prompt set as run (so --resume does not depend on the original file)
      rows.jsonl     one JSON object per finished row, appended as each row finishes
      .lock          held by the one process writing the run (llmkit.evals.runlock); .lock.owner.json says who
      report/        written by `python -m llmkit.evals report`

rows.jsonl is append-only: every row is written to the OS in one write the moment it finishes, so a killed
process loses only the rows in flight; it is fsync'ed at least once a second and on close (protects against a
machine crash too). A write that fails (disk full, file size limit) is rolled back to the last whole row and
raised as RunWriteError, so the file never holds a torn row that counts. Rows are `EvalRow`s (llmkit.evals.row):
costs are Decimal strings on disk, float64 in the DataFrame. A re-run row (resume with --retry-errors) is
appended again; readers keep the last line per RowKey. A torn last line (a killed writer) is dropped and its row
re-run by resume; any other line that is not a row is skipped with a warning naming its line number.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from llmkit.errors import RunStoreError, RunWriteError
from llmkit.evals.row import COLUMNS, EvalRow, RowKey, rows_frame

ROWS_FILE = "rows.jsonl"
MANIFEST_FILE = "run.json"
PROMPTS_FILE = "prompts.jsonl"
COST_COLUMNS = tuple(name for name in COLUMNS if name.endswith("cost_usd"))

logger = logging.getLogger("llmkit.evals")


def write_error(path: Path, exc: OSError) -> RunWriteError:
    """The typed error for a failed write of a run's file (the OSError's own text, never a traceback)."""
    return RunWriteError(f"{path}: cannot write ({exc.strerror or exc})", path=str(path),
                         hint="finished rows are kept; free space (or raise the limit), then finish the run: "
                              f"python -m llmkit.evals run --resume {path.parent}")


class RowWriter:
    """Appends rows to rows.jsonl: one write per row, fsync at most once a second and on close."""

    def __init__(self, path: Path, fsync_interval_s: float = 1.0) -> None:
        self.path = path
        try:
            _repair_tail(path)
            self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
            self._size = self._file.seek(0, os.SEEK_END)
        except OSError as exc:
            raise write_error(path, exc) from None
        self._interval = fsync_interval_s
        self._last_sync = time.monotonic()

    def write(self, row: Mapping[str, Any]) -> None:
        """Append one row, or raise RunWriteError with the file cut back to its last whole row."""
        text = json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        encoded = text.encode("utf-8", "backslashreplace")  # a lone surrogate stays a JSON \\u escape
        data = memoryview(encoded)
        try:
            while data:  # a short write (the file size limit) is finished or fails on the next call
                data = data[self._file.write(data) or 0:]
            now = time.monotonic()
            if now - self._last_sync >= self._interval:
                _fsync(self._file.fileno())
                self._last_sync = now
        except OSError as exc:
            self._rollback()
            raise write_error(self.path, exc) from None
        self._size += len(encoded)

    def _rollback(self) -> None:
        try:
            os.ftruncate(self._file.fileno(), self._size)
        except OSError:
            logger.debug("%s: could not cut a partly written row; the next resume drops it", self.path)

    def close(self) -> None:
        if self._file.closed:
            return
        try:
            _fsync(self._file.fileno())
        except OSError as exc:
            raise write_error(self.path, exc) from None
        finally:
            self._file.close()


def _fsync(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # EINVAL: a file that cannot be synced (a device, a pipe): nothing to do
            raise


def _repair_tail(path: Path) -> None:
    """Cut a torn last line (a killed writer) so appended rows start on a line of their own."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        data = f.read()
        f.seek(data.rfind(b"\n") + 1)
        f.truncate()


def read_rows(run_dir: str | Path) -> Iterator[EvalRow]:
    """Every row of a run in file order; see the module docstring for torn and unreadable lines."""
    path = Path(run_dir) / ROWS_FILE
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below; bytes, so one bad byte cannot end the read
    except FileNotFoundError:
        return
    except OSError as exc:
        raise RunStoreError(f"{path}: cannot read ({exc.strerror})", path=str(path)) from None
    with f:
        for number, line in enumerate(f, 1):
            if not line.endswith(b"\n"):
                logger.debug("%s:%d: dropped a torn last line (a writer was killed); resume re-runs its row",
                             path, number)
                return
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                logger.warning("%s:%d: skipped a line that is not JSON", path, number)
                continue
            if not isinstance(data, dict):
                logger.warning("%s:%d: skipped a line that is not a row (not a JSON object)", path, number)
                continue
            try:
                yield EvalRow.from_json(data)
            except (ValueError, TypeError, KeyError) as exc:
                logger.warning("%s:%d: skipped a line that is not a row (%s)", path, number, _reason(exc))


def _reason(exc: Exception) -> str:
    return f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__


def iter_rows(run_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Every row of a run in file order, as rows.jsonl objects."""
    return (row.to_json() for row in read_rows(run_dir))


def latest_rows(run_dir: str | Path) -> dict[RowKey, EvalRow]:
    """The last row per key (a re-run row replaces the earlier one)."""
    return {row.key: row for row in read_rows(run_dir)}


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    os.replace(tmp, path)


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / MANIFEST_FILE
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise RunStoreError(f"{run_dir}: not a run directory (no {MANIFEST_FILE})", path=str(run_dir),
                            hint="run directories are printed by `python -m llmkit.evals run`") from None
    except OSError as exc:
        raise RunStoreError(f"{path}: cannot read the manifest ({exc.strerror})", path=str(path)) from None
    except ValueError as exc:
        raise RunStoreError(f"{path}: unreadable manifest ({exc})", path=str(path)) from None
    if not isinstance(data, dict):
        raise RunStoreError(f"{path}: unreadable manifest (not an object)", path=str(path))
    return data


def load(run_dir: str | Path) -> Any:
    """The run's rows as a pandas DataFrame with the documented columns and dtypes (llmkit.evals.row)."""
    manifest = read_manifest(run_dir)
    scores = [str(c).removeprefix("score_") for c in manifest.get("score_columns") or []]
    frame = rows_frame(list(latest_rows(run_dir).values()), scores)
    return _in_plan_order(frame, manifest, Path(run_dir)).reset_index(drop=True)


def _in_plan_order(frame: Any, manifest: Mapping[str, Any], run_dir: Path) -> Any:
    """Rows sorted by the spec's model × config order, then prompt order, then repeat (not finish order)."""
    if frame.empty:
        return frame
    variants = {(v["model"], v["config_label"]): i for i, v in enumerate(manifest.get("variants") or [])}
    prompts: dict[str, int] = {}
    path = run_dir / PROMPTS_FILE
    if path.exists():
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f):
                try:
                    prompts.setdefault(str(json.loads(line)["id"]), i)
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue
    v_rank = [variants.get((m, c), len(variants)) for m, c in zip(frame["model"], frame["config_label"], strict=True)]
    p_rank = [prompts.get(p, len(prompts)) for p in frame["prompt_id"]]
    keyed = frame.assign(_v=v_rank, _p=p_rank)
    return keyed.sort_values(["_v", "_p", "repeat"], kind="stable").drop(columns=["_v", "_p"])

