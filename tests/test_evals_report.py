"""The report: summary with bootstrap CIs, baseline comparison, CSV/HTML/PNG files; CLI report/models."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from evals_helpers import write_spec

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
    for name in ["summary.csv", "comparison.csv", "report.html", "cost_vs_score.png", "latency.png", "tokens.png"]:
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
    assert "<img src='cost_vs_score.png'" in (report_dir / "report.html").read_text()


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
