"""Prices for models the curated catalog does not list, from pydantic's genai-prices (`pip install llmkit[prices]`).

Resolution order (chained by the caller): `LLMConfig.pricing` → llmkit's curated catalog → `external_pricing()`
here → unknown (`usage.priced is False`). genai-prices ships its price data inside the package; only that packaged
data is read: its `UpdatePrices` (an opt-in background download) is never started, and a snapshot another library
installed in the same process is not consulted, so lookups are offline and reproducible for one installed version.
The package (and its ~1.5 MB data module, ~0.4 s to import) is imported on the first lookup, not with llmkit.

What maps onto llmkit's `Pricing`: input, output, cache-read (`cached_input`) and cache-write rates; prompt-size
tiers (genai-prices tiers each price separately, llmkit re-prices the whole request per threshold, so every
threshold becomes one llmkit tier); dated price changes; DeepSeek-style daily peak windows (→ `OffPeak`, whose
weekends are off-peak as DeepSeek bills them). Not mapped: service-tier and batch variants (llmkit bills standard
rates), 1-hour cache writes, audio/image/search units, and a time-window model's price history before its current
schedule. A model without both an input and an output token price is treated as unknown rather than half-priced.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmkit.pricing import OffPeak, PriceChange, Pricing, Rates, Tier

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import ModelInfo, ModelPrice

# llmkit provider (or host) names that genai-prices spells differently; every other name is passed through.
# Zhipu: llmkit calls Z.ai's international API (api.z.ai), priced in genai-prices' "zai" provider.
PROVIDER_IDS: Mapping[str, str] = {"zhipu": "zai", "moonshot": "moonshotai", "xai": "x-ai"}

_KEYS = {"input": "input_mtok", "output": "output_mtok", "cached_input": "cache_read_mtok",
         "cache_write": "cache_write_mtok"}


@functools.lru_cache(maxsize=2048)
def external_pricing(provider: str, model_name: str) -> Pricing | None:
    """genai-prices' card for `model_name` served by `provider` (an llmkit provider value such as "openai", or an
    OpenAI-compatible host such as "groq"), or None when genai-prices is not installed or does not know the model.
    Memoised per (provider, name), misses included."""
    snapshot = _snapshot()
    if snapshot is None:
        return None
    provider_id = PROVIDER_IDS.get(provider.lower(), provider.lower())
    try:
        found, model = snapshot.find_provider_model(model_name, None, provider_id, None)
    except LookupError:
        return None
    return to_pricing(model, f"genai-prices {_version()}: {found.id}/{model.id}")


@functools.cache
def _snapshot() -> DataSnapshot | None:
    try:
        from genai_prices.data import providers
        from genai_prices.data_snapshot import DataSnapshot
    except ImportError:
        return None
    return DataSnapshot(providers=providers, from_auto_update=False)


@functools.cache
def _version() -> str:
    from importlib.metadata import version

    return version("genai-prices")


def to_pricing(model: ModelInfo, source: str) -> Pricing | None:
    """One genai-prices model's price card as an llmkit `Pricing` (None when it has no token prices)."""
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    entries = [(c.constraint, c.prices) for c in model.prices] if isinstance(model.prices, list) \
        else [(None, model.prices)]
    cards: list[tuple[Any, tuple[Rates, tuple[Tier, ...]]]] = []
    for constraint, price in entries:
        card = _card(price)
        if card is None:
            return None
        cards.append((constraint, card))
    windows = [(c, card) for c, card in cards if isinstance(c, TimeOfDateConstraint)]
    dated = [(c, card) for c, card in cards if not isinstance(c, TimeOfDateConstraint)]
    if not dated:
        return None
    rates, tiers = dated[0][1]
    changes = tuple(PriceChange(c.start_date, *card) for c, card in dated[1:] if isinstance(c, StartDateConstraint))
    off_peak = None
    if windows:  # the windows carry the peak price; outside them the newest dated price applies
        current = changes[-1].rates if changes else rates
        off_peak = OffPeak(tuple((_utc_hhmm(c.start_time), _utc_hhmm(c.end_time)) for c, _ in windows), current)
        (rates, tiers), changes = windows[0][1], ()
    return Pricing(rates=rates, tiers=tiers, changes=changes, off_peak=off_peak, source=source,
                   notes=model.price_comments)


def _card(price: ModelPrice) -> tuple[Rates, tuple[Tier, ...]] | None:
    """Base rates and whole-request tiers of one genai-prices price set; None without input and output prices."""
    from genai_prices.types import TieredPrices

    values: dict[str, Any] = {name: getattr(price, key, None) for name, key in _KEYS.items()}
    if values["input"] is None or values["output"] is None:
        return None
    thresholds = sorted({t.start for v in values.values() if isinstance(v, TieredPrices) for t in v.tiers})

    def rates(above: int | None) -> Rates:
        picked = {name: _at(value, above) if isinstance(value, TieredPrices) else value
                  for name, value in values.items()}
        return Rates(picked["input"], picked["output"], picked["cached_input"], picked["cache_write"])

    return rates(None), tuple(Tier(start, rates(start)) for start in thresholds)


def _at(value: Any, above: int | None) -> Decimal:
    """The price of a genai-prices TieredPrices for a prompt just above `above` tokens (the base when None)."""
    price: Decimal = value.base
    for tier in value.tiers:  # ascending; genai-prices applies a tier when input tokens > its start
        if above is not None and tier.start <= above:
            price = tier.price
    return price


def _utc_hhmm(value: time) -> str:
    if value.tzinfo is not None:
        value = datetime.combine(date(2000, 1, 3), value).astimezone(timezone.utc).time()
    return value.strftime("%H:%M")


__all__ = ["PROVIDER_IDS", "external_pricing", "to_pricing"]
