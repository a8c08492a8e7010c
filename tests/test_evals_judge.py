"""Model-graded scoring on MOCK: the `judge:mock` model's scores, explanations, tokens and costs land in the rows;
judge calls go through the run's cache and count toward the budget; unparseable verdicts are scorer errors;
the pairwise judge cancels position bias; python scorers are imported from the spec's directory."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from evals_helpers import PROMPTS, write_spec

import llmkit.evals as ev
from llmkit.evals.judge import VerdictError, parse_verdict
from llmkit.evals.spec import SpecError
from llmkit.evals.store import iter_rows
from llmkit.factory import LLMFactory

pytestmark = pytest.mark.timeout(60)
JUDGE = {"judge": {"model": "judge:mock", "rubric": "The answer is correct."}}


def test_the_mock_judges_scores_explanations_tokens_and_costs_land_in_the_rows(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock", "echo:mock"], configs=[{"label": "default"}], repeats=1,
                      scorers=["contains", JUDGE])
    df = ev.run(spec, progress=False).load()
    assert len(df) == 10 and df["error_type"].isna().all()
    assert (df["score_judge"] == df["score_contains"]).all()  # MOCK's judge: 1 when the expected answer appears
    assert set(df.loc[df["model"] == "oracle:mock", "score_judge"]) == {1.0}
    assert set(df.loc[df["model"] == "echo:mock", "score_judge"]) == {0.0}
    oracle = df[df["model"] == "oracle:mock"].iloc[0]
    assert oracle["judge_explanation"] == "The answer contains the expected answer '42'."
    assert df["judge_explanation"].str.contains("does not contain").sum() == 5
    assert str(df["judge_input_tokens"].dtype) == "Int64" and str(df["judge_cost_usd"].dtype) == "float64"
    price = LLMFactory.get_model("judge:mock").pricing
    assert price is not None and price.illustrative
    for row in iter_rows(next((tmp_path / "runs").iterdir())):
        billed = (price.rates.input * row["judge_input_tokens"] + price.rates.output * row["judge_output_tokens"])
        assert Decimal(row["judge_cost_usd"]) == billed / 10**6 > 0
    assert df["score_error"].isna().all()


def test_judge_calls_go_through_the_runs_cache(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                      scorers=[JUDGE], cache=str(tmp_path / "cache"))
    first = ev.run(spec, progress=False).load()
    second = ev.run(spec, progress=False).load()
    assert (first["judge_cost_usd"] > 0).all() and not first["cached"].any()
    assert second["cached"].all() and (second["judge_cost_usd"] == 0).all()  # the judge's answers came from the cache
    assert list(second["score_judge"]) == list(first["score_judge"])
    assert list(second["judge_explanation"]) == list(first["judge_explanation"])


def test_judge_costs_count_toward_the_budget(tmp_path: Path) -> None:
    free = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=4,
                      scorers=[JUDGE])
    full = ev.run(free, progress=False).load()
    model_cost = Decimal(str(full["cost_usd"].sum()))
    per_row = max(Decimal(str(c)) + Decimal(str(j)) for c, j in zip(full["cost_usd"], full["judge_cost_usd"],
                                                                   strict=True))
    cap = model_cost * Decimal("1.05")  # enough for every model call, not for the judges too
    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=4,
                      scorers=[JUDGE], max_cost_usd=str(cap))
    result = ev.run(spec, progress=False)
    df = result.load()
    spent = Decimal(str(df["cost_usd"].sum())) + Decimal(str(df["judge_cost_usd"].sum()))
    assert result.status == "budget" and len(df) < 20
    assert cap - per_row <= spent <= cap + per_row
    assert "judges $" in result.summary.text()


def test_an_unparseable_verdict_is_a_scorer_error_not_a_crash(tmp_path: Path) -> None:
    custom = {"judge": {"model": "judge:mock", "rubric": "Correct?", "prompt": "Grade this: {{ output }}"}}
    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                      scorers=["contains", custom])
    result = ev.run(spec, progress=False)
    df = result.load()
    assert result.status == "completed" and df["error_type"].isna().all()
    assert df["score_judge"].isna().all() and (df["score_contains"] == 1).all()
    assert df["score_error"].str.startswith("judge: the judge's reply has no verdict").all()
    assert (df["judge_cost_usd"] > 0).all()  # the judge was called (and billed) all the same


def test_a_judge_prompt_is_a_checked_sandboxed_template(tmp_path: Path) -> None:
    unknown = {"judge": {"model": "judge:mock", "rubric": "r", "prompt": "{{ answer }}"}}
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: scorers.*unknown variable\(s\) answer; allowed:"):
        ev.run(write_spec(tmp_path, scorers=[unknown]), progress=False)
    escape = {"judge": {"model": "judge:mock", "rubric": "r", "prompt": "{{ output.__class__.__mro__ }}"}}
    df = ev.run(write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                           scorers=[escape]), progress=False).load()
    assert df["score_judge"].isna().all() and df["score_error"].str.contains("SecurityError").all()
    with pytest.raises(SpecError, match="judge needs rubric"):
        ev.run(write_spec(tmp_path, scorers=[{"judge": {"model": "judge:mock"}}]), progress=False)


def test_a_judge_model_that_cannot_run_stops_the_run_before_any_call(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, scorers=[{"judge": {"model": "gpt-4o", "rubric": "r"}}])
    with pytest.raises(SpecError, match=r"judge model gpt-4o cannot run: set OPENAI_API_KEY"):
        ev.run(spec, progress=False)
    spec = write_spec(tmp_path, scorers=[{"judge": {"model": "nobody:mock", "rubric": "r"}}])
    with pytest.raises(SpecError, match="judge model"):
        ev.run(spec, progress=False)
    assert not (tmp_path / "runs").exists()


def test_parse_verdict_is_lenient_about_where_and_strict_about_what() -> None:
    assert parse_verdict('Sure!\n```json\n{"score": 0.75, "explanation": "mostly"}\n```', pairwise=False) \
        == (0.75, "mostly")
    assert parse_verdict("The answer names Paris.\nGRADE: 1", pairwise=False) == (1.0, "The answer names Paris.")
    assert parse_verdict('{"winner": "B", "explanation": "B is right"}', pairwise=True) == (0.0, "B is right")
    assert parse_verdict('{"winner": "tie"}', pairwise=True) == (0.5, "")
    for reply in ('{"score": 7}', '{"score": "high"}', "I think it is fine.", '{"score": NaN}'):
        with pytest.raises(VerdictError):
            parse_verdict(reply, pairwise=False)
    with pytest.raises(VerdictError, match="not A, B or tie"):
        parse_verdict('{"winner": "C"}', pairwise=True)


def test_pairwise_judging_compares_with_the_baseline_both_ways(tmp_path: Path) -> None:
    pairwise = {"judge": {"model": "judge:mock", "rubric": "More correct", "pairwise": True}}
    spec = write_spec(tmp_path, models=["oracle:mock", "echo:mock", "reasoner-effort:mock"],
                      configs=[{"label": "default"}], repeats=1, scorers=[pairwise])
    result = ev.run(spec, progress=False)
    df = result.load()
    assert result.status == "completed" and len(df) == 15  # judged rows replaced their first lines
    by_model = df.groupby("model")["score_pairwise"]
    assert by_model.apply(lambda s: s.isna().all())["oracle:mock"]  # the baseline is not scored
    assert set(df.loc[df["model"] == "echo:mock", "score_pairwise"]) == {0.0}  # loses every comparison
    assert set(df.loc[df["model"] == "reasoner-effort:mock", "score_pairwise"]) == {0.5}  # as right as oracle
    echo = df[df["model"] == "echo:mock"].iloc[0]
    assert echo["judge_explanation"] == ("as A: Only B gives the expected answer.; "
                                         "as B: Only A gives the expected answer.")
    assert (df.loc[df["model"] != "oracle:mock", "judge_cost_usd"] > 0).all()
    assert result.summary.tallies[("echo:mock", "default")].score_n["score_pairwise"] == 5


def test_position_swapping_cancels_a_judge_that_always_prefers_answer_a(tmp_path: Path) -> None:
    biased = ("[BEGIN EXPECTED]\nzzz\n[END EXPECTED]\n[BEGIN ANSWER A]\nzzz {{ output_a }}\n[END ANSWER A]\n"
              "[BEGIN ANSWER B]\n{{ output_b }}\n[END ANSWER B]\n{{ rubric }}")
    judge = {"judge": {"model": "judge:mock", "rubric": "r", "pairwise": True, "prompt": biased,
                       "baseline": "echo:mock"}}
    spec = write_spec(tmp_path, models=["oracle:mock", "echo:mock"], configs=[{"label": "default"}], repeats=1,
                      scorers=[judge])
    df = ev.run(spec, progress=False).load()
    assert set(df.loc[df["model"] == "oracle:mock", "score_pairwise"]) == {0.5}
    assert df.loc[df["model"] == "echo:mock", "score_pairwise"].isna().all()


def test_pairwise_rows_without_a_baseline_answer_say_why(tmp_path: Path) -> None:
    judge = {"judge": {"model": "judge:mock", "rubric": "r", "pairwise": True, "baseline": "flaky:mock/failing"}}
    spec = write_spec(tmp_path, models=["flaky:mock", "oracle:mock"], repeats=1, scorers=[judge],
                      configs=[{"label": "failing", "extra_params": {"fail": "server_error"}}, {"label": "default"}])
    df = ev.run(spec, progress=False).load()
    oracle = df[df["model"] == "oracle:mock"]
    assert oracle["score_pairwise"].isna().all()
    assert oracle["score_error"].str.contains("the baseline flaky:mock/failing has no answer to p1").any()
    assert math.isnan(oracle["judge_cost_usd"].iloc[0])  # no judge call was made


def test_python_scorers_are_imported_from_the_specs_directory(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    spec_dir = tmp_path / "study"
    spec_dir.mkdir()
    (spec_dir / "study_scoring.py").write_text("def length(output):\n    return len(output)\n", "utf-8")
    spec = write_spec(spec_dir, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                      scorers=[{"python": "study_scoring:length"}], prompts=PROMPTS[:2])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the spec's directory, and not on sys.path
    df = ev.run(spec, progress=False).load()
    assert list(df["score_length"]) == [float(len(o)) for o in df["output"]]


def test_the_example_trivia_spec_is_judged_and_grouped_by_metadata(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    result = ev.run(root / "evals" / "trivia.yaml", output=tmp_path / "runs", progress=False)
    df = result.load()
    assert result.status == "completed" and len(df) == 3 * 12 and df["score_error"].isna().all()
    judged = df[df["model"] == "oracle:mock"].groupby("meta_category")["score_judge"].mean()
    assert judged["geography"] == 1.0 and judged["history"] == 0.0
    assert df["judge_explanation"].notna().all() and (df["judge_cost_usd"] > 0).all()
    assert df.loc[df["model"] == "oracle:mock", "score_pairwise"].isna().all()
    assert set(df.loc[df["model"] == "echo:mock", "score_pairwise"]) <= {0.0, 0.5}


def test_a_judge_config_is_validated_before_the_run(tmp_path: Path) -> None:
    bad = {"judge": {"model": "judge:mock", "rubric": "r", "config": {"temperature": 7}}}
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: scorers\[0\]: judge config: .*temperature"):
        ev.run(write_spec(tmp_path, scorers=[bad]), progress=False)
    assert not (tmp_path / "runs").exists()


def test_a_pairwise_pass_stopped_by_the_budget_is_finished_by_resume(tmp_path: Path) -> None:
    pairwise = {"judge": {"model": "judge:mock", "rubric": "More correct", "pairwise": True}}
    kwargs = {"models": ["oracle:mock", "echo:mock"], "configs": [{"label": "default"}], "repeats": 2,
              "scorers": [pairwise]}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    full = ev.run(write_spec(tmp_path / "a", **kwargs), progress=False).load()
    models, judges = Decimal(str(full["cost_usd"].sum())), Decimal(str(full["judge_cost_usd"].sum()))
    cap = models + judges / 2
    result = ev.run(write_spec(tmp_path / "b", max_cost_usd=str(cap), **kwargs), progress=False)
    df = result.load()
    echo = df[df["model"] == "echo:mock"]
    assert result.status == "budget" and len(df) == 20  # every row ran; the pass stopped half way
    assert 0 < echo["score_pairwise"].notna().sum() < 10
    spent = Decimal(str(df["cost_usd"].sum())) + Decimal(str(df["judge_cost_usd"].sum()))
    assert spent <= cap
    tally = result.summary.tallies[("echo:mock", "default")]
    assert tally.score_n["score_pairwise"] == echo["score_pairwise"].notna().sum()  # the summary has the pass
    assert tally.judge_usd == sum(Decimal(str(c)) for c in echo["judge_cost_usd"].dropna())
    resumed = ev.run(resume=result.run_dir, max_cost_usd=str(cap * 2), progress=False)
    df = resumed.load()
    assert resumed.status == "completed" and len(df) == 20 and resumed.summary.rows == 20
    assert set(df.loc[df["model"] == "echo:mock", "score_pairwise"]) == {0.0}
    assert abs(float(df["judge_cost_usd"].sum()) - float(judges)) < 1e-9  # each comparison was paid once


def test_a_pairwise_baseline_outside_the_run_is_a_spec_error_before_any_call(tmp_path: Path) -> None:
    judge = {"judge": {"model": "judge:mock", "rubric": "r", "pairwise": True, "baseline": "echo:mock/hot"}}
    with pytest.raises(SpecError, match=r"baseline 'echo:mock/hot' is not a model × config of this run"):
        ev.run(write_spec(tmp_path, scorers=[judge]), progress=False)
    assert not (tmp_path / "runs").exists()


def test_the_dry_run_estimates_the_judges_too(tmp_path: Path) -> None:
    from llmkit.evals.plan_text import format_plan

    spec = write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                      scorers=[JUDGE], max_cost_usd="0.0001")
    plan = ev.dry_run(spec)
    actual = ev.run(write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                               scorers=[JUDGE]), progress=False).load()["judge_cost_usd"].sum()
    assert 0.5 * actual < float(plan.judge_usd) < 2 * actual  # a prior, within a factor of two here
    text = format_plan(plan)
    assert f"judges: about ${plan.judge_usd:.6f} more" in text and "the estimate is OVER the cap" in text


def test_a_spec_module_never_shadows_another_module_of_its_name(tmp_path: Path) -> None:
    (tmp_path / "json.py").write_text("def f(output):\n    return 0.25\n", "utf-8")
    df = ev.run(write_spec(tmp_path, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                           scorers=[{"python": "json:f"}]), progress=False).load()
    assert (df["score_f"] == 0.25).all()  # the spec's own json.py ...
    import json

    assert json.loads("[1]") == [1]  # ... and the standard library's json is untouched
    for name, value in (("one", 1), ("two", 2)):  # two studies, each with its own scoring.py
        study = tmp_path / name
        study.mkdir()
        (study / "scoring.py").write_text(f"def s(output):\n    return {value}\n", "utf-8")
        df = ev.run(write_spec(study, models=["oracle:mock"], configs=[{"label": "default"}], repeats=1,
                               scorers=[{"python": "scoring:s"}]), progress=False).load()
        assert (df["score_s"] == value).all()
