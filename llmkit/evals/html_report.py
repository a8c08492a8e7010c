"""report.html: one self-contained file a reviewer can open anywhere — no network, no relative assets.

Sections: run facts, summary per model × config, paired comparison (with a baseline), skipped configs, figures
(inline SVG), cost analysis, and every sample as plain HTML (`<details>` per prompt: the prompt, expected answer,
each model × config × repeat's output, reasoning collapsed, scores, judge explanation, latency, tokens, cost,
error). Prompts with errors come first, then the worst-scoring. A few lines of inline script add a text filter
and expand/collapse-all; without script everything still reads.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any, Protocol

from llmkit.evals import fmt
from llmkit.evals.columns import answered_elsewhere_text, score_columns, score_rule, summary_scorers


class Report(Protocol):
    """What the page reads of `llmkit.evals.report.Report` (a Protocol, so this module never imports that one,
    which imports this)."""

    run_dir: Path
    summary: Any
    comparison: Any
    manifest: dict[str, Any]
    cheapest: Any
    exclude_errors: bool

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em 2em;color:#222;max-width:1400px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}
td,th{border:1px solid #d6d6d6;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td.t,th.t{text-align:left}
.note{color:#555;font-size:13px}.unknown{color:#a15c00}.err{color:#b00020}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}
details.p{border:1px solid #ddd;border-radius:4px;margin:4px 0;padding:2px 8px}
details.p>summary{cursor:pointer;padding:3px 0}
.answers{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:8px;margin:6px 0}
.answer{border:1px solid #e2e2e2;border-radius:4px;padding:6px;background:#fafafa}
.answer.bad{border-color:#e8a0a0}.answer h4{margin:0 0 4px;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;font-size:12.5px}
.stats{font-size:12px;color:#555}
#filter{width:28em;padding:4px}
"""

SCRIPT = """
function llmkitFilter(text){
  var q=text.toLowerCase(),n=0;
  document.querySelectorAll('details.p').forEach(function(d){
    var show=!q||d.textContent.toLowerCase().indexOf(q)>=0;d.style.display=show?'':'none';if(show)n++;});
  document.getElementById('shown').textContent=n;
}
function llmkitExpand(open){document.querySelectorAll('details.p').forEach(function(d){
  if(d.style.display!=='none')d.open=open;});}
"""


def _table(header: list[str], rows: list[list[str]], text_columns: int = 2) -> str:
    """An HTML table; cells are already-escaped HTML, the first `text_columns` columns align left."""
    def cls(i: int) -> str:
        return " class='t'" if i < text_columns else ""

    head = "".join(f"<th{cls(i)}>{h}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _money(value: Any, missing: str = fmt.UNKNOWN) -> str:
    text = fmt.usd(value, missing=missing)
    return f"<span class='unknown'>{text}</span>" if text == fmt.UNKNOWN else escape(text)


def summary_table(s: Any) -> str:
    """The summary per model × config as an HTML table (the report's and RunView's)."""
    scores = summary_scorers(s)
    header = ["model", "config", "n", "errors", "error rate", *[f"{escape(k)} (95% CI)" for k in scores],
              "cost (charged)", "per 1,000 calls", "latency p50", "latency p95", "TTFT p50", "cache hits"]
    rows = [[escape(str(r["model"])), escape(str(r["config_label"])), str(r["n"]), str(r["errors"]),
             fmt.pct(r["error_rate"]), *[fmt.ci(r[f"{k}_mean"], r[f"{k}_ci_low"], r[f"{k}_ci_high"]) for k in scores],
             _money(r["total_cost_usd"]), _money(r["cost_per_1k_usd"]), fmt.seconds(r["latency_p50_s"]),
             fmt.seconds(r["latency_p95_s"]), fmt.seconds(r["ttft_p50_s"]), str(r["cache_hits"])]
            for _, r in s.iterrows()]
    return _table(header, rows)


def _summary(report: Report) -> str:
    rule = escape(score_rule(report.exclude_errors))
    return (f"<h2 id='summary'>Summary per model × config</h2><p class='note'>Scores: {rule}.</p>"
            + summary_table(report.summary) +
            "<p class='note'>Scores: mean over prompts (repeats averaged first) with a 95% bootstrap interval over "
            "prompts. Latency and TTFT over successful calls. Cost (charged) is what this run paid (response-cache "
            "hits are free); per 1,000 calls is at list price.</p>" + _elsewhere(report))


def _elsewhere(report: Report) -> str:
    text = answered_elsewhere_text(report.summary)
    return f"<p class='unknown'>{escape(text[0].upper() + text[1:])}.</p>" if text else ""


def _comparison(report: Report) -> str:
    c = report.comparison
    if c is None or not len(c):
        return ""
    scores = [col.removesuffix("_diff") for col in c.columns if col.endswith("_diff")]
    header = ["model", "config", "paired prompts", *[f"{escape(k)} diff (95% CI)" for k in scores],
              "cost ×", "latency ×"]
    rows = [[escape(str(r["model"])), escape(str(r["config_label"])), str(r["paired_prompts"]),
             *[fmt.ci(r[f"{k}_diff"], r[f"{k}_diff_ci_low"], r[f"{k}_diff_ci_high"]) for k in scores],
             fmt.fixed(r["cost_ratio"], 2), fmt.fixed(r["latency_ratio"], 2)] for _, r in c.iterrows()]
    return (f"<h2 id='comparison'>Paired comparison against {escape(str(c['baseline'].iloc[0]))}</h2>"
            + _table(header, rows) + "<p class='note'>diff = other − baseline over the prompts both were asked "
            f"(scores: {escape(score_rule(report.exclude_errors))}), 95% bootstrap interval over prompts; an "
            "interval excluding 0 is a difference the data supports. Ratios: list cost per call and median latency "
            "of successful calls, relative to the baseline.</p>")


def _skipped(report: Report) -> str:
    skipped = report.manifest.get("skipped_configs") or []
    if not skipped:
        return ""
    items = "".join(f"<li>{escape(str(s.get('model')))} / {escape(str(s.get('config_label')))}: "
                    f"{escape(str(s.get('reason')))}</li>" for s in skipped)
    return f"<h2 id='skipped'>Skipped configs ({len(skipped)})</h2><ul>{items}</ul>"


def _figures(svgs: dict[str, str]) -> str:
    if not svgs:
        return ""
    return "<h2 id='figures'>Figures</h2>" + "".join(
        f"<figure id='fig-{escape(name)}'>{svg}</figure>" for name, svg in svgs.items())


def _costs(report: Report) -> str:
    s = report.summary
    scores = [c.removeprefix("cost_per_correct_").removesuffix("_usd") for c in s.columns
              if c.startswith("cost_per_correct_")]
    n = int(s["projected_requests"].iloc[0])
    header = ["model", "config", "input (uncached)", "input (cached)", "output", "reasoning", "judge",
              "total (list)", "saved: response cache", "saved: prompt cache",
              *[f"per correct {escape(k)}" for k in scores], f"{n:,} requests"]
    rows = [[escape(str(r["model"])), escape(str(r["config_label"])), _money(r["cost_input_uncached_usd"]),
             _money(r["cost_input_cached_usd"]), _money(r["cost_output_usd"]), _money(r["cost_reasoning_usd"]),
             _money(r["cost_judge_usd"], missing="-"), _money(r["list_cost_usd"]), _money(r["saved_cost_usd"]),
             _money(r["prompt_cache_savings_usd"]),
             *[_money(r[f"cost_per_correct_{k}_usd"], missing="no correct answer") for k in scores],
             _money(r["projected_cost_usd"])] for _, r in s.iterrows()]
    parts = ["<h2 id='costs'>Cost analysis</h2>", _table(header, rows),
             "<p class='note'>All at list price over this run's rows. Reasoning tokens are billed as output. Cost per "
             "correct answer = total ÷ the sum of that scorer's scores (error rows score 0). The projection is the "
             f"mean list cost per request × {n:,} (llmkit report --project N). "
             "<span class='unknown'>unknown</span> = no price for that model, never $0.</p>"]
    cheapest = report.cheapest
    if cheapest is not None and len(cheapest):
        rows = [[escape(str(r["scorer"])), f"≥ {fmt.fixed(r['target'], 2)}",
                 escape(f"{r['model']} / {r['config_label']}"), fmt.fixed(r["score"], 2),
                 _money(r["projected_cost_usd"])] for _, r in cheapest.iterrows()]
        parts += [f"<h3>Cheapest model × config reaching each score ({n:,} requests)</h3>",
                  _table(["scorer", "target mean", "cheapest model × config", "its mean", "projected cost"], rows, 3)]
    return "".join(parts)


def _row_score(row: Any, scorers: list[str]) -> float:
    values = [float(row[c]) for c in scorers if row[c] is not None and not math.isnan(float(row[c]))]
    return sum(values) / len(values) if values else math.nan


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return str(value) not in ("", "<NA>", "nan", "None")


def answer_html(row: Any, scorers: list[str]) -> str:
    """One model × config × repeat's answer: scores, latency, tokens, cost, the model the server named when it is
    not the id asked for, error, reasoning (collapsed), output, judge explanation."""
    error = _present(row.get("error_type"))
    scores = " · ".join(f"{escape(c.removeprefix('score_'))} {fmt.fixed(row[c], 2)}" for c in scorers)
    title = escape(f"{row['model']} / {row['config_label']} · repeat {row['repeat']}")
    stats = [fmt.seconds(row.get("latency_s")),
             f"tokens in {fmt.fixed(row.get('input_tokens'), 0)} / out {fmt.fixed(row.get('output_tokens'), 0)}"
             + (f" (reasoning {fmt.fixed(row.get('reasoning_tokens'), 0)})"
                if _present(row.get("reasoning_tokens")) and float(row["reasoning_tokens"]) else ""),
             "cost " + _money(row.get("cost_usd"))]
    served = row.get("served_model")
    if _present(served) and served != row["model"]:  # the snapshot (or other model) the server says answered
        stats.append(f"served by {escape(str(served))}")
    if row.get("cached"):
        stats.append("cached")
    if _present(row.get("finish_reason")) and row.get("finish_reason") != "stop":
        stats.append(f"finish {escape(str(row['finish_reason']))}")
    parts = [f"<div class='answer{' bad' if error else ''}'><h4>{title}</h4>",
             f"<div class='stats'>{scores}{' · ' if scores else ''}{' · '.join(stats)}</div>"]
    if error:
        parts.append(f"<pre class='err'>{escape(str(row['error_type']))}: {escape(str(row.get('error')))}</pre>")
    if _present(row.get("reasoning")):
        parts.append(f"<details><summary>reasoning</summary><pre>{escape(str(row['reasoning']))}</pre></details>")
    if _present(row.get("output")):
        parts.append(f"<pre>{escape(str(row['output']))}</pre>")
    if _present(row.get("judge_explanation")):
        parts.append(f"<div class='stats'>judge: {escape(str(row['judge_explanation']))}</div>")
    return "".join(parts) + "</div>"


def group_prompts(df: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """Rows grouped by prompt id: prompts with errors first, then the worst-scoring (lowest row score), then id."""
    scorers = score_columns(df)
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in df.to_dict("records"):
        groups.setdefault(str(record["prompt_id"]), []).append(record)

    def order(item: tuple[str, list[dict[str, Any]]]) -> tuple[int, float, str]:
        rows = item[1]
        errors = any(_present(r.get("error_type")) for r in rows)
        return (0 if errors else 1, _worst(rows, scorers), item[0])

    return sorted(groups.items(), key=order)


def _worst(rows: list[dict[str, Any]], scorers: list[str]) -> float:
    return min((s for s in (_row_score(r, scorers) for r in rows) if not math.isnan(s)), default=math.inf)


def prompt_block(prompt_id: str, rows: list[dict[str, Any]], scorers: list[str], meta: list[str],
                 opened: bool = False) -> str:
    """One prompt as `<details>`: a summary line, the prompt, expected answer, metadata, every answer."""
    first = rows[0]
    errors = sum(_present(r.get("error_type")) for r in rows)
    worst = _worst(rows, scorers)
    head = [f"<b>{escape(prompt_id)}</b>", f"{len(rows)} answers"]
    if errors:
        head.append(f"<span class='err'>{errors} errors</span>")
    if worst != math.inf:
        head.append(f"worst score {worst:.2f}")
    text = str(first.get("prompt") or "")
    head.append(escape(text[:140] + ("…" if len(text) > 140 else "")))
    body = [f"<pre><b>prompt:</b> {escape(text)}</pre>"]
    if _present(first.get("expected")):
        body.append(f"<pre><b>expected:</b> {escape(str(first['expected']))}</pre>")
    for column in meta:
        if _present(first.get(column)):
            name = escape(column.removeprefix("meta_"))
            body.append(f"<div class='stats'>{name}: {escape(str(first[column]))}</div>")
    body.append("<div class='answers'>" + "".join(answer_html(r, scorers) for r in rows) + "</div>")
    return (f"<details class='p' id='prompt-{escape(prompt_id)}'{' open' if opened else ''}>"
            f"<summary>{' · '.join(head)}</summary>" + "".join(body) + "</details>")


def _samples(df: Any) -> str:
    scorers = score_columns(df)
    meta = [c for c in df.columns if c.startswith("meta_")]
    groups = group_prompts(df)
    blocks = [prompt_block(prompt_id, rows, scorers, meta) for prompt_id, rows in groups]
    return (f"<h2 id='samples'>Every sample ({len(groups)} prompts, {len(df)} rows)</h2>"
            "<p class='note'>One entry per prompt with every model × config × repeat's answer; prompts with errors "
            "first, then the worst-scoring. Click an entry to expand it.</p>"
            "<p><input id='filter' type='search' placeholder='filter: any text in a prompt or an answer' "
            "oninput='llmkitFilter(this.value)'> <span id='shown'>" + str(len(groups)) + "</span> shown · "
            "<button type='button' onclick='llmkitExpand(true)'>expand all</button> "
            "<button type='button' onclick='llmkitExpand(false)'>collapse all</button></p>" + "".join(blocks))


def render_html(report: Report, df: Any, svgs: dict[str, str]) -> str:
    m = report.manifest
    run_id = escape(str(m.get("run_id", report.run_dir.name)))
    spec = m.get("spec") or {}
    facts = [f"spec {escape(str(spec.get('name', '?')))}", f"status {escape(str(m.get('status')))}",
             f"{len(df)} rows", f"started {escape(str(m.get('started_at')))}",
             f"finished {escape(str(m.get('finished_at')))}", f"llmkit {escape(str(m.get('llmkit_version')))}"]
    nav = " · ".join(f"<a href='#{a}'>{t}</a>" for a, t in [("summary", "summary"), ("figures", "figures"),
                                                            ("costs", "costs"), ("samples", "every sample")])
    return "".join([
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>llmkit report: {run_id}</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>",
        f"<h1>llmkit report: {run_id}</h1><p class='note'>{' · '.join(facts)}</p><p>{nav}</p>",
        _summary(report), _comparison(report), _skipped(report), _figures(svgs), _costs(report), _samples(df),
        "</body></html>\n",
    ])
