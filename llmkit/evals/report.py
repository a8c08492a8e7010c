"""The report of a run: a summary per model × config, an optional paired comparison against a baseline model,
saved as CSV + HTML (and PNG figures) in RUN_DIR/report/, and printed to the terminal.

Definitions (README-ready):
- latency / TTFT statistics use successful rows only; a cached row counts with its original latency and has no
  TTFT.
- `cost_usd` is what the run was charged (cache hits cost 0); `cost_per_1k_usd` is what 1,000 successful calls
  cost at list price — cached rows counted at their would-have-been cost — the number for a budget request.
- score means come with 95% bootstrap intervals over prompts (repeats averaged per prompt first).
- the baseline comparison pairs prompts both sides answered: score difference (other − baseline) with a 95%
  bootstrap interval, cost ratio (list cost per call) and latency ratio (median) against the baseline.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.evals.spec import SpecError
from llmkit.evals.stats import bootstrap_mean_ci, percentile


def score_columns(df: Any) -> list[str]:
    return [c for c in df.columns if c.startswith("score_") and c != "score_error"]


def _list_cost(df: Any) -> Any:
    return df["cost_usd"] + df["saved_cost_usd"].fillna(0)  # an unknown price (NaN) stays unknown


def _per_prompt(df: Any, column: str) -> Any:
    return df.groupby("prompt_id", observed=True)[column].mean()


def summarize(df: Any) -> Any:
    """One row per (model, config_label), in the order they appear in the run."""
    import pandas as pd

    records = []
    for (model, label), group in df.groupby(["model", "config_label"], sort=False, observed=True):
        ok = group[group["error_type"].isna()]
        record: dict[str, Any] = {
            "model": model, "config_label": label, "n": len(group), "errors": len(group) - len(ok),
            "error_rate": (len(group) - len(ok)) / len(group) if len(group) else float("nan"),
            "latency_mean_s": ok["latency_s"].mean(), "latency_p50_s": percentile(ok["latency_s"], 50),
            "latency_p95_s": percentile(ok["latency_s"], 95),
            "ttft_mean_s": ok["ttft_s"].mean(), "ttft_p50_s": percentile(ok["ttft_s"], 50),
            "ttft_p95_s": percentile(ok["ttft_s"], 95),
            "input_tokens_mean": ok["input_tokens"].astype("float64").mean(),
            "output_tokens_mean": ok["output_tokens"].astype("float64").mean(),
            "reasoning_tokens_mean": ok["reasoning_tokens"].astype("float64").mean(),
            "total_tokens": int(ok["input_tokens"].fillna(0).sum() + ok["output_tokens"].fillna(0).sum()),
            "total_cost_usd": float(group["cost_usd"].sum(skipna=False)),
            "cost_per_1k_usd": float(_list_cost(ok).mean(skipna=False) * 1000) if len(ok) else float("nan"),
            "cache_hits": int(group["cached"].sum()),
            "saved_cost_usd": float(group["saved_cost_usd"].sum(skipna=False)),
        }
        for column in score_columns(df):
            mean, low, high = bootstrap_mean_ci(_per_prompt(ok, column))
            name = column.removeprefix("score_")
            record[f"{name}_mean"], record[f"{name}_ci_low"], record[f"{name}_ci_high"] = mean, low, high
        records.append(record)
    return pd.DataFrame.from_records(records)


def _select_baseline(df: Any, baseline: str) -> tuple[str, str]:
    model, _, label = baseline.partition("/")
    rows = df[df["model"] == model]
    if rows.empty:
        models = ", ".join(dict.fromkeys(df["model"].tolist()))
        raise SpecError(f"--baseline {baseline}: model {model!r} is not in this run; its models are: {models}")
    labels = list(dict.fromkeys(rows["config_label"].tolist()))
    if label and label not in labels:
        raise SpecError(f"--baseline {baseline}: config {label!r} not run for {model}; its configs: "
                        f"{', '.join(labels)}")
    return model, label or labels[0]


def compare(df: Any, baseline: str) -> Any:
    """Paired comparison of every model × config against the baseline (`MODEL` or `MODEL/CONFIG_LABEL`; a bare
    model uses its first config)."""
    import pandas as pd

    base_model, base_label = _select_baseline(df, baseline)
    ok = df[df["error_type"].isna()]
    base = ok[(ok["model"] == base_model) & (ok["config_label"] == base_label)]
    base_cost = float(_list_cost(base).mean()) if len(base) else float("nan")
    base_latency = percentile(base["latency_s"], 50)
    records = []
    for (model, label), group in ok.groupby(["model", "config_label"], sort=False, observed=True):
        if model == base_model and label == base_label:
            continue
        record: dict[str, Any] = {"model": model, "config_label": label, "baseline": f"{base_model}/{base_label}"}
        shared = sorted(set(group["prompt_id"]) & set(base["prompt_id"]))
        record["paired_prompts"] = len(shared)
        for column in score_columns(df):
            diff = (_per_prompt(group, column) - _per_prompt(base, column)).reindex(shared)
            mean, low, high = bootstrap_mean_ci(diff)
            name = column.removeprefix("score_")
            record[f"{name}_diff"], record[f"{name}_diff_ci_low"], record[f"{name}_diff_ci_high"] = mean, low, high
        cost = float(_list_cost(group).mean()) if len(group) else float("nan")
        record["cost_ratio"] = cost / base_cost if base_cost else float("nan")
        latency = percentile(group["latency_s"], 50)
        record["latency_ratio"] = latency / base_latency if base_latency else float("nan")
        records.append(record)
    return pd.DataFrame.from_records(records)


@dataclass
class Report:
    run_dir: Path
    out_dir: Path
    summary: Any
    comparison: Any = None
    files: list[Path] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The terminal version: compact columns, scores as `mean [low, high]`."""
        s = self.summary
        status = self.manifest.get("status", "?")
        lines = [f"report: {self.manifest.get('run_id', self.run_dir.name)} ({status}), "
                 f"{int(s['n'].sum()) if len(s) else 0} rows"]
        if len(s):
            lines.append(_terminal_table(s))
        if self.comparison is not None and len(self.comparison):
            lines += ["", f"paired comparison vs {self.comparison['baseline'].iloc[0]} (diff = other - baseline, "
                          "95% bootstrap CI over prompts)", _terminal_comparison(self.comparison)]
        lines += ["", "files:"] + [f"  {p}" for p in self.files]
        return "\n".join(lines)


def _fmt(value: Any, digits: int = 3) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "-" if number != number else f"{number:.{digits}f}"


def _ci(mean: Any, low: Any, high: Any) -> str:
    if float(low) != float(low):
        return _fmt(mean, 2)
    return f"{_fmt(mean, 2)} [{_fmt(low, 2)},{_fmt(high, 2)}]"


def _grid(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _terminal_table(s: Any) -> str:
    scores = [c.removesuffix("_mean") for c in s.columns if c.endswith("_mean") and f"{c[:-5]}_ci_low" in s.columns]
    header = ["model", "config", "n", "err", "lat_p50", "lat_p95", "ttft_p50", "out_tok", "cost_usd",
              "usd/1k", "cached", *scores]
    rows = [header]
    for _, r in s.iterrows():
        rows.append([str(r["model"]), str(r["config_label"]), str(r["n"]), str(r["errors"]),
                     _fmt(r["latency_p50_s"]), _fmt(r["latency_p95_s"]), _fmt(r["ttft_p50_s"], 4),
                     _fmt(r["output_tokens_mean"], 1), _fmt(r["total_cost_usd"], 6), _fmt(r["cost_per_1k_usd"], 4),
                     str(r["cache_hits"]),
                     *[_ci(r[f"{k}_mean"], r[f"{k}_ci_low"], r[f"{k}_ci_high"]) for k in scores]])
    return _grid(rows)


def _terminal_comparison(c: Any) -> str:
    scores = [col.removesuffix("_diff") for col in c.columns if col.endswith("_diff")]
    rows = [["model", "config", "pairs", *[f"{k} diff" for k in scores], "cost_x", "latency_x"]]
    for _, r in c.iterrows():
        rows.append([str(r["model"]), str(r["config_label"]), str(r["paired_prompts"]),
                     *[_ci(r[f"{k}_diff"], r[f"{k}_diff_ci_low"], r[f"{k}_diff_ci_high"]) for k in scores],
                     _fmt(r["cost_ratio"], 2), _fmt(r["latency_ratio"], 2)])
    return _grid(rows)


def build_report(run_dir: str | Path, *, baseline: str | None = None, out: str | Path | None = None,
                 figures: bool = True) -> Report:
    """Summarise a run and write summary.csv, comparison.csv (with a baseline), PNG figures and report.html."""
    from llmkit.evals.store import load, read_manifest

    run_path = Path(run_dir)
    manifest = read_manifest(run_path)
    df = load(run_path)
    if df.empty:
        raise SpecError(f"{run_path}: the run has no rows yet; finish it with "
                        f"python -m llmkit.evals run --resume {run_path}")
    out_dir = Path(out) if out is not None else run_path / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(df)
    report = Report(run_path, out_dir, summary, manifest=manifest)
    summary.to_csv(out_dir / "summary.csv", index=False)
    report.files.append(out_dir / "summary.csv")
    if baseline:
        report.comparison = compare(df, baseline)
        report.comparison.to_csv(out_dir / "comparison.csv", index=False)
        report.files.append(out_dir / "comparison.csv")
    images: list[Path] = []
    if figures:
        from llmkit.evals.figures import save_figures

        images = save_figures(df, summary, out_dir)
        report.files += images
    html_path = out_dir / "report.html"
    html_path.write_text(_html(report, images), "utf-8")
    report.files.append(html_path)
    return report


def _html(report: Report, images: list[Path]) -> str:
    m = report.manifest
    skipped = m.get("skipped_configs") or []
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>llmkit eval report: {html.escape(str(m.get('run_id', '')))}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}"
        "img{max-width:48%;margin:1%}</style></head><body>",
        f"<h1>{html.escape(str(m.get('run_id', '')))}</h1>",
        f"<p>status: {html.escape(str(m.get('status')))} · llmkit {html.escape(str(m.get('llmkit_version')))} · "
        f"started {html.escape(str(m.get('started_at')))} · finished {html.escape(str(m.get('finished_at')))}</p>",
        "<h2>Summary per model × config</h2>",
        report.summary.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="-"),
    ]
    if report.comparison is not None and len(report.comparison):
        parts += ["<h2>Paired comparison against the baseline</h2>",
                  "<p>diff = other − baseline, 95% bootstrap CI over prompts; ratios relative to the baseline.</p>",
                  report.comparison.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="-")]
    if skipped:
        parts.append("<h2>Skipped configs</h2><ul>" + "".join(
            f"<li>{html.escape(s['model'])} / {html.escape(s['config_label'])}: {html.escape(s['reason'])}</li>"
            for s in skipped) + "</ul>")
    if images:
        parts.append("<h2>Figures</h2>" + "".join(
            f"<img src='{html.escape(p.name)}' alt='{html.escape(p.stem)}'>" for p in images))
    parts.append("</body></html>")
    return "\n".join(parts)
