"""A failed call is a failed answer: error rows score 0 in every mean (summary, report, paired comparisons, run
comparisons) unless errors are excluded, which gives the conditional mean and says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.errors import ReportError
from llmkit.evals.compare_runs import compare_runs
from llmkit.evals.report import build_report

PROMPTS = [{"id": f"q{i}", "prompt": f"What is {i} + {i}?", "expected": str(2 * i)} for i in range(1, 41)]


def _flaky_run(tmp_path: Path, rate: float, **spec: object) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_spec(tmp_path, name=f"flaky{int(rate * 100)}", models=["flaky:mock", "oracle:mock"],
                      configs=[{"label": "default", "extra_params": {"fail_rate": rate}} if rate else
                               {"label": "default"}],
                      prompts=PROMPTS, repeats=1, scorers=["numeric"], **spec)
    return ev.run(path, progress=False).run_dir


@pytest.fixture
def flaky_run(tmp_path: Path) -> Path:
    return _flaky_run(tmp_path, 0.3)


def test_error_rows_pull_the_mean_down_by_the_error_rate(flaky_run: Path) -> None:
    report = build_report(flaky_run, figures=False)
    row = report.summary.set_index("model").loc["flaky:mock"]
    assert 0 < row["errors"] < 40  # the model fails some calls, answers the rest correctly
    assert row["numeric_mean"] == pytest.approx(1 - row["error_rate"])
    assert row["numeric_ci_high"] < 1.0
    assert "error rows score 0" in report.text() and "error rows score 0" in row["scores"]
    page = (flaky_run / "report" / "report.html").read_text("utf-8")
    assert "error rows score 0" in page


def test_exclude_errors_restores_the_conditional_mean_and_says_so(flaky_run: Path) -> None:
    report = build_report(flaky_run, figures=False, exclude_errors=True)
    row = report.summary.set_index("model").loc["flaky:mock"]
    assert row["numeric_mean"] == 1.0 and row["errors"] > 0
    assert "conditional means" in report.text() and "conditional" in row["scores"]
    summary_csv = (flaky_run / "report" / "summary.csv").read_text("utf-8")
    assert "conditional means" in summary_csv


def test_the_paired_comparison_uses_the_same_rule(tmp_path: Path) -> None:
    path = write_spec(tmp_path, models=["flaky:mock"], prompts=PROMPTS, repeats=1, scorers=["numeric"],
                      configs=[{"label": "clean"}, {"label": "r30", "extra_params": {"fail_rate": 0.3}}])
    run_dir = ev.run(path, progress=False).run_dir
    counted = build_report(run_dir, baseline="flaky:mock/clean", figures=False).comparison.iloc[0]
    assert counted["numeric_diff"] < 0 and counted["numeric_diff_ci_high"] < 0  # r30 loses its failed prompts
    excluded = build_report(run_dir, baseline="flaky:mock/clean", figures=False, exclude_errors=True).comparison
    assert excluded.iloc[0]["numeric_diff"] == 0.0


def test_the_spec_field_sets_the_rule_for_the_run_and_its_report(tmp_path: Path) -> None:
    run_dir = _flaky_run(tmp_path, 0.3, exclude_errors=True)
    report = build_report(run_dir, figures=False)
    assert report.exclude_errors and report.summary.set_index("model").loc["flaky:mock", "numeric_mean"] == 1.0


def test_run_summary_counts_errors_as_failures(tmp_path: Path) -> None:
    path = write_spec(tmp_path, models=["flaky:mock"], configs=[{"label": "r", "extra_params": {"fail_rate": 0.3}}],
                      prompts=PROMPTS, repeats=1, scorers=["numeric"])
    result = ev.run(path, progress=False)
    tally = result.summary.tallies[("flaky:mock", "r")]
    assert tally.score_mean("score_numeric") == pytest.approx(1 - tally.errors / tally.rows)
    assert tally.score_mean("score_numeric", exclude_errors=True) == 1.0
    assert "error rows score 0" in result.summary.text()


def test_compare_two_runs_pairs_by_prompt_and_counts_errors(tmp_path: Path) -> None:
    before = _flaky_run(tmp_path / "a", 0.0)
    after = _flaky_run(tmp_path / "b", 0.3)
    table = compare_runs(before, after, on="flaky:mock")
    row = table.iloc[0]
    assert len(table) == 1 and row["pairs"] == 40 and row["errors_a"] == 0 and row["errors_b"] > 0
    assert row["numeric_a"] == 1.0 and row["numeric_b"] == pytest.approx(1 - row["errors_b"] / 40)
    assert row["numeric_diff_ci_high"] < 0 and row["cost_ratio"] > 0 and row["latency_ratio"] > 0
    assert compare_runs(before, after, on="flaky:mock", exclude_errors=True).iloc[0]["numeric_diff"] == 0.0
    with pytest.raises(ReportError, match="not in run A"):
        compare_runs(before, after, on="nope:mock")


def test_cli_compare_and_fail_under(tmp_path: Path) -> None:
    before = _flaky_run(tmp_path / "a", 0.0)
    after = _flaky_run(tmp_path / "b", 0.3)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "llmkit.evals", *args], capture_output=True, text=True,
                              timeout=120, check=False)

    shown = cli("compare", str(before), str(after), "--on", "flaky:mock")
    assert shown.returncode == 0, shown.stderr
    assert "error rows score 0" in shown.stdout and "flaky:mock/default" in shown.stdout
    gate = cli("report", str(after), "--no-figures", "--fail-under", "numeric=0.95")
    assert gate.returncode == 1 and "fail-under: flaky:mock / default: numeric" in gate.stderr
    assert cli("report", str(after), "--no-figures", "--exclude-errors", "--fail-under", "numeric=0.95").returncode == 0
    unknown = cli("report", str(after), "--no-figures", "--fail-under", "nope=0.5")
    assert unknown.returncode == 2 and "no such scorer" in unknown.stderr and "Traceback" not in unknown.stderr
