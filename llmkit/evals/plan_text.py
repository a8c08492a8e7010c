"""The dry run's text: rows, estimated tokens and cost per model × config, skipped configs, totals; and why a
plan has no rows."""

from __future__ import annotations

from typing import Any

from llmkit.evals.fmt import grid


def empty_plan_reason(plan: Any) -> str:
    if plan.skipped:
        reasons = "; ".join(f"{s.model} / {s.config_label}: {s.reason}" for s in plan.skipped)
        return f"the plan has 0 rows: every model × config was skipped ({reasons})"
    if not plan.prompts:
        return "the plan has 0 rows: the spec has no prompts; add some under `prompts:`"
    return "the plan has 0 rows: no model matched; check `models:` (or --models) with `llmkit models`"


def format_plan(p: Any) -> str:
    """The dry-run text: rows, estimated tokens and cost per model × config, skipped configs, totals."""
    spec = p.spec_file.spec
    lines = [f"plan: {spec.name} ({p.spec_file.path or 'inline spec'}): {len(p.models)} models, "
             f"{len(p.variants)} model×config, {len(p.prompts)} prompts × {p.repeats} repeats = {p.total_rows} rows",
             "nothing is called; estimates use llmkit.tokens and each model's price (see llmkit.evals.plan)"]
    table = [["model", "config", "rows", "est_input_tokens", "est_output_tokens", "est_cost_usd", "price"]]
    for (model, label), est in p.estimates().items():
        m = next(x for x in p.models if x.identifier == model)
        price = "unknown" if m.pricing is None else f"${m.pricing.rates.input}/${m.pricing.rates.output} per Mtok" + (
            " (illustrative)" if m.pricing.illustrative else "")
        if any(v.unavailable for v in p.variants if v.model.identifier == model and v.label == label):
            price += " [unavailable now]"
        table.append([model, label, str(est.rows), str(est.input_tokens), str(est.output_tokens),
                      f"{est.cost_usd:.6f}", price])
    total = p.total_estimate()
    table.append(["total", "", str(total.rows), str(total.input_tokens), str(total.output_tokens),
                  f"{total.cost_usd:.6f}", ""])
    lines.append(grid(table))
    if p.judge_usd:
        lines.append(f"judges: about ${p.judge_usd:.6f} more (the judge model's price on the same priors)")
    if spec.max_cost_usd is not None:
        verdict = "within" if total.cost_usd + p.judge_usd <= spec.max_cost_usd else "OVER"
        lines.append(f"max_cost_usd: ${spec.max_cost_usd} — the estimate is {verdict} the cap")
    for s in p.skipped:
        lines.append(f"skipped: {s.model} / {s.config_label}: {s.reason}")
    lines += [f"note: {n}" for n in p.notes]
    return "\n".join(lines)
