"""The pairwise judges' pass, run after the sweep over the finished rows (so every baseline answer exists).

Each answered row of a model × config other than the baseline is compared with the baseline's answer to the same
prompt and repeat (`JudgeScorer.compare`: twice, positions swapped). The judged row is appended to rows.jsonl
again with its `score_<name>` and judge columns filled in (the last line per key wins), so a pass that stops —
budget, Ctrl-C, disk full — is finished by `--resume`. A row whose baseline has no answer (an error row, or not
run) keeps NaN with the reason in `score_error`. The baseline rows themselves are not scored (NaN).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from llmkit.billing import effective_pricing
from llmkit.errors import RunWriteError
from llmkit.evals.judge import JudgeScorer, Verdict, apply_verdict
from llmkit.evals.plan import Plan, estimate_output_tokens
from llmkit.evals.row import EvalRow, RowKey
from llmkit.evals.runner import SweepRunner, judge_values
from llmkit.evals.spec import SpecError
from llmkit.evals.store import latest_rows
from llmkit.evals.summary import Tally
from llmkit.pricing import estimate_cost
from llmkit.tokens import count_tokens


def baseline_of(judge: JudgeScorer, plan: Plan) -> tuple[str, str]:
    """(model, config label) the judge compares with: its `baseline: MODEL[/CONFIG]`, else the plan's first."""
    if judge.baseline is None:
        first = plan.variants[0]
        return first.model.identifier, first.label
    model, _, label = judge.baseline.partition("/")
    for variant in plan.variants:
        if variant.model.identifier == model and (not label or variant.label == label):
            return variant.model.identifier, variant.label
    known = ", ".join(f"{v.model.identifier}/{v.label}" for v in plan.variants)
    raise SpecError(f"judge {judge.name}: baseline {judge.baseline!r} is not a model × config of this run "
                    f"({known})")


class _PairCost:
    """The budget's estimate of one comparison (two judge calls): the largest seen so far, else a prior from
    the texts' token counts and the judge backend's output estimate."""

    def __init__(self, judge: JudgeScorer) -> None:
        from llmkit.factory import LLMFactory

        self.checked = LLMFactory.resolve(judge.model, dict(judge.config) or None)
        self.overhead = count_tokens(judge.template) + count_tokens(judge.rubric)
        self.largest: Decimal | None = None

    def estimate(self, row: EvalRow, base: EvalRow) -> Decimal:
        if self.largest is not None:
            return self.largest
        model, config = self.checked.model, self.checked.config
        texts = sum(count_tokens(t or "") for t in (row.prompt, row.expected, row.output, base.output))
        out = estimate_output_tokens(model, config, "")
        return 2 * estimate_cost(effective_pricing(model, config), self.overhead + texts, out)

    def observe(self, verdict: Verdict) -> None:
        if verdict.cost_usd is not None:
            self.largest = max(self.largest or Decimal(0), verdict.cost_usd)


async def judge_pairwise(runner: SweepRunner, judges: list[JudgeScorer], run_dir: Path) -> None:
    """Run every pairwise judge over the run's finished rows (see the module docstring)."""
    rows = latest_rows(run_dir)
    labelled = sum(isinstance(s, JudgeScorer) for s in runner.options.scorers) > 1
    slots = asyncio.Semaphore(runner.options.limits.total)
    for judge in judges:
        pass_ = _Pass(runner, judge, baseline_of(judge, runner.plan), rows, slots, labelled)
        todo = [row for row in rows.values() if (row.model, row.config_label) != pass_.baseline
                and not row.failed and row.scores.get(judge.name) is None
                and f"{judge.name}: " not in (row.score_error or "")]
        await asyncio.gather(*(pass_.judge_row(row) for row in todo))
        if runner.stop_reason:
            break
    _rebuild_summary(runner, run_dir)


@dataclass
class _Pass:
    """One pairwise judge over the rows, within the run's concurrency and budget."""

    runner: SweepRunner
    judge: JudgeScorer
    baseline: tuple[str, str]
    rows: dict[RowKey, EvalRow]
    slots: asyncio.Semaphore
    labelled: bool

    def __post_init__(self) -> None:
        self.cost = _PairCost(self.judge)

    async def judge_row(self, row: EvalRow) -> None:
        runner, judge = self.runner, self.judge
        base = self.rows.get(RowKey(*self.baseline, row.prompt_id, row.repeat))
        if base is None or base.failed or base.output is None:
            verdict = Verdict(None, error=f"the baseline {'/'.join(self.baseline)} has no answer to "
                                          f"{row.prompt_id} (repeat {row.repeat}) to compare with")
            _record(runner, row, judge, verdict, self.labelled)
            return
        async with self.slots:
            estimate = await runner.reserve(lambda: self.cost.estimate(row, base))
            if estimate is None:
                return
            try:
                verdict = await judge.compare(judge_values(row, None, row.metadata), row.output or "",
                                              base.output, runner.options.cache)
                self.cost.observe(verdict)
                runner.spent += verdict.cost_usd or Decimal(0)
            finally:
                runner.settle(estimate)
        _record(runner, row, judge, verdict, self.labelled)


def _record(runner: SweepRunner, row: EvalRow, judge: JudgeScorer, verdict: Verdict,
                  labelled: bool) -> None:
    if runner.stop_reason == "failed":
        return
    apply_verdict(row, judge.name, verdict, labelled=labelled)
    try:
        runner.writer.write(row.to_json())
    except RunWriteError as exc:
        runner.failure = exc
        runner.request_stop("failed", f"failed: {exc}")


def _rebuild_summary(runner: SweepRunner, run_dir: Path) -> None:
    """The summary from the rows as they now are (the judged rows replaced their first lines)."""
    summary = runner.summary
    summary.tallies = {key: Tally() for key in summary.tallies}
    for row in latest_rows(run_dir).values():
        summary.add(row.to_json())
