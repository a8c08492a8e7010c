"""How each number is taken. Every comparison is interleaved (contenders alternate within each repetition, in ABBA
order) and repeated; the reported value is the median over repetitions, so a noisy neighbour or a GC
pause hits all contenders alike instead of one."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.clients import Call, Contender

ROOT = Path(__file__).resolve().parent.parent


# ----- the loopback server ---------------------------------------------------------------------------------------
@contextmanager
def loopback_server() -> Any:
    """Start `benchmarks.server` in its own process; yield its OpenAI-style base URL (…/v1)."""
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.server"], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


# ----- imports ---------------------------------------------------------------------------------------------------
_IMPORT_SNIPPET = """
import sys, time, json
before = set(sys.modules)
t = time.perf_counter()
{stmt}
elapsed = time.perf_counter() - t
top = sorted({{m.split('.')[0] for m in set(sys.modules) - before if not m.startswith('_')}})
print(json.dumps({{"s": elapsed, "top": top}}))
"""


def _import_once(stmt: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    out = subprocess.run([sys.executable, "-c", _IMPORT_SNIPPET.format(stmt=stmt)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def import_times(statements: dict[str, str], runs: int) -> dict[str, dict[str, Any]]:
    """Median wall time of each import statement in fresh interpreters, interleaved; plus the top-level packages
    it loaded (from the last run)."""
    samples: dict[str, list[float]] = {name: [] for name in statements}
    tops: dict[str, list[str]] = {}
    for stmt in statements.values():  # warm the bytecode caches once
        _import_once(stmt)
    for _ in range(runs):
        order = list(statements)
        random.shuffle(order)
        for name in order:
            result = _import_once(statements[name])
            samples[name].append(result["s"])
            tops[name] = result["top"]
    return {name: {"median_s": statistics.median(v), "samples_s": v, "packages": tops[name]}
            for name, v in samples.items()}


def _abba(contenders: Sequence[Contender], rep: int) -> list[Contender]:
    """ABBA interleaving: even repetitions in order, odd ones reversed, so a slow drift of the machine's speed
    falls on every contender alike (a shuffle leaves that to chance)."""
    return list(contenders) if rep % 2 == 0 else list(reversed(contenders))


# ----- sequential calls ------------------------------------------------------------------------------------------
async def per_call_times(contenders: Sequence[Contender], kind: str, calls: int, reps: int,
                         warmup: int = 20) -> dict[str, dict[str, Any]]:
    """Mean seconds per call of `calls` sequential calls, median over `reps` interleaved repetitions."""
    samples: dict[str, list[float]] = {c.name: [] for c in contenders}
    for contender in contenders:
        call: Call = getattr(contender, kind)
        for _ in range(warmup):
            await call()
    for rep in range(reps):
        for contender in _abba(contenders, rep):
            call = getattr(contender, kind)
            started = time.perf_counter()
            for _ in range(calls):
                await call()
            samples[contender.name].append((time.perf_counter() - started) / calls)
    return {name: {"median_s": statistics.median(v), "samples_s": v} for name, v in samples.items()}


# ----- concurrency -----------------------------------------------------------------------------------------------
async def _throughput_once(calls: list[Call], total: int) -> tuple[float, float]:
    """(requests/s, client CPU seconds per request) for `total` requests spread over the workers."""
    remaining = total

    async def worker(call: Call) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(c) for c in calls))
    return total / (time.perf_counter() - started), (time.process_time() - cpu) / total


async def throughput(contenders: Sequence[Contender], levels: Sequence[int], total: int, reps: int,
                     min_rounds: int = 4) -> dict[str, dict[int, dict[str, Any]]]:
    """Requests/s with `level` requests in flight (that many workers, each calling back to back) for `total`
    requests (at least `min_rounds` per worker), median over `reps` interleaved repetitions; also the client's
    CPU seconds per request (process time), which a busy neighbour on the machine disturbs far less than the
    wall-clock rate."""
    results: dict[str, dict[int, dict[str, Any]]] = {c.name: {} for c in contenders}
    for level in levels:
        count = max(total, level * min_rounds)
        workers = {c.name: [c.fork() if c.fork else c.unary for _ in range(level)] for c in contenders}
        samples: dict[str, list[float]] = {c.name: [] for c in contenders}
        cpu: dict[str, list[float]] = {c.name: [] for c in contenders}
        for contender in contenders:  # warm up: open the connections
            await _throughput_once(workers[contender.name], level)
        for rep in range(reps):
            for contender in _abba(contenders, rep):
                rate, cpu_per_request = await _throughput_once(workers[contender.name], count)
                samples[contender.name].append(rate)
                cpu[contender.name].append(cpu_per_request)
        for name, values in samples.items():
            results[name][level] = {"median_rps": statistics.median(values), "samples_rps": values,
                                    "median_cpu_s_per_request": statistics.median(cpu[name]),
                                    "samples_cpu_s_per_request": cpu[name]}
    return results


# ----- start-up -------------------------------------------------------------------------------------------------
_STARTUP_SNIPPET = """
import time, json
t = time.perf_counter()
from llmkit import LLMFactory
imported = time.perf_counter()
LLMFactory.ensure_initialized()
done = time.perf_counter()
print(json.dumps({"import_s": imported - t, "init_s": done - imported, "models": len(LLMFactory.list_models())}))
"""


def _hung_listener() -> Any:
    """A socket that accepts TCP connections (kernel backlog) but never reads or answers."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def startup_times(runs: int) -> dict[str, Any]:
    """`LLMFactory.ensure_initialized()` in fresh interpreters: with every local runtime pointed at closed ports
    (nothing running), and with one Ollama host that accepts connections and never answers (hung)."""
    closed = [f"127.0.0.1:{_free_port()}" for _ in range(3)]
    nothing = {"OLLAMA_HOSTS": closed[0], "LMSTUDIO_HOSTS": closed[1], "OPENAI_COMPATIBLE_HOSTS": closed[2]}
    hung_socket = _hung_listener()
    hung = {**nothing, "OLLAMA_HOSTS": f"127.0.0.1:{hung_socket.getsockname()[1]}"}
    env_base = {k: v for k, v in os.environ.items() if not k.endswith(("_HOSTS", "_HOST"))}
    out: dict[str, Any] = {}
    try:
        for label, extra in (("nothing running", nothing), ("one hung host", hung)):
            values = []
            for _ in range(runs):
                text = subprocess.run([sys.executable, "-c", _STARTUP_SNIPPET], cwd=ROOT, env={**env_base, **extra},
                                      capture_output=True, text=True, check=True, timeout=120).stdout
                values.append(json.loads(text.strip().splitlines()[-1]))
            out[label] = {"median_s": statistics.median(v["init_s"] for v in values),
                          "samples_s": [v["init_s"] for v in values], "models": values[-1]["models"]}
    finally:
        hung_socket.close()
    try:
        from llmkit.discovery.probe import timeouts

        out["discovery_timeouts_s"] = dict(zip(("connect", "read"), timeouts(), strict=True))
    except ImportError:
        pass
    return out


# ----- an eval sweep against the loopback server ------------------------------------------------------------------
_SWEEP_SNIPPET = """
import json, sys, tempfile, time
import llmkit.evals as ev
rows, concurrency = int(sys.argv[1]), int(sys.argv[2])
with tempfile.TemporaryDirectory() as out:
    spec = {"name": "loopback", "models": ["gpt-4.1"], "repeats": 1, "concurrency": concurrency, "cache": False,
            "output": out, "scorers": ["contains"],
            "prompts": [{"id": f"q{i}", "prompt": f"Say twenty words ({i}).", "expected": "word1"}
                        for i in range(rows)]}
    started = time.perf_counter()
    result = ev.run(spec, progress=False)
    elapsed = time.perf_counter() - started
    frame = ev.load(result.run_dir)
    errors = int(frame["error_type"].notna().sum()) if "error_type" in frame else -1
print(json.dumps({"rows": len(frame), "errors": errors, "s": elapsed, "rows_per_s": len(frame) / elapsed}))
"""


def loopback_sweep(base_url: str, rows: int, concurrency: int = 64) -> dict[str, Any]:
    """`llmkit.evals.run` of `rows` prompts on gpt-4.1 pointed at the loopback server (no cache), in a fresh
    interpreter: what the runner sustains over real HTTP, end to end (spec, scheduling, calls, scoring, JSONL)."""
    env = {**os.environ, "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-bench-not-a-real-key",
           "OPENAI_COMPATIBLE_HOSTS": "none"}
    proc = subprocess.run([sys.executable, "-c", _SWEEP_SNIPPET, str(rows), str(concurrency)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ----- the other engineers' benchmarks ---------------------------------------------------------------------------
def external(script: str, args: Sequence[str] = (), timeout: float = 600) -> dict[str, Any] | None:
    """Run `benchmarks/<script> --json OUT [args]` if it exists; its JSON, or None when absent; an error dict when
    it failed (the suite goes on)."""
    path = ROOT / "benchmarks" / script
    if not path.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        started = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, str(path), "--json", str(out), *args], cwd=ROOT,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:g}s"}
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
        data: dict[str, Any] = json.loads(out.read_text())
        data.setdefault("_elapsed_s", time.perf_counter() - started)
        return data
