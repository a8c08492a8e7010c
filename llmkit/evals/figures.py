"""Matplotlib figures of a run, written as PNG files and returned as inline SVG for report.html.

- cost vs score: one panel per scorer, mean with its 95% CI against list cost per 1,000 calls; the Pareto front
  (nothing both cheaper and better) drawn and ringed; scores on their 0–1 axis; cost on a log axis when it spans
  more than a decade; labels placed by adjustText so they never overlap (points that tie share one label).
- latency: a box per model × config over successful calls (log axis when it spans decades).
- tokens: mean input and output (answer + reasoning) tokens per successful call, legend outside the bars.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llmkit.evals.columns import summary_scorers

DECADE_SPAN = 10.0


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _label(model: Any, config: Any) -> str:
    return f"{model} / {config}"


def pareto_front(cost: list[float], score: list[float]) -> list[int]:
    """Indices of points no other point beats (cost ≤ and score ≥, one strictly), cheapest first."""
    points = sorted(range(len(cost)), key=lambda i: (cost[i], -score[i]))
    front, best = [], -math.inf
    for i in points:
        if score[i] > best:
            front.append(i)
            best = score[i]
    return front


def _cost_axis(ax: Any, values: list[float]) -> None:
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > DECADE_SPAN:
        if len(positive) < len(values):  # a free (local) model: linear near 0, log beyond
            ax.set_xscale("symlog", linthresh=min(positive))
        else:
            ax.set_xscale("log")
        _decade_labels_only(ax)


def _decade_labels_only(ax: Any) -> None:
    """On a log axis spanning few decades matplotlib labels the minor ticks too (2×10⁻², 3×10⁻², …), and they
    run into each other: keep the ticks, label only the decades."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def _score_axis(ax: Any, low: list[float], high: list[float]) -> None:
    values = [v for v in low + high if not math.isnan(v)]
    if not values or (min(values) >= 0 and max(values) <= 1):
        ax.set_ylim(-0.03, 1.03)


def cost_vs_score_panel(summary: Any, ax: Any, name: str) -> list[Any]:
    """One scorer's panel; returns the label Text objects (for the overlap check)."""
    data = summary[summary["cost_per_1k_usd"].notna() & summary[f"{name}_mean"].notna()]
    cost = [float(v) for v in data["cost_per_1k_usd"]]
    mean = [float(v) for v in data[f"{name}_mean"]]
    low = [float(v) for v in data[f"{name}_ci_low"]]
    high = [float(v) for v in data[f"{name}_ci_high"]]
    err = [[0 if math.isnan(lo) else max(m - lo, 0) for m, lo in zip(mean, low, strict=True)],
           [0 if math.isnan(hi) else max(hi - m, 0) for m, hi in zip(mean, high, strict=True)]]
    ax.errorbar(cost, mean, yerr=err, fmt="o", capsize=3, color="#1f77b4", ecolor="#7aa6c8", zorder=2)
    front = pareto_front(cost, mean)
    if front:
        ax.step([cost[i] for i in front], [mean[i] for i in front], where="post", color="#d62728", lw=1,
                alpha=0.7, zorder=1, label="Pareto front")
        ax.scatter([cost[i] for i in front], [mean[i] for i in front], s=90, facecolors="none",
                   edgecolors="#d62728", zorder=3)
        ax.legend(loc="lower right", fontsize=7)
    _cost_axis(ax, cost)
    _score_axis(ax, low, high)
    ties: dict[tuple[float, float], list[str]] = {}
    for model, config, x, y in zip(data["model"], data["config_label"], cost, mean, strict=True):
        ties.setdefault((round(x, 12), round(y, 6)), []).append(_label(model, config))
    texts = [ax.text(x, y, "\n".join(labels), fontsize=7, zorder=4) for (x, y), labels in ties.items()]
    missing = len(summary) - len(data)
    ax.set_title(f"{name}: mean score (95% CI) vs cost" + (f"\n{missing} without a price or score not shown"
                                                           if missing else ""), fontsize=10)
    ax.set_xlabel("USD per 1,000 calls (list price)")
    ax.set_ylabel(f"mean {name}")
    ax.grid(alpha=0.3)
    return texts


def label_overlaps(fig: Any, texts: list[Any]) -> list[int]:
    """Indices of labels whose drawn boxes overlap an earlier label's (measured with the renderer)."""
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    return [j for j in range(len(boxes)) if any(boxes[i].overlaps(boxes[j]) for i in range(j))]


def _adjust(fig: Any, ax: Any, texts: list[Any], strong: bool) -> None:
    from adjustText import adjust_text

    options: dict[str, Any] = {"expand": (1.3, 1.6)}
    if strong:
        options = {"expand": (1.6, 2.2), "force_text": (0.4, 0.8), "iter_lim": 1500}
    adjust_text(texts, ax=ax, ensure_inside_axes=True, arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.5},
                **options)
    fig.canvas.draw()


def _number_labels(ax: Any, texts: list[Any]) -> None:
    """Last resort for a crowded panel: each label becomes its number, the names go to a key beside the axes."""
    key = []
    for number, text in enumerate(texts, 1):
        key.append(f"{number}: {text.get_text().replace(chr(10), ', ')}")
        text.set_text(str(number))
    ax.text(1.02, 1.0, "\n".join(key), transform=ax.transAxes, va="top", fontsize=6.5, gid="label-key")


def place_labels(fig: Any, axes_texts: list[tuple[Any, list[Any]]]) -> None:
    """Move labels apart with adjustText, harder if a first pass leaves overlaps, and if the panel is too crowded
    for names, number the points with a key beside the panel. Overlaps are measured, not assumed."""
    fig.canvas.draw()
    for ax, texts in axes_texts:
        if len(texts) < 2:
            continue
        for strong in (False, True):
            _adjust(fig, ax, texts, strong)
            if not label_overlaps(fig, texts):
                break
        else:
            _number_labels(ax, texts)
            _adjust(fig, ax, texts, True)
            for index in label_overlaps(fig, texts):  # numbers that still collide: drop to the key only
                texts[index].set_text("")


def cost_vs_score_figure(summary: Any) -> Any:
    """One panel per scorer (None when the run has no scorer)."""
    names = summary_scorers(summary)
    if not names:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4.8), squeeze=False)
    panels = [(ax, cost_vs_score_panel(summary, ax, name)) for ax, name in zip(axes[0], names, strict=True)]
    fig.tight_layout()
    place_labels(fig, panels)
    return fig


def latency_figure(df: Any, summary: Any) -> Any:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, max(2.8, 0.42 * len(summary) + 1.4)))
    ok = df[df["error_type"].isna()]
    data = [ok[(ok["model"] == m) & (ok["config_label"] == c)]["latency_s"].dropna().to_numpy()
            for m, c in zip(summary["model"], summary["config_label"], strict=True)]
    ax.boxplot(data, orientation="horizontal", showfliers=True, flierprops={"markersize": 3})
    ax.set_yticks(range(1, len(data) + 1),
                  [_label(m, c) for m, c in zip(summary["model"], summary["config_label"], strict=True)], fontsize=7)
    ax.invert_yaxis()
    values = [float(v) for d in data for v in d if v > 0]
    if values and max(values) / min(values) > 100:
        ax.set_xscale("log")
        _decade_labels_only(ax)
    ax.set_xlabel("latency per call (s)")
    ax.set_title("Latency of successful calls per model × config (box: quartiles, whiskers 1.5 IQR)", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def tokens_figure(summary: Any) -> Any:
    import numpy as np

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, max(2.8, 0.5 * len(summary) + 1.4)))
    y = np.arange(len(summary))
    height = 0.38
    reasoning = summary["reasoning_tokens_mean"].fillna(0).to_numpy(dtype="float64")
    output = summary["output_tokens_mean"].fillna(0).to_numpy(dtype="float64")
    ax.barh(y - height / 2, summary["input_tokens_mean"].fillna(0), height, label="input", color="#4c72b0")
    ax.barh(y + height / 2, output - reasoning, height, label="output: answer", color="#dd8452")
    ax.barh(y + height / 2, reasoning, height, left=output - reasoning, label="output: reasoning", color="#c44e52")
    ax.set_yticks(y, [_label(m, c) for m, c in zip(summary["model"], summary["config_label"], strict=True)],
                  fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("mean tokens per successful call")
    ax.set_title("Tokens per call per model × config", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def _svg(fig: Any) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "llmkit"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def render_figures(df: Any, summary: Any, out_dir: Path) -> tuple[list[Path], dict[str, str]]:
    """Write cost_vs_score.png, latency.png and tokens.png; return their paths and the same figures as SVG text
    keyed by name (for report.html)."""
    plt = _pyplot()
    paths: list[Path] = []
    svgs: dict[str, str] = {}
    builders: list[tuple[str, Callable[[], Any]]] = [
        ("cost_vs_score", lambda: cost_vs_score_figure(summary)), ("latency", lambda: latency_figure(df, summary)),
        ("tokens", lambda: tokens_figure(summary))]
    for name, build in builders:
        fig = build()
        if fig is None:
            continue
        try:
            fig.savefig(out_dir / f"{name}.png", dpi=110, bbox_inches="tight")
            svgs[name] = _svg(fig)
        finally:
            plt.close(fig)
        paths.append(out_dir / f"{name}.png")
    return paths, svgs


def save_figures(df: Any, summary: Any, out_dir: Path) -> list[Path]:
    """Write the PNG figures; returns their paths."""
    return render_figures(df, summary, out_dir)[0]
