"""The async sweep runner: bounded concurrency per host and model, rate limits, a budget cap, one row per call
appended to disk the moment it finishes, errors as rows, clean stop on request (Ctrl-C).

Each row is a fresh single-turn conversation: the config is resolved once per model × config (plan), and each
row builds its client with `LLMFactory.create_llm` from that resolved config (no re-validation, the run's shared
cache extension registered there), sets the prompt row's system prompt, and streams
the answer with `sample_index=repeat` (so a response cache keeps repeats independent). Streaming gives a real
TTFT; the row reads the stream's final response (usage, cache flag, original latency), built once by the stream.
Each call becomes one typed `EvalRow`: plain scorers score it at once, then model-graded (judge) scorers await
their judge's call through the run's cache. A row that cannot be written (disk full) stops the run as `failed`:
rows in flight are abandoned and re-run by resume, rows already on disk are never re-run.

The budget cap (`max_cost_usd`) counts what was spent (model and judge calls) plus the estimates of rows in
flight; each estimate is learned from the finished rows of the same model × config (`evals/budget.py`). A row
whose estimate does not fit beside the rows in flight waits for one of them to finish (estimates improve as rows
finish); a row whose estimate does not fit beside what was spent stops the sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmkit.errors import RunWriteError
from llmkit.evals.budget import RowCostEstimator, judge_prior
from llmkit.evals.judge import JudgeScorer, apply_verdict
from llmkit.evals.limits import LimiterSet, Limits
from llmkit.evals.plan import Plan, Task, Variant
from llmkit.evals.row import EvalRow, finite_or_none
from llmkit.evals.scorers import AnyScorer, Scorer, score_row
from llmkit.evals.store import RowWriter
from llmkit.evals.summary import RunSummary
from llmkit.secrets import redact_secrets

if TYPE_CHECKING:
    from llmkit.base import BaseLLM
    from llmkit.messages import CompleteResponse


@dataclass
class RunOptions:
    limits: Limits
    max_cost_usd: Decimal | None = None
    cache: Any = None  # one extension instance shared by every client of the run, or None
    scorers: list[AnyScorer] = field(default_factory=list)
    stream: bool = True
    progress: bool | None = None  # None: show when stderr is a terminal

    @property
    def plain_scorers(self) -> list[Scorer]:
        return [s for s in self.scorers if isinstance(s, Scorer)]

    @property
    def judges(self) -> list[JudgeScorer]:
        """The judges that grade each row as it finishes (pairwise ones run after the sweep)."""
        return [s for s in self.scorers if isinstance(s, JudgeScorer) and not s.pairwise]


def billed(row: EvalRow) -> Decimal:
    """What a row spent: its model call and its judges' calls (an unknown price counts as nothing known)."""
    return (row.cost_usd or Decimal(0)) + (row.judge_cost_usd or Decimal(0))


class SweepRunner:
    """Runs the pending tasks of a plan into a RowWriter; see the module docstring."""

    def __init__(self, plan: Plan, run_id: str, writer: RowWriter, summary: RunSummary, options: RunOptions,
                 pending: list[Task], spent: Decimal = Decimal(0)) -> None:
        self.plan = plan
        self.run_id = run_id
        self.writer = writer
        self.summary = summary
        self.options = options
        self.pending = pending
        self.spent = spent
        self.inflight = Decimal(0)
        self.estimator = RowCostEstimator(judge_prior(options.judges) if options.max_cost_usd is not None else None)
        self._plain, self._judges = options.plain_scorers, options.judges  # per row: computed once
        self._labelled = sum(isinstance(s, JudgeScorer) for s in options.scorers) > 1
        self._names = [s.name for s in options.scorers]
        self._settled = asyncio.Event()  # set (and replaced) whenever a row in flight finishes
        self._flying: Counter[tuple[str, str]] = Counter()  # rows in flight per model × config
        self.stop_reason: str | None = None
        self.stop_message: str | None = None
        self.failure: RunWriteError | None = None
        self._limiters = LimiterSet(options.limits)
        self._workers: list[asyncio.Task[None]] = []
        self._bar: Any = None
        self._last_postfix = 0.0
        self._errors = 0
        self.done = 0

    # ----- control ---------------------------------------------------------------------------------------
    def request_stop(self, reason: str, message: str | None = None, *, cancel: bool = False) -> None:
        """Stop scheduling new rows; with cancel=True also abandon rows in flight (they re-run on resume)."""
        if self.stop_reason is None:
            self.stop_reason, self.stop_message = reason, message
        if cancel:
            for worker in self._workers:
                worker.cancel()

    async def run(self) -> RunSummary:
        self._bar = self._progress_bar()
        lanes: dict[str, list[Task]] = {}
        for task in self.pending:
            lanes.setdefault(task.variant.host_key, []).append(task)
        total = asyncio.Semaphore(self.options.limits.total)
        for tasks in lanes.values():
            source = iter(tasks)
            workers = self.options.limits.host_cap(tasks[0].variant)
            self._workers += [asyncio.ensure_future(self._worker(source, total)) for _ in range(workers)]
        try:
            await asyncio.gather(*self._workers, return_exceptions=True)
        finally:
            if self._bar is not None:
                self._bar.close()
        self.summary.not_run = len(self.pending) - self.done
        self.summary.status = self.stop_reason or "completed"
        self.summary.message = self.stop_message
        return self.summary

    # ----- work ------------------------------------------------------------------------------------------
    async def _worker(self, source: Iterator[Task], total: asyncio.Semaphore) -> None:
        for task in source:
            if self.stop_reason:
                return
            async with total:
                semaphore = self._limiters.model_semaphore(task.variant)
                if semaphore is not None:
                    async with semaphore:
                        done = await self._guarded(task)
                else:
                    done = await self._guarded(task)
            if not done:
                return

    async def reserve(self, estimated: Callable[[], Decimal],
                      admitted: Callable[[], bool] = lambda: True) -> Decimal | None:
        """The next call's estimate, counted as in flight until `settle`; None when the run stops (the budget is
        reached, or a stop was asked for). Under a cap, the call also waits until `admitted()`."""
        cap = self.options.max_cost_usd
        while not self.stop_reason:
            if cap is None:
                return Decimal(0)
            if not admitted():
                await self._settled.wait()
                continue
            estimate = estimated()
            if self.spent + estimate > cap:
                self.request_stop("budget", f"budget: stopped scheduling at ${self.spent:.6f} spent of "
                                            f"${cap} (max_cost_usd); the next row would cost about "
                                            f"${estimate:.6f}. Resume with a higher --max-cost.")
                return None
            if self.spent + self.inflight + estimate <= cap:
                self.inflight += estimate
                return estimate
            await self._settled.wait()  # rows in flight may cost less than estimated: wait for one to finish
        return None

    def settle(self, estimate: Decimal) -> None:
        self.inflight -= estimate
        settled, self._settled = self._settled, asyncio.Event()
        settled.set()

    async def _guarded(self, task: Task) -> bool:
        await self._limiters.wait_rate(task.variant)
        key = task.variant.model.identifier, task.variant.label
        estimate = await self.reserve(lambda: self.estimator.estimate(task),
                                      lambda: self._flying[key] < self.estimator.slots(task))
        if estimate is None:
            return False
        self._flying[key] += 1
        try:
            row = await self.run_task(task)
            self.spent += billed(row)  # before the row leaves the in-flight estimate, so the cap never sees a gap
            self.estimator.observe(task, row)
        finally:
            self._flying[key] -= 1
            self.settle(estimate)
        data = row.to_json()
        try:
            self.writer.write(data)
        except RunWriteError as exc:  # the disk is full: stop now, the rows on disk stay whole
            self.failure = exc
            self.request_stop("failed", f"failed: {exc}", cancel=True)
            return False
        self.summary.add(data)
        self.done += 1
        self._tick(row)
        return True

    def _llm(self, variant: Variant) -> BaseLLM:
        from llmkit.factory import LLMFactory

        return LLMFactory.create_llm(variant.model.identifier, variant.resolved or variant.config,
                                     cache=self.options.cache)

    async def run_task(self, task: Task) -> EvalRow:
        """One call, turned into one row (an error becomes an error row)."""
        variant, prompt = task.variant, task.prompt
        started_at = datetime.now(timezone.utc)
        started = time.perf_counter()
        response: CompleteResponse | None = None
        error: BaseException | None = None
        llm: BaseLLM | None = None
        try:
            llm = self._llm(variant)
            if prompt.system:
                llm.configure_system_prompt(prompt.system)
            for turn in prompt.messages[:-1]:  # a multi-turn row: the history, then its last user turn below
                if turn["role"] == "user":
                    llm.add_user_message(turn["content"])
                else:
                    llm.add_assistant_message(turn["content"])
            images = list(prompt.images) or None
            if self.options.stream:
                response = await llm.stream_user_message(prompt.prompt, images, sample_index=task.repeat).get()
            else:
                response = await llm.send_user_message(prompt.prompt, images, sample_index=task.repeat)
        except Exception as exc:  # every failure is a row; the sweep goes on
            error = exc
        finally:
            if llm is not None:
                with contextlib.suppress(Exception):
                    await llm.cleanup()
        elapsed = time.perf_counter() - started
        row, values = self._row(task, started_at, elapsed, response, error)
        if values is not None:
            for judge in self._judges:
                verdict = await judge.grade(values, self.options.cache)
                apply_verdict(row, judge.name, verdict, labelled=self._labelled)
        return row

    def _row(self, task: Task, started_at: datetime, elapsed: float, response: CompleteResponse | None,
             error: BaseException | None) -> tuple[EvalRow, dict[str, Any] | None]:
        """The row with its plain scores, and the judges' template variables (None for an error row)."""
        variant, prompt = task.variant, task.prompt
        model = variant.model
        row = EvalRow(run_id=self.run_id, model=model.identifier, provider=model.provider.value,
                      runtime=model.runtime.value, host=variant.host_key, config_label=variant.label,
                      config=variant.config_json, prompt_id=prompt.id, prompt=prompt.prompt,
                      expected=_expected_text(prompt.expected), repeat=task.repeat, latency_s=elapsed,
                      started_at=started_at, metadata=dict(prompt.metadata))
        scorers, names = self._plain, self._names
        if response is not None and error is None:
            row.set_response(response)
            scores, row.score_error = score_row(scorers, response.content, prompt.expected, {
                "prompt_id": prompt.id, "prompt": prompt.prompt, "system": prompt.system,
                "expected": prompt.expected, "metadata": dict(prompt.metadata), "model": model.identifier,
                "config_label": variant.label, "repeat": task.repeat, "reasoning": response.reasoning,
            })
            row.scores = dict.fromkeys(names)
            row.scores.update({s.name: finite_or_none(scores[s.column]) for s in scorers})
            return row, judge_values(row, prompt.system, prompt.metadata) if self._judges else None
        failure = error if error is not None else RuntimeError("the stream ended without a final response")
        partial = getattr(failure, "partial_content", None)
        row.set_error(type(failure).__name__, redact_secrets(str(failure)) or type(failure).__name__,
                      redact_secrets(partial) if partial else None)
        row.scores = dict.fromkeys(names)
        return row, None

    # ----- progress ----------------------------------------------------------------------------------------
    def _progress_bar(self) -> Any:
        from tqdm import tqdm

        disable = None if self.options.progress is None else not self.options.progress
        return tqdm(total=len(self.pending), unit="row", disable=disable, dynamic_ncols=True, leave=True,
                    desc=self.plan.spec_file.spec.name)

    def _tick(self, row: EvalRow) -> None:
        if row.failed:
            self._errors += 1
        bar = self._bar
        if bar is None or bar.disable:
            return
        bar.update(1)
        now = time.monotonic()
        if now - self._last_postfix > 0.2:
            self._last_postfix = now
            bar.set_postfix_str(f"errors={self._errors} cost=${self.spent:.4f}", refresh=False)


def judge_values(row: EvalRow, system: str | None, metadata: Any) -> dict[str, Any]:
    """The variables a judge template sees for an answered row (see `llmkit.evals.judge`)."""
    return {"prompt": row.prompt, "system": system, "output": row.output or "", "expected": row.expected,
            "metadata": dict(metadata), "model": row.model}


def _expected_text(expected: Any) -> str | None:
    if expected is None or isinstance(expected, str):
        return expected
    return json.dumps(expected, ensure_ascii=False, default=str)
