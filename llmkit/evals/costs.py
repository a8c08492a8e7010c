"""Cost analysis of a run: where the money goes, what a correct answer costs, what N requests would cost.

All amounts are at list price — what the calls cost the provider's way, whether or not llmkit's response cache
answered them in this run (a cache hit is charged $0 here but saved its list cost, `saved_cost_usd`):
- the split per row: uncached input, cached input (prompt caching: input tokens the provider billed at its cached
  rate), output without reasoning, reasoning (billed as output), and judge calls when a judge scored the row.
  The row's own input/output cost is split by token counts × the model's rates from run.json.
- cost per correct answer = list cost of all rows ÷ the sum of a scorer's scores (error rows score 0).
- savings: `saved_cost_usd` (response cache) and `prompt_cache_savings_usd` (cached input tokens × (input rate −
  cached rate)).
- projection: mean list cost per request × N.
An unknown price stays NaN ("unknown") through every sum; it never becomes $0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MILLION = 1_000_000


def _rates(manifest: Mapping[str, Any]) -> dict[str, tuple[float, float, float]]:
    """model id → (input, cached input, output) USD per token; missing prices are NaN."""
    rates = {}
    for model in manifest.get("models") or []:
        price = model.get("pricing_usd_per_mtok") or {}

        def rate(key: str, fallback: float = math.nan, price: Mapping[str, Any] = price) -> float:
            value = price.get(key)
            return float(value) / MILLION if value is not None else fallback

        rate_in = rate("input")
        rates[str(model.get("id"))] = (rate_in, rate("cached_input", rate_in), rate("output"))
    return rates


def _column(df: Any, name: str) -> Any:
    import pandas as pd

    if name in df.columns:
        return df[name].astype("float64")
    return pd.Series(math.nan, index=df.index, dtype="float64")


def row_costs(df: Any, manifest: Mapping[str, Any]) -> Any:
    """A DataFrame aligned with df: input_uncached, input_cached, output, reasoning, judge, list (all USD, list
    price) and prompt_cache_savings."""
    import numpy as np
    import pandas as pd

    rates = _rates(manifest)
    models = df["model"].astype(str)
    rate_in = models.map(lambda m: rates.get(m, (math.nan,) * 3)[0]).astype("float64")
    rate_cached = models.map(lambda m: rates.get(m, (math.nan,) * 3)[1]).astype("float64")
    rate_out = models.map(lambda m: rates.get(m, (math.nan,) * 3)[2]).astype("float64")
    tokens_in, tokens_out = _column(df, "input_tokens").fillna(0), _column(df, "output_tokens").fillna(0)
    tokens_cached = np.minimum(_column(df, "cached_input_tokens").fillna(0), tokens_in)
    tokens_reasoning = np.minimum(_column(df, "reasoning_tokens").fillna(0), tokens_out)
    weight_cached = tokens_cached * rate_cached
    weight_in = (tokens_in - tokens_cached) * rate_in + weight_cached
    weight_out = tokens_out * rate_out

    hit = df["cached"].astype(bool) if "cached" in df.columns else pd.Series(False, index=df.index)
    saved = _column(df, "saved_cost_usd")  # a cache hit's list cost; NaN when its price is unknown
    in_share = (weight_in / (weight_in + weight_out)).where(weight_in + weight_out > 0, 0.0)
    list_in = _column(df, "input_cost_usd").where(~hit, saved * in_share)
    list_out = _column(df, "output_cost_usd").where(~hit, saved * (1 - in_share))
    # Rows whose cost is unknown (no price) stay NaN in every part.
    unknown = _column(df, "cost_usd").isna() & ~hit
    list_in, list_out = list_in.mask(unknown), list_out.mask(unknown)

    cached_share = (weight_cached / weight_in).where(tokens_cached > 0, 0.0).where(list_in != 0, 0.0)
    reasoning_share = (tokens_reasoning / tokens_out).where(tokens_out > 0, 0.0)
    judge = _column(df, "judge_cost_usd")
    out = pd.DataFrame({
        "input_uncached": list_in * (1 - cached_share),
        "input_cached": list_in * cached_share,
        "output": list_out * (1 - reasoning_share),
        "reasoning": list_out * reasoning_share,
        "judge": judge,
        "prompt_cache_savings": (tokens_cached * (rate_in - rate_cached)).where(tokens_cached > 0, 0.0),
    }, index=df.index)
    calls = saved.where(hit, _column(df, "input_cost_usd") + _column(df, "output_cost_usd")).mask(unknown)
    out["list"] = calls + judge.fillna(0)
    return out


def _total(values: Any) -> float:
    return float(values.sum(min_count=1))


def variant_costs(df: Any, costs: Any, scorers: list[str], project: int) -> dict[str, Any]:
    """The cost columns of one model × config (df and costs restricted to its rows)."""
    record: dict[str, Any] = {
        "cost_input_uncached_usd": _total(costs["input_uncached"]),
        "cost_input_cached_usd": _total(costs["input_cached"]),
        "cost_output_usd": _total(costs["output"]),
        "cost_reasoning_usd": _total(costs["reasoning"]),
        "cost_judge_usd": _total(costs["judge"]),
        "list_cost_usd": _total(costs["list"]),
        "prompt_cache_savings_usd": _total(costs["prompt_cache_savings"]),
    }
    per_request = float(costs["list"].mean())  # NaN when no row has a known cost
    for column in scorers:
        total_score = float(df[column].astype("float64").fillna(0).sum())
        name = column.removeprefix("score_")
        record[f"cost_per_correct_{name}_usd"] = (record["list_cost_usd"] / total_score if total_score > 0
                                                  else math.nan)
    record["projected_requests"] = project
    record["projected_cost_usd"] = per_request * project
    return record


def cheapest_meeting(summary: Any) -> Any:
    """Per scorer, for each score level some model × config reaches, the cheapest (projected) one reaching it:
    the Pareto front of cost against score, read as "to get ≥ X, pay at least Y"."""
    import pandas as pd

    from llmkit.evals.columns import summary_scorers

    scorers = summary_scorers(summary)
    records: list[dict[str, Any]] = []
    priced = summary[summary["projected_cost_usd"].notna()]
    for name in scorers:
        levels = sorted({round(float(v), 4) for v in priced[f"{name}_mean"].dropna()}, reverse=True)
        previous_cost = math.inf
        for level in levels:
            meeting = priced[priced[f"{name}_mean"].round(4) >= level]
            best = meeting.loc[meeting["projected_cost_usd"].idxmin()]
            if best["projected_cost_usd"] >= previous_cost and records and records[-1]["scorer"] == name:
                continue
            previous_cost = float(best["projected_cost_usd"])
            records.append({"scorer": name, "target": level, "model": best["model"],
                            "config_label": best["config_label"], "score": float(best[f"{name}_mean"]),
                            "projected_requests": int(best["projected_requests"]),
                            "projected_cost_usd": previous_cost})
    return pd.DataFrame.from_records(records, columns=["scorer", "target", "model", "config_label", "score",
                                                       "projected_requests", "projected_cost_usd"])
