"""The `llmkit` console script: `llmkit run|report|compare|view|models|cache|prompt`.

The eval commands share their parser and handlers with `python -m llmkit.evals` (llmkit.evals.cli); this module
adds `prompt` (one streamed answer and its stats line), `cache` (llmkit.cache's own CLI) and `--version`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from llmkit.evals import cli as evals_cli

EPILOG = """\
examples (offline, MOCK models):
  llmkit prompt -m oracle:mock "What is the capital of France?"
  echo "What is 6 * 7?" | llmkit prompt -m echo:mock
  llmkit run evals/quickstart.yaml --report
  llmkit view runs/<run id>
  llmkit compare runs/<run A> runs/<run B>
  llmkit models --runtime mock --json

exit codes: 0 ok (a sweep with error rows included), 1 a prompt failed, 2 usage/spec error,
3 stopped by max_cost_usd, 130 interrupted
"""


def build_parser() -> argparse.ArgumentParser:
    from llmkit import __version__

    parser = argparse.ArgumentParser(prog="llmkit", description="Compare and evaluate LLMs from the shell.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"llmkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{run,report,compare,view,models,cache,prompt}")
    evals_cli.add_commands(commands)

    prompt = commands.add_parser("prompt", help="stream one answer from a model, then its stats line",
                                 description="Stream one answer to stdout; the stats line goes to stderr.")
    prompt.add_argument("question", nargs="?", default="-", help="the prompt; '-' or nothing reads stdin")
    prompt.add_argument("-m", "--model", required=True, help="model id, e.g. oracle:mock or gpt-4o-mini")
    prompt.add_argument("-s", "--system", help="a system prompt")
    prompt.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a config value (temperature=0.2, max_tokens=200, reasoning_effort=high); repeatable")
    prompt.add_argument("--cache", nargs="?", const=True, metavar="DIR", help="answer from / store in the cache")
    prompt.add_argument("--no-stats", action="store_true", help="print only the answer")

    cache = commands.add_parser("cache", help="inspect or clear the response cache (llmkit cache stats|clear)",
                                add_help=False)
    cache.add_argument("cache_args", nargs=argparse.REMAINDER, help="arguments for python -m llmkit.cache")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return evals_cli.EXIT_OK
    return evals_cli.dispatch(args, {**evals_cli.COMMANDS, "prompt": _prompt, "cache": _cache})


def _cache(args: argparse.Namespace) -> int:
    from llmkit.cache.__main__ import main as cache_main

    try:
        return cache_main(args.cache_args or ["--help"])
    except SystemExit as exc:  # argparse's --help and usage errors
        return exc.code if isinstance(exc.code, int) else evals_cli.EXIT_USAGE


def _options(pairs: Sequence[str]) -> dict[str, object]:
    import yaml

    from llmkit.errors import ConfigurationError

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"-o {pair!r}: write KEY=VALUE, e.g. -o temperature=0.2")
        options[key.strip()] = yaml.safe_load(value)  # 0.2 -> float, true -> bool, text stays text
    return options


def _config(options: dict[str, object]) -> dict[str, object]:
    """Known LLMConfig fields go top level, anything else into extra_params (validated against the schema)."""
    from llmkit.config import LLMConfig

    fields = set(LLMConfig.model_fields)
    config: dict[str, object] = {k: v for k, v in options.items() if k in fields}
    extra = {k: v for k, v in options.items() if k not in fields}
    if extra:
        config["extra_params"] = extra
    return config


def _prompt(args: argparse.Namespace) -> int:
    from llmkit.errors import ConfigurationError, LLMError

    if args.question == "-" and sys.stdin.isatty():
        print("reading the prompt from stdin; end it with Ctrl-D", file=sys.stderr)
    question = sys.stdin.read() if args.question == "-" else args.question
    if not question.strip():
        raise ConfigurationError("prompt: the question is empty; pass it as an argument or on stdin")
    try:
        asyncio.run(_stream(args, question.strip("\n")))
    except ConfigurationError:
        raise
    except LLMError as exc:
        from llmkit.display import error_line

        print(f"\nerror: {error_line(exc)}", file=sys.stderr)
        return evals_cli.EXIT_INTERNAL
    return evals_cli.EXIT_OK


async def _stream(args: argparse.Namespace, question: str) -> None:
    import time

    from llmkit.display import usage_line
    from llmkit.factory import LLMFactory

    config = _config(_options(args.option))
    if args.system:
        config["system_message"] = args.system
    llm = LLMFactory.create_llm(args.model, config or None, cache=args.cache)
    started = time.perf_counter()
    ttft: float | None = None
    async with llm:
        async for chunk in llm.stream_user_message(question):
            if chunk.content:
                ttft = time.perf_counter() - started if ttft is None else ttft
                sys.stdout.write(chunk.content)
                sys.stdout.flush()
            if chunk.is_complete:
                sys.stdout.write("\n")
                sys.stdout.flush()
                if not args.no_stats and chunk.usage is not None:
                    parts = [llm.model.identifier, f"latency {time.perf_counter() - started:.3f}s"]
                    if ttft is not None:
                        parts.append(f"TTFT {ttft:.3f}s")
                    parts.append(usage_line(chunk.usage))
                    if chunk.finish_reason and chunk.finish_reason != "stop":
                        parts.append(f"finish {chunk.finish_reason}")
                    print(" · ".join(parts), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
