"""An unknown price is never $0: unpriced usage, its sum rules, cache hits, eval rows (NaN) and summaries; and
OpenAI cache-write tokens read from the usage and billed at the cache-write rate."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit import LLMFactory, TokenUsage
from llmkit.display import usage_line
from llmkit.evals.report import summarize
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.pricing import FREE, Pricing, apply_pricing, unpriced
from tests.servers import OpenAIChatServer
from tests.servers.replies import CACHE_WRITE_TOKENS

pytestmark = pytest.mark.timeout(60)
MILLION = Decimal(1_000_000)
PRICED = TokenUsage(input_tokens=10, output_tokens=5, input_cost=Decimal("0.04"), output_cost=Decimal("0.06"),
                    total_cost=Decimal("0.1"))
UNPRICED = apply_pricing(None, TokenUsage(input_tokens=7, output_tokens=3, reasoning_tokens=1))


# ----- the value rules --------------------------------------------------------------------------------------
def test_no_price_card_gives_unpriced_usage_not_zero() -> None:
    assert UNPRICED.priced is False
    assert (UNPRICED.input_cost, UNPRICED.output_cost, UNPRICED.total_cost, UNPRICED.saved_cost) == (None,) * 4
    assert (UNPRICED.input_tokens, UNPRICED.output_tokens, UNPRICED.reasoning_tokens) == (7, 3, 1)
    assert "cost unknown" in usage_line(UNPRICED) and "$0" not in usage_line(UNPRICED)


def test_a_total_with_an_unpriced_part_is_unknown() -> None:
    for total in (PRICED + UNPRICED, UNPRICED + PRICED, sum([PRICED, UNPRICED, PRICED])):
        assert isinstance(total, TokenUsage)
        assert total.priced is False and total.total_cost is None and total.input_cost is None
    assert (PRICED + UNPRICED).input_tokens == 17  # the tokens still add up
    assert (UNPRICED + UNPRICED).priced is False
    both = PRICED + PRICED
    assert both.priced and both.total_cost == Decimal("0.2")
    assert TokenUsage().priced and sum([PRICED], TokenUsage()).total_cost == Decimal("0.1")  # the empty start


def test_cache_hit_of_an_unpriced_call_stays_unknown() -> None:
    hit = UNPRICED.as_cached()
    assert hit.priced is False and hit.saved_cost is None and hit.total_cost is None
    assert PRICED.as_cached().saved_cost == Decimal("0.1")


def test_cache_entry_round_trip_keeps_none() -> None:
    from llmkit.cache.records import CachedAnswer, decode, encode

    def round_trip(usage: TokenUsage) -> TokenUsage:
        answer = CachedAnswer("k", "text", None, usage, "stop", 0.1, None, "m", 0.0)
        return decode(encode(answer), "k").usage

    assert round_trip(UNPRICED) == UNPRICED
    assert UNPRICED.to_dict()["total_cost"] is None and UNPRICED.to_dict()["priced"] is False
    old_entry = TokenUsage(input_tokens=3)  # entries written before the field existed have no "priced" key
    assert old_entry.priced and round_trip(old_entry).priced


def test_local_and_mock_models_stay_priced_at_their_card() -> None:
    free = apply_pricing(FREE, TokenUsage(input_tokens=10**6, output_tokens=10**6))
    assert free.priced and free.total_cost == 0
    mock = LLMFactory.create_llm("oracle:mock").send_user_message_sync("What is 6 * 7?").usage
    assert mock.priced and mock.total_cost is not None and mock.total_cost > 0
    assert unpriced(mock).priced is False


# ----- through a client, the cache, an eval run and its report -------------------------------------------------
@pytest.fixture
def unpriced_model() -> LLMModel:
    """An API-runtime model with no price card (what the factory gives an id no price source knows)."""
    return LLMFactory.register_model(LLMModel(
        name="echo-unpriced", provider=LLMProvider.OTHER, runtime=LLMRuntime.API, backend="mock",
        pricing=None, metadata={"behaviour": "echo"}))


def test_cached_answer_of_an_unpriced_model_reads_back_unpriced(unpriced_model: LLMModel, tmp_path: Path) -> None:
    first = LLMFactory.create_llm(unpriced_model.identifier, cache=tmp_path).send_user_message_sync("hello there")
    again = LLMFactory.create_llm(unpriced_model.identifier, cache=tmp_path).send_user_message_sync("hello there")
    assert not first.cached and again.cached
    for usage in (first.usage, again.usage):
        assert usage.priced is False and usage.total_cost is None and usage.input_tokens == first.usage.input_tokens


def test_eval_rows_carry_nan_cost_and_the_summary_names_the_model(unpriced_model: LLMModel, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["echo-unpriced", "echo:mock"], configs=[{"label": "default"}], repeats=1)
    result = ev.run(spec, progress=False, cache=False)
    df = result.load()
    mine, mock = df[df["model"] == "echo-unpriced"], df[df["model"] == "echo:mock"]
    assert len(mine) == 5 and mine["error_type"].isna().all()
    assert mine["cost_usd"].isna().all() and mine["input_cost_usd"].isna().all()
    assert (mock["cost_usd"] > 0).all()
    assert result.summary.unpriced_models == ["echo-unpriced"]
    assert "no price known for echo-unpriced" in result.summary.text()
    assert result.summary.cost_usd == Decimal(str(mock["cost_usd"].sum())).quantize(result.summary.cost_usd)
    table = {r["model"]: r for r in summarize(df).to_dict("records")}
    assert math.isnan(table["echo-unpriced"]["total_cost_usd"])  # not 0
    assert math.isnan(table["echo-unpriced"]["cost_per_1k_usd"])
    assert table["echo:mock"]["total_cost_usd"] > 0


# ----- OpenAI cache writes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("streaming", [False, True])
async def test_openai_cache_write_tokens_are_billed_at_the_write_rate(openai_host: OpenAIChatServer,
                                                                      streaming: bool) -> None:
    llm = LLMFactory.create_llm("gpt-6.2-sol")  # 2.00 input, 2.50 cache write
    prompt = "[cache_write] a long shared prefix worth caching"
    if streaming:
        usage = next(c.usage for c in [c async for c in llm.stream_user_message(prompt)] if c.is_complete)
    else:
        usage = (await llm.send_user_message(prompt)).usage
    assert usage is not None and usage.cache_write_tokens == CACHE_WRITE_TOKENS
    fresh = usage.input_tokens - CACHE_WRITE_TOKENS
    assert usage.input_cost == (fresh * Decimal(2) + CACHE_WRITE_TOKENS * Decimal("2.5")) / MILLION
    assert isinstance(llm.model.pricing, Pricing)
