"""The report of a run: a summary per model × config, an optional paired comparison against a baseline model,
saved as CSV + HTML (and PNG figures) in RUN_DIR/report/, and printed to the terminal.

Definitions (README-ready):
- latency / TTFT statistics use successful rows only; a cached row counts with its original latency and has no
  TTFT.
- `cost_usd` is what the run was charged (cache hits cost 0); `cost_per_1k_usd` is what 1,000 successful calls
  cost at list price — cached rows counted at their would-have-been cost — the number for a budget request.
- score means come with 95% bootstrap intervals over prompts (repeats averaged per prompt first); an error row
  scores 0 for every scorer (a failed call is a failed answer) unless `exclude_errors`, which gives the conditional
  mean over successful calls — the header and summary.csv's `scores` column say which.
- the baseline comparison pairs prompts both sides answered: score difference (other − baseline) with a 95%
  bootstrap interval, cost ratio (list cost per call) and latency ratio (median) against the baseline.
- the cost analysis columns (cost_*_usd, cost_per_correct_*, projected_cost_usd) are defined in
  llmkit.evals.costs; an unknown price is NaN ("unknown"), never $0.
- `answered_by_other` counts the rows whose server named another model than the one asked for (`served_model`;
  a dated snapshot is the same model, see llmkit.models.same_model), `answered_by` names those models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.errors import ReportError
from llmkit.evals import fmt
from llmkit.evals.columns import answered_elsewhere_text, score_columns, score_rule, scored, summary_scorers
from llmkit.evals.costs import cheapest_meeting, row_costs, variant_costs
from llmkit.evals.stats import bootstrap_mean_ci, percentile
from llmkit.models import same_model

DEFAULT_PROJECTION = 1_000_000
__all__ = ["Report", "build_report", "compare", "score_columns", "summarize"]


def _list_cost(df: Any) -> Any:
    return df["cost_usd"] + df["saved_cost_usd"].fillna(0)  # an unknown price (NaN) stays unknown


def _per_prompt(df: Any, column: str) -> Any:
    return df.groupby("prompt_id", observed=True)[column].mean()


def summarize(df: Any, manifest: Mapping[str, Any] | None = None, project: int = DEFAULT_PROJECTION,
              exclude_errors: bool = False) -> Any:
    """One row per (model, config_label), in the order they appear in the run, with the cost analysis columns
    (the split needs the model prices from `manifest`, run.json; without it the cost parts are unknown). Score
    means count error rows as 0 unless `exclude_errors` (see `llmkit.evals.columns.scored`)."""
    import pandas as pd

    records = []
    costs = row_costs(df, manifest or {})
    scorers = score_columns(df)
    asked = {m.get("id"): m.get("name") for m in (manifest or {}).get("models") or [] if isinstance(m, dict)}
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
        others = _answered_by_other(ok, asked.get(model))
        record["answered_by_other"], record["answered_by"] = len(others), ", ".join(dict.fromkeys(others))
        record["scores"] = score_rule(exclude_errors)
        graded = scored(group, exclude_errors)
        for column in scorers:
            mean, low, high = bootstrap_mean_ci(_per_prompt(graded, column))
            name = column.removeprefix("score_")
            record[f"{name}_mean"], record[f"{name}_ci_low"], record[f"{name}_ci_high"] = mean, low, high
        record.update(variant_costs(group, costs.loc[group.index], scorers, project))
        records.append(record)
    return pd.DataFrame.from_records(records)


def _answered_by_other(rows: Any, asked: str | None) -> list[str]:
    """The served models of `rows` that are not the model asked for (none when the run did not record its name)."""
    if not asked or "served_model" not in rows:
        return []
    return [served for served in rows["served_model"].dropna() if not same_model(asked, str(served))]


def _select_baseline(df: Any, baseline: str) -> tuple[str, str]:
    model, _, label = baseline.partition("/")
    rows = df[df["model"] == model]
    if rows.empty:
        models = ", ".join(dict.fromkeys(df["model"].tolist()))
        raise ReportError(f"--baseline {baseline}: model {model!r} is not in this run; its models are: {models}")
    labels = list(dict.fromkeys(rows["config_label"].tolist()))
    if label and label not in labels:
        raise ReportError(f"--baseline {baseline}: config {label!r} not run for {model}; its configs: "
                        f"{', '.join(labels)}")
    return model, label or labels[0]


def compare(df: Any, baseline: str, exclude_errors: bool = False) -> Any:
    """Paired comparison of every model × config against the baseline (`MODEL` or `MODEL/CONFIG_LABEL`; a bare
    model uses its first config). Scores follow the summary's rule (errors 0, or excluded); cost and latency
    ratios use successful calls."""
    import pandas as pd

    base_model, base_label = _select_baseline(df, baseline)
    graded = scored(df, exclude_errors)
    ok = df[df["error_type"].isna()]
    base = ok[(ok["model"] == base_model) & (ok["config_label"] == base_label)]
    base_graded = graded[(graded["model"] == base_model) & (graded["config_label"] == base_label)]
    base_cost = float(_list_cost(base).mean()) if len(base) else float("nan")
    base_latency = percentile(base["latency_s"], 50)
    records = []
    for (model, label), every in df.groupby(["model", "config_label"], sort=False, observed=True):
        if model == base_model and label == base_label:
            continue
        group = every[every["error_type"].isna()]
        record: dict[str, Any] = {"model": model, "config_label": label, "baseline": f"{base_model}/{base_label}"}
        mine = graded[(graded["model"] == model) & (graded["config_label"] == label)]
        shared = sorted(set(mine["prompt_id"]) & set(base_graded["prompt_id"]))
        record["paired_prompts"] = len(shared)
        for column in score_columns(df):
            diff = (_per_prompt(mine, column) - _per_prompt(base_graded, column)).reindex(shared)
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
    cheapest: Any = None
    exclude_errors: bool = False

    def text(self) -> str:
        """The terminal version: compact columns, scores as `mean [low, high]`."""
        s = self.summary
        status = self.manifest.get("status", "?")
        lines = [f"report: {self.manifest.get('run_id', self.run_dir.name)} ({status}), "
                 f"{int(s['n'].sum()) if len(s) else 0} rows"]
        if len(s):
            lines += [f"scores: {score_rule(self.exclude_errors)}", _terminal_table(s)]
            elsewhere = answered_elsewhere_text(s)
            if elsewhere:
                lines.append(elsewhere)
        if self.comparison is not None and len(self.comparison):
            lines += ["", f"paired comparison vs {self.comparison['baseline'].iloc[0]} (diff = other - baseline, "
                          "95% bootstrap CI over prompts)", _terminal_comparison(self.comparison)]
        if len(s):
            lines += ["", _terminal_costs(s)]
        if self.cheapest is not None and len(self.cheapest):
            lines += ["", "cheapest model × config reaching each score:", _terminal_cheapest(self.cheapest)]
        lines += ["", "files:"] + [f"  {p}" for p in self.files]
        return "\n".join(lines)


def _terminal_table(s: Any) -> str:
    scores = summary_scorers(s)
    header = ["model", "config", "n", "err", "err%", "lat_p50", "lat_p95", "ttft_p50", "out_tok", "cost",
              "per 1k calls", "cached", *scores]
    rows = [header]
    for _, r in s.iterrows():
        rows.append([str(r["model"]), str(r["config_label"]), str(r["n"]), str(r["errors"]),
                     fmt.pct(r["error_rate"]), fmt.fixed(r["latency_p50_s"]), fmt.fixed(r["latency_p95_s"]),
                     fmt.fixed(r["ttft_p50_s"], 4),
                     fmt.fixed(r["output_tokens_mean"], 1), fmt.usd(r["total_cost_usd"]), fmt.usd(r["cost_per_1k_usd"]),
                     str(r["cache_hits"]),
                     *[fmt.ci(r[f"{k}_mean"], r[f"{k}_ci_low"], r[f"{k}_ci_high"]) for k in scores]])
    return fmt.grid(rows)


def _terminal_comparison(c: Any) -> str:
    scores = [col.removesuffix("_diff") for col in c.columns if col.endswith("_diff")]
    rows = [["model", "config", "pairs", *[f"{k} diff" for k in scores], "cost_x", "latency_x"]]
    for _, r in c.iterrows():
        rows.append([str(r["model"]), str(r["config_label"]), str(r["paired_prompts"]),
                     *[fmt.ci(r[f"{k}_diff"], r[f"{k}_diff_ci_low"], r[f"{k}_diff_ci_high"]) for k in scores],
                     fmt.fixed(r["cost_ratio"], 2), fmt.fixed(r["latency_ratio"], 2)])
    return fmt.grid(rows)


def _terminal_costs(s: Any) -> str:
    scores = [c.removeprefix("cost_per_correct_").removesuffix("_usd") for c in s.columns
              if c.startswith("cost_per_correct_")]
    n = int(s["projected_requests"].iloc[0])
    rows = [["model", "config", "list cost", "input", "cached in", "output", "reasoning", "judge", "cache saved",
             *[f"$/correct {k}" for k in scores], f"for {n:,} requests"]]
    for _, r in s.iterrows():
        rows.append([str(r["model"]), str(r["config_label"]), fmt.usd(r["list_cost_usd"]),
                     fmt.usd(r["cost_input_uncached_usd"]), fmt.usd(r["cost_input_cached_usd"]),
                     fmt.usd(r["cost_output_usd"]), fmt.usd(r["cost_reasoning_usd"]),
                     fmt.usd(r["cost_judge_usd"], missing="-"),
                     fmt.usd(r["saved_cost_usd"] + r["prompt_cache_savings_usd"]),
                     *[fmt.usd(r[f"cost_per_correct_{k}_usd"], missing="-") for k in scores],
                     fmt.usd(r["projected_cost_usd"])])
    return "cost analysis (list price):\n" + fmt.grid(rows)


def _terminal_cheapest(c: Any) -> str:
    rows = [["scorer", "score ≥", "model", "config", "score", "projected cost"]]
    for _, r in c.iterrows():
        rows.append([str(r["scorer"]), fmt.fixed(r["target"], 2), str(r["model"]), str(r["config_label"]),
                     fmt.fixed(r["score"], 2), fmt.usd(r["projected_cost_usd"])])
    return fmt.grid(rows)


def build_report(run_dir: str | Path, *, baseline: str | None = None, out: str | Path | None = None,
                 figures: bool = True, project: int = DEFAULT_PROJECTION, exclude_errors: bool | None = None) -> Report:
    """Summarise a run and write summary.csv, comparison.csv (with a baseline), cheapest.csv, PNG figures and a
    self-contained report.html (figures inline, every sample included)."""
    from llmkit.evals.html_report import render_html
    from llmkit.evals.store import load, read_manifest

    run_path = Path(run_dir)
    manifest = read_manifest(run_path)
    df = load(run_path)
    if df.empty:
        raise ReportError(f"{run_path}: the run has no rows yet; finish it with "
                        f"llmkit run --resume {run_path}")
    out_dir = Path(out) if out is not None else run_path / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    if exclude_errors is None:  # the spec's choice, else errors count as failures
        exclude_errors = bool((manifest.get("spec") or {}).get("exclude_errors", False))
    summary = summarize(df, manifest, project, exclude_errors)
    report = Report(run_path, out_dir, summary, manifest=manifest, cheapest=cheapest_meeting(summary),
                    exclude_errors=exclude_errors)
    summary.to_csv(out_dir / "summary.csv", index=False)
    report.cheapest.to_csv(out_dir / "cheapest.csv", index=False)
    report.files += [out_dir / "summary.csv", out_dir / "cheapest.csv"]
    if baseline:
        report.comparison = compare(df, baseline, exclude_errors)
        report.comparison.to_csv(out_dir / "comparison.csv", index=False)
        report.files.append(out_dir / "comparison.csv")
    svgs: dict[str, str] = {}
    if figures:
        from llmkit.evals.figures import render_figures

        images, svgs = render_figures(df, summary, out_dir)
        report.files += images
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(report, df, svgs), "utf-8")
    report.files.append(html_path)
    return report
