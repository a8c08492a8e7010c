"""Shared helpers for the tests/test_evals_*.py files: spec writing and python scorers used by specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROMPTS = [
    {"id": "p1", "prompt": "What is 17 + 25?", "expected": "42"},
    {"id": "p2", "prompt": "What is the capital of France?", "expected": "Paris"},
    {"id": "p3", "prompt": "What is 6 * 7?", "expected": "42"},
    {"id": "p4", "prompt": "What is the capital of Japan?", "expected": "Tokyo", "system": "Be terse."},
    {"id": "p5", "prompt": "What is 100 - 1?", "expected": "99"},
]


def write_spec(directory: Path, **overrides: Any) -> Path:
    """A 3 models × 2 configs × 5 prompts × 2 repeats (= 60 rows) MOCK spec, with overrides."""
    spec: dict[str, Any] = {
        "name": "t",
        "models": ["echo:mock", "oracle:mock", "reasoner-effort:mock"],
        "configs": [{"label": "default"}, {"label": "cold", "temperature": 0.0}],
        "prompts": PROMPTS,
        "repeats": 2,
        "scorers": ["contains", "numeric"],
        "output": str(directory / "runs"),
    }
    spec.update(overrides)
    path = directory / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    return path


def half_credit(output: str) -> float:
    return 0.5


def raising(output: str, expected: Any, row: Any) -> float:
    raise ValueError("judge exploded")
