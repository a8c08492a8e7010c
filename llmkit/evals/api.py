"""The Python API of the eval runner: `run` (sync, works inside Jupyter's running loop), `arun` (await it),
`dry_run` (the plan and its cost estimate, calling nothing), and `RunResult`.

    import llmkit.evals as ev
    result = ev.run("evals/quickstart.yaml", output="runs")
    df = result.load()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import secrets
import shutil
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from llmkit import settings
from llmkit.errors import ConfigurationError, RunStoreError, RunWriteError
from llmkit.evals.budget import judge_prior
from llmkit.evals.judge import JudgeScorer
from llmkit.evals.limits import Limits
from llmkit.evals.pairwise import baseline_of, judge_pairwise
from llmkit.evals.plan import Plan, build_plan, describe_model, parse_cli_models, plan_scorers
from llmkit.evals.prompts import load_prompt_file
from llmkit.evals.runlock import RunLock
from llmkit.evals.runner import RunOptions, SweepRunner, billed
from llmkit.evals.spec import SpecError, SpecFile, load_spec, parse_spec
from llmkit.evals.store import (
    MANIFEST_FILE,
    PROMPTS_FILE,
    ROWS_FILE,
    RowWriter,
    latest_rows,
    read_manifest,
    write_error,
    write_json_atomic,
)
from llmkit.evals.summary import RunSummary, Tally

SpecSource = str | Path | Mapping[str, Any] | SpecFile
COMPLETED_WITH_SKIPS = "completed with skips"  # the status of a run that ran without an unavailable model
logger = logging.getLogger("llmkit.evals")
_ENV_PREFIXES = ("OPENAI_", "ANTHROPIC_", "GEMINI_", "GOOGLE_", "MISTRAL_", "DEEPSEEK_", "ZHIPU_", "ZAI_",
                 "OLLAMA_", "LMSTUDIO_", "LM_API", "AUTOBYTEUS_", "LLMKIT_")


@dataclass
class RunResult:
    """A finished (or stopped) run: where it is, what happened, and its rows on demand."""

    run_dir: Path
    run_id: str
    summary: RunSummary
    plan: Plan

    @property
    def status(self) -> str:
        return self.summary.status

    def load(self) -> Any:
        """The rows as a DataFrame (`llmkit.evals.load(run_dir)`)."""
        from llmkit.evals.store import load

        return load(self.run_dir)

    def __repr__(self) -> str:
        return f"RunResult({str(self.run_dir)!r}, status={self.status}, rows={self.summary.rows}, " \
               f"errors={self.summary.errors}, cost_usd={self.summary.cost_usd:.6f})"


class RunControl:
    """Stops a run from another thread or a signal handler (Ctrl-C): no new rows, rows in flight abandoned."""

    def __init__(self) -> None:
        self._runner: SweepRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._requested = False
        self._lock = threading.Lock()

    def attach(self, runner: SweepRunner, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._runner, self._loop = runner, loop
            if self._requested:
                loop.call_soon_threadsafe(self._stop)

    def interrupt(self) -> None:
        with self._lock:
            self._requested = True
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._stop)

    def _stop(self) -> None:
        if self._runner is not None:
            self._runner.request_stop("interrupted", "interrupted: rows in flight were abandoned; finish the run "
                                                     "with --resume", cancel=True)


def _as_spec_file(spec: SpecSource) -> SpecFile:
    return spec if isinstance(spec, SpecFile) else load_spec(spec)


def dry_run(spec: SpecSource, *, models: Sequence[str] | None = None) -> Plan:
    """The dry run: models, configs (skipped ones with reasons), rows and estimated tokens/cost, and the judges'
    estimated cost (`Plan.judge_usd`, from the same priors); calls nothing."""
    from llmkit.factory import LLMFactory

    spec_file = _as_spec_file(spec)
    LLMFactory.ensure_initialized()
    plan_ = build_plan(spec_file, models=parse_cli_models(models) if models else None, estimate_unavailable=True)
    prior = judge_prior([s for s in plan_scorers(spec_file) if isinstance(s, JudgeScorer) and not s.pairwise])
    if prior is not None:
        plan_.judge_usd = sum((prior(task) for task in plan_.tasks()), Decimal(0))
    return plan_


def _limits(spec_file: SpecFile, concurrency: int | None) -> Limits:
    conc = spec_file.spec.concurrency_spec
    rates = spec_file.spec.rate_limits
    return Limits(
        total=concurrency or conc.default,
        per_host=conc.per_host,
        per_model=conc.per_model,
        rpm_host=rates.per_host if rates else None,
        rpm_model=rates.per_model if rates else None,
    )


def _cache_extension(option: Any) -> Any:
    if option is None or option is False or option == "":
        return None
    from llmkit.extensions.cache import ResponseCacheExtension

    try:
        return ResponseCacheExtension.from_option(option)
    except ConfigurationError as exc:
        raise SpecError(f"cache {option!r}: {exc}") from None


def _flush_cache(extension: Any) -> None:
    """Write the cache's pending bookkeeping now (its own atexit hook may run after the directory is gone)."""
    store = getattr(extension, "cache", None)
    flush = getattr(store, "flush", None)
    if callable(flush):
        with contextlib.suppress(Exception):  # bookkeeping only; the rows are already on disk
            flush()


def _env_names() -> list[str]:
    """Names (never values) of the provider/runtime variables that are set."""
    return settings.names_set(_ENV_PREFIXES)


def _new_run_id(name: str) -> str:
    return f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def _manifest(run_id: str, plan_: Plan, spec_file: SpecFile, options: RunOptions, started: str,
              cache_option: Any) -> dict[str, Any]:
    import llmkit

    spec_dump = spec_file.spec.model_dump(mode="json", exclude_unset=True)
    spec_dump["name"] = spec_file.spec.name
    return {
        "run_id": run_id,
        "status": "running",
        "llmkit_version": llmkit.__version__,
        "started_at": started,
        "finished_at": None,
        "spec_path": str(spec_file.path) if spec_file.path else None,
        "spec": spec_dump,
        "models": [describe_model(m) for m in plan_.models],
        "variants": [{"model": v.model.identifier, "config_label": v.label, "config": v.config_json,
                      "host": v.host_key} for v in plan_.variants],
        "skipped_configs": [{"model": s.model, "config_label": s.config_label, "reason": s.reason,
                             "unavailable": s.unavailable} for s in plan_.skipped],
        "notes": plan_.notes,
        "prompts": len(plan_.prompts),
        "repeats": plan_.repeats,
        "planned_rows": plan_.total_rows,
        "score_columns": [s.column for s in options.scorers],
        "max_cost_usd": None if options.max_cost_usd is None else str(options.max_cost_usd),
        "cache": None if cache_option in (None, False) else str(cache_option),
        "concurrency": {"total": options.limits.total},
        "environment": {
            "python": sys.version.split()[0], "platform": platform.platform(),
            "env_vars_set": _env_names(),
        },
        "resumes": [],
    }


def _save_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    import json

    from llmkit.secrets import redact_secrets

    path = run_dir / MANIFEST_FILE
    try:
        write_json_atomic(path, json.loads(redact_secrets(json.dumps(manifest, default=str))))
    except OSError as exc:
        raise write_error(path, exc) from None


def _write_prompts(path: Path, plan_: Plan) -> None:
    import json

    try:
        with open(path, "w", encoding="utf-8") as f:
            for p in plan_.prompts:
                f.write(json.dumps(p.record(), ensure_ascii=False, default=str) + "\n")
    except OSError as exc:
        raise write_error(path, exc) from None


def _create_run_dir(run_dir: Path) -> None:
    try:
        run_dir.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise RunStoreError(f"{run_dir}: cannot create the run directory ({exc.strerror})", path=str(run_dir),
                            hint="choose another --output directory") from None


def _resumed_plan(run_dir: Path, manifest: Mapping[str, Any], skip_unavailable: bool | None) -> tuple[SpecFile, Plan]:
    """The spec and plan of a run as it was started (its own copy of the prompts, its models)."""
    spec_data = dict(manifest["spec"])
    spec_data["prompts"] = str((run_dir / PROMPTS_FILE).resolve())
    spec_file = parse_spec(spec_data, Path(manifest.get("spec_path") or run_dir / MANIFEST_FILE))
    spec_file.prompts = load_prompt_file(run_dir / PROMPTS_FILE)
    return spec_file, build_plan(spec_file, model_ids=[m["id"] for m in manifest["models"]],
                                 skip_unavailable=skip_unavailable)



async def arun(spec: SpecSource | None = None, *, output: str | Path | None = None,
               models: Sequence[str] | None = None, concurrency: int | None = None,
               max_cost_usd: float | Decimal | str | None = None, cache: Any = None,
               resume: str | Path | None = None, retry_errors: bool = False, progress: bool | None = False,
               skip_unavailable: bool | None = None, control: RunControl | None = None,
               on_start: Callable[[Path], object] | None = None) -> RunResult:
    """Run a sweep (or `resume` one) and return its RunResult. `cache`: None = the spec's setting, False = off,
    True / a directory = on. `skip_unavailable`: None = the spec's setting; True runs without explicitly named
    models that cannot run (the run then ends `completed with skips`), False stops with a SpecError naming what
    to set. See `run` for the sync version.

    Only one process writes a run directory at a time (RunLockedError names the other one). A run whose rows
    cannot be written (disk full) is marked `failed` in run.json and RunWriteError is raised; it stays
    resumable."""
    from llmkit.factory import LLMFactory

    await LLMFactory.ainitialize()
    lock: RunLock | None = None
    unstarted: Path | None = None  # a run directory created here without a manifest yet
    try:
        if resume is not None:
            run_dir = Path(resume)
            read_manifest(run_dir)  # a run directory at all? (no lock file is left in one that is not)
            lock = RunLock(run_dir)
            lock.acquire()
            manifest = read_manifest(run_dir)  # as the last writer left it
            spec_file, plan_ = _resumed_plan(run_dir, manifest, skip_unavailable)
            run_id = str(manifest["run_id"])
        else:
            if spec is None:
                raise SpecError("run: give a spec file (e.g. evals/quickstart.yaml) or --resume RUN_DIR")
            spec_file = _as_spec_file(spec)
            plan_ = build_plan(spec_file, models=parse_cli_models(models) if models else None,
                               skip_unavailable=skip_unavailable)
            run_id = _new_run_id(spec_file.spec.name)
            run_dir = Path(output if output is not None else spec_file.spec.output) / run_id
            manifest = {}
        if not plan_.variants:
            reasons = "; ".join(f"{s.model}/{s.config_label}: {s.reason}" for s in plan_.skipped[:3]) \
                or "; ".join(plan_.notes) or "no models"
            raise SpecError(f"{spec_file.where('models')}: nothing to run ({reasons})")
        spec_model = spec_file.spec
        cache_option = cache if cache is not None else (
            manifest.get("cache") if resume is not None else spec_model.cache)
        cap = max_cost_usd if max_cost_usd is not None else (
            manifest.get("max_cost_usd") if resume is not None else spec_model.max_cost_usd)
        options = RunOptions(
            limits=_limits(spec_file, concurrency),
            max_cost_usd=None if cap is None else Decimal(str(cap)),
            cache=_cache_extension(cache_option),
            scorers=plan_scorers(spec_file),
            stream=spec_model.stream,
            progress=progress,
        )
        pairwise = [s for s in options.scorers if isinstance(s, JudgeScorer) and s.pairwise]
        for judge in pairwise:
            baseline_of(judge, plan_)  # a baseline that is not in the run is a SpecError before any call
        started = datetime.now(timezone.utc).isoformat()
        if resume is None:
            _create_run_dir(run_dir)
            unstarted = run_dir
            lock = RunLock(run_dir)
            lock.acquire()
            manifest = _manifest(run_id, plan_, spec_file, options, started, cache_option)
            _write_prompts(run_dir / PROMPTS_FILE, plan_)
        prior = latest_rows(run_dir) if resume is not None else {}
        summary = RunSummary(run_id, str(run_dir), "running", plan_.total_rows,
                             exclude_errors=spec_file.spec.exclude_errors)
        for variant in plan_.variants:  # the summary table follows plan order
            summary.tallies[(variant.model.identifier, variant.label)] = Tally(variant.model.name)
        finished = {k for k, r in prior.items() if not r.failed}
        retried = {k for k, r in prior.items() if r.failed} if retry_errors else set()
        pending = [task for task in plan_.tasks(estimates=options.max_cost_usd is not None)
                   if task.key not in finished and (task.key in retried or task.key not in prior)]
        spent = Decimal(0)
        for k, row in prior.items():
            spent += billed(row)
            if k not in retried:
                summary.add(row.to_json())
        if resume is not None:
            manifest["status"] = "running"
            manifest.pop("error", None)
            manifest.setdefault("resumes", []).append({"at": started, "pending_rows": len(pending),
                                                       "retry_errors": retry_errors})
            if max_cost_usd is not None:
                manifest["max_cost_usd"] = str(max_cost_usd)
        _save_manifest(run_dir, manifest)
        unstarted = None  # from here on the directory is a resumable run
        if on_start is not None:
            on_start(run_dir)
        writer = RowWriter(run_dir / ROWS_FILE)
        runner = SweepRunner(plan_, run_id, writer, summary, options, pending, spent)
        if control is not None:
            control.attach(runner, asyncio.get_running_loop())
        ended = False
        try:
            summary = await runner.run()
            if pairwise and runner.stop_reason is None:
                await judge_pairwise(runner, pairwise, run_dir)
            ended = True
        finally:
            failure = _finish(run_dir, manifest, runner, writer, ended)
        if failure is not None:
            raise failure
        return RunResult(run_dir, run_id, summary, plan_)
    except RunWriteError as exc:
        if unstarted is None:
            raise
        raise RunWriteError(exc.message, path=exc.path, hint="nothing ran and the run directory was removed; "
                            "free space (or raise the limit) and start the run again") from None
    finally:
        if lock is not None:
            lock.release()
        if unstarted is not None:  # failed while setting up (e.g. disk full): leave no half-made run behind
            shutil.rmtree(unstarted, ignore_errors=True)


def _finish(run_dir: Path, manifest: dict[str, Any], runner: SweepRunner, writer: RowWriter,
            ended: bool) -> RunWriteError | None:
    """Close the rows file and record how the run ended in run.json; return the write failure, if any (the
    caller raises it, so an exception already on its way out is never replaced)."""
    failure = runner.failure
    try:
        writer.close()
    except RunWriteError as exc:
        failure = failure or exc
    _flush_cache(runner.options.cache)
    status = "failed" if failure is not None else runner.stop_reason or ("completed" if ended else "interrupted")
    if status == "completed" and any(s.unavailable for s in runner.plan.skipped):
        status = COMPLETED_WITH_SKIPS
    manifest["status"] = runner.summary.status = status
    if failure is not None:
        manifest["error"] = runner.summary.message = failure.message
    manifest["finished_at"] = datetime.now(timezone.utc).isoformat()
    manifest["summary"] = runner.summary.to_dict()
    try:
        _save_manifest(run_dir, manifest)
    except RunWriteError as exc:
        if failure is None:
            return exc
        logger.warning("%s: could not mark the run failed (%s); it is resumable all the same", run_dir, exc.message)
    return failure


def run(spec: SpecSource | None = None, **kwargs: Any) -> RunResult:
    """Run a sweep from sync code or a notebook cell (it runs on llmkit's background loop, so it works inside
    Jupyter's running loop). Ctrl-C / the notebook's interrupt stops it cleanly and returns the RunResult;
    the run directory stays resumable. Keyword arguments are those of `arun`."""
    from llmkit._sync import background_loop

    control = RunControl()
    future = asyncio.run_coroutine_threadsafe(arun(spec, control=control, **kwargs), background_loop())
    try:
        return future.result()
    except KeyboardInterrupt:
        control.interrupt()
        return future.result()
