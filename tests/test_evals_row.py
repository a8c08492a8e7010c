"""The typed eval row: rows.jsonl ↔ EvalRow ↔ DataFrame round trips, dtypes derived from the fields, one row key,
dataset metadata as `meta_<column>`, and a run written by the llmkit before the typed row still loads and resumes.

tests/data/legacy_run was written by the previous runner (untyped dict rows) and then cut as a kill -9 leaves it:
status `running`, 4 of 6 rows, a torn fifth line.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.evals.cli import main
from llmkit.evals.plan import build_plan
from llmkit.evals.row import COLUMNS, EvalRow, RowKey, rows_frame
from llmkit.evals.spec import load_spec
from llmkit.evals.store import iter_rows, latest_rows

LEGACY = Path(__file__).parent / "data" / "legacy_run"


def _full_row() -> EvalRow:
    return EvalRow(run_id="r1", model="echo:mock", provider="llmkit", runtime="mock", host="mock",
                   config_label="cold", config='{"temperature": 0.0}', prompt_id="p1", prompt="What is 2 + 2?",
                   expected="4", repeat=1, output="4", reasoning="adding", finish_reason="stop", latency_s=0.25,
                   ttft_s=0.01, input_tokens=9, output_tokens=1, reasoning_tokens=0, cached_input_tokens=0,
                   input_cost_usd=Decimal("0.0000045"), output_cost_usd=Decimal("0.0000015"),
                   cost_usd=Decimal("0.000006"), saved_cost_usd=Decimal(0), cached=False, usage_estimated=True,
                   started_at=datetime(2026, 11, 28, 19, 0, 4, 567819, tzinfo=timezone.utc),
                   scores={"contains": 1.0, "regex": None}, score_error=None,
                   metadata={"topic": "math", "level": 3, "tags": ["a", "b"]})


def test_row_round_trips_through_jsonl_exactly() -> None:
    row = _full_row()
    data = row.to_json()
    assert data["cost_usd"] == "0.000006" and data["started_at"] == "2026-11-28T19:00:04.567819+00:00"
    assert data["score_contains"] == 1.0 and data["score_regex"] is None and data["meta_level"] == 3
    assert "scores" not in data and "metadata" not in data
    again = EvalRow.from_json(json.loads(json.dumps(data)))
    assert again == row
    assert again.key == RowKey("echo:mock", "cold", "p1", 1) == RowKey.of(data)


def test_unknown_price_stays_unknown_and_nan_scores_become_null() -> None:
    row = EvalRow(model="m", config_label="c", cost_usd=None, scores={"numeric": float("nan")})
    data = row.to_json()
    assert data["cost_usd"] is None and data["score_numeric"] is None
    frame = rows_frame([row])
    assert pd.isna(frame["cost_usd"].iloc[0])  # NaN, never $0
    assert frame["cost_usd"].dtype == "float64"


def test_dataframe_dtypes_are_derived_from_the_row_fields() -> None:
    failed = EvalRow(model="oracle:mock", config_label="default", prompt_id="p2", repeat=0,
                     metadata={"topic": "geo", "level": None, "tags": "x"})
    failed.set_error("ProviderError", "boom", None)
    frame = rows_frame([_full_row(), failed], ["contains"])
    assert list(frame.columns) == [*COLUMNS, "score_contains", "score_regex", "score_error", "meta_topic",
                                   "meta_level", "meta_tags"]
    for name, dtype in COLUMNS.items():
        assert str(frame[name].dtype) == dtype, name
    assert frame["score_contains"].dtype == "float64" and frame["score_error"].dtype == "string"
    assert frame["meta_topic"].dtype == "string" and frame["meta_level"].dtype == "Int64"
    assert frame["meta_tags"].dtype == object  # a list in one row, text in another: kept as given
    assert frame["input_tokens"].isna().iloc[1] and frame["cost_usd"].iloc[1] == 0.0
    # the fixed columns are the documented contract (DESIGN.md, Results), plus what earlier runs carried
    documented = ["run_id", "model", "provider", "runtime", "config_label", "config", "prompt_id", "prompt",
                  "repeat", "output", "reasoning", "finish_reason", "error_type", "error", "latency_s", "ttft_s",
                  "input_tokens", "output_tokens", "reasoning_tokens", "cached_input_tokens", "input_cost_usd",
                  "output_cost_usd", "cost_usd", "cached", "started_at"]
    assert set(documented) <= set(COLUMNS)


@pytest.mark.parametrize("data", [
    {"model": "m", "config_label": "c", "prompt_id": "p"},                      # no repeat
    {"model": "m", "config_label": "c", "prompt_id": "p", "repeat": "0"},       # repeat as text
    {"model": None, "config_label": "c", "prompt_id": "p", "repeat": 0},
    {"model": "m", "config_label": "c", "prompt_id": "p", "repeat": 0, "cost_usd": "lots"},
    {"model": "m", "config_label": "c", "prompt_id": "p", "repeat": 0, "input_tokens": 1.5},
])
def test_a_mapping_that_is_not_a_row_is_refused(data: dict[str, object]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        EvalRow.from_json(data)


def test_sweep_rows_carry_dataset_metadata_and_plan_keys(tmp_path: Path) -> None:
    prompts = [{"id": "a", "prompt": "What is 2 + 2?", "expected": "4", "metadata": {"topic": "math", "level": 1}},
               {"id": "b", "prompt": "Capital of France?", "expected": "Paris", "metadata": {"topic": "geo"}}]
    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], prompts=prompts)
    result = ev.run(spec, progress=False)
    df = result.load()
    assert df["meta_topic"].tolist() == ["math", "math", "geo", "geo"]
    assert df["meta_level"].dtype == "Int64" and df["meta_level"].isna().tolist() == [False, False, True, True]
    plan_keys = {t.key for t in build_plan(load_spec(spec)).tasks()}
    assert set(latest_rows(result.run_dir)) == plan_keys
    assert {RowKey.of(r) for r in iter_rows(result.run_dir)} == plan_keys


def test_a_run_written_before_the_typed_row_loads_resumes_and_reports(tmp_path: Path) -> None:
    run_dir = tmp_path / "legacy"
    shutil.copytree(LEGACY, run_dir)
    before = (run_dir / "rows.jsonl").read_bytes().splitlines(keepends=True)[:4]
    df = ev.load(run_dir)
    assert len(df) == 4 and list(df.columns) == [*COLUMNS, "score_contains", "score_error"]
    assert df["cost_usd"].gt(0).all() and str(df["started_at"].dtype) == "datetime64[ns, UTC]"

    assert main(["run", "--resume", str(run_dir), "--no-progress"]) == 0
    lines = (run_dir / "rows.jsonl").read_bytes().splitlines(keepends=True)
    assert lines[:4] == before  # finished rows untouched, the torn line cut, only the 2 missing rows re-run
    assert len(lines) == 6 and len({RowKey.of(json.loads(line)) for line in lines}) == 6
    df = ev.load(run_dir)
    assert len(df) == 6 and df["error_type"].isna().all()
    assert df["meta_topic"].notna().sum() == 2  # rows written now carry the prompt's metadata; old ones had none
    assert json.loads((run_dir / "run.json").read_text())["status"] == "completed"
    assert main(["report", str(run_dir), "--no-figures"]) == 0
