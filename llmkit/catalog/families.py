"""Models the catalog does not list: a qualified id (`openai/gpt-5.4`), a listed or a gateway model.

Their schema follows the model family's rules in `families.yaml` (reasoning control and sampling support by name
pattern, as data) where a family matches, else a generic one (temperature, top_p, max_tokens, stop, seed) shaped by
the facts of the API that serves it (`providers.yaml`: Anthropic takes no seed and needs max_tokens, ...). Nothing
here does I/O beyond reading the packaged YAML once.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping
from typing import Any

from llmkit.catalog import _read, provider_facts
from llmkit.catalog.api_models import schema_for_entry
from llmkit.config import LLMConfig
from llmkit.models import PROVIDER_BACKENDS, LLMModel, LLMProvider, LLMRuntime
from llmkit.pricing import Pricing

# The facts of a plain OpenAI-compatible API (a cloud host, a gateway): every sampling parameter, seed included.
GENERIC_FACTS: Mapping[str, Any] = {
    "temperature_max": 2, "seed": True, "stop_without_temperature": True,
    "no_sampling_reason": "this model family does not take sampling parameters"}
_API_PROVIDER = {backend: provider for provider, backend in PROVIDER_BACKENDS.items()}


@functools.cache
def families() -> tuple[dict[str, Any], ...]:
    return tuple(_read("families.yaml")["families"])


def family_of(provider: LLMProvider, name: str) -> dict[str, Any] | None:
    """The first family of this maker with a glob matching the name (case-insensitive), else None."""
    lowered = name.lower().rpartition("/")[2]  # `openai/gpt-5` on OpenRouter is the gpt-5 family
    return next((f for f in families() if f["provider"] == provider.value
                 and any(fnmatch.fnmatchcase(lowered, p) for p in f["patterns"])), None)


def hosted_model(name: str, provider: LLMProvider, backend: str, *, alias: str | None = None,
                 host_url: str | None = None, host: str | None = None, api_key_env: str | None = None,
                 pricing: Pricing | None = None, context_window: int | None = None,
                 max_output_tokens: int | None = None, runtime: LLMRuntime = LLMRuntime.API,
                 metadata: Mapping[str, Any] | None = None) -> LLMModel:
    """An LLMModel for a model outside the catalog, its schema from its family's rules (see the module docstring).
    A model without a price is priced by `llmkit.billing.effective_pricing` (genai-prices, else unknown)."""
    if alias is None and runtime is LLMRuntime.API and not host and backend != PROVIDER_BACKENDS.get(provider.value):
        alias = f"{backend}/{name}"  # a cloud host's model: `groq/llama-3.3-70b-versatile`
    family = family_of(provider, name)
    api = _API_PROVIDER.get(backend)
    facts = dict(provider_facts()[api]) if api else dict(GENERIC_FACTS)
    entry = {"id": name, "max_output_tokens": max_output_tokens,
             "supports_temperature": family.get("supports_temperature", True) if family else True,
             "reasoning": family.get("reasoning") if family else None}
    default_max = facts.get("default_max_tokens")
    default_config = LLMConfig(max_tokens=min(default_max, max_output_tokens or default_max)) if default_max \
        else LLMConfig()
    return LLMModel(
        name=name, provider=provider, runtime=runtime, backend=backend, host=host, host_url=host_url,
        context_window=context_window, max_output_tokens=max_output_tokens, default_config=default_config,
        pricing=pricing, config_schema=schema_for_entry(entry, facts),
        capabilities=frozenset({"reasoning"} if entry["reasoning"] else ()), alias=alias, api_key_env=api_key_env,
        metadata={"family": family["patterns"] if family else None, "reasoning": entry["reasoning"],
                  **(metadata or {})})
