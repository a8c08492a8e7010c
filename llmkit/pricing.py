"""Prices and the billing rules that turn token counts into USD.

Rules (the same for every provider, after the adapters have normalised the counts):
- `input_tokens` counts every prompt token, cached ones included; `cached_input_tokens` of them are billed at
  the cached rate (the input rate when the model has none), `cache_write_tokens` at the cache-write rate (the
  input rate when none), the rest at the input rate.
- `output_tokens` counts every generated token, reasoning included; all are billed at the output rate.
- A tier (`above_input_tokens`) re-prices the whole request when its prompt is larger than the threshold.
- A dated price change applies to requests made on or after its `effective` date; when it carries its own tiers
  they replace the card's tiers from that date on.
- An off-peak schedule (DeepSeek) bills requests made outside the peak windows at the off-peak rates.
- No price card at all (`apply_pricing(None, ...)`) is not $0: the usage comes back `priced=False` with its
  costs None, so totals and reports cannot mistake an unknown price for a free call.
All arithmetic is Decimal, per million tokens.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import msgspec

from llmkit.messages import TokenUsage

MILLION = Decimal(1_000_000)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class Rates(msgspec.Struct, frozen=True, cache_hash=True):
    """USD per million tokens. Its hash is computed once, in C: `_costs` looks a call's costs up by its Rates, and
    hashing four Decimals per call is not free."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Rates:
        return cls(
            input=Decimal(str(data["input"])),
            output=Decimal(str(data["output"])),
            cached_input=_dec(data.get("cached_input")),
            cache_write=_dec(data.get("cache_write")),
        )


@dataclass(frozen=True, slots=True)
class Tier:
    above_input_tokens: int
    rates: Rates


@dataclass(frozen=True, slots=True)
class PriceChange:
    """New rates from `effective` on; `tiers` None keeps the card's tiers, a tuple (even empty) replaces them."""

    effective: date
    rates: Rates
    tiers: tuple[Tier, ...] | None = None


@dataclass(frozen=True, slots=True)
class OffPeak:
    """Off-peak rates outside the given UTC peak windows (weekdays only, e.g. [("01:00", "04:00")])."""

    peak_windows_utc: tuple[tuple[str, str], ...]
    rates: Rates

    def is_off_peak(self, at: datetime) -> bool:
        at = at.astimezone(timezone.utc)
        if at.weekday() >= 5:
            return True
        hhmm = at.strftime("%H:%M")
        return not any(start <= hhmm < end for start, end in self.peak_windows_utc)


@dataclass(frozen=True, slots=True)
class Pricing:
    """A model's price card. `illustrative` marks made-up prices (MOCK models)."""

    rates: Rates
    tiers: tuple[Tier, ...] = ()
    changes: tuple[PriceChange, ...] = ()
    off_peak: OffPeak | None = None
    currency: str = "USD"
    source: str | None = None
    as_of: str | None = None
    illustrative: bool = False
    notes: str | None = field(default=None, compare=False)
    _flat: bool = field(default=True, init=False, repr=False, compare=False)  # one rate card, whatever the call

    @classmethod
    def simple(cls, input: Any, output: Any, cached_input: Any = None, **kwargs: Any) -> Pricing:
        return cls(Rates(Decimal(str(input)), Decimal(str(output)), _dec(cached_input)), **kwargs)

    @classmethod
    def from_catalog(cls, entry: dict[str, Any]) -> Pricing:
        """Build from a packaged catalog entry (see llmkit/catalog/models.yaml)."""
        off_peak = entry.get("off_peak")
        return cls(
            rates=Rates.from_mapping(entry["pricing"]),
            tiers=tuple(
                Tier(int(t["above_input_tokens"]), Rates.from_mapping(t)) for t in entry.get("tiers") or ()
            ),
            changes=tuple(
                sorted(
                    (PriceChange(date.fromisoformat(str(c["effective"])), Rates.from_mapping(c))
                     for c in entry.get("price_changes") or ()),
                    key=lambda c: c.effective,
                )
            ),
            off_peak=OffPeak(
                tuple((w[0], w[1]) for w in off_peak["peak_windows_utc"]), Rates.from_mapping(off_peak)
            )
            if off_peak
            else None,
            source=entry.get("source"),
            as_of=str(entry["as_of"]) if entry.get("as_of") else None,
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", tuple(sorted(self.tiers, key=lambda t: t.above_input_tokens)))
        object.__setattr__(self, "_flat", not (self.tiers or self.changes or self.off_peak))

    def rates_for(self, input_tokens: int, at: datetime | None = None) -> Rates:
        """The rates that apply to one request of this prompt size made at this time."""
        rates, tiers = self.rates, self.tiers
        if self.changes or self.off_peak:
            at = at or datetime.now(timezone.utc)
            for change in self.changes:
                if at.date() >= change.effective:
                    rates = change.rates
                    tiers = tiers if change.tiers is None else change.tiers
            if self.off_peak and self.off_peak.is_off_peak(at):
                rates = self.off_peak.rates
        for tier in tiers:  # ascending thresholds: the last one exceeded wins
            if input_tokens > tier.above_input_tokens:
                rates = tier.rates
        return rates

    def price(self, usage: TokenUsage, at: datetime | None = None) -> TokenUsage:
        """Return usage with input/output/total cost filled in (Decimal USD)."""
        rates = self.rates if self._flat else self.rates_for(usage.input_tokens, at)
        input_cost, output_cost = _costs(rates, usage.input_tokens, usage.cached_input_tokens,
                                         usage.cache_write_tokens, usage.output_tokens)
        return TokenUsage(usage.input_tokens, usage.output_tokens, usage.reasoning_tokens, usage.cached_input_tokens,
                          usage.cache_write_tokens, input_cost, output_cost, input_cost + output_cost,
                          usage.saved_cost if usage.saved_cost is not None else Decimal(0), usage.estimated, True)

    def with_overrides(self, rates: Rates) -> Pricing:
        return replace(self, rates=rates, tiers=(), changes=(), off_peak=None)


@functools.lru_cache(maxsize=4096)
def _costs(rates: Rates, input_tokens: int, cached_input_tokens: int, cache_write_tokens: int,
           output_tokens: int) -> tuple[Decimal, Decimal]:
    """(input cost, output cost) in USD. Pure, and the same few shapes of request repeat across a sweep, so it is
    memoised: Decimal arithmetic is a visible share of a call's own CPU."""
    cached = min(cached_input_tokens, input_tokens)
    written = min(cache_write_tokens, input_tokens - cached)
    cached_rate = rates.cached_input if rates.cached_input is not None else rates.input
    write_rate = rates.cache_write if rates.cache_write is not None else rates.input
    fresh = input_tokens - cached - written
    input_cost = (Decimal(fresh) * rates.input + Decimal(cached) * cached_rate
                  + Decimal(written) * write_rate) / MILLION
    return input_cost, Decimal(output_tokens) * rates.output / MILLION


def apply_pricing(pricing: Pricing | None, usage: TokenUsage, at: datetime | None = None) -> TokenUsage:
    """`usage` with its costs: priced by the card, or marked unpriced (costs None) when there is no card."""
    return pricing.price(usage, at) if pricing is not None else unpriced(usage)


def unpriced(usage: TokenUsage) -> TokenUsage:
    """The same token counts with no known cost: `priced=False`, every cost None."""
    return TokenUsage(usage.input_tokens, usage.output_tokens, usage.reasoning_tokens, usage.cached_input_tokens,
                      usage.cache_write_tokens, None, None, None, None, usage.estimated, False)


def estimate_cost(pricing: Pricing | None, input_tokens: int, output_tokens: int) -> Decimal:
    """Cost of a hypothetical request, for dry runs and budget checks."""
    if pricing is None:
        return Decimal(0)
    input_cost, output_cost = _costs(pricing.rates_for(input_tokens), input_tokens, 0, 0, output_tokens)
    return input_cost + output_cost


FREE = Pricing.simple(0, 0, 0, source="local runtime: free unless LLMConfig.pricing is set")

__all__: Sequence[str] = ["FREE", "OffPeak", "PriceChange", "Pricing", "Rates", "Tier", "apply_pricing",
                          "estimate_cost", "unpriced"]
