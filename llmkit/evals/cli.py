"""`python -m llmkit.evals {run,report,models}`.

Exit codes: 0 the sweep completed (error rows are data, not a failure of the run); 2 usage or spec error
(one actionable line on stderr), also when another process is writing the run directory; 3 stopped by the budget
cap (max_cost_usd) — the run directory is resumable; 130 interrupted (Ctrl-C) — resumable; 1 the run's files could
not be written (disk full: the run is marked failed and is resumable) or an unexpected internal error.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_BUDGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
FIRST_COMMAND = "python -m llmkit.evals run evals/quickstart.yaml"

EPILOG = f"""\
first command to try (offline, MOCK models):
  {FIRST_COMMAND}
then:
  python -m llmkit.evals report runs/<run id printed above>
  python -m llmkit.evals run evals/quickstart.yaml --dry-run
  python -m llmkit.evals models

exit codes: 0 completed (even with error rows), 2 usage/spec error or run directory in use, 3 stopped by
max_cost_usd, 1 cannot write the run (e.g. disk full; resumable), 130 interrupted
"""


def _money(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in USD, e.g. 0.50") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the cost cap cannot be negative")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m llmkit.evals", description="Sweep prompts across models, runtimes and configs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="{run,report,models}")

    run = commands.add_parser("run", help="run (or --dry-run, or --resume) a sweep spec",
                              description="Run a sweep spec; prints the run directory and a summary table.",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("spec", nargs="?", help="the spec YAML (optional with --resume)")
    run.add_argument("--output", metavar="DIR", help="parent directory for run directories (default: spec's output)")
    run.add_argument("--models", nargs="+", metavar="M",
                     help="replace the spec's models: ids, globs ('reasoner-*:mock'), runtime=ollama, "
                          "provider=anthropic; comma lists allowed")
    run.add_argument("--concurrency", type=_positive, metavar="N", help="rows in flight in total")
    run.add_argument("--max-cost", type=_money, metavar="USD", help="stop scheduling new rows beyond this spend")
    run.add_argument("--dry-run", action="store_true", help="print the plan and estimated cost; call nothing")
    run.add_argument("--resume", metavar="RUN_DIR", help="finish an earlier run (skips finished rows)")
    run.add_argument("--retry-errors", action="store_true", help="with --resume: re-run error rows too")
    cache = run.add_mutually_exclusive_group()
    cache.add_argument("--cache", nargs="?", const=True, metavar="DIR",
                       help="cache responses (in DIR, or the default cache directory)")
    cache.add_argument("--no-cache", action="store_true", help="do not cache, whatever the spec says")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--report", action="store_true",
                     help="when the run completes, also write and print its report (as `report RUN_DIR`)")

    report = commands.add_parser("report", help="summary tables, CSV/HTML and figures for a run directory")
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.add_argument("--baseline", metavar="MODEL",
                        help="paired comparison against this model (MODEL or MODEL/CONFIG_LABEL)")
    report.add_argument("--out", metavar="DIR", help="where to write files (default RUN_DIR/report)")
    report.add_argument("--no-figures", action="store_true", help="skip the PNG figures")

    models = commands.add_parser("models", help="list available models by runtime, with prices")
    models.add_argument("--runtime", help="only this runtime (api, mock, ollama, lmstudio, ...)")
    models.add_argument("--available", action="store_true", help="only models that can be called now")
    models.add_argument("--remote", action="store_true",
                        help="also list what each cloud whose key is set serves (asks their models endpoints)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from llmkit.errors import ConfigurationError, RunStoreError, RunWriteError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "report":
            return _report(args)
        return _models(args)
    except (ConfigurationError, RunStoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL if isinstance(exc, RunWriteError) else EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _cache_arg(args: argparse.Namespace) -> Any:
    if args.no_cache:
        return False
    return args.cache


def _run(args: argparse.Namespace) -> int:
    from llmkit.evals.api import RunControl, arun, dry_run
    from llmkit.evals.spec import SpecError

    if args.spec is None and args.resume is None:
        raise SpecError(f"run: give a spec file or --resume RUN_DIR; try: {FIRST_COMMAND}")
    if args.retry_errors and not args.resume:
        raise SpecError("--retry-errors only makes sense with --resume RUN_DIR")
    if args.dry_run:
        if args.spec is None:
            raise SpecError("--dry-run needs a spec file")
        print(format_plan(dry_run(args.spec, models=args.models)))
        return EXIT_OK
    control = RunControl()

    async def main_async() -> Any:
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            def on_sigint() -> None:
                loop.remove_signal_handler(signal.SIGINT)  # a second Ctrl-C aborts at once
                print("\nstopping: no new rows; abandoning rows in flight (Ctrl-C again to abort)", file=sys.stderr)
                control.interrupt()

            loop.add_signal_handler(signal.SIGINT, on_sigint)
        return await arun(args.spec, output=args.output, models=args.models, concurrency=args.concurrency,
                          max_cost_usd=args.max_cost, cache=_cache_arg(args), resume=args.resume,
                          retry_errors=args.retry_errors, progress=False if args.no_progress else None,
                          control=control, on_start=lambda d: print(f"run directory: {d}", flush=True))

    result = asyncio.run(main_async())
    print(result.summary.text())
    for skipped in result.plan.skipped:
        print(f"skipped: {skipped.model} / {skipped.config_label}: {skipped.reason}")
    print(f"\nrows: {result.run_dir / 'rows.jsonl'}   load: llmkit.evals.load({str(result.run_dir)!r})")
    if result.status == "completed":
        if args.report:
            print()
            return _print_report(result.run_dir)
        print(f"report: python -m llmkit.evals report {result.run_dir}")
        return EXIT_OK
    print(f"resume: python -m llmkit.evals run --resume {result.run_dir}")
    return EXIT_BUDGET if result.status == "budget" else EXIT_INTERRUPTED


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
    lines.append(_grid(table))
    if spec.max_cost_usd is not None:
        verdict = "within" if total.cost_usd <= spec.max_cost_usd else "OVER"
        lines.append(f"max_cost_usd: ${spec.max_cost_usd} — the estimate is {verdict} the cap")
    for s in p.skipped:
        lines.append(f"skipped: {s.model} / {s.config_label}: {s.reason}")
    lines += [f"note: {n}" for n in p.notes]
    return "\n".join(lines)


def _grid(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _report(args: argparse.Namespace) -> int:
    return _print_report(args.run_dir, baseline=args.baseline, out=args.out, figures=not args.no_figures)


def _print_report(run_dir: Any, *, baseline: str | None = None, out: str | None = None, figures: bool = True) -> int:
    from llmkit.evals.report import build_report

    report = build_report(run_dir, baseline=baseline, out=out, figures=figures)
    print(report.text())
    return EXIT_OK


def _models(args: argparse.Namespace) -> int:
    from llmkit.factory import LLMFactory
    from llmkit.models import LLMRuntime

    runtime = None
    if args.runtime:
        try:
            runtime = LLMRuntime(args.runtime)
        except ValueError:
            from llmkit.evals.spec import SpecError

            raise SpecError(f"--runtime {args.runtime!r}: allowed: {', '.join(r.value for r in LLMRuntime)}") from None
    if args.remote:
        LLMFactory.reload_models("api")
    by_runtime: dict[str, list[list[str]]] = {}
    for m in LLMFactory.list_models(runtime=runtime):
        available = LLMFactory.availability(m.identifier)
        if args.available and not available:
            continue
        rates = m.pricing.rates if m.pricing else None
        price = "-" if rates is None else f"{rates.input}/{rates.output}" + (
            " (illustrative)" if m.pricing and m.pricing.illustrative else "")
        status = "yes" if available else f"no: {available.reason}"
        if m.status != "active":
            status += f" [{m.status}]"
        by_runtime.setdefault(m.runtime.value, []).append([m.identifier, m.provider.value, price, status])
    if not by_runtime:
        print("no models match")
        return EXIT_OK
    for name, rows in by_runtime.items():
        print(f"\n{name} ({len(rows)} models)")
        print(_grid([["model", "provider", "usd_per_mtok_in/out", "available"], *rows]))
    print(f"\nuse them in a sweep: {FIRST_COMMAND} --models <id> ...")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))

