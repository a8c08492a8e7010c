"""Every curated price against genai-prices' packaged data.

For each catalog entry the two price cards are evaluated at the same probe points: the catalog's date and every
dated change after it (and the catalog's own earlier changes), a weekday peak and off-peak hour when either card
has an off-peak schedule, a small prompt and one just above every tier threshold. Each rate that differs must be
listed, with genai-prices' value, a source and a date, in the entry's `genai_prices.differences`
(tools/build_catalog.py, GENAI_PRICES); models genai-prices does not know are listed as `genai_prices.unknown`.
A listed difference that no longer differs fails too, so the table cannot go stale.
Cache reads and writes without their own rate are compared at the input rate they are billed at.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from llmkit.catalog import catalog_entries
from llmkit.catalog.external_prices import external_pricing
from llmkit.pricing import Pricing, Rates

pytest.importorskip("genai_prices")

CATALOG = catalog_entries()
FIELDS = ("input", "output", "cached_input", "cache_write")


def billed(rates: Rates) -> dict[str, Decimal]:
    return {"input": rates.input, "output": rates.output,
            "cached_input": rates.input if rates.cached_input is None else rates.cached_input,
            "cache_write": rates.input if rates.cache_write is None else rates.cache_write}


def probes(curated: Pricing, genai: Pricing, catalog_date: date) -> Iterator[tuple[str, datetime, int]]:
    days = {catalog_date} | {c.effective for c in curated.changes} | \
        {c.effective for c in genai.changes if c.effective > catalog_date}
    sizes = {1000} | {t.above_input_tokens + 1 for p in (curated, genai) for t in p.tiers} | \
        {t.above_input_tokens + 1 for p in (curated, genai) for c in p.changes for t in c.tiers or ()}
    hours = [("peak", time(2)), ("off-peak", time(12))] if curated.off_peak or genai.off_peak else [("", time(12))]
    for day in sorted(days):
        weekday = day + timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)
        for label, hour in hours:
            for size in sorted(sizes):
                yield f"{day} {label} {size} tokens", datetime.combine(weekday, hour, timezone.utc), size


def differences(curated: Pricing, genai: Pricing, catalog_date: date) -> dict[str, set[Decimal]]:
    """genai-prices' differing values per rate, over all probes."""
    found: dict[str, set[Decimal]] = {}
    for _, at, size in probes(curated, genai, catalog_date):
        ours, theirs = billed(curated.rates_for(size, at)), billed(genai.rates_for(size, at))
        for name in FIELDS:
            if ours[name] != theirs[name]:
                found.setdefault(name, set()).add(theirs[name])
    return found


@pytest.mark.parametrize("entry", CATALOG, ids=[e["id"] for e in CATALOG])
def test_curated_price_matches_genai_prices_or_is_explained(entry: dict[str, Any]) -> None:
    listed = entry.get("genai_prices") or {}
    genai = external_pricing(entry["provider"], entry["id"])
    if genai is None:
        assert listed.get("unknown"), f"genai-prices does not know {entry['id']}: list it as genai_prices.unknown"
        return
    assert not listed.get("unknown"), f"genai-prices now knows {entry['id']} ({genai.source}): compare it"
    found = differences(Pricing.from_catalog(entry), genai, date.fromisoformat("2026-11-25"))
    expected = {name: {Decimal(str(v)) for v in values} for name, values in (listed.get("differences") or {}).items()}
    assert found == expected, (
        f"{entry['id']}: catalog vs {genai.source} differ in {found} but the catalog explains {expected}; fix the "
        "price or list the difference with its source and date in tools/build_catalog.py GENAI_PRICES")
    if expected:
        assert listed.get("source") and listed.get("as_of") and listed.get("why")


def test_unknown_models_are_named() -> None:
    unknown = sorted(e["id"] for e in CATALOG if (e.get("genai_prices") or {}).get("unknown"))
    assert unknown == ["glm-4.7-flash", "gpt-6.2-astra", "gpt-6.2-sol"]


def test_comparison_catches_a_wrong_rate() -> None:
    """The comparison itself: a curated card with one wrong cache-write tier rate is reported, by rate."""
    entry = next(e for e in CATALOG if e["id"] == "gpt-6.1-sol")
    genai = external_pricing("openai", "gpt-6.1-sol")
    assert genai is not None
    wrong = {**entry, "tiers": [{**entry["tiers"][0], "cache_write": None}]}  # the pre-fix catalog
    assert differences(Pricing.from_catalog(wrong), genai, date(2026, 11, 25)) == {"cache_write": {Decimal(5)}}
    assert differences(Pricing.from_catalog(entry), genai, date(2026, 11, 25)) == {}
