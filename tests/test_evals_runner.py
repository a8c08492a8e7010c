"""The sweep runner on MOCK: row count, columns and dtypes, errors as rows, budget cap, dry-run accuracy."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.evals.store import COLUMNS, iter_rows


def test_sweep_gives_60_rows_with_documented_columns_and_dtypes(tmp_path: Path) -> None:
    result = ev.run(write_spec(tmp_path), progress=False)
    assert result.status == "completed"
    df = result.load()
    assert len(df) == 60
    assert list(df.columns) == [*COLUMNS, "score_contains", "score_numeric", "score_error"]
    for name, dtype in COLUMNS.items():
        assert str(df[name].dtype) == dtype, name
    assert df[["score_contains", "score_numeric"]].dtypes.eq("float64").all()
    assert df.groupby(["model", "config_label"]).size().eq(10).all()
    assert not df.duplicated(["model", "config_label", "prompt_id", "repeat"]).any()
    assert df["error_type"].isna().all()
    assert (df["cost_usd"] > 0).all() and not df["cached"].any()
    oracle = df[df["model"] == "oracle:mock"]
    assert oracle["score_contains"].eq(1.0).all()
    assert json.loads(df["config"][df["config_label"] == "cold"].iloc[0]) == {"temperature": 0.0}
    # the prompt row's system prompt reaches the model (it is billed as input)
    p4 = df[(df["prompt_id"] == "p4") & (df["model"] == "echo:mock")]["input_tokens"].iloc[0]
    p2 = df[(df["prompt_id"] == "p2") & (df["model"] == "echo:mock")]["input_tokens"].iloc[0]
    assert p4 > p2
    manifest = json.loads((result.run_dir / "run.json").read_text())
    assert manifest["status"] == "completed" and manifest["planned_rows"] == 60
    assert {m["id"] for m in manifest["models"]} == {"echo:mock", "oracle:mock", "reasoner-effort:mock"}
    # costs are Decimal strings on disk
    assert all(isinstance(r["cost_usd"], str) for r in iter_rows(result.run_dir))


def test_skipped_configs_are_recorded_with_reason(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, configs=[{"label": "default"},
                                         {"label": "think", "extra_params": {"reasoning_effort": "high"}}],
                      repeats=1)
    result = ev.run(spec, progress=False)
    manifest = json.loads((result.run_dir / "run.json").read_text())
    skipped = {(s["model"], s["config_label"]) for s in manifest["skipped_configs"]}
    assert skipped == {("echo:mock", "think"), ("oracle:mock", "think")}
    assert all("reasoning_effort" in s["reason"] for s in manifest["skipped_configs"])
    assert len(result.load()) == 4 * 5


def test_failing_model_gives_error_rows_while_others_complete(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["flaky:mock", "oracle:mock"],
                      configs=[{"label": "failing", "extra_params": {"fail": "server_error"}}, {"label": "ok"}])
    # oracle does not accept `fail`: its failing config is skipped; flaky's rows fail, the rest complete
    result = ev.run(spec, progress=False)
    df = result.load()
    failing = df[(df["model"] == "flaky:mock") & (df["config_label"] == "failing")]
    assert len(failing) == 10
    assert failing["error_type"].eq("ProviderError").all()
    assert failing["error"].str.contains("simulated server error").all()
    assert failing["score_contains"].isna().all() and failing["input_tokens"].isna().all()
    assert (failing["cost_usd"] == 0).all()
    rest = df[df["config_label"] == "ok"]
    assert len(rest) == 20 and rest["error_type"].isna().all()
    assert result.status == "completed"


def test_budget_cap_stops_within_one_request(tmp_path: Path) -> None:
    cap = Decimal("0.002")
    spec = write_spec(tmp_path, models=["reasoner-effort:mock"], repeats=10, max_cost_usd=str(cap))
    result = ev.run(spec, progress=False)
    df = result.load()
    assert result.status == "budget"
    assert 0 < len(df) < 100
    spent = Decimal(0)
    biggest = Decimal(0)
    for row in iter_rows(result.run_dir):
        spent += Decimal(row["cost_usd"])
        biggest = max(biggest, Decimal(row["cost_usd"]))
    assert spent <= cap + biggest
    assert cap - spent < biggest * 2  # it did not stop absurdly early either
    assert result.summary.not_run == 100 - len(df)
    assert "budget" in (result.summary.message or "")
    manifest = json.loads((result.run_dir / "run.json").read_text())
    assert manifest["status"] == "budget"


def test_dry_run_estimate_matches_mock_cost_within_10_percent(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, configs=[{"label": "default"}, {"label": "short", "max_tokens": 8}])
    plan = ev.dry_run(spec)
    estimate = plan.total_estimate()
    assert estimate.rows == 60
    df = ev.run(spec, progress=False).load()
    actual = df["cost_usd"].sum()
    assert abs(float(estimate.cost_usd) - actual) <= 0.10 * actual
    per_model = df.groupby(["model", "config_label"])["output_tokens"].sum()
    for (model, label), est in plan.estimates().items():
        assert abs(est.output_tokens - per_model[(model, label)]) <= 0.10 * per_model[(model, label)]


def test_scorers_including_a_raising_python_scorer(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                      scorers=["exact", "contains", {"regex": r"\bParis\b"}, "numeric", "json_valid",
                               {"python": "evals_helpers:half_credit"},
                               {"python": "evals_helpers:raising", "name": "judge"}])
    df = ev.run(spec, progress=False).load()
    assert len(df) == 5
    by_id = df.set_index("prompt_id")
    assert by_id.loc["p2", "score_regex"] == 1.0 and by_id.loc["p1", "score_regex"] == 0.0
    assert by_id.loc["p1", "score_numeric"] == 1.0 and pd.isna(by_id.loc["p2", "score_numeric"])
    assert by_id["score_exact"].eq(0.0).all()  # "The answer is 42." is not exactly "42"
    assert by_id["score_json_valid"].eq(0.0).all()
    assert by_id["score_half_credit"].eq(0.5).all()
    assert by_id["score_judge"].isna().all()
    assert by_id["score_error"].str.contains("judge: ValueError: judge exploded").all()


def test_repeats_are_independent_cache_entries(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=2,
                      cache=str(tmp_path / "cache"))
    first = ev.run(spec, progress=False).load()
    assert not first["cached"].any()
    second = ev.run(spec, progress=False).load()
    assert second["cached"].all() and (second["cost_usd"] == 0).all()
    assert (second["saved_cost_usd"].to_numpy() == first["cost_usd"].to_numpy()).all()
    # a cached row reports the original latency, not the replay time
    assert (second["latency_s"].to_numpy() == first["latency_s"].to_numpy()).all()


def test_models_override_accepts_globs_and_selectors(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, repeats=1)
    plan = ev.dry_run(spec, models=["reasoner-e*:mock,oracle:mock"])
    assert [m.identifier for m in plan.models] == ["reasoner-effort:mock", "oracle:mock"]
    plan = ev.dry_run(spec, models=["runtime=mock"])
    assert len(plan.models) >= 10
