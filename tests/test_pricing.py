"""Billing rules, table-driven with hand-computed expectations (USD)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from llmkit import LLMConfig, LLMFactory, TokenUsage
from llmkit.config import PricingConfig
from llmkit.pricing import FREE

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # DeepSeek off-peak (after 10:00 UTC)
MONDAY_0200 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # DeepSeek peak window 01:00-04:00
SATURDAY_0200 = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)  # weekend: off-peak

CASES = [
    # (case, model, usage kwargs, at, expected input cost, expected output cost)
    ("openai plain", "gpt-5.5", {"input_tokens": 1000, "output_tokens": 500}, WEDNESDAY_NOON, "0.005", "0.015"),
    ("openai cached input", "gpt-5.5", {"input_tokens": 1000, "cached_input_tokens": 400}, WEDNESDAY_NOON,
     "0.0032", "0"),  # 600 x 5 + 400 x 0.5
    ("openai reasoning billed as output", "gpt-5.5",
     {"input_tokens": 0, "output_tokens": 1000, "reasoning_tokens": 800}, WEDNESDAY_NOON, "0", "0.03"),
    ("openai tier boundary (272K is not above)", "gpt-5.5", {"input_tokens": 272000}, WEDNESDAY_NOON, "1.36", "0"),
    ("openai long-context tier", "gpt-5.5", {"input_tokens": 300000, "output_tokens": 1000}, WEDNESDAY_NOON,
     "3", "0.045"),  # whole request at 10 / 45
    ("anthropic cache read + write", "claude-sonnet-4-5",
     {"input_tokens": 10000, "cached_input_tokens": 6000, "cache_write_tokens": 2000, "output_tokens": 100},
     WEDNESDAY_NOON, "0.0153", "0.0015"),  # fresh 2000 x 3 + reads 6000 x 0.30 + writes 2000 x 3.75; 100 x 15
    ("anthropic haiku 5.5 tier", "claude-haiku-5-5", {"input_tokens": 120000, "output_tokens": 1000}, WEDNESDAY_NOON,
     "0.06", "0.0025"),
    ("gemini 2.5 pro long prompt", "gemini-2.5-pro", {"input_tokens": 250000, "output_tokens": 2000},
     WEDNESDAY_NOON, "0.625", "0.03"),
    ("gemini thinking tokens billed as output", "gemini-3.6-flash",
     {"input_tokens": 1000, "output_tokens": 3000, "reasoning_tokens": 2500}, WEDNESDAY_NOON, "0.00075", "0.01125"),
    ("gemini price change on 2027-01-01", "gemini-3.6-flash", {"input_tokens": 1000, "output_tokens": 3000},
     datetime(2027, 1, 2, 12, tzinfo=timezone.utc), "0.0015", "0.0225"),
    ("deepseek peak", "deepseek-v4-pro", {"input_tokens": 1_000_000, "output_tokens": 1_000_000}, MONDAY_0200,
     "1.32", "3.96"),
    ("deepseek off-peak weekend", "deepseek-v4-pro", {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
     SATURDAY_0200, "0.66", "1.98"),
    ("deepseek cache hit", "deepseek-v4-pro", {"input_tokens": 1_000_000, "cached_input_tokens": 1_000_000},
     MONDAY_0200, "0.044", "0"),
    ("mistral", "mistral-small-2603", {"input_tokens": 2_000_000, "output_tokens": 500_000}, WEDNESDAY_NOON,
     "0.3", "0.3"),
    ("zhipu cached", "glm-5", {"input_tokens": 1_000_000, "cached_input_tokens": 500_000, "output_tokens": 0},
     WEDNESDAY_NOON, "0.6", "0"),  # 500K x 1.0 + 500K x 0.2
    # catalog fixes (issue 13): long-context tiers bill cache writes at their own doubled / 5x rate
    ("gpt-6.2 tier cache write", "gpt-6.2-sol", {"input_tokens": 300_000, "cache_write_tokens": 10_000},
     WEDNESDAY_NOON, "1.21", "0"),  # whole request above 272K: 290K x 4.00 + 10K writes x 5.00 (not 4.00)
    ("gpt-6 astra tier cache write", "gpt-6-astra", {"input_tokens": 300_000, "cache_write_tokens": 100_000},
     WEDNESDAY_NOON, "6.5", "0"),  # 200K x 20 + 100K x 25
    ("haiku 5.5 tier cache write", "claude-haiku-5-5",
     {"input_tokens": 120_000, "cache_write_tokens": 20_000, "output_tokens": 0}, WEDNESDAY_NOON,
     "0.0625", "0"),  # 100K x 0.50 + 20K x 0.625 (not 0.50)
    ("glm-4.5-air cached input", "glm-4.5-air", {"input_tokens": 1_000_000, "cached_input_tokens": 500_000},
     WEDNESDAY_NOON, "0.115", "0"),  # 500K x 0.20 + 500K x 0.03
    ("mistral-large-4 launch price", "mistral-large-4", {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
     datetime(2026, 10, 10, 12, tzinfo=timezone.utc), "0.68", "2.09"),
    ("mistral-large-4 list price from 2026-10-20", "mistral-large-4",
     {"input_tokens": 1_000_000, "output_tokens": 1_000_000}, datetime(2026, 10, 25, 12, tzinfo=timezone.utc),
     "1.36", "4.18"),
    ("mistral-large-4 from 2026-10-29", "mistral-large-4", {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
     WEDNESDAY_NOON, "0.7", "2.1"),
    ("mock illustrative", "oracle:mock", {"input_tokens": 1_000_000, "output_tokens": 1_000_000}, WEDNESDAY_NOON,
     "0.5", "1.5"),
]


@pytest.mark.parametrize(("case", "model_id", "usage", "at", "input_cost", "output_cost"), CASES,
                         ids=[c[0] for c in CASES])
def test_catalog_pricing(case: str, model_id: str, usage: dict[str, int], at: datetime, input_cost: str,
                         output_cost: str) -> None:
    model = LLMFactory.get_model(model_id)
    assert model.pricing is not None
    priced = model.pricing.price(TokenUsage(**usage), at)
    assert priced.input_cost == Decimal(input_cost)
    assert priced.output_cost == Decimal(output_cost)
    assert priced.total_cost == Decimal(input_cost) + Decimal(output_cost)


def test_per_instance_price_override_wins_over_catalog() -> None:
    config = LLMConfig(pricing=PricingConfig(input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8")))
    llm = LLMFactory.create_llm("oracle:mock", config)
    usage = llm.price_usage(TokenUsage(input_tokens=500_000, output_tokens=250_000))
    assert (usage.input_cost, usage.output_cost, usage.total_cost) == (Decimal("1"), Decimal("2"), Decimal("3"))


def test_local_models_are_free_by_default() -> None:
    usage = FREE.price(TokenUsage(input_tokens=10**6, output_tokens=10**6))
    assert usage.total_cost == 0


def test_usage_adds_and_cache_hit_costs_nothing() -> None:
    a = TokenUsage(input_tokens=10, output_tokens=5, total_cost=Decimal("0.1"), input_cost=Decimal("0.04"),
                   output_cost=Decimal("0.06"))
    b = TokenUsage(input_tokens=1, output_tokens=2, reasoning_tokens=1, total_cost=Decimal("0.2"), estimated=True)
    total = a + b
    assert (total.input_tokens, total.output_tokens, total.reasoning_tokens) == (11, 7, 1)
    assert total.total_cost == Decimal("0.3") and total.estimated
    assert sum([a, b]) == total
    hit = a.as_cached()
    assert hit.total_cost == 0 and hit.saved_cost == Decimal("0.1") and hit.input_tokens == 10


def test_gemini_4_argon_max_output_is_one_request_not_the_window() -> None:
    model = LLMFactory.get_model("gemini-4-argon")
    assert model.context_window == 1_048_576 and model.max_output_tokens == 65_536
    assert model.parameters["max_tokens"]["maximum"] == 65_536


def test_every_catalog_fix_names_its_source_and_date() -> None:
    from llmkit.catalog import catalog_entries

    fixes = {e["id"]: e["curated_fixes"] for e in catalog_entries() if e.get("curated_fixes")}
    assert set(fixes) == {"gemini-4-argon", "glm-4.5-air", "mistral-large-4"}
    for fix in (f for entry in fixes.values() for f in entry):
        assert fix["source"] and fix["as_of"] and fix["why"]
