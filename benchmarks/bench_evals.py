"""Eval runner benchmark: a 10,000-row sweep on MOCK (< 10 s), its fully cached re-run (< 3 s), peak RSS.

    python benchmarks/bench_evals.py [--rows 10000] [--json OUT] [--concurrency 64] [--profile]

Rows = 5 MOCK models × 1 config × N/10 prompts × 2 repeats. Wall time depends on how busy the machine is, so
the CPU seconds of the process and a floor — the same MOCK calls with no runner around them — are reported too
(`runner_vs_bare_cpu_ratio` is the runner's cost over the calls themselves). Peak RSS comes from resource.getrusage (the
process high-water mark); "memory flat" is checked by running a tenth of the rows first and comparing the RSS
growth of the full run against it (rows stream to disk, nothing per row is kept in memory).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODELS = ["echo:mock", "oracle:mock", "reasoner-effort:mock", "reasoner-level:mock", "flaky:mock"]


def _rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _spec(rows: int, output: Path, cache: str | bool, concurrency: int) -> dict[str, Any]:
    prompts = max(1, rows // (len(MODELS) * 2))
    return {
        "name": f"bench{rows}",
        "models": MODELS,
        "prompts": [{"id": f"q{i}", "prompt": f"What is {i} + {i % 97}?", "expected": str(i + i % 97)}
                    for i in range(prompts)],
        "repeats": 2,
        "scorers": ["contains", "numeric"],
        "concurrency": concurrency,
        "cache": cache,
        "output": str(output),
    }


def _timed_run(spec: dict[str, Any]) -> tuple[float, Any]:
    import llmkit.evals as ev

    started = time.perf_counter()
    result = ev.run(spec, progress=False)
    return time.perf_counter() - started, result


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _bare_calls(rows: int, concurrency: int) -> float:
    """Wall seconds of the same MOCK calls (streamed, fresh client each) with no runner around them: the floor."""
    import asyncio

    from llmkit.backends import get_backend
    from llmkit.factory import LLMFactory

    variants = [(LLMFactory.get_model(m), LLMFactory.resolve_config(m)) for m in MODELS]
    cls = get_backend("mock").load_class()
    prompts = max(1, rows // (len(MODELS) * 2))

    async def sweep() -> None:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            model, config = variants[i % len(MODELS)]
            p = (i // len(MODELS)) % prompts
            async with semaphore:
                llm = cls(model, config)
                async for _ in llm.stream_user_message(f"What is {p} + {p % 97}?", sample_index=i % 2):
                    pass

        await asyncio.gather(*(one(i) for i in range(prompts * len(MODELS) * 2)))

    started = time.perf_counter()
    asyncio.run(sweep())
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON here")
    parser.add_argument("--profile", action="store_true", help="profile the uncached sweep with pyinstrument")
    args = parser.parse_args(argv)

    from llmkit.factory import LLMFactory

    LLMFactory.ensure_initialized()
    results: dict[str, Any] = {"rows": args.rows, "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory(prefix="bench-evals-") as tmp:
        base = Path(tmp)
        _timed_run(_spec(max(10, args.rows // 10), base / "warm", False, args.concurrency))  # warm-up, imports
        rss_small = _rss_mb()
        profiler = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="disabled")
            profiler.start()
        cpu0 = _cpu()
        seconds, result = _timed_run(_spec(args.rows, base / "runs", False, args.concurrency))
        cpu_runner = _cpu() - cpu0
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        rss_full = _rss_mb()
        results.update({
            "uncached_s": round(seconds, 3), "uncached_rows": result.summary.rows,
            "rows_per_s": round(result.summary.rows / seconds), "uncached_ok": seconds < 10,
            "uncached_cpu_s": round(cpu_runner, 3),
        })
        cpu0 = _cpu()
        bare = _bare_calls(args.rows, args.concurrency)
        cpu_bare = _cpu() - cpu0
        results.update({"bare_mock_calls_s": round(bare, 3), "bare_mock_calls_cpu_s": round(cpu_bare, 3),
                        "runner_vs_bare_cpu_ratio": round(cpu_runner / cpu_bare, 2) if cpu_bare else None})
        try:
            cache_dir = str(base / "cache")
            _timed_run(_spec(args.rows, base / "fill", cache_dir, args.concurrency))
            cpu0 = _cpu()
            cached_s, cached = _timed_run(_spec(args.rows, base / "cached", cache_dir, args.concurrency))
            cached_cpu = _cpu() - cpu0
            hits = cached.summary.rows - sum(t.rows - t.cached for t in cached.summary.tallies.values())
            results.update({"cached_s": round(cached_s, 3), "cached_cpu_s": round(cached_cpu, 3),
                            "cached_hits": hits, "cached_ok": cached_s < 3})
        except Exception as exc:  # the cache extension may be unavailable in this build
            results.update({"cached_s": None, "cached_note": f"not measured: {exc}"})
        results.update({"peak_rss_mb_after_small_run": round(rss_small, 1),
                        "peak_rss_mb_after_full_run": round(_rss_mb(), 1),
                        "rss_growth_mb_full_run": round(rss_full - rss_small, 1)})
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
