"""`llmkit compare RUN_A RUN_B`: two runs paired sample by sample.

Rows pair on (model, config_label, prompt_id, repeat), so the same prompt and repeat is compared with itself —
the comparison you want after changing a prompt template, a scorer or a model version. When each run holds one
model × config (the same spec run against two models), those two are paired with each other. Differences are
B − A with a 95% bootstrap interval over prompts (repeats averaged first), as in the report's baseline comparison;
an error row scores 0 unless `exclude_errors` (then only pairs answered on both sides count). Cost per call and
median latency are over successful calls, with B ÷ A ratios.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmkit.errors import ReportError
from llmkit.evals import fmt
from llmkit.evals.columns import score_columns, score_rule, scored
from llmkit.evals.stats import bootstrap_mean_ci, percentile

KEYS = ["prompt_id", "repeat"]


def _variants(df: Any) -> list[tuple[str, str]]:
    return list(dict.fromkeys(zip(df["model"].astype(str), df["config_label"].astype(str), strict=True)))


def _pairs(a: Any, b: Any, on: str | None = None) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    va, vb = _variants(a), _variants(b)
    if on:
        model, _, label = on.partition("/")
        va = [v for v in va if v[0] == model and (not label or v[1] == label)]
        vb = [v for v in vb if v[0] == model and (not label or v[1] == label)]
        if not va or not vb:
            raise ReportError(f"compare --on {on}: not in {'run A' if not va else 'run B'}; "
                              f"A has {', '.join('/'.join(v) for v in _variants(a))}; "
                              f"B has {', '.join('/'.join(v) for v in _variants(b))}")
    shared = [v for v in va if v in vb]
    if shared:
        return [(v, v) for v in shared]
    if len(va) == 1 and len(vb) == 1:
        return [(va[0], vb[0])]
    raise ReportError("compare: the runs share no model × config, and each has several, so nothing pairs up; "
                    f"A has {', '.join('/'.join(v) for v in va)}; B has {', '.join('/'.join(v) for v in vb)}")


def _rows(df: Any, variant: tuple[str, str]) -> Any:
    return df[(df["model"] == variant[0]) & (df["config_label"] == variant[1])]


def compare_runs(run_a: str | Path, run_b: str | Path, *, on: str | None = None, exclude_errors: bool = False) -> Any:
    """One row per paired model × config (only `on`, MODEL or MODEL/CONFIG, when given): pairs, per-scorer means in
    A and B and the paired difference with its CI, samples whose score changed, errors, cost per call and median
    latency on both sides and their B ÷ A ratios."""
    import pandas as pd

    from llmkit.evals.store import load

    a, b = load(Path(run_a)), load(Path(run_b))
    for path, df in ((run_a, a), (run_b, b)):
        if df.empty:
            raise ReportError(f"compare: {path} has no rows yet")
    scorers = [c for c in score_columns(a) if c in set(score_columns(b))]
    records = []
    graded_a, graded_b = scored(a, exclude_errors), scored(b, exclude_errors)
    for va, vb in _pairs(a, b, on):
        ra, rb = _rows(a, va), _rows(b, vb)
        joined = _rows(graded_a, va).merge(_rows(graded_b, vb), on=KEYS, suffixes=("_a", "_b"))
        record: dict[str, Any] = {"a": "/".join(va), "b": "/".join(vb), "pairs": len(joined),
                                  "errors_a": int(joined["error_type_a"].notna().sum()),
                                  "errors_b": int(joined["error_type_b"].notna().sum())}
        for column in scorers:
            name = column.removeprefix("score_")
            sa, sb = joined[f"{column}_a"].astype("float64"), joined[f"{column}_b"].astype("float64")
            per_prompt = (sb - sa).groupby(joined["prompt_id"]).mean()
            record[f"{name}_a"], record[f"{name}_b"] = float(sa.mean()), float(sb.mean())
            mean, low, high = bootstrap_mean_ci(per_prompt)
            record[f"{name}_diff"], record[f"{name}_diff_ci_low"], record[f"{name}_diff_ci_high"] = mean, low, high
            record[f"{name}_changed"] = int(((sa - sb).abs() > 1e-9).sum())
        for side, rows in (("a", ra), ("b", rb)):
            ok = rows[rows["error_type"].isna()]
            cost = ok["cost_usd"] + ok["saved_cost_usd"].fillna(0)
            record[f"cost_per_call_usd_{side}"] = float(cost.mean()) if len(ok) else float("nan")
            record[f"latency_p50_s_{side}"] = percentile(ok["latency_s"], 50)
        for name in ("cost_per_call_usd", "latency_p50_s"):
            before = record[f"{name}_a"]
            record[f"{name.split('_')[0]}_ratio"] = record[f"{name}_b"] / before if before else float("nan")
        records.append(record)
    return pd.DataFrame.from_records(records)


def format_comparison(table: Any, run_a: Any, run_b: Any, exclude_errors: bool = False) -> str:
    scorers = [c.removesuffix("_diff") for c in table.columns if c.endswith("_diff")]
    header = ["A", "B", "pairs", "err A/B", *[f"{k} A→B (diff [95% CI], changed)" for k in scorers],
              "cost per call A→B (×)", "p50 s A→B (×)"]
    rows = [header]
    for _, r in table.iterrows():
        rows.append([r["a"], r["b"], str(r["pairs"]), f"{r['errors_a']}/{r['errors_b']}",
                     *[f"{fmt.fixed(r[f'{k}_a'], 2)}→{fmt.fixed(r[f'{k}_b'], 2)} "
                       f"({fmt.ci(r[f'{k}_diff'], r[f'{k}_diff_ci_low'], r[f'{k}_diff_ci_high'])}, {r[f'{k}_changed']})"
                       for k in scorers],
                     f"{fmt.usd(r['cost_per_call_usd_a'])}→{fmt.usd(r['cost_per_call_usd_b'])} "
                     f"({fmt.fixed(r['cost_ratio'], 2)}×)",
                     f"{fmt.fixed(r['latency_p50_s_a'])}→{fmt.fixed(r['latency_p50_s_b'])} "
                     f"({fmt.fixed(r['latency_ratio'], 2)}×)"])
    head = (f"compare A={run_a}  B={run_b}  (paired by prompt id and repeat; diff = B − A)\n"
            f"scores: {score_rule(exclude_errors)}")
    return head + "\n" + fmt.grid(rows)
