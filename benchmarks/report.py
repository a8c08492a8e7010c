"""Result rows, the printed table, `results/latest.json` and `results/latest.png`."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One line of the table. `ratio` is llmkit / baseline (for throughput: llmkit / baseline too, so higher is
    better there); `goal` is the bound on the ratio (or on the value when there is no baseline) and `better` says
    which side of it passes."""

    section: str
    metric: str
    llmkit: float | None
    baseline: float | None = None
    baseline_name: str = ""
    unit: str = ""
    goal: float | None = None
    better: str = "lower"  # "lower": pass when ratio (or value) <= goal; "higher": pass when >= goal
    on: str = "ratio"  # what the goal bounds: "ratio" or "value"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    paired: float | None = None  # median of per-repetition ratios, when llmkit and baseline ran in the same reps

    @property
    def ratio(self) -> float | None:
        """The paired ratio when there is one (each repetition's llmkit / baseline, then the median: drifts of the
        machine's speed during the run cancel out), else the ratio of the medians."""
        if self.paired is not None:
            return self.paired
        if self.llmkit is None or not self.baseline:
            return None
        return self.llmkit / self.baseline

    @property
    def status(self) -> str:
        if self.goal is None:
            return "info"
        subject = self.ratio if self.on == "ratio" else self.llmkit
        if subject is None:
            return "n/a"
        ok = subject <= self.goal if self.better == "lower" else subject >= self.goal
        return "pass" if ok else "MISS"

    @property
    def goal_text(self) -> str:
        if self.goal is None:
            return ""
        sign = "<=" if self.better == "lower" else ">="
        return f"{sign} {self.goal:g}x" if self.on == "ratio" else f"{sign} {_fmt(self.goal, self.unit)}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ratio=self.ratio, status=self.status, goal_text=self.goal_text)
        return data


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.3f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    if unit == "MB":
        return f"{value:,.1f} MB"
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    return f"{value:,.4g}{(' ' + unit) if unit else ''}"


def render_table(rows: list[Row]) -> str:
    header = ("metric", "llmkit", "baseline", "ratio", "goal", "result")
    lines = [[r.metric, _fmt(r.llmkit, r.unit),
              (f"{_fmt(r.baseline, r.unit)} ({r.baseline_name})" if r.baseline is not None else r.baseline_name),
              f"{r.ratio:.2f}x" if r.ratio is not None else "-", r.goal_text, r.status] for r in rows]
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))] if lines else \
        [len(h) for h in header]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
           "  ".join("-" * w for w in widths)]
    section = None
    for row, line in zip(rows, lines, strict=True):
        if row.section != section:
            section = row.section
            out.append(f"[{section}]")
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                   + (f"  {row.note}" if row.note else ""))
    return "\n".join(out)


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {}
    from importlib import metadata

    for package in ("llmkit", "httpx", "aiohttp", "openai", "litellm", "httpx-aiohttp", "uvloop"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0],
            "implementation": platform.python_implementation(), "platform": platform.platform(),
            "packages": versions}


def write_json(path: Path, rows: list[Row], meta: dict[str, Any], raw: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"meta": meta, "rows": [r.to_dict() for r in rows], "raw": raw}
    path.write_text(json.dumps(data, indent=2, default=str))


def write_png(path: Path, rows: list[Row], meta: dict[str, Any]) -> bool:
    """A horizontal bar per row with a ratio: green when it meets its goal, red when not, grey for info; the goal
    drawn as a tick. Returns False (and writes nothing) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    plotted = [r for r in rows if r.ratio is not None]
    if not plotted:
        return False
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(plotted) + 1.6))
    labels = [f"{r.metric} (vs {r.baseline_name})" for r in plotted]
    colours = {"pass": "#2e7d32", "MISS": "#c62828"}
    ratios = [r.ratio or 0.0 for r in plotted]
    ax.barh(range(len(plotted)), ratios, color=[colours.get(r.status, "#9e9e9e") for r in plotted])
    for i, row in enumerate(plotted):
        if row.goal is not None and row.on == "ratio":
            ax.plot([row.goal, row.goal], [i - 0.4, i + 0.4], color="black", linewidth=2)
        ax.text(ratios[i], i, f" {ratios[i]:.2f}x", va="center", fontsize=8)
    ax.set_yticks(range(len(plotted)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="#607d8b", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("llmkit / baseline (log scale; black tick = goal; green pass, red miss, grey info)")
    ax.set_title(f"llmkit benchmarks — {meta.get('mode')} — {meta['machine']['cpu']}, {meta['machine']['cores']} "
                 f"cores, Python {meta['machine']['python']}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
