"""`python -m benchmarks.cold_cache [--calls N] [CONTENDER ...]`: instructions and L1 cache misses per sequential
unary call with the caches cold, under callgrind's cache simulation (needs valgrind; not part of the suite).

Why: on a shared host the sequential unary ratio moves with the host's load, because a call starts with cold
caches after waiting on the server (benchmarks/README.md). This measures that cost without the host: each
contender runs in its own process under callgrind; after 100 warm-up calls it dumps the counters, then makes N
calls, each after overwriting 256 KiB (which evicts the simulated L1 caches), and dumps again. The second dump is
those N calls alone. A contender named "none" does only the eviction and is subtracted from the others.
Contenders: llmkit, "llmkit (API model)", "raw aiohttp" (benchmarks/clients.py). A contender's counts repeat to
about ±100 misses and ±2k instructions per call from run to run, so compare differences over a few runs.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import clients, measure

ROOT = Path(__file__).resolve().parent.parent
EVICT_BYTES = 256 << 10
WARM_UP = 100
EVENTS = ("Ir", "I1mr", "D1mr", "D1mw")


def _dump(out: str) -> None:
    """Ask callgrind to dump the counters so far, and keep running Python until the file is written (callgrind
    acts on the request only while the guest runs)."""
    before = set(glob.glob(out + ".*"))
    request = subprocess.Popen(["callgrind_control", "-d", str(os.getpid())], stdout=subprocess.DEVNULL)
    while request.poll() is None or set(glob.glob(out + ".*")) == before:
        sum(range(1000))


async def _child(name: str, calls: int, out: str) -> None:
    scratch, other = bytearray(EVICT_BYTES), bytes(EVICT_BYTES)
    with measure.loopback_server() as url:
        contender = None if name == "none" else await clients.FACTORIES[name](url)
        if name != "none" and contender is None:
            raise SystemExit(f"{name} is not available here")
        for batch in (WARM_UP, calls):
            for _ in range(batch):
                if contender is not None:
                    await contender.unary()
                scratch[:] = other
            _dump(out)
        if contender is not None:
            await contender.close()


def _counts(name: str, calls: int) -> dict[str, float]:
    """Per-call counts of one contender, from its second callgrind dump."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "callgrind.out")
        # discovery runs about 50 times slower under valgrind: its timeouts are raised to match
        env = {"LLMKIT_DISCOVERY_TIMEOUT": "60", "LLMKIT_DISCOVERY_CONNECT_TIMEOUT": "30", **os.environ,
               "PYTHONHASHSEED": "0", "CALLGRIND_OUT": out}
        run = subprocess.run(["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--callgrind-out-file={out}",
                              sys.executable, "-m", "benchmarks.cold_cache", "--child", name, "--calls", str(calls)],
                             cwd=ROOT, capture_output=True, text=True, env=env)
        if run.returncode:
            raise SystemExit(f"{name} failed under callgrind:\n{run.stderr[-2000:]}")
        second = sorted(glob.glob(out + ".*"), key=lambda path: int(path.rsplit(".", 1)[1]))[1]
        lines = Path(second).read_text().splitlines()
    names = next(line.split()[1:] for line in lines if line.startswith("events:"))
    totals = next(line.split()[1:] for line in lines if line.startswith(("summary:", "totals:")))
    found = dict(zip(names, map(int, totals), strict=False))  # trailing zero counts are left out
    return {event: found.get(event, 0) / calls for event in EVENTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("contenders", nargs="*", default=["llmkit", "llmkit (API model)", "raw aiohttp"])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_child(args.child, args.calls, os.environ["CALLGRIND_OUT"]))
        return
    baseline = _counts("none", args.calls)
    print(f"{'contender':<22} {'instructions':>13} {'L1 misses':>10} {'(code':>7} {'data read':>10} {'write)':>7}")
    for name in args.contenders:
        counts = {event: value - baseline[event] for event, value in _counts(name, args.calls).items()}
        misses = counts["I1mr"] + counts["D1mr"] + counts["D1mw"]
        print(f"{name:<22} {counts['Ir']:>13,.0f} {misses:>10,.0f} {counts['I1mr']:>7,.0f} {counts['D1mr']:>10,.0f} "
              f"{counts['D1mw']:>7,.0f}")


if __name__ == "__main__":
    main()
