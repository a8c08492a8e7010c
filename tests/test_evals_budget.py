"""Budgets that hold: on a priced model (gpt-4o at its catalog price, over a loopback OpenAI server) the estimate
for the next row learns from finished rows, so the sweep spends most of the cap and never more than one call
past it; the dry run keeps its documented prior."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.billing import effective_pricing
from llmkit.evals.store import iter_rows
from llmkit.factory import LLMFactory
from llmkit.pricing import estimate_cost
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(60)

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
         "nu", "xi", "omicron", "pi", "rho", "sigma"]


def _prompts(n: int) -> list[dict[str, str]]:
    """Prompts of 5 to 12 words (short answers, as in the issue: the prior of 256 output tokens is then about a
    30-call budget on its own); the loopback server echoes each, so answers vary in length too."""
    out = []
    for i in range(n):
        words = [WORDS[(i + j) % len(WORDS)] for j in range(2 + (i * 5) % 8)]
        out.append({"id": f"q{i:03d}", "prompt": f"Repeat after me: {' '.join(words)}"})
    return out


def _one_call_usd(prompt: str) -> Decimal:
    """What the loopback server bills for one prompt at gpt-4o's price: input = its words, output = 'Echo: ' +
    its words (see tests/servers/README.md)."""
    words = len(prompt.split())
    return estimate_cost(effective_pricing(LLMFactory.get_model("gpt-4o"), None), words, words + 1)


@pytest.fixture
def gpt4o(openai_server: OpenAIChatServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIChatServer:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-budget")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{openai_server.base_url}/v1")
    LLMFactory.reset()
    return openai_server


@pytest.mark.parametrize("concurrency", [1, 8, 32])
def test_a_30_call_budget_on_gpt_4o_spends_most_of_it_and_never_a_call_more(
        tmp_path: Path, gpt4o: OpenAIChatServer, concurrency: int) -> None:
    prompts = _prompts(80)
    typical = sorted(_one_call_usd(p["prompt"]) for p in prompts)[len(prompts) // 2]
    cap = typical * 30
    spec = write_spec(tmp_path, models=["gpt-4o"], configs=[{"label": "default"}], prompts=prompts, repeats=1,
                      scorers=[], max_cost_usd=str(cap), concurrency=concurrency)
    prior = ev.dry_run(spec).estimates()[("gpt-4o", "default")]
    assert prior.output_tokens == 256 * 80  # the dry run keeps the documented prior: min(max_tokens, 256)

    result = ev.run(spec, progress=False)

    rows = list(iter_rows(result.run_dir))
    spent = sum(Decimal(r["cost_usd"]) for r in rows)
    largest = max(Decimal(r["cost_usd"]) for r in rows)
    assert result.status == "budget" and len(gpt4o.requests_to("/v1/chat/completions")) == len(rows)
    assert spent >= cap * Decimal("0.8"), (spent, cap, len(rows))  # the old prior stopped after 1 row
    assert spent <= cap + largest
    assert 24 <= len(rows) < 80
    assert json.loads((result.run_dir / "run.json").read_text())["status"] == "budget"


def test_the_prior_holds_until_rows_exist_and_a_cap_below_one_row_runs_nothing(
        tmp_path: Path, gpt4o: OpenAIChatServer) -> None:
    prompts = _prompts(5)
    plan = ev.dry_run(write_spec(tmp_path, models=["gpt-4o"], configs=[{"label": "default"}], prompts=prompts,
                                 repeats=1, scorers=[]))
    first_row_prior = plan.estimate_for(0, 0)[2]
    spec = write_spec(tmp_path, models=["gpt-4o"], configs=[{"label": "default"}], prompts=prompts, repeats=1,
                      scorers=[], max_cost_usd=str(first_row_prior / 2))
    result = ev.run(spec, progress=False)
    assert result.status == "budget" and result.summary.rows == 0
    assert gpt4o.requests == []  # nothing was called
    assert "the next row would cost about" in (result.summary.message or "")
