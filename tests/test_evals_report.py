"""The report: summary with bootstrap CIs, baseline comparison, CSV/HTML/PNG files; CLI report/models."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from evals_helpers import PROMPTS, write_spec

import llmkit.evals as ev
from llmkit.evals.cli import main
from llmkit.evals.stats import bootstrap_mean_ci


def test_report_writes_csv_html_pngs_and_baseline_comparison(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    result = ev.run(write_spec(tmp_path), progress=False)
    assert main(["report", str(result.run_dir), "--baseline", "oracle:mock"]) == 0
    out = capsys.readouterr().out
    assert "paired comparison vs oracle:mock/default" in out and "echo:mock" in out
    report_dir = result.run_dir / "report"
    for name in ["summary.csv", "comparison.csv", "cheapest.csv", "report.html", "cost_vs_score.png", "latency.png",
                 "tokens.png"]:
        assert (report_dir / name).stat().st_size > 0, name
    summary = pd.read_csv(report_dir / "summary.csv")
    assert len(summary) == 6 and set(summary["n"]) == {10}
    oracle = summary[(summary["model"] == "oracle:mock") & (summary["config_label"] == "default")].iloc[0]
    assert oracle["contains_mean"] == 1.0 and oracle["errors"] == 0
    assert oracle["cost_per_1k_usd"] > 0
    comparison = pd.read_csv(report_dir / "comparison.csv")
    echo = comparison[(comparison["model"] == "echo:mock") & (comparison["config_label"] == "default")].iloc[0]
    assert echo["contains_diff"] < 0 and echo["contains_diff_ci_high"] <= 0
    assert echo["paired_prompts"] == 5 and echo["cost_ratio"] < 1
    page = (report_dir / "report.html").read_text()
    assert "<img" not in page and page.count("<svg") >= 3, "figures are inline, not linked files"


def test_report_baseline_errors_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = ev.run(write_spec(tmp_path, models=["echo:mock"], repeats=1), progress=False)
    assert main(["report", str(result.run_dir), "--baseline", "gpt-4o", "--no-figures"]) == 2
    assert "not in this run" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2


def test_bootstrap_ci_brackets_the_mean() -> None:
    mean, low, high = bootstrap_mean_ci([0, 1, 1, 1, 0, 1, 1, 1, 1, 1])
    assert low <= mean <= high and mean == 0.8
    assert bootstrap_mean_ci([1.0])[1] != bootstrap_mean_ci([1.0])[1]  # NaN: no interval from one prompt


def test_models_command_lists_runtimes_prices_availability(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--runtime", "mock"]) == 0
    out = capsys.readouterr().out
    assert "mock (" in out and "oracle:mock" in out and "illustrative" in out and "yes" in out


def test_dry_run_cli_prints_plan_with_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, configs=[{"label": "default"},
                                         {"label": "think", "extra_params": {"reasoning_effort": "high"}}])
    assert main(["run", str(spec), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "40 rows" in out and "skipped: echo:mock / think" in out and "total" in out
    assert not (tmp_path / "runs").exists()


def _html_text(page: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_report_html_stands_alone_with_readable_numbers_and_every_sample(tmp_path: Path) -> None:
    failing = {"id": "p6", "prompt": "Say hi [fail:context_length]", "expected": "hi"}
    result = ev.run(write_spec(tmp_path, models=["echo:mock", "oracle:mock", "flaky:mock"],
                               prompts=[*PROMPTS, failing]), progress=False)
    report = ev.build_report(result.run_dir, baseline="oracle:mock")
    page = (report.out_dir / "report.html").read_text("utf-8")
    df = ev.load(result.run_dir)
    assert re.search(r"""(src|href)=['"](?!#|data:)""", page) is None, "no relative or remote assets"
    text = _html_text(page)
    for output in df["output"].dropna():
        assert output.strip() in text, f"every sample is in the file: {output!r}"
    assert "Paired comparison against oracle:mock/default" in text
    # oracle answers 5 of 6 prompts (p6 fails for every model): the failure counts as a 0 and the page says so
    assert re.search(r"0\.83 \[0\.\d\d, 1\.00\]", text) and re.search(r"\$0\.0\d+", text) and "%" in text
    assert "error rows score 0" in text
    assert "e-05" not in text, "no scientific notation"
    # errored prompts first, then the worst-scoring, each prompt with every model's answers
    order = re.findall(r"<details class='p' id='prompt-([^']+)'", page)
    assert order[0] == "p6" and sorted(order) == ["p1", "p2", "p3", "p4", "p5", "p6"]
    p6 = page[page.index("id='prompt-p6'"):page.index("</details>", page.index("id='prompt-p6'"))]
    assert "ContextLengthError" in p6
    for model in ("echo:mock", "oracle:mock", "flaky:mock"):
        assert model in page[page.index("id='prompt-p2'"):]
    assert "Cost analysis" in text and "per correct contains" in text and "1,000,000 requests" in text


def test_unknown_prices_stay_unknown_in_costs(tmp_path: Path) -> None:
    from llmkit.evals.report import summarize
    from llmkit.evals.store import read_manifest

    result = ev.run(write_spec(tmp_path, models=["echo:mock", "oracle:mock"], repeats=1), progress=False)
    df = ev.load(result.run_dir)
    unpriced = df["model"] == "echo:mock"  # as a model without any price records its rows
    for column in ("input_cost_usd", "output_cost_usd", "cost_usd"):
        df.loc[unpriced, column] = float("nan")
    manifest = read_manifest(result.run_dir)
    manifest["models"] = [m for m in manifest["models"] if m["id"] != "echo:mock"]
    s = summarize(df, manifest, project=1000).set_index(["model", "config_label"])
    echo, oracle = s.loc[("echo:mock", "default")], s.loc[("oracle:mock", "default")]
    for column in ("total_cost_usd", "list_cost_usd", "cost_input_uncached_usd", "cost_output_usd",
                   "projected_cost_usd", "cost_per_1k_usd"):
        assert echo[column] != echo[column], f"{column} is NaN (unknown), not $0"
    assert oracle["projected_cost_usd"] == pytest.approx(oracle["list_cost_usd"] / 5 * 1000)
    assert oracle["cost_per_correct_contains_usd"] == pytest.approx(oracle["list_cost_usd"] / 5)
    parts = ["cost_input_uncached_usd", "cost_input_cached_usd", "cost_output_usd", "cost_reasoning_usd"]
    assert sum(oracle[c] for c in parts) == pytest.approx(oracle["list_cost_usd"])


def test_cost_split_reasoning_and_response_cache_savings(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["reasoner-effort:mock"], configs=[{"label": "default"}], repeats=1,
                      cache=str(tmp_path / "cache"))
    first = ev.build_report(ev.run(spec, progress=False).run_dir, figures=False).summary.iloc[0]
    second = ev.build_report(ev.run(spec, progress=False).run_dir, figures=False).summary.iloc[0]
    assert first["cost_reasoning_usd"] > first["cost_output_usd"] > 0
    assert second["total_cost_usd"] == 0 and second["saved_cost_usd"] == pytest.approx(first["list_cost_usd"])
    for column in ("cost_input_uncached_usd", "cost_output_usd", "cost_reasoning_usd", "projected_cost_usd"):
        assert second[column] == pytest.approx(first[column]), "the analysis is at list price, cached or not"


def test_dry_run_with_zero_rows_exits_2_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, models=["echo:mock"], configs=[{"label": "think",
                                                                "extra_params": {"reasoning_effort": "high"}}])
    assert main(["run", str(spec), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "0 rows" in err and "echo:mock / think" in err


def test_fail_under_gates_on_a_scorer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = ev.run(write_spec(tmp_path, models=["echo:mock", "oracle:mock"], repeats=1), progress=False)
    run_dir = str(result.run_dir)
    assert main(["report", run_dir, "--no-figures", "--fail-under", "contains=0.5"]) == 1
    err = capsys.readouterr().err
    assert "fail-under: echo:mock / default: contains 0.000 < 0.5" in err and "oracle:mock" not in err
    assert main(["report", run_dir, "--no-figures", "--fail-under", "numeric=0"]) == 0
    assert main(["report", run_dir, "--no-figures", "--fail-under", "judge=0.5"]) == 2
    assert "no such scorer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", run_dir, "--fail-under", "contains"])


def test_row_costs_split_prompt_cache_reasoning_and_response_cache_hits() -> None:
    from llmkit.evals.costs import row_costs

    manifest = {"models": [{"id": "m", "pricing_usd_per_mtok": {"input": "1", "cached_input": "0.1", "output": "4"}},
                           {"id": "u", "pricing_usd_per_mtok": None}]}
    call = {"input_tokens": 1000, "cached_input_tokens": 600, "output_tokens": 500, "reasoning_tokens": 200}
    input_cost, output_cost = (400 * 1 + 600 * 0.1) / 1e6, 500 * 4 / 1e6
    df = pd.DataFrame([
        {"model": "m", **call, "input_cost_usd": input_cost, "output_cost_usd": output_cost,
         "cost_usd": input_cost + output_cost, "saved_cost_usd": 0.0, "cached": False},
        {"model": "m", **call, "input_cost_usd": 0.0, "output_cost_usd": 0.0, "cost_usd": 0.0,
         "saved_cost_usd": input_cost + output_cost, "cached": True},
        {"model": "u", **call, "input_cost_usd": None, "output_cost_usd": None, "cost_usd": None,
         "saved_cost_usd": None, "cached": False},
    ])
    costs = row_costs(df, manifest)
    for i in (0, 1):  # a response-cache hit is analysed at the list price it saved
        row = costs.iloc[i]
        assert row["input_cached"] == pytest.approx(60e-6) and row["input_uncached"] == pytest.approx(400e-6)
        assert row["reasoning"] == pytest.approx(800e-6) and row["output"] == pytest.approx(1200e-6)
        assert row["prompt_cache_savings"] == pytest.approx(540e-6)
        assert row["list"] == pytest.approx(input_cost + output_cost)
    assert costs.iloc[2][["input_uncached", "input_cached", "output", "reasoning", "list"]].isna().all()


def test_report_html_lists_skipped_configs_with_the_reason(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["echo:mock", "reasoner-effort:mock"], repeats=1,
                      configs=[{"label": "default"}, {"label": "think", "extra_params": {"reasoning_effort": "high"}}])
    report = ev.build_report(ev.run(spec, progress=False).run_dir, figures=False)
    text = _html_text((report.out_dir / "report.html").read_text("utf-8"))
    assert "Skipped configs (1)" in text and "echo:mock / think:" in text and "reasoning_effort" in text
