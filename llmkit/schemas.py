"""Config schemas: the shared fragments of DESIGN.md's parameter-mapping table, combined per model.

A fragment is data (`llmkit/catalog/controls.yaml`): type, UI control (`x-ui`), title, description and
cross-field rules. A model's schema takes the fragment for each parameter it accepts and adds its own facts
(allowed values, range, default), so the widgets and the validator read one JSON Schema per model.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import yaml


@functools.cache
def fragments() -> Mapping[str, Mapping[str, Any]]:
    """All shared parameter fragments, by parameter name. Read as a data file, not through `llmkit.catalog`,
    whose model builder imports this module."""
    data = yaml.safe_load(resources.files("llmkit.catalog").joinpath("controls.yaml").read_text("utf-8"))
    return data["parameters"]  # type: ignore[no-any-return]


def parameter(name: str, **facts: Any) -> dict[str, Any]:
    """A fragment specialised with one model's facts: enum, minimum, maximum, default, ..."""
    base = dict(fragments()[name])
    for key, value in facts.items():
        if value is not None:
            base[key] = list(value) if isinstance(value, (tuple, list)) else value
    return base


def build_schema(params: Mapping[str, Mapping[str, Any]], unsupported: Mapping[str, str] | None = None,
                 title: str | None = None) -> dict[str, Any]:
    """A closed object schema over the given parameters; `unsupported` explains deliberately absent ones."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {k: dict(v) for k, v in params.items()},
        "additionalProperties": False,
    }
    if title:
        schema["title"] = title
    if unsupported:
        schema["x-unsupported"] = dict(unsupported)
    return schema


def sampling_parameters(*, temperature_max: float = 2.0, max_output_tokens: int | None = None,
                        temperature: bool = True, top_p: bool = True, seed: bool = True,
                        stop: bool = True) -> dict[str, dict[str, Any]]:
    """The LLMConfig sampling fields a model accepts, with its ranges."""
    params: dict[str, dict[str, Any]] = {}
    if temperature:
        params["temperature"] = parameter("temperature", maximum=temperature_max)
    if top_p:
        params["top_p"] = parameter("top_p")
    params["max_tokens"] = parameter("max_tokens", maximum=max_output_tokens)
    if seed:
        params["seed"] = parameter("seed")
    if stop:
        params["stop"] = parameter("stop")
    return params


def reasoning_parameter(control: str, *, values: Sequence[Any] | None = None, minimum: int | None = None,
                        maximum: int | None = None, default: Any = None) -> dict[str, Any]:
    """The schema property for one reasoning control of the mapping table."""
    enum_values = None if control in ("thinking_enabled",) else values
    return parameter(control, enum=enum_values, minimum=minimum, maximum=maximum, default=default)


def ui_control(prop: Mapping[str, Any]) -> str:
    """The UI control a property renders as: dropdown, slider, toggle or text."""
    hint = prop.get("x-ui")
    if hint:
        return str(hint)
    if "enum" in prop:
        return "dropdown"
    if prop.get("type") == "boolean":
        return "toggle"
    if prop.get("type") in ("integer", "number") and "minimum" in prop and "maximum" in prop:
        return "slider"
    return "text"
