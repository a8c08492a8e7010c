"""Building the LLMModel of a discovered local model: identifier, maker, schema, capabilities, free pricing.

Local models are priced `llmkit.pricing.FREE`; to account for hardware, set `LLMConfig.pricing` (e.g. a GPU-hour
cost converted to USD per million tokens) per instance or with `LLMFactory.set_model_config`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llmkit.discovery.hostenv import HostEntry
from llmkit.discovery.makers import infer_provider
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.pricing import FREE, Pricing
from llmkit.schemas import build_schema, parameter, sampling_parameters

# Ollama's `think` on gpt-oss takes a level; booleans are ignored (protocols.md §7).
THINK_LEVELS = ("low", "medium", "high")


def local_schema(runtime: LLMRuntime, context_length: int | None, *, thinking: bool = False,
                 think_levels: Iterable[str] | None = None) -> dict[str, Any]:
    """temperature, top_p, seed, max_tokens (up to the context), stop; for Ollama also `num_ctx` (up to the
    model's native context) and `think` when the model reports the thinking capability."""
    params = sampling_parameters(max_output_tokens=context_length)
    if runtime is LLMRuntime.OLLAMA:
        params["num_ctx"] = parameter("num_ctx", maximum=context_length)
        if thinking:
            levels = list(think_levels or ())
            if levels:
                params["think"] = parameter("think", type="string", enum=levels, **{"x-ui": "dropdown"})
            else:
                params["think"] = parameter("think")
    return build_schema(params, title=f"{runtime.value} model")


def local_model(name: str, runtime: LLMRuntime, entry: HostEntry, *, backend: str | None = None,
                context_length: int | None = None, capabilities: Iterable[str] = (),
                families: Iterable[str] = (), provider: LLMProvider | None = None,
                schema: Mapping[str, Any] | None = None, pricing: Pricing | None = None,
                max_output_tokens: int | None = None, metadata: Mapping[str, Any] | None = None) -> LLMModel:
    """One discovered model on one host (the same model on two hosts is two models)."""
    caps = frozenset(capabilities)
    return LLMModel(
        name=name,
        provider=provider or infer_provider(name, families),
        runtime=runtime,
        backend=backend or runtime.value,
        host=entry.host,
        host_url=entry.url,
        display_name=f"{name} ({runtime.value} @ {entry.host})",
        context_window=context_length,
        max_output_tokens=max_output_tokens,
        pricing=pricing or FREE,
        config_schema=schema if schema is not None else local_schema(runtime, context_length,
                                                                     thinking="thinking" in caps),
        capabilities=caps,
        metadata=metadata or {},
    )


def positive_int(value: Any) -> int | None:
    """A context length as reported: a positive int (or numeric string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value > 0:
        return int(value)
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None
