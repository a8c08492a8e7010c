"""Matplotlib figures of a run (Agg backend, PNG): cost vs score, latency distribution, tokens per model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _labels(summary: Any) -> list[str]:
    return [f"{m}\n{c}" for m, c in zip(summary["model"], summary["config_label"], strict=True)]


def cost_vs_score(summary: Any, ax: Any, score: str | None = None) -> None:
    """Cost per 1,000 calls (x) against a mean score with its 95% CI (y); latency when there is no score."""
    scores = [c.removesuffix("_mean") for c in summary.columns
              if c.endswith("_mean") and f"{c[:-5]}_ci_low" in summary.columns]
    name = score or (scores[0] if scores else None)
    x = summary["cost_per_1k_usd"]
    if name is None:
        y, ylabel, err = summary["latency_p50_s"], "median latency (s)", None
    else:
        y, ylabel = summary[f"{name}_mean"], f"mean {name} (95% CI)"
        err = [(y - summary[f"{name}_ci_low"]).clip(lower=0).fillna(0),
               (summary[f"{name}_ci_high"] - y).clip(lower=0).fillna(0)]
    ax.errorbar(x, y, yerr=err, fmt="o", capsize=3)
    for label, xi, yi in zip(_labels(summary), x, y, strict=True):
        ax.annotate(label.replace("\n", " / "), (xi, yi), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("USD per 1,000 calls (list price)")
    ax.set_ylabel(ylabel)
    ax.set_title("Cost vs score")
    ax.grid(alpha=0.3)


def latency_distribution(df: Any, summary: Any, ax: Any) -> None:
    ok = df[df["error_type"].isna()]
    data = [ok[(ok["model"] == m) & (ok["config_label"] == c)]["latency_s"].dropna().to_numpy()
            for m, c in zip(summary["model"], summary["config_label"], strict=True)]
    ax.boxplot(data, orientation="horizontal", showfliers=True)
    ax.set_yticks(range(1, len(data) + 1), [label.replace("\n", " / ") for label in _labels(summary)], fontsize=7)
    ax.set_xlabel("latency (s)")
    ax.set_title("Latency per model × config")
    ax.grid(alpha=0.3, axis="x")


def tokens_per_model(summary: Any, ax: Any) -> None:
    import numpy as np

    positions = np.arange(len(summary))
    width = 0.27
    for i, (column, label) in enumerate([("input_tokens_mean", "input"), ("output_tokens_mean", "output"),
                                         ("reasoning_tokens_mean", "reasoning (in output)")]):
        ax.bar(positions + (i - 1) * width, summary[column].fillna(0), width, label=label)
    ax.set_xticks(positions, _labels(summary), fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("mean tokens per call")
    ax.set_title("Tokens per model × config")
    ax.legend(fontsize=8)


def save_figures(df: Any, summary: Any, out_dir: Path) -> list[Path]:
    """Write cost_vs_score.png, latency.png and tokens.png; returns their paths."""
    plt = _pyplot()
    height = max(3.5, 0.45 * len(summary) + 1.5)
    paths = []
    drawings: list[tuple[str, Callable[[Any], None], tuple[float, float]]] = [
        ("cost_vs_score.png", lambda ax: cost_vs_score(summary, ax), (7, 5)),
        ("latency.png", lambda ax: latency_distribution(df, summary, ax), (7, height)),
        ("tokens.png", lambda ax: tokens_per_model(summary, ax), (max(6, 1.1 * len(summary) + 2), 4.5)),
    ]
    for name, draw, size in drawings:
        fig, ax = plt.subplots(figsize=size)
        try:
            draw(ax)
            fig.tight_layout()
            fig.savefig(out_dir / name, dpi=110)
        finally:
            plt.close(fig)
        paths.append(out_dir / name)
    return paths
