"""Figures tell the truth: one cost-vs-score panel per scorer on a 0–1 axis with CIs and the Pareto front, log
cost when it spans decades, labels that never overlap (checked with the renderer's bounding boxes), a tokens
legend outside the bars, honest titles."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.evals.figures import cost_vs_score_figure, pareto_front, render_figures, tokens_figure
from llmkit.evals.report import summarize
from llmkit.evals.store import read_manifest

matplotlib.use("Agg")


def _crowded_summary() -> pd.DataFrame:
    """12 variants crowded near each other (and two exact ties) over three decades of cost, two scorers."""
    rows = []
    for i in range(12):
        cost = 0.01 * (1.9 ** i)
        acc = min(1.0, 0.55 + 0.035 * i) if i not in (4, 5) else 0.7  # 4 and 5 tie on score...
        cost = cost if i != 5 else 0.01 * (1.9 ** 4)  # ...and on cost
        rows.append({"model": f"model-{i}:mock", "config_label": "default" if i % 2 else "think-high",
                     "cost_per_1k_usd": cost, "contains_mean": acc, "contains_ci_low": acc - 0.08,
                     "contains_ci_high": min(1.0, acc + 0.08), "judge_mean": 1 - acc / 2,
                     "judge_ci_low": 0.4, "judge_ci_high": 0.9, "input_tokens_mean": 50.0 + i,
                     "output_tokens_mean": 200.0 + 30 * i, "reasoning_tokens_mean": 20.0 * i})
    return pd.DataFrame(rows)


def _overlaps(fig: Any, texts: list[Any]) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text()]
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]


def test_one_panel_per_scorer_with_unit_axis_log_cost_and_no_label_overlap() -> None:
    fig = cost_vs_score_figure(_crowded_summary())
    try:
        axes = fig.axes
        assert [ax.get_title().split(":")[0] for ax in axes] == ["contains", "judge"]
        for ax in axes:
            low, high = ax.get_ylim()
            assert -0.1 <= low <= 0 and 1 <= high <= 1.1, "a 0–1 score is drawn on its 0–1 axis"
            assert ax.get_xscale() == "log", "cost spanning decades is on a log axis"
            assert "USD per 1,000 calls" in ax.get_xlabel() and "Cost vs score" not in ax.get_title()
            labels = [t for t in ax.texts if "mock" in t.get_text()]
            assert len(labels) == 11, "the two tied variants share one label, the others have one each"
            assert any("model-4:mock" in t.get_text() and "model-5:mock" in t.get_text() for t in labels)
            assert _overlaps(fig, labels) == []
            assert ax.containers, "the means carry CI error bars"
            assert any(line.get_label() == "Pareto front" for line in ax.get_lines())
    finally:
        matplotlib.pyplot.close(fig)


def test_pareto_front_is_cheapest_first_and_skips_dominated_points() -> None:
    assert pareto_front([1.0, 2.0, 3.0, 0.5], [0.5, 0.4, 0.9, 0.2]) == [3, 0, 2]


def test_tokens_legend_sits_outside_the_bars() -> None:
    fig = tokens_figure(_crowded_summary())
    try:
        ax = fig.axes[0]
        renderer = fig.canvas.get_renderer()
        legend = ax.get_legend().get_window_extent(renderer)
        assert not legend.overlaps(ax.get_window_extent(renderer))
    finally:
        matplotlib.pyplot.close(fig)


def test_real_run_figures_are_pngs_and_inline_svg(tmp_path: Path) -> None:
    result = ev.run(write_spec(tmp_path), progress=False)
    df = ev.load(result.run_dir)
    summary = summarize(df, read_manifest(result.run_dir))
    paths, svgs = render_figures(df, summary, tmp_path)
    assert [p.name for p in paths] == ["cost_vs_score.png", "latency.png", "tokens.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert set(svgs) == {"cost_vs_score", "latency", "tokens"}
    assert all(s.startswith("<svg") and "href=\"http" not in s for s in svgs.values())
    assert "contains: mean score" in svgs["cost_vs_score"] and "numeric: mean score" in svgs["cost_vs_score"]


@pytest.mark.parametrize("scores", [[0.0, 0.0], [1.0, 1.0]])
def test_constant_scores_still_use_the_unit_axis(scores: list[float]) -> None:
    summary = _crowded_summary().head(2).assign(contains_mean=scores, contains_ci_low=float("nan"),
                                                contains_ci_high=float("nan")).drop(
        columns=["judge_mean", "judge_ci_low", "judge_ci_high"])
    fig = cost_vs_score_figure(summary)
    try:
        low, high = fig.axes[0].get_ylim()
        assert low < 0 and high > 1
    finally:
        matplotlib.pyplot.close(fig)
