"""Model-graded scoring: `{judge: {model: MODEL_ID, rubric: "..."}}` asks any llmkit model to grade each answer.

    scorers:
      - judge: {model: judge:mock, rubric: "Correct and names the city."}        # -> score_judge, judge_explanation
      - judge: {model: gpt-4o-mini, rubric: "More helpful answer", pairwise: true}  # -> score_pairwise
      - judge: {model: gpt-4o-mini, rubric: "...", prompt: "my Jinja2 template", config: {temperature: 0}}

The judge prompt is a Jinja2 template rendered in llmkit's bounded sandbox (`evals/templates.py`) with the
variables `rubric`, `prompt`, `system`, `output`, `expected` (text, or None), `metadata`, `model`; a pairwise
template gets `output_a` and `output_b` instead of `output`. The judge is asked for one JSON object —
`{"score": 0..1, "explanation": "..."}`, or `{"winner": "A" | "B" | "tie", ...}` when pairwise — and its reply is
parsed leniently (the first such object anywhere, else a `GRADE: x` line). A reply that is neither, or a score
outside [0, 1], is a scorer error: NaN and the reason in `score_error`, never a crash of the sweep.

A pairwise judge compares each model × config's answer with the baseline's answer to the same prompt and repeat
(the baseline: `baseline: MODEL[/CONFIG]`, else the plan's first model × config), twice with the positions
swapped to cancel order bias: win 1, tie 0.5, loss 0 per call, and the score is their mean. It runs as a second
pass over the finished rows, after the sweep (see `evals/pairwise.py`).

Judge calls go through the run's response cache; their tokens and cost are the row's `judge_input_tokens`,
`judge_output_tokens` and `judge_cost_usd` (summed over a row's judges) and count toward `max_cost_usd`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from jinja2 import Template
from jinja2.exceptions import TemplateError

from llmkit.evals.row import EvalRow
from llmkit.evals.templates import BoundedSandbox

POINTWISE_PROMPT = """\
You are grading an answer against a rubric. Be strict and fair.

[BEGIN QUESTION]
{{ prompt }}
[END QUESTION]
{% if expected is not none %}
[BEGIN EXPECTED]
{{ expected }}
[END EXPECTED]
{% endif %}
[BEGIN ANSWER]
{{ output }}
[END ANSWER]

Rubric: {{ rubric }}

Reply with one JSON object and nothing else:
{"score": <a number from 0 (fails the rubric) to 1 (fully meets it)>, "explanation": "<one or two sentences>"}"""

PAIRWISE_PROMPT = """\
You are comparing two answers to the same question against a rubric. Ignore their order and length.

[BEGIN QUESTION]
{{ prompt }}
[END QUESTION]
{% if expected is not none %}
[BEGIN EXPECTED]
{{ expected }}
[END EXPECTED]
{% endif %}
[BEGIN ANSWER A]
{{ output_a }}
[END ANSWER A]

[BEGIN ANSWER B]
{{ output_b }}
[END ANSWER B]

Rubric: {{ rubric }}

Reply with one JSON object and nothing else:
{"winner": "A" or "B" or "tie", "explanation": "<one or two sentences>"}"""

_COMMON = frozenset({"rubric", "prompt", "system", "expected", "metadata", "model"})
VARIABLES = _COMMON | {"output"}
PAIRWISE_VARIABLES = _COMMON | {"output_a", "output_b"}
_KEYS = frozenset({"model", "rubric", "prompt", "pairwise", "baseline", "config"})
_GRADE = re.compile(r"GRADE\s*[:=]\s*\**\s*([A-Za-z]+|[-+]?\d*\.?\d+)", re.IGNORECASE)
_WINNER = {"a": 1.0, "b": 0.0, "tie": 0.5, "draw": 0.5}  # from answer A's side


class VerdictError(ValueError):
    """The judge's reply holds no verdict in the asked-for format (a scorer error, never a crash)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One graded row: the score (None when the judge failed), why, and what the judge calls cost."""

    score: float | None
    explanation: str | None = None
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: Decimal | None = None


@dataclass(frozen=True, slots=True)
class JudgeScorer:
    """A model-graded scorer (see the module docstring); built by `parse_judge`."""

    name: str
    model: str
    rubric: str
    template: str
    pairwise: bool = False
    baseline: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    _env: BoundedSandbox = field(default_factory=BoundedSandbox, compare=False, repr=False)
    _compiled: Template | None = field(default=None, compare=False, repr=False)

    @property
    def column(self) -> str:
        return f"score_{self.name}"

    def renamed(self, name: str) -> JudgeScorer:
        return replace(self, name=name)

    def render(self, values: Mapping[str, Any]) -> str:
        compiled = self._compiled or self._env.from_string(self.template)
        return self._env.render(compiled, {**values, "rubric": self.rubric})

    async def ask(self, text: str, cache: Any) -> tuple[str, Any]:
        """One judge call through the run's cache: (the reply's text, its usage)."""
        from llmkit.factory import LLMFactory

        llm = LLMFactory.create_llm(self.model, dict(self.config) or None, cache=cache)
        try:
            response = await llm.send_user_message(text)
        finally:
            await llm.cleanup()
        return response.content, response.usage

    async def grade(self, values: Mapping[str, Any], cache: Any) -> Verdict:
        """Grade one answer (`values`: the template's variables)."""
        tally = _Tally()
        try:
            reply, usage = await self.ask(self.render(values), cache)
            tally.add(usage)
            score, explanation = parse_verdict(reply, pairwise=False)
        except Exception as exc:  # a judge that fails or answers nonsense is a scorer error for this row
            return tally.verdict(None, None, _error_text(exc))
        return tally.verdict(score, explanation, None)

    async def compare(self, values: Mapping[str, Any], output: str, baseline: str, cache: Any) -> Verdict:
        """Judge `output` against the baseline's answer twice, positions swapped: 1 win, 0.5 tie, 0 loss."""
        tally = _Tally()
        points, notes = [], []
        try:
            for label, a, b, flip in (("as A", output, baseline, False), ("as B", baseline, output, True)):
                reply, usage = await self.ask(self.render({**values, "output_a": a, "output_b": b}), cache)
                tally.add(usage)
                won, explanation = parse_verdict(reply, pairwise=True)
                points.append(1.0 - won if flip else won)
                notes.append(f"{label}: {explanation}")
        except Exception as exc:
            return tally.verdict(None, "; ".join(notes) or None, _error_text(exc))
        return tally.verdict(sum(points) / len(points), "; ".join(notes), None)


@dataclass
class _Tally:
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: Decimal | None = None
    priced: bool = True

    def add(self, usage: Any) -> None:
        self.input_tokens = (self.input_tokens or 0) + (usage.input_tokens or 0)
        self.output_tokens = (self.output_tokens or 0) + (usage.output_tokens or 0)
        if usage.total_cost is None:
            self.priced = False
        else:
            self.cost_usd = (self.cost_usd or Decimal(0)) + usage.total_cost

    def verdict(self, score: float | None, explanation: str | None, error: str | None) -> Verdict:
        cost = self.cost_usd if self.priced else None
        return Verdict(score, explanation, error, self.input_tokens, self.output_tokens, cost)


def _error_text(exc: Exception) -> str:
    from llmkit.secrets import redact_secrets

    kind = "" if isinstance(exc, VerdictError) else f"{type(exc).__name__}: "
    return redact_secrets(f"{kind}{exc}")


def parse_verdict(reply: str, *, pairwise: bool) -> tuple[float, str]:
    """(score, explanation) from a judge's reply; VerdictError when it holds none. Pairwise scores are from
    answer A's side: A wins 1, tie 0.5, B wins 0."""
    key = "winner" if pairwise else "score"
    found = _json_verdict(reply, key)
    if found is not None:
        value, explanation = found.get(key), str(found.get("explanation") or found.get("reason") or "").strip()
    else:
        grade = _GRADE.search(reply)
        if grade is None:
            raise VerdictError(f"the judge's reply has no verdict (asked for JSON with {key!r}): "
                               f"{_excerpt(reply)!r}")
        value, explanation = grade.group(1), reply[:grade.start()].strip()
    return (_winner(value) if pairwise else _score(value)), explanation


def _json_verdict(text: str, key: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and key in value:
            return value
    return None


def _score(value: Any) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise VerdictError(f"the judge's score {value!r} is not a number from 0 to 1") from None
    if not math.isfinite(score) or not 0 <= score <= 1:
        raise VerdictError(f"the judge's score {value!r} is outside [0, 1]")
    return score


def _winner(value: Any) -> float:
    points = _WINNER.get(str(value).strip().casefold())
    if points is None:
        raise VerdictError(f"the judge's winner {value!r} is not A, B or tie")
    return points


def _excerpt(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_judge(options: Any, name: str | None) -> JudgeScorer:
    """A JudgeScorer from a spec's `judge:` mapping; ValueError naming what is wrong."""
    if not isinstance(options, Mapping):
        raise ValueError("judge needs a mapping: {model: MODEL_ID, rubric: '...'} (optional: prompt, pairwise, "
                         "baseline, config)")
    unknown = sorted(set(options) - _KEYS)
    if unknown:
        raise ValueError(f"judge: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}")
    model, rubric = options.get("model"), options.get("rubric")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("judge needs model: MODEL_ID (any llmkit model, e.g. judge:mock or gpt-4o-mini)")
    if not isinstance(rubric, str) or not rubric.strip():
        raise ValueError("judge needs rubric: what a good answer does, in words")
    pairwise = options.get("pairwise", False)
    if not isinstance(pairwise, bool):
        raise ValueError("judge pairwise: must be true or false")
    config = options.get("config") or {}
    if not isinstance(config, Mapping):
        raise ValueError("judge config: must be a mapping of LLMConfig fields, e.g. {temperature: 0}")
    baseline = options.get("baseline")
    template = options.get("prompt") or (PAIRWISE_PROMPT if pairwise else POINTWISE_PROMPT)
    env = BoundedSandbox()
    try:
        used = env.columns_used(str(template))
        compiled = env.from_string(str(template))
    except TemplateError as exc:
        raise ValueError(f"judge prompt: not a valid Jinja2 template ({exc})") from None
    allowed = PAIRWISE_VARIABLES if pairwise else VARIABLES
    if used - allowed:
        raise ValueError(f"judge prompt: unknown variable(s) {', '.join(sorted(used - allowed))}; allowed: "
                         f"{', '.join(sorted(allowed))}")
    default = "pairwise" if pairwise else "judge"
    return JudgeScorer(str(name or default), model.strip(), rubric, str(template), pairwise,
                       None if baseline is None else str(baseline), dict(config), env, compiled)


def apply_verdict(row: EvalRow, name: str, verdict: Verdict, *, labelled: bool) -> None:
    """Put a judge's verdict into a row: its score, explanation (`name: ...` when a row has several judges),
    error (in `score_error`), and its tokens and cost added to the row's judge columns."""
    row.scores[name] = verdict.score
    if verdict.explanation:
        text = f"{name}: {verdict.explanation}" if labelled else verdict.explanation
        row.judge_explanation = f"{row.judge_explanation} | {text}" if row.judge_explanation else text
    if verdict.error:
        text = f"{name}: {verdict.error}"
        row.score_error = f"{row.score_error}; {text}" if row.score_error else text
    if verdict.input_tokens is None:
        return  # the judge was never reached
    unknown = verdict.cost_usd is None or (row.judge_input_tokens is not None and row.judge_cost_usd is None)
    row.judge_cost_usd = None if unknown else (row.judge_cost_usd or Decimal(0)) + (verdict.cost_usd or 0)
    row.judge_input_tokens = (row.judge_input_tokens or 0) + verdict.input_tokens
    row.judge_output_tokens = (row.judge_output_tokens or 0) + (verdict.output_tokens or 0)
