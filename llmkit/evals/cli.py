"""`python -m llmkit.evals {run,report,models}`.

Exit codes: 0 the sweep completed (error rows are data, not a failure of the run; also `completed with skips`);
2 usage or spec error (one actionable line on stderr), also when another process is writing the run directory
and when a model named in the spec cannot run (no key, unknown id) without --skip-unavailable; 3 stopped by the budget
cap (max_cost_usd) — the run directory is resumable; 130 interrupted (Ctrl-C) — resumable; 1 the run's files could
not be written (disk full: the run is marked failed and is resumable) or an unexpected internal error.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from llmkit.evals.models_cli import models_command
from llmkit.evals.plan_text import empty_plan_reason, format_plan

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


def _threshold(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    try:
        minimum = float(value)
    except ValueError:
        minimum = None
    if not name.strip() or minimum is None:
        raise argparse.ArgumentTypeError(f"{text!r}: write SCORER=VALUE, e.g. contains=0.8")
    return name.strip().removeprefix("score_"), minimum


def build_parser(prog: str = "python -m llmkit.evals") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Sweep prompts across models, runtimes and configs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_commands(parser.add_subparsers(dest="command", metavar="{run,report,compare,view,models}"))
    return parser


def add_commands(commands: Any) -> None:
    """The eval commands, shared by `python -m llmkit.evals` and the `llmkit` console script."""
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
    run.add_argument("--skip-unavailable", action="store_true", default=None,
                     help="run without explicitly named models that cannot run (no key, unknown id); recorded, "
                          "and the run ends 'completed with skips'")
    cache = run.add_mutually_exclusive_group()
    cache.add_argument("--cache", nargs="?", const=True, metavar="DIR",
                       help="cache responses (in DIR, or the default cache directory)")
    cache.add_argument("--no-cache", action="store_true", help="do not cache, whatever the spec says")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--report", action="store_true",
                     help="when the run completes, also write and print its report (as `report RUN_DIR`)")
    _add_exclude_errors(run)
    _add_mlflow(run)

    report = commands.add_parser("report", help="summary, cost analysis, figures and a one-file report.html")
    _add_report_options(report)
    report.add_argument("--fail-under", action="append", default=[], type=_threshold, metavar="SCORER=VALUE",
                        help="exit 1 when any model × config's mean SCORER is below VALUE (a CI gate); repeatable")
    _add_mlflow(report)

    view = commands.add_parser("view", help="write the run's report.html and open it in a browser")
    _add_report_options(view)
    view.add_argument("--no-open", action="store_true", help="only write the report and print its path")

    compare = commands.add_parser("compare", help="paired comparison of two runs (same prompt id and repeat)")
    compare.add_argument("run_a", metavar="RUN_A")
    compare.add_argument("run_b", metavar="RUN_B")
    compare.add_argument("--csv", metavar="FILE", help="also write the comparison table as CSV")
    compare.add_argument("--on", metavar="MODEL[/CONFIG]", help="compare only this model (× config)")
    _add_exclude_errors(compare)

    models = commands.add_parser("models", help="list available models by runtime, with prices")
    models.add_argument("--runtime", type=str.lower,
                        help="only this runtime (api, mock, ollama, lmstudio, ...; any case)")
    models.add_argument("--available", action="store_true", help="only models that can be called now")
    models.add_argument("--json", action="store_true", help="one JSON list of models (id, runtime, prices, ...)")
    models.add_argument("--remote", action="store_true",
                        help="also list what each cloud whose key is set serves (asks their models endpoints)")


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR")
    parser.add_argument("--baseline", metavar="MODEL",
                        help="paired comparison against this model (MODEL or MODEL/CONFIG_LABEL)")
    parser.add_argument("--out", metavar="DIR", help="where to write files (default RUN_DIR/report)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--project", type=_positive, default=1_000_000, metavar="N",
                        help="project costs to N requests (default 1,000,000)")
    _add_exclude_errors(parser)


def _add_exclude_errors(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exclude-errors", action="store_true", default=None,
                        help="score means over successful calls only (default: an error row scores 0, "
                             "or the spec's exclude_errors)")


def _add_mlflow(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mlflow", nargs="?", const="", default=None, metavar="URI",
                        help="log params, metrics, report and rows to MLflow (default: ./mlruns); "
                             "needs pip install 'llmkit[mlflow]'")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    return dispatch(args, COMMANDS)


def dispatch(args: argparse.Namespace, commands: Mapping[str, Callable[[argparse.Namespace], int]]) -> int:
    """Run one parsed command with the exit-code contract: usage errors 2, Ctrl-C 130, a closed pipe 0."""
    from llmkit.errors import ConfigurationError, ReportError, RunStoreError, RunWriteError

    try:
        return commands[args.command](args)
    except (ConfigurationError, ReportError, RunStoreError) as exc:
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
        plan = dry_run(args.spec, models=args.models)
        print(format_plan(plan))
        if plan.total_rows == 0:
            raise SpecError(empty_plan_reason(plan))
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
                          skip_unavailable=args.skip_unavailable,
                          control=control, on_start=lambda d: print(f"run directory: {d}", flush=True))

    result = asyncio.run(main_async())
    print(result.summary.text())
    for skipped in result.plan.skipped:
        print(f"skipped: {skipped.model} / {skipped.config_label}: {skipped.reason}")
    for note in result.plan.notes:
        print(f"note: {note}")
    print(f"\nrows: {result.run_dir / 'rows.jsonl'}   load: llmkit.evals.load({str(result.run_dir)!r})")
    if result.status.startswith("completed"):
        report = None
        if args.report:
            print()
            report = _print_report(result.run_dir, exclude_errors=args.exclude_errors)
        else:
            print(f"report: llmkit report {result.run_dir}   (or: llmkit view {result.run_dir})")
        if args.mlflow is not None:
            _export_mlflow(result.run_dir, args.mlflow, report)
        return EXIT_OK
    print(f"resume: python -m llmkit.evals run --resume {result.run_dir}")
    return EXIT_BUDGET if result.status == "budget" else EXIT_INTERRUPTED


def _report(args: argparse.Namespace) -> int:
    report = _print_report(args.run_dir, baseline=args.baseline, out=args.out, figures=not args.no_figures,
                           project=args.project, exclude_errors=args.exclude_errors)
    if args.mlflow is not None:
        _export_mlflow(args.run_dir, args.mlflow, report)
    return _gate(report.summary, args.fail_under)


def _gate(summary: Any, thresholds: list[tuple[str, float]]) -> int:
    """--fail-under: EXIT_INTERNAL (1) with one line per model × config below a threshold."""
    from llmkit.errors import ReportError

    failures = []
    for name, minimum in thresholds:
        if f"{name}_mean" not in summary.columns:
            from llmkit.evals.columns import summary_scorers

            raise ReportError(f"--fail-under {name}: no such scorer in this run; its scorers: "
                            f"{', '.join(summary_scorers(summary))}")
        for _, row in summary.iterrows():
            if not row[f"{name}_mean"] >= minimum:  # NaN (no score) fails too
                failures.append(f"fail-under: {row['model']} / {row['config_label']}: {name} "
                                f"{row[f'{name}_mean']:.3f} < {minimum}")
    for line in failures:
        print(line, file=sys.stderr)
    return EXIT_INTERNAL if failures else EXIT_OK


def _print_report(run_dir: Any, *, baseline: str | None = None, out: str | None = None, figures: bool = True,
                  project: int = 1_000_000, exclude_errors: bool | None = None) -> Any:
    from llmkit.evals.report import build_report

    report = build_report(run_dir, baseline=baseline, out=out, figures=figures, project=project,
                          exclude_errors=exclude_errors)
    print(report.text())
    return report


def _view(args: argparse.Namespace) -> int:
    """Write report.html, print its path, and open it unless --no-open or no browser is available."""
    import webbrowser

    from llmkit.evals.report import build_report

    report = build_report(args.run_dir, baseline=args.baseline, out=args.out, figures=not args.no_figures,
                          project=args.project, exclude_errors=args.exclude_errors)
    page = report.out_dir / "report.html"
    print(f"report: {page}")
    if args.no_open:
        return EXIT_OK
    try:
        opened = webbrowser.open(page.resolve().as_uri())
    except webbrowser.Error:
        opened = False
    if not opened:
        print("no browser found; open the file above yourself", file=sys.stderr)
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from llmkit.evals.compare_runs import compare_runs, format_comparison

    table = compare_runs(args.run_a, args.run_b, on=args.on, exclude_errors=bool(args.exclude_errors))
    print(format_comparison(table, args.run_a, args.run_b, bool(args.exclude_errors)))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"\nwritten: {args.csv}")
    return EXIT_OK


def _export_mlflow(run_dir: Any, uri: str, report: Any = None) -> None:
    from llmkit.evals.mlflow_export import export_run

    where = export_run(run_dir, tracking_uri=uri or None, report=report)
    print(f"mlflow: {where}")


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": _run, "report": _report, "view": _view, "compare": _compare, "models": models_command}


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
