"""Prices from genai-prices for models the catalog lacks: the mapping into llmkit's Pricing, offline and lazy
loading, and uncatalogued models answered by loopback servers and priced from it."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from llmkit import LLMFactory, TokenUsage
from llmkit.catalog.external_prices import external_pricing
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from tests.provider_contract import SENTINEL_KEY
from tests.servers import AnthropicServer, OpenAIChatServer

pytest.importorskip("genai_prices")
pytestmark = pytest.mark.timeout(60)

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
MILLION = Decimal(1_000_000)


# ----- the mapping ------------------------------------------------------------------------------------------
def test_uncatalogued_id_is_priced_with_every_rate() -> None:
    pricing = external_pricing("openai", "gpt-4.1-mini")  # not in llmkit's catalog
    assert pricing is not None and pricing.source == "genai-prices 0.2.3: openai/gpt-4.1-mini"
    usage = pricing.price(TokenUsage(input_tokens=1_000_000, cached_input_tokens=400_000, output_tokens=500_000),
                          WEDNESDAY_NOON)
    assert usage.priced
    assert usage.input_cost == Decimal("0.28")  # 600K x 0.40 + 400K x 0.10
    assert usage.output_cost == Decimal("0.8")  # 500K x 1.60


def test_each_tier_carries_cache_read_and_write_rates() -> None:
    pricing = external_pricing("anthropic", "claude-haiku-5-5")
    assert pricing is not None
    usage = TokenUsage(input_tokens=120_000, cached_input_tokens=50_000, cache_write_tokens=20_000,
                       output_tokens=1000)
    priced = pricing.price(usage, WEDNESDAY_NOON)  # above 100K: the whole request at 0.50 / 0.05 / 0.625 / 2.50
    assert priced.input_cost == (50_000 * Decimal("0.5") + 50_000 * Decimal("0.05")
                                 + 20_000 * Decimal("0.625")) / MILLION
    assert priced.output_cost == 1000 * Decimal("2.5") / MILLION


def test_dated_changes_and_their_own_tiers() -> None:
    large = external_pricing("mistral", "mistral-large-4")
    assert large is not None
    one_m = TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert [(p.input_cost, p.output_cost) for p in (
        large.price(one_m, datetime(2026, 10, 10, 12, tzinfo=timezone.utc)),
        large.price(one_m, datetime(2026, 10, 25, 12, tzinfo=timezone.utc)),
        large.price(one_m, WEDNESDAY_NOON),
    )] == [(Decimal("0.68"), Decimal("2.09")), (Decimal("1.36"), Decimal("4.18")), (Decimal("0.7"), Decimal("2.1"))]
    # Sonnet 4.6 dropped its >200K tier on 2026-03-13: a change replaces the tiers too
    sonnet = external_pricing("anthropic", "claude-sonnet-4-6")
    assert sonnet is not None
    long_prompt = TokenUsage(input_tokens=300_000)
    assert sonnet.price(long_prompt, datetime(2026, 1, 5, tzinfo=timezone.utc)).input_cost == Decimal("1.8")
    assert sonnet.price(long_prompt, WEDNESDAY_NOON).input_cost == Decimal("0.9")


def test_peak_windows_become_an_off_peak_schedule() -> None:
    pro = external_pricing("deepseek", "deepseek-v4-pro")
    assert pro is not None and pro.off_peak is not None
    one_m = TokenUsage(input_tokens=1_000_000)
    assert pro.price(one_m, datetime(2026, 11, 23, 2, tzinfo=timezone.utc)).input_cost == Decimal("1.32")  # peak
    assert pro.price(one_m, WEDNESDAY_NOON).input_cost == Decimal("0.66")


def test_provider_names_map_and_misses_are_none() -> None:
    glm = external_pricing("zhipu", "glm-4.5-air")  # llmkit's zhipu is Z.ai's API: genai-prices' "zai"
    assert glm is not None and glm.source is not None and "zai/" in glm.source
    groq = external_pricing("groq", "llama-3.3-70b-versatile")  # an OpenAI-compatible host by name
    assert groq is not None and groq.rates.input == Decimal("0.59")
    assert external_pricing("openai", "gpt-no-such-model") is None
    assert external_pricing("no-such-host", "gpt-4.1-mini") is None


def test_lookups_are_memoised_per_provider_and_name() -> None:
    first = external_pricing("openai", "gpt-4o-2024-08-06")
    before = external_pricing.cache_info().hits
    assert external_pricing("openai", "gpt-4o-2024-08-06") is first
    assert external_pricing("openai", "gpt-no-such-model") is None
    assert external_pricing.cache_info().hits >= before + 1


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_offline_and_imported_only_on_first_lookup() -> None:
    """No socket may connect; genai-prices is not imported with llmkit; its updater never starts."""
    done = run_python(
        "import socket, sys, threading\n"
        "def refuse(*a, **k):\n    raise OSError('network is off in this test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "import llmkit, llmkit.catalog.external_prices as ep\n"
        "assert 'genai_prices' not in sys.modules, 'imported with llmkit'\n"
        "assert ep.external_pricing('openai', 'gpt-4.1-mini') is not None\n"
        "from genai_prices.update_prices import _shared_updater\n"
        "assert _shared_updater.ref_count == 0\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "print('ok')\n")
    assert done.stdout.strip() == "ok", done.stderr


def test_without_genai_prices_every_uncatalogued_model_is_unknown() -> None:
    done = run_python(
        "import sys\nsys.modules['genai_prices'] = None  # as if not installed\n"
        "from llmkit.catalog.external_prices import external_pricing\n"
        "assert external_pricing('openai', 'gpt-4.1-mini') is None\nprint('ok')\n")
    assert done.stdout.strip() == "ok", done.stderr


# ----- uncatalogued models over loopback ----------------------------------------------------------------------
def api_model(name: str, provider: LLMProvider, backend: str) -> LLMModel:
    """An API model outside the catalog, registered without a price: effective_pricing chains catalog miss →
    genai-prices → unknown."""
    return LLMFactory.register_model(LLMModel(name=name, provider=provider, runtime=LLMRuntime.API,
                                              backend=backend))


def test_uncatalogued_openai_model_answered_and_priced(openai_host: OpenAIChatServer) -> None:
    model = api_model("gpt-4.1-mini", LLMProvider.OPENAI, "openai")
    response = LLMFactory.create_llm(model.identifier).send_user_message_sync("[cached] how much is this call")
    usage = response.usage
    assert response.content == "Echo: [cached] how much is this call" and usage.priced
    assert usage.cached_input_tokens == 4
    assert usage.input_cost == ((usage.input_tokens - 4) * Decimal("0.4") + 4 * Decimal("0.1")) / MILLION
    assert usage.output_cost == usage.output_tokens * Decimal("1.6") / MILLION


def test_uncatalogued_anthropic_model_answered_and_priced(monkeypatch: pytest.MonkeyPatch) -> None:
    server = AnthropicServer(api_key=SENTINEL_KEY)
    server.start()
    try:
        monkeypatch.setenv("ANTHROPIC_API_KEY", SENTINEL_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        model = api_model("claude-opus-4-6", LLMProvider.ANTHROPIC, "anthropic")
        usage = LLMFactory.create_llm(model.identifier).send_user_message_sync("price me please").usage
    finally:
        server.stop()
    assert usage.priced and usage.total_cost is not None
    assert usage.input_cost == usage.input_tokens * Decimal(5) / MILLION
    assert usage.output_cost == usage.output_tokens * Decimal(25) / MILLION


def test_model_genai_prices_does_not_know_is_answered_unpriced(openai_host: OpenAIChatServer) -> None:
    model = api_model("gpt-from-the-future", LLMProvider.OPENAI, "openai")
    assert model.pricing is None
    usage = LLMFactory.create_llm(model.identifier).send_user_message_sync("what does this cost").usage
    assert usage.input_tokens > 0 and usage.priced is False
    assert (usage.input_cost, usage.output_cost, usage.total_cost) == (None, None, None)
    assert "cost unknown" in str(usage)
