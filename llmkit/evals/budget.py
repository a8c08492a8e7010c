"""The budget cap's cost estimate for the next row, learned from the rows already finished.

Before a model × config has finished rows, a row is estimated from the plan's prior (input tokens counted with
`llmkit.tokens`, output tokens from the backend's `estimate_output_tokens`: `min(max_tokens, 256)` for most real
models). That prior is an order of magnitude at best: a 7-token answer estimated at 256 tokens made a 30-call
budget stop after one call. So once rows of the same model × config exist, the estimate uses what they did: a
high quantile (`QUANTILE`) of their output tokens, and the same quantile of their input tokens over the counted
estimate (real tokenizers differ from llmkit's rule), priced with the variant's `effective_pricing`. The judge's
cost per row is learned the same way. An estimate learned from few rows can be low, and rows in flight multiply
that error, so a model × config starts slowly: no more rows in flight than it has finished rows (at least one),
doubling as rows finish — the full concurrency after a handful of rows. The dry run keeps the documented prior.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from llmkit.billing import effective_pricing
from llmkit.evals.judge import JudgeScorer
from llmkit.evals.plan import Task
from llmkit.evals.row import EvalRow
from llmkit.pricing import estimate_cost

QUANTILE = 0.95


@dataclass
class _Sorted:
    """Observed values, kept sorted, for a nearest-rank quantile."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        bisect.insort(self.values, value)

    def quantile(self, q: float) -> float | None:
        if not self.values:
            return None
        return self.values[min(len(self.values) - 1, math.ceil(q * len(self.values)) - 1)]


@dataclass
class _Learned:
    finished: int = 0
    output_tokens: _Sorted = field(default_factory=_Sorted)
    input_ratio: _Sorted = field(default_factory=_Sorted)
    judge_usd: _Sorted = field(default_factory=_Sorted)


class RowCostEstimator:
    """Estimates a task's cost (model call plus judge calls) for the budget cap; `observe` each finished row.
    `judge_prior(task)` is the judge's cost before any row of that model × config has been judged."""

    def __init__(self, judge_prior: Callable[[Task], Decimal] | None = None) -> None:
        self._learned: dict[tuple[str, str], _Learned] = {}
        self._judge_prior = judge_prior

    def observe(self, task: Task, row: EvalRow) -> None:
        learned = self._learned.setdefault((task.variant.model.identifier, task.variant.label), _Learned())
        learned.finished += 1
        if row.failed:
            return  # an error row bills nothing and says nothing about answer length
        if row.output_tokens is not None:
            learned.output_tokens.add(float(row.output_tokens))
        if row.input_tokens is not None and task.input_tokens > 0:
            learned.input_ratio.add(row.input_tokens / task.input_tokens)
        if row.judge_cost_usd is not None:
            learned.judge_usd.add(float(row.judge_cost_usd))

    def slots(self, task: Task) -> int:
        """How many rows of the task's model × config may be in flight now (see the module docstring)."""
        learned = self._learned.get((task.variant.model.identifier, task.variant.label))
        return max(1, learned.finished if learned else 0)

    def estimate(self, task: Task) -> Decimal:
        """The next row's cost: the prior until rows of its model × config exist, then what they learned."""
        learned = self._learned.get((task.variant.model.identifier, task.variant.label))
        judge = self._judge_prior(task) if self._judge_prior is not None else Decimal(0)
        tokens_out = learned.output_tokens.quantile(QUANTILE) if learned else None
        if learned is None or tokens_out is None:
            return task.estimate_usd + judge
        ratio = learned.input_ratio.quantile(QUANTILE) or 1.0
        tokens_in = math.ceil(task.input_tokens * ratio)
        variant = task.variant
        cost = estimate_cost(effective_pricing(variant.model, variant.config), tokens_in, math.ceil(tokens_out))
        judged = learned.judge_usd.quantile(QUANTILE)
        return cost + (judge if judged is None else Decimal(str(judged)))


def judge_prior(judges: Sequence[JudgeScorer]) -> Callable[[Task], Decimal] | None:
    """The judges' cost for a row before any row of its model × config was judged: the judge prompt (template,
    rubric, question and the answer's estimated length) in, the judge backend's output estimate out; twice for
    a pairwise judge."""
    if not judges:
        return None
    from llmkit.evals.plan import estimate_output_tokens
    from llmkit.factory import LLMFactory
    from llmkit.tokens import count_tokens

    resolved = [(j, LLMFactory.resolve(j.model, dict(j.config) or None)) for j in judges]
    fixed = [count_tokens(j.template) + count_tokens(j.rubric) for j in judges]

    def prior(task: Task) -> Decimal:
        variant = task.variant
        answer = estimate_output_tokens(variant.model, variant.config, task.prompt.prompt)
        total = Decimal(0)
        for (judge, checked), overhead in zip(resolved, fixed, strict=True):
            calls = 2 if judge.pairwise else 1
            tokens_in = overhead + task.input_tokens + answer * calls
            tokens_out = estimate_output_tokens(checked.model, checked.config, "")
            total += calls * estimate_cost(effective_pricing(checked.model, checked.config), tokens_in, tokens_out)
        return total

    return prior
