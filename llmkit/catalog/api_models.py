"""Turn packaged catalog entries into LLMModel objects with their config schemas."""

from __future__ import annotations

from typing import Any

from llmkit.catalog import catalog_entries, provider_facts
from llmkit.config import LLMConfig
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.pricing import Pricing
from llmkit.schemas import build_schema, reasoning_parameter, sampling_parameters


def api_models() -> list[LLMModel]:
    """The catalog's API models that can still be called (retired ones are kept only for pricing)."""
    return [model_from_entry(e) for e in catalog_entries() if e["status"] != "retired"]


def model_from_entry(entry: dict[str, Any]) -> LLMModel:
    facts = provider_facts()[entry["provider"]]
    max_output = entry.get("max_output_tokens")
    default_max = facts.get("default_max_tokens")
    default_config = LLMConfig(max_tokens=min(default_max, max_output or default_max)) if default_max else LLMConfig()
    return LLMModel(
        name=entry["id"],
        provider=LLMProvider(entry["provider"]),
        runtime=LLMRuntime.API,
        backend=entry["backend"],
        display_name=entry.get("display_name"),
        context_window=entry.get("context_window"),
        max_output_tokens=max_output,
        default_config=default_config,
        pricing=Pricing.from_catalog(entry),
        config_schema=schema_for_entry(entry, facts),
        capabilities=frozenset(entry.get("capabilities") or ()),
        status=entry["status"],
        deprecation_date=entry.get("deprecation_date"),
        retirement_date=entry.get("retirement_date"),
        metadata={
            "source": entry.get("source"),
            "as_of": entry.get("as_of"),
            "replacement": entry.get("replacement"),
            "pricing_notes": entry.get("pricing_notes"),
            "reasoning": entry.get("reasoning"),
            "max_input_tokens": entry.get("max_input_tokens"),
        },
    )


def schema_for_entry(entry: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    sampling_ok = bool(entry.get("supports_temperature"))
    stop_ok = sampling_ok or bool(facts.get("stop_without_temperature"))
    params = sampling_parameters(
        temperature_max=float(facts["temperature_max"]),
        max_output_tokens=entry.get("max_output_tokens"),
        temperature=sampling_ok,
        top_p=sampling_ok,
        seed=bool(facts.get("seed")),
        stop=stop_ok,
    )
    unsupported: dict[str, str] = dict(facts.get("unsupported") or {})
    if not sampling_ok:
        unsupported["temperature"] = unsupported["top_p"] = facts["no_sampling_reason"]
    if not stop_ok:
        unsupported["stop"] = "OpenAI reasoning models reject the stop parameter"
    params.update(reasoning_parameters(entry.get("reasoning")))
    return build_schema(params, unsupported, title=entry.get("display_name"))


def reasoning_parameters(reasoning: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Schema properties for a catalog `reasoning` block; a control that cannot change is left out."""
    if not reasoning:
        return {}
    control = reasoning["control"]
    values = reasoning.get("values")
    default = reasoning.get("default")
    if control == "thinking_enabled":
        if not reasoning.get("can_disable"):
            return {}  # always thinks: nothing to switch
        params = {control: reasoning_parameter(control, default=default if isinstance(default, bool) else None)}
        native = reasoning.get("native_values")
        if native:
            params["reasoning_effort"] = reasoning_parameter("reasoning_effort", values=native)
        return params
    if control in ("budget_tokens", "thinking_budget"):
        return {control: _budget(control, reasoning)}
    if values and default not in values:
        default = None
    return {control: reasoning_parameter(control, values=values, default=default)}


def _budget(control: str, reasoning: dict[str, Any]) -> dict[str, Any]:
    low, high, default = reasoning.get("min"), reasoning.get("max"), reasoning.get("default")
    if control == "thinking_budget":
        # Gemini 2.5: -1 = dynamic, 0 = off (where allowed), else low..high; express the gap with `not`.
        gap_start = 1 if reasoning.get("can_disable") else 0
        prop = reasoning_parameter(control, minimum=-1, maximum=high, default=default)
        if low is not None and low > gap_start:
            prop["not"] = {"type": "integer", "minimum": gap_start, "maximum": low - 1}
            prop["description"] = (
                f"{prop['description']} Allowed: -1, "
                + ("0, " if gap_start == 1 else "")
                + f"or {low}-{high}."
            )
        return prop
    return reasoning_parameter(control, minimum=low, maximum=high, default=default)
