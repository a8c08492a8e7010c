"""A run directory on disk, and loading it back as one tidy DataFrame.

    RUN_DIR/
      run.json       manifest: spec, llmkit version, start/end, status, models, skipped configs, env var NAMES
      prompts.jsonl  the prompt set as run (so --resume does not depend on the original file)
      rows.jsonl     one JSON object per finished row, appended as each row finishes
      report/        written by `python -m llmkit.evals report`

rows.jsonl is append-only: every row is written and flushed to the OS the moment it finishes, so a killed
process loses only the rows in flight; it is fsync'ed at least once a second and on close (protects against a
machine crash too). Costs are Decimal strings on disk, float64 in the DataFrame. A re-run row (resume with
--retry-errors) is appended again; `load` keeps the last line per (model, config_label, prompt_id, repeat).
A torn last line from a killed process is ignored.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

ROWS_FILE = "rows.jsonl"
MANIFEST_FILE = "run.json"
PROMPTS_FILE = "prompts.jsonl"

# The DataFrame's columns and dtypes, in order (score_* columns follow, then score_error).
COLUMNS: dict[str, str] = {
    "run_id": "string",
    "model": "string",
    "provider": "string",
    "runtime": "string",
    "host": "string",
    "config_label": "string",
    "config": "string",
    "prompt_id": "string",
    "prompt": "string",
    "expected": "string",
    "repeat": "int64",
    "output": "string",
    "reasoning": "string",
    "finish_reason": "string",
    "finish_reason_raw": "string",
    "error_type": "string",
    "error": "string",
    "latency_s": "float64",
    "ttft_s": "float64",
    "input_tokens": "Int64",
    "output_tokens": "Int64",
    "reasoning_tokens": "Int64",
    "cached_input_tokens": "Int64",
    "input_cost_usd": "float64",
    "output_cost_usd": "float64",
    "cost_usd": "float64",
    "saved_cost_usd": "float64",
    "cached": "bool",
    "usage_estimated": "bool",
    "started_at": "datetime64[ns, UTC]",
}
COST_COLUMNS = ("input_cost_usd", "output_cost_usd", "cost_usd", "saved_cost_usd")


class RowWriter:
    """Appends rows to rows.jsonl: write + flush per row, fsync at most once a second and on close."""

    def __init__(self, path: Path, fsync_interval_s: float = 1.0) -> None:
        self.path = path
        _repair_tail(path)
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._interval = fsync_interval_s
        self._last_sync = time.monotonic()

    def write(self, row: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
        self._file.flush()
        now = time.monotonic()
        if now - self._last_sync >= self._interval:
            os.fsync(self._file.fileno())
            self._last_sync = now

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


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


def iter_rows(run_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Every parsable row of a run in file order (a torn line is skipped)."""
    path = Path(run_dir) / ROWS_FILE
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield row


def latest_rows(run_dir: str | Path) -> dict[tuple[str, str, str, int], dict[str, Any]]:
    """The last row per (model, config_label, prompt_id, repeat)."""
    out: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for row in iter_rows(run_dir):
        out[(row["model"], row["config_label"], str(row["prompt_id"]), int(row["repeat"]))] = row
    return out


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    os.replace(tmp, path)


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    from llmkit.evals.spec import SpecError

    path = Path(run_dir) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{run_dir}: not a run directory (no {MANIFEST_FILE}); "
                        "run directories are printed by `python -m llmkit.evals run`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise SpecError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: unreadable manifest (not an object)")
    return data


def load(run_dir: str | Path) -> Any:
    """The run's rows as a pandas DataFrame with the documented columns and dtypes (see COLUMNS)."""
    import pandas as pd

    manifest = read_manifest(run_dir)
    score_columns: list[str] = list(manifest.get("score_columns") or [])
    rows = list(latest_rows(run_dir).values())
    for row in rows:
        for name in row:
            if name.startswith("score_") and name != "score_error" and name not in score_columns:
                score_columns.append(name)
    columns = [*COLUMNS, *score_columns, "score_error"]
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    for name, dtype in COLUMNS.items():
        frame[name] = _as_dtype(frame[name], dtype)
    for name in score_columns:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["score_error"] = frame["score_error"].astype("string")
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


def _as_dtype(series: Any, dtype: str) -> Any:
    import pandas as pd

    if dtype == "float64":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if dtype == "Int64":
        return pd.to_numeric(series, errors="coerce").astype("Int64")
    if dtype == "int64":
        return pd.to_numeric(series, errors="coerce").fillna(0).astype("int64")
    if dtype == "bool":
        return series.fillna(False).astype("bool")
    if dtype.startswith("datetime64"):
        return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601").astype(dtype)
    return series.astype("string")
