"""The eval runner: sweep prompts across models × configs × repeats into one tidy DataFrame.

    python -m llmkit.evals run evals/quickstart.yaml          # the CLI
    import llmkit.evals as ev; ev.run("evals/quickstart.yaml").load()   # from Python / Jupyter

Nothing heavy is imported here; pandas loads in `load`, matplotlib in the report.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmkit.evals.api import RunControl, RunResult, arun, dry_run, run
    from llmkit.evals.report import build_report, summarize
    from llmkit.evals.row import EvalRow, RowKey
    from llmkit.evals.spec import EvalSpec, SpecError, load_spec
    from llmkit.evals.store import load

_HOME = {
    "run": "llmkit.evals.api", "arun": "llmkit.evals.api", "dry_run": "llmkit.evals.api",
    "RunResult": "llmkit.evals.api", "RunControl": "llmkit.evals.api",
    "load": "llmkit.evals.store", "load_spec": "llmkit.evals.spec", "EvalSpec": "llmkit.evals.spec",
    "SpecError": "llmkit.evals.spec", "summarize": "llmkit.evals.report", "build_report": "llmkit.evals.report",
    "EvalRow": "llmkit.evals.row", "RowKey": "llmkit.evals.row",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'llmkit.evals' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = ["EvalRow", "EvalSpec", "RowKey", "RunControl", "RunResult", "SpecError", "arun", "build_report", "dry_run",
           "load", "load_spec", "run", "summarize"]
