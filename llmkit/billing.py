"""Which price a call is billed at. Apart from `config` and `models` so that neither imports the other, and
the genai-prices fallback is imported only when a model has no curated price."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmkit.config import LLMConfig
    from llmkit.models import LLMModel
    from llmkit.pricing import Pricing


def effective_pricing(model: LLMModel, config: LLMConfig | None) -> Pricing | None:
    """The price a call is billed at: the config's `pricing` override, else the model's own (curated catalog)
    price, else — for an API model — genai-prices' card for it (as sold by its provider, or by the cloud host
    serving it), else None (unknown, never $0). Every place that
    prices something (clients, cache hits, the eval plan's estimates) asks here."""
    if config is not None and config.pricing is not None:
        return config.pricing.to_pricing()
    if model.pricing is not None or model.runtime != "api":  # a str enum: compared without `.value`
        return model.pricing
    from llmkit.catalog.external_prices import external_pricing
    from llmkit.models import PROVIDER_BACKENDS

    # genai-prices prices a model per seller: the provider's own API, or the cloud host that serves it (groq)
    native = PROVIDER_BACKENDS.get(model.provider.value) == model.backend
    return external_pricing(model.provider.value if native else model.backend, model.name)
