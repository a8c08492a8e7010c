"""A model's lifecycle is read against the date: the catalog is a snapshot, and a model it lists as deprecated stops
answering on its retirement date. Listings, model cards and sweep plans say so."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit import LLMFactory, LLMModel, LLMProvider, LLMRuntime
from llmkit.evals.cli import main
from llmkit.models import lifecycle, status_text

pytestmark = pytest.mark.timeout(60)


def _model(name: str = "old", **fields: Any) -> LLMModel:
    return LLMModel(name=name, provider=LLMProvider.OTHER, runtime=LLMRuntime.MOCK,
                    metadata={"behaviour": "echo", **fields.pop("metadata", {})}, **fields)


def test_a_deprecated_model_is_retired_from_its_retirement_date_on() -> None:
    model = _model(status="deprecated", deprecation_date="2026-06-11", retirement_date="2026-11-30")
    assert lifecycle(model, date(2026, 11, 29)) == "deprecated"
    assert status_text(model, date(2026, 11, 29)) == \
        "deprecated (deprecated 2026-06-11, retires 2026-11-30, in 1 day)"
    assert status_text(model, date(2026, 1, 1)) == "deprecated (deprecated 2026-06-11, retires 2026-11-30)"
    assert lifecycle(model, date(2026, 11, 30)) == "retired"
    assert status_text(model, date(2026, 12, 1)) == "retired (deprecated 2026-06-11, retired 2026-11-30)"


def test_an_active_model_past_its_deprecation_date_is_deprecated_and_a_non_date_is_ignored() -> None:
    model = _model(deprecation_date="2026-06-11", retirement_date="2027-Q1")  # a quarter: not a date to act on
    assert lifecycle(model, date(2026, 6, 10)) == "active" and status_text(model, date(2026, 6, 10)) == "active"
    assert lifecycle(model, date(2026, 6, 11)) == "deprecated"
    assert status_text(model, date(2030, 1, 1)) == "deprecated (deprecated 2026-06-11)"
    assert lifecycle(_model(), date(2030, 1, 1)) == "active"


def test_the_plan_the_run_and_the_listing_say_when_a_model_has_retired(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    retired = LLMFactory.register_model(_model("gone", status="deprecated", retirement_date="2000-01-01",
                                               metadata={"replacement": "echo:mock"})).identifier
    soon = LLMFactory.register_model(_model("going", status="deprecated", retirement_date="2999-01-01")).identifier
    spec = write_spec(tmp_path, models=[retired, soon, "echo:mock"], configs=[{"label": "default"}], repeats=1)
    expected = [f"{retired} is retired (retired 2000-01-01); the provider may refuse its calls or answer "
                "them with another model; replacement: echo:mock",
                f"{soon} is deprecated (retires 2999-01-01)"]
    assert ev.dry_run(spec).notes == expected

    assert main(["run", str(spec), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert all(f"note: {note}" in out for note in expected)
    run_dir = Path(next(line for line in out.splitlines() if line.startswith("run directory: ")).split(": ", 1)[1])
    assert json.loads((run_dir / "run.json").read_text())["notes"] == expected

    assert main(["models", "--runtime", "mock", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    assert (listed[retired]["status"], listed[retired]["retirement_date"]) == ("retired", "2000-01-01")
    assert listed[soon]["status"] == "deprecated" and listed["echo:mock"]["status"] == "active"
    assert main(["models", "--runtime", "mock"]) == 0
    assert "[retired (retired 2000-01-01)]" in capsys.readouterr().out
