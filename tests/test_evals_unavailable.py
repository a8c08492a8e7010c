"""Unavailable models: a model named by its id that cannot run stops the run before any call (exit 2, naming
what to set); `--skip-unavailable` / `skip_unavailable: true` runs the rest, records the skip, and the run says
`completed with skips`. Models matched by a glob or selector are only ever the available ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.evals.cli import main
from llmkit.evals.spec import SpecError
from llmkit.factory import LLMFactory
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def keyless_openai(openai_server: OpenAIChatServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIChatServer:
    """OpenAI's base URL points at a loopback server (so any request would be counted), but no key is set."""
    monkeypatch.setenv("OPENAI_BASE_URL", f"{openai_server.base_url}/v1")
    LLMFactory.reset()
    return openai_server


def test_an_explicit_model_without_a_key_exits_2_before_any_request(
        tmp_path: Path, keyless_openai: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock", "gpt-4o"], repeats=1)
    code = main(["run", str(spec), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert keyless_openai.requests == []  # not one request reached the server
    assert not (tmp_path / "runs").exists()  # nor was a run started
    assert "spec.yaml:" in err and "gpt-4o cannot run: set OPENAI_API_KEY" in err
    assert "--skip-unavailable" in err


def test_skip_unavailable_runs_the_rest_and_says_completed_with_skips(
        tmp_path: Path, keyless_openai: OpenAIChatServer, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock", "gpt-4o"], configs=[{"label": "default"}], repeats=1)
    code = main(["run", str(spec), "--no-progress", "--skip-unavailable"])
    out = capsys.readouterr().out
    assert code == 0 and keyless_openai.requests == []
    assert "completed with skips: 5/5 rows" in out
    assert "skipped: gpt-4o / default: unavailable: set OPENAI_API_KEY" in out
    run_dir = next((tmp_path / "runs").iterdir())
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "completed with skips" and manifest["summary"]["status"] == "completed with skips"
    assert manifest["skipped_configs"] == [{"model": "gpt-4o", "config_label": "default",
                                            "reason": "unavailable: set OPENAI_API_KEY", "unavailable": True}]
    assert set(ev.load(run_dir)["model"]) == {"oracle:mock"}


def test_the_spec_field_and_an_unknown_id(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock", "no-such-model:mock"], repeats=1)
    with pytest.raises(SpecError, match=r"spec.yaml:\d+: models\[1\]: .*--skip-unavailable"):
        ev.run(spec, progress=False)
    spec = write_spec(tmp_path, models=["oracle:mock", "no-such-model:mock"], repeats=1, skip_unavailable=True)
    result = ev.run(spec, progress=False)
    assert result.status == "completed with skips"
    assert [(s.model, s.unavailable) for s in result.plan.skipped] == [("no-such-model:mock", True)]
    assert result.summary.text().startswith("completed with skips: 10/10 rows")
    # the API's argument overrides the spec's field
    with pytest.raises(SpecError, match="no-such-model:mock"):
        ev.run(spec, progress=False, skip_unavailable=False)


def test_globs_and_selectors_only_match_available_models(tmp_path: Path, keyless_openai: OpenAIChatServer) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock", "gpt-4o*", {"provider": "openai"}], repeats=1,
                      configs=[{"label": "default"}])
    result = ev.run(spec, progress=False)
    assert result.status == "completed" and result.plan.skipped == []
    assert any("matched no available model" in note for note in result.plan.notes)
    assert keyless_openai.requests == []


def test_the_dry_run_still_plans_an_unavailable_model(tmp_path: Path, keyless_openai: OpenAIChatServer) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock", "gpt-4o"], repeats=1, configs=[{"label": "default"}])
    plan = ev.dry_run(spec)
    assert [v.model.identifier for v in plan.variants] == ["oracle:mock", "gpt-4o"]
    assert plan.variants[1].unavailable == "unavailable: set OPENAI_API_KEY"
