"""Start-up cost of local-runtime discovery: `LLMFactory.ensure_initialized()` in fresh interpreters.

    python benchmarks/bench_startup.py [--runs N] [--json OUT]

Scenarios (median of N fresh subprocesses each; the import of llmkit is measured separately and not included):
- "defaults, nothing running": no *_HOSTS variables, so the default hosts are probed (localhost:11434, :1234 and the
  OpenAI-compatible default ports 8080, 9931, 8000) — this assumes nothing listens on them here, and says so if
  something does;
- "closed ports": every runtime pointed at a port that refuses connections;
- "one hung host": an Ollama host that accepts TCP and never answers; bounded by the discovery read timeout
  (connect succeeds on a hung host, so the connect timeout cannot be what stops it).
Goal (DESIGN.md): nothing running -> < 0.5 s; hung host -> at most its timeout plus a little.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 0.5
SNIPPET = """
import json, time
t = time.perf_counter()
from llmkit import LLMFactory
imported = time.perf_counter()
LLMFactory.ensure_initialized()
done = time.perf_counter()
local = [m for m in LLMFactory.list_models() if m.runtime.is_local]
print(json.dumps({"import_s": imported - t, "init_s": done - imported, "local_models": len(local)}))
"""
HOST_VARS = ("OLLAMA_HOST", "OLLAMA_HOSTS", "LMSTUDIO_HOSTS", "OPENAI_COMPATIBLE_HOSTS", "AUTOBYTEUS_LLM_SERVER_HOSTS")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", SNIPPET], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _scenario(env: dict[str, str], runs: int) -> dict[str, Any]:
    samples = [_run(env) for _ in range(runs)]
    return {
        "median_s": statistics.median(s["init_s"] for s in samples),
        "max_s": max(s["init_s"] for s in samples),
        "import_median_s": statistics.median(s["import_s"] for s in samples),
        "local_models": samples[-1]["local_models"],
        "samples_s": [round(s["init_s"], 4) for s in samples],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 runs per scenario")
    parser.add_argument("--smoke", action="store_true", help="1 run per scenario (CI: checks it runs)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    runs = 1 if args.smoke else 3 if args.quick else max(args.runs, 1)

    from llmkit.discovery.probe import timeouts

    connect_s, read_s = timeouts()
    base = {k: v for k, v in os.environ.items() if k not in HOST_VARS}
    closed = {"OLLAMA_HOSTS": f"127.0.0.1:{_closed_port()}", "LMSTUDIO_HOSTS": f"127.0.0.1:{_closed_port()}",
              "OPENAI_COMPATIBLE_HOSTS": f"127.0.0.1:{_closed_port()}"}
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # the kernel completes handshakes; nobody ever reads
    try:
        results = {
            "defaults, nothing running": _scenario(base, runs),
            "closed ports": _scenario({**base, **closed}, runs),
            "one hung host": _scenario({**base, **closed, "OLLAMA_HOSTS": f"127.0.0.1:{hung.getsockname()[1]}"},
                                       runs),
        }
    finally:
        hung.close()

    rows = [
        {"metric": "ensure_initialized, defaults, nothing running (median)",
         "value": results["defaults, nothing running"]["median_s"], "unit": "s", "goal": GOAL_S, "better": "lower"},
        {"metric": "ensure_initialized, closed ports (median)", "value": results["closed ports"]["median_s"],
         "unit": "s", "goal": GOAL_S, "better": "lower"},
        {"metric": "ensure_initialized, one hung host (median)", "value": results["one hung host"]["median_s"],
         "unit": "s", "goal": connect_s + read_s + 0.5, "better": "lower",
         "note": f"bounded by the discovery read timeout ({read_s:g}s)"},
    ]
    out = {"runs": runs, "timeouts_s": {"connect": connect_s, "read": read_s}, "scenarios": results, "rows": rows}
    for label, data in results.items():
        found = f"  ({data['local_models']} local models found!)" if data["local_models"] else ""
        print(f"{label:28s} median {data['median_s']:.3f}s  max {data['max_s']:.3f}s  "
              f"(import {data['import_median_s']:.3f}s, not included){found}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
