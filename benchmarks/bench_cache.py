"""Response cache benchmark: N cached calls vs the same N uncached MOCK calls, in one process.

    python benchmarks/bench_cache.py [--n 10000] [--reps 3] [--json OUT] [--profile] [--smoke]

Every call goes through `BaseLLM.send_user_message` (async, one event loop, a fresh conversation per call so
the history does not grow). Passes, each over N distinct prompts to `oracle:mock`:
- uncached: no cache extension (the MOCK model counts tokens and builds its answer);
- fill: cache enabled on an empty directory, every call a miss that is then stored;
- hit: the same prompts again, every call answered from the cache (from the in-process memory in front of the
  disk, as in any re-run within one process);
- disk hit: the same, through a store with no memory (every hit reads SQLite, checks and decodes the entry),
  as in a new process re-running a sweep;
- floor: a backend that returns a constant answer at once, the cost of send_user_message itself.
Per-hit overhead = hit − floor (what the cache adds on top of the cheapest possible call); the extension's
`before_invoke` on a hit is also timed on its own. Medians over --reps interleaved repetitions. Goal: < 0.2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from llmkit.base import BaseLLM  # noqa: E402
from llmkit.cache import ResponseCache  # noqa: E402
from llmkit.extensions.cache import ResponseCacheExtension  # noqa: E402
from llmkit.factory import LLMFactory  # noqa: E402
from llmkit.messages import ChunkResponse, CompleteResponse, LLMRequest, TokenUsage  # noqa: E402

GOAL_HIT_OVERHEAD_MS = 0.2
MODEL = "oracle:mock"


class FloorLLM(BaseLLM):
    """Answers at once with a constant: measures BaseLLM's own per-call cost."""

    _answer = CompleteResponse("The answer is 42.", usage=TokenUsage(9, 6), finish_reason="stop")

    async def _send_user_message_to_llm(self, request: LLMRequest) -> CompleteResponse:
        return self._answer

    async def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        yield ChunkResponse(is_complete=True, usage=self._answer.usage)


async def timed_calls(llm: BaseLLM, prompts: list[str]) -> float:
    """Seconds per call over all prompts."""
    llm.usage.reset()
    gc.collect()
    started = time.perf_counter()
    for prompt in prompts:
        llm.clear_history()
        await llm.send_user_message(prompt)
    return (time.perf_counter() - started) / len(prompts)


async def timed_lookups(llm: BaseLLM, extension: ResponseCacheExtension, prompts: list[str]) -> float:
    """Seconds per `before_invoke` hit (key + read + decode + response), outside BaseLLM."""
    from llmkit.messages import Message, Role

    requests = [LLMRequest((Message(Role.USER, p),), llm.config, llm.model) for p in prompts]
    gc.collect()
    started = time.perf_counter()
    for request in requests:
        if await extension.before_invoke(llm, request) is None:
            raise SystemExit("bench_cache: expected a hit in the lookup pass")
    return (time.perf_counter() - started) / len(requests)


async def run(n: int, reps: int, profile: bool) -> dict[str, Any]:
    prompts = [f"What is {i} + 1?" for i in range(n)]
    plain = LLMFactory.create_llm(MODEL)
    floor = FloorLLM(LLMFactory.get_model(MODEL), plain.config)
    with tempfile.TemporaryDirectory(prefix="llmkit-bench-cache-") as directory:
        extension = ResponseCacheExtension(Path(directory))
        cached = LLMFactory.create_llm(MODEL, cache=extension)
        fill_s = await timed_calls(cached, prompts)  # every call a miss, then stored
        if extension.misses != n or extension.hits != 0:
            raise SystemExit(f"bench_cache: fill pass expected {n} misses, got {extension.misses}/{extension.hits}")
        disk_only = LLMFactory.create_llm(MODEL, cache=ResponseCache(directory, memory_entries=0))
        results: dict[str, list[float]] = {"uncached": [], "hit": [], "disk_hit": [], "floor": [], "lookup": []}
        passes: dict[str, Callable[[], Awaitable[float]]] = {
            "uncached": lambda: timed_calls(plain, prompts),
            "hit": lambda: timed_calls(cached, prompts),
            "disk_hit": lambda: timed_calls(disk_only, prompts),
            "floor": lambda: timed_calls(floor, prompts),
            "lookup": lambda: timed_lookups(cached, extension, prompts),
        }
        for _ in range(reps):  # interleaved, so drift affects every pass alike
            for name, one_pass in passes.items():
                results[name].append(await one_pass())
        if extension.hits != n * reps * 2:
            raise SystemExit(f"bench_cache: expected {n * reps * 2} hits, got {extension.hits}")
        cached.clear_history()
        hit = await cached.send_user_message(prompts[0])
        if not (hit.cached and hit.usage.total_cost == 0 and hit.usage.saved_cost > 0):
            raise SystemExit(f"bench_cache: a hit should be cached, free and show its saving: {hit!r}")
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0001)
            profiler.start()
            await timed_calls(cached, prompts)
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        stats = extension.stats()
    median = {name: statistics.median(values) for name, values in results.items()}
    overhead_ms = (median["hit"] - median["floor"]) * 1000
    return {
        "n": n,
        "reps": reps,
        "uncached_per_call_ms": median["uncached"] * 1000,
        "fill_per_call_ms": fill_s * 1000,
        "hit_per_call_ms": median["hit"] * 1000,
        "disk_hit_per_call_ms": median["disk_hit"] * 1000,
        "disk_hit_overhead_ms": (median["disk_hit"] - median["floor"]) * 1000,
        "floor_per_call_ms": median["floor"] * 1000,
        "hit_overhead_ms": overhead_ms,
        "lookup_per_hit_ms": median["lookup"] * 1000,
        "hits_per_s": 1 / median["hit"],
        "speedup_uncached_over_hit": median["uncached"] / median["hit"],
        "miss_overhead_ms": (fill_s - median["uncached"]) * 1000,
        "cache_entries": stats.entries,
        "cache_size_bytes": stats.size_bytes,
        "samples_ms": {k: [round(v * 1000, 5) for v in vs] for k, vs in results.items()},
        "rows": [
            {"metric": "cached call (hit) vs uncached MOCK call", "llmkit": median["hit"] * 1000,
             "baseline": median["uncached"] * 1000, "baseline_name": "uncached MOCK", "unit": "ms/call",
             "better": "lower", "on": "ratio"},
            {"metric": "per-hit overhead (hit − floor)", "value": overhead_ms, "unit": "ms",
             "goal": GOAL_HIT_OVERHEAD_MS, "better": "lower", "on": "value"},
            {"metric": "per-hit overhead from disk, no memory (new process)",
             "value": (median["disk_hit"] - median["floor"]) * 1000, "unit": "ms", "better": "lower", "on": "value"},
            {"metric": "cache lookup alone (before_invoke hit)", "value": median["lookup"] * 1000, "unit": "ms",
             "better": "lower", "on": "value"},
            {"metric": "cache hits per second", "value": 1 / median["hit"], "unit": "calls/s", "better": "higher",
             "on": "value"},
            {"metric": "miss overhead (key + store)", "value": (fill_s - median["uncached"]) * 1000, "unit": "ms",
             "better": "lower", "on": "value"},
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=10_000, help="calls per pass (default 10000)")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions per pass (median reported)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of one hit pass")
    parser.add_argument("--smoke", action="store_true", help="tiny counts: checks the script runs (CI)")
    args = parser.parse_args(argv)
    n, reps = (200, 1) if args.smoke else (args.n, args.reps)
    if n < 1 or reps < 1:
        parser.error("--n and --reps must be positive")
    result = asyncio.run(run(n, reps, args.profile))
    print(f"{n} calls per pass, median of {reps}:")
    print(f"  uncached MOCK call   {result['uncached_per_call_ms']:.4f} ms")
    print(f"  first run (miss+put) {result['fill_per_call_ms']:.4f} ms  (miss overhead "
          f"{result['miss_overhead_ms']:.4f} ms)")
    print(f"  cached call (hit)    {result['hit_per_call_ms']:.4f} ms  = {result['hits_per_s']:,.0f} hits/s, "
          f"{result['speedup_uncached_over_hit']:.2f}x the uncached call's speed")
    print(f"  disk hit (no memory) {result['disk_hit_per_call_ms']:.4f} ms  (overhead "
          f"{result['disk_hit_overhead_ms']:.4f} ms, as in a fresh process)")
    print(f"  floor (no-op model)  {result['floor_per_call_ms']:.4f} ms")
    verdict = "ok" if result["hit_overhead_ms"] < GOAL_HIT_OVERHEAD_MS else "MISSED"
    print(f"  per-hit overhead     {result['hit_overhead_ms']:.4f} ms (goal < {GOAL_HIT_OVERHEAD_MS} ms: {verdict}); "
          f"lookup alone {result['lookup_per_hit_ms']:.4f} ms")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
