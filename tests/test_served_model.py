"""The model that answered, as the server names it: kept on every response and eval row, and a sweep says when a
model other than the one asked for answered (a gateway's fallback, a retired model routed to its replacement),
while a dated snapshot of the same model is not flagged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit import LLMFactory
from llmkit.evals.cli import main
from llmkit.models import same_model
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(("asked", "served", "same"), [
    ("gpt-4.1", "gpt-4.1", True),
    ("gpt-4.1", "gpt-4.1-2025-04-14", True),  # OpenAI answers with the dated snapshot
    ("mistral-large-latest", "mistral-large-2512", True),
    ("claude-sonnet-4", "claude-sonnet-4-20250514", True),
    ("models/gemini-3-flash", "gemini-3-flash", True),
    ("qwen3", "qwen3:latest", True),  # an Ollama tag
    ("GPT-4.1", "gpt-4.1", True),
    ("gemini-2.5-pro", "gemini-3.8-flash", False),  # routed to its replacement after retirement
    ("gpt-4o", "gpt-4o-mini-2024-07-18", False),  # a gateway's cheaper fallback
    ("claude-sonnet-4", "claude-sonnet-4-5", False),  # a version, not a snapshot
    ("gpt-5", "gpt-5.4", False),
    ("llama3", "llama3.1", False),
])
def test_a_snapshot_is_the_same_model_and_a_fallback_is_not(asked: str, served: str, same: bool) -> None:
    assert same_model(asked, served) is same


def test_a_sweep_records_who_answered_and_names_the_rows_another_model_answered(
        tmp_path: Path, loopback: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    server = loopback(OpenAIChatServer, "openai", api_key="sk-served",
                      served_as={"gpt-4.1": "gpt-4.1-2025-04-14", "gpt-4o": "gpt-4o-mini-2024-07-18"})
    monkeypatch.setenv("OPENAI_API_KEY", "sk-served")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.base_url}/v1")
    spec = write_spec(tmp_path, models=["gpt-4.1", "gpt-4o"], repeats=1, cache=str(tmp_path / "cache"))

    assert main(["run", str(spec), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "asked for): gpt-4o: 10 of 10 rows by gpt-4o-mini-2024-07-18\n" in out and "gpt-4.1: " not in out
    run_dir = Path(next(line for line in out.splitlines() if line.startswith("run directory: ")).split(": ", 1)[1])
    frame = ev.load(run_dir)
    served = frame.groupby("model")["served_model"].unique().to_dict()
    assert {m: list(v) for m, v in served.items()} == {"gpt-4.1": ["gpt-4.1-2025-04-14"],
                                                       "gpt-4o": ["gpt-4o-mini-2024-07-18"]}
    per_variant = json.loads((run_dir / "run.json").read_text())["summary"]["per_variant"]
    assert [v["served_by"] for v in per_variant if v["model"] == "gpt-4o"] == [{"gpt-4o-mini-2024-07-18": 5}] * 2
    assert all(v["served_by"] == {} for v in per_variant if v["model"] == "gpt-4.1")

    assert main(["report", str(run_dir)]) == 0  # what a colleague reads, in the terminal and in report.html
    report = capsys.readouterr().out
    assert "gpt-4o / default: 5 of 5 rows by gpt-4o-mini-2024-07-18" in report and "gpt-4.1 /" not in \
        report.split("answered by another model")[1]
    page = (run_dir / "report" / "report.html").read_text()
    assert "Answered by another model than the one asked for" in page
    assert page.count("served by gpt-4o-mini-2024-07-18") == 10 and page.count("served by gpt-4.1-2025-04-14") == 10

    # the one-line stats a notebook, the playground and `llmkit prompt` show
    answer = LLMFactory.create_llm("gpt-4o").send_user_message_sync("hello")
    assert answer.stats_line().endswith(" · served by gpt-4o-mini-2024-07-18")

    requests = len(server.requests)
    again = ev.run(spec, progress=False)  # every answer from the cache: who answered then is still known
    assert len(server.requests) == requests and again.load()["cached"].all()
    assert again.summary.served_elsewhere() == {("gpt-4o", "gpt-4o-mini-2024-07-18"): 10}
