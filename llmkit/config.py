"""LLMConfig, its merge rule, and validation of a config against a model's JSON Schema."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llmkit.errors import ConfigValidationError

if TYPE_CHECKING:
    from llmkit.pricing import Pricing

# LLMConfig fields that a model's config_schema may restrict; everything else in a schema is an extra param.
SCHEMA_CHECKED_FIELDS = ("temperature", "top_p", "max_tokens", "seed", "stop")
# Fields that change a model's output; the cache key and eval rows use exactly these.
OUTPUT_FIELDS = ("temperature", "top_p", "max_tokens", "seed", "stop", "system_message", "extra_params")


class ModelFacts(Protocol):
    """What validating a config reads of a model; `LLMModel` satisfies it. A Protocol rather than an import,
    because `llmkit.models` imports this module (a model's default config is an LLMConfig)."""

    @property
    def identifier(self) -> str: ...

    @property
    def config_schema(self) -> Mapping[str, Any]: ...

    @property
    def default_config(self) -> LLMConfig | None: ...


class PricingConfig(BaseModel):
    """A per-instance price override, USD per million tokens (e.g. GPU-hour cost of a local model)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_usd_per_mtok: Decimal = Field(ge=0)
    output_usd_per_mtok: Decimal = Field(ge=0)
    cached_input_usd_per_mtok: Decimal | None = Field(default=None, ge=0)

    def to_pricing(self) -> Pricing:
        return _pricing_of(self)


@functools.lru_cache(maxsize=256)
def _pricing_of(override: PricingConfig) -> Pricing:
    """One Pricing per distinct override (keyed by value: the model is frozen and hashable), so pricing a call
    builds nothing."""
    from llmkit.pricing import Pricing

    return Pricing.simple(override.input_usd_per_mtok, override.output_usd_per_mtok,
                          override.cached_input_usd_per_mtok, source="LLMConfig.pricing")


class LLMConfig(BaseModel):
    """How to call a model. Unset fields (None) mean "the model's default"; only set fields are sent."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)

    temperature: float | None = Field(default=None, ge=0, le=2, description="Sampling temperature")
    max_tokens: int | None = Field(default=None, gt=0, description="Cap on generated tokens (reasoning included)")
    top_p: float | None = Field(default=None, ge=0, le=1, description="Nucleus sampling")
    stop: list[str] | None = Field(default=None, description="Stop sequences")
    seed: int | None = Field(default=None, description="Sampling seed, where the model supports one")
    system_message: str | None = Field(default=None, description="System prompt for new conversations")
    pricing: PricingConfig | None = Field(default=None, description="Override the catalog price")
    timeout: float | None = Field(default=None, gt=0,
                                  description="Seconds the whole call may take, retries and their waits included")
    attempt_timeout: float | None = Field(default=None, gt=0,
                                          description="Seconds each try may take (within timeout), so a hung try "
                                                      "leaves time for a retry")
    max_retries: int | None = Field(default=None, ge=0, le=20, description="Retries on 429/5xx/connection errors")
    extra_params: dict[str, Any] = Field(default_factory=dict, description="Model-specific parameters")

    def __init__(self, **data: Any) -> None:
        """As pydantic's, but a bad value raises ConfigValidationError (llmkit's error tree), not ValidationError;
        its `__cause__` keeps pydantic's errors so a spec can point at the field's line."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc) from exc

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def merged(self, override: LLMConfig | None) -> LLMConfig:
        """Self overridden by the fields the caller explicitly set on `override`; extra_params merge by key."""
        if override is None:
            return self
        update = {name: getattr(override, name) for name in override.model_fields_set}
        if "extra_params" in update:
            update["extra_params"] = {**self.extra_params, **override.extra_params}
        return self.model_copy(update=update)

    def output_params(self) -> dict[str, Any]:
        """The settings that change what the model says (used for cache keys and result rows)."""
        values = {name: getattr(self, name) for name in OUTPUT_FIELDS}
        return {k: v for k, v in values.items() if v not in (None, {}, [])}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in sorted(self.model_fields_set))
        return f"LLMConfig({shown})"


def config_from_mapping(data: Mapping[str, Any]) -> LLMConfig:
    """Build an LLMConfig from user data, turning pydantic errors into ConfigValidationError."""
    try:
        return LLMConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise _config_error(exc) from None


def _config_error(exc: ValidationError) -> ConfigValidationError:
    problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors())
    first = exc.errors()[0]["loc"] if exc.errors() else ()
    allowed = ", ".join(LLMConfig.model_fields)
    return ConfigValidationError(f"Invalid LLMConfig: {problems}", key=str(first[0]) if first else None,
                                 hint=f"LLMConfig fields are: {allowed}")


def effective_max_tokens(model: ModelFacts, config: LLMConfig) -> int | None:
    if config.max_tokens is not None:
        return config.max_tokens
    default = model.default_config.max_tokens if model.default_config else None
    return default


def schema_instance(config: LLMConfig) -> dict[str, Any]:
    """The values of a config that a model's schema constrains."""
    instance = {name: getattr(config, name) for name in SCHEMA_CHECKED_FIELDS if getattr(config, name) is not None}
    instance.update(config.extra_params)
    return instance


def validate_config(model: ModelFacts, config: LLMConfig) -> None:
    """Check a config against the model's schema before any request; raise ConfigValidationError if rejected."""
    schema = model.config_schema
    properties: Mapping[str, Any] = schema.get("properties") or {}
    if not properties:
        if config.extra_params:
            keys = ", ".join(sorted(config.extra_params))
            raise ConfigValidationError(
                f"Model {model.identifier} accepts no extra_params, got: {keys}",
                model=model.identifier, key=next(iter(sorted(config.extra_params))),
            )
        return
    instance = schema_instance(config)
    unsupported: Mapping[str, str] = schema.get("x-unsupported") or {}
    for key in instance:
        if key not in properties:
            reason = unsupported.get(key)
            if reason:
                raise ConfigValidationError(
                    f"{key} is not accepted by {model.identifier}: {reason}", model=model.identifier, key=key,
                    hint=f"remove {key} from the config for this model",
                )
            where = "extra_params key" if key not in SCHEMA_CHECKED_FIELDS else "parameter"
            accepted = ", ".join(k for k in properties if k not in SCHEMA_CHECKED_FIELDS) or "none"
            raise ConfigValidationError(
                f"Unknown {where} {key!r} for {model.identifier}; its extra_params are: {accepted}",
                model=model.identifier, key=key,
            )
    _validate_with_jsonschema(model, instance)
    _validate_cross_field(model, config, properties, instance)




# Optional packages jsonschema probes at import for string-format checks. llmkit's schemas use no formats, and
# some of these are slow to import (rfc3987_syntax compiles a grammar: seconds), so they are hidden while jsonschema
# loads unless something already imported them. Formats are only checked when a caller passes a format checker.
_FORMAT_PACKAGES = ("rfc3987_syntax", "rfc3987", "rfc3986_validator", "rfc3339_validator", "webcolors", "jsonpointer",
                    "uri_template", "isoduration", "fqdn", "idna")


def _draft_validator_class() -> Any:
    if "jsonschema" in sys.modules:
        from jsonschema import Draft202012Validator

        return Draft202012Validator
    hidden = [name for name in _FORMAT_PACKAGES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError: jsonschema skips it
    try:
        from jsonschema import Draft202012Validator

        return Draft202012Validator
    finally:
        for name in hidden:
            sys.modules.pop(name, None)


def _validator_for(model: ModelFacts) -> Any:
    """One compiled jsonschema validator per distinct schema, keyed by its canonical JSON (validation runs once per
    model × config, not per call, so the key's cost is paid rarely; a key by value cannot go stale)."""
    return _compiled_validator(json.dumps(_plain(model.config_schema), sort_keys=True, default=str))


def _plain(value: Any) -> Any:
    """Schemas are read-only mappings (MappingProxyType) all the way down: plain dicts and lists for JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@functools.lru_cache(maxsize=512)
def _compiled_validator(schema_json: str) -> Any:
    Draft202012Validator = _draft_validator_class()
    schema = json.loads(schema_json)
    return Draft202012Validator({k: v for k, v in schema.items() if not k.startswith("x-")})


def _validate_with_jsonschema(model: ModelFacts, instance: dict[str, Any]) -> None:
    errors = sorted(_validator_for(model).iter_errors(instance), key=lambda e: list(e.path))
    if not errors:
        return
    err = errors[0]
    key = str(err.path[0]) if err.path else None
    properties: Mapping[str, Any] = model.config_schema.get("properties") or {}
    prop: Mapping[str, Any] = properties.get(key, {}) if key else {}
    raise ConfigValidationError(
        f"{_describe_value(key, instance.get(key) if key else None)} is not accepted by {model.identifier}: "
        f"{describe_allowed(prop) or err.message}",
        model=model.identifier, key=key,
    )


def _describe_value(key: str | None, value: Any) -> str:
    return f"{key}={value!r}" if key else repr(value)


def describe_allowed(prop: Mapping[str, Any]) -> str:
    """Human text for what a schema property allows: its enum values or its range."""
    if "enum" in prop:
        return "allowed values are " + ", ".join(_show(v) for v in prop["enum"])
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None or high is not None:
        text = f"allowed range is {low if low is not None else '-inf'} to {high if high is not None else 'inf'}"
        gap = prop.get("not")
        if isinstance(gap, Mapping) and "minimum" in gap and "maximum" in gap:
            text += f", except {gap['minimum']} to {gap['maximum']}"
        return text
    if prop.get("type"):
        return f"expected a value of type {prop['type']}"
    return ""


def _show(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _validate_cross_field(model: ModelFacts, config: LLMConfig, properties: Mapping[str, Any],
                          instance: Mapping[str, Any]) -> None:
    """Constraints between fields, declared in the schema as `x-less-than: <other field>` and
    `x-when-set: {<other field>: <sub-schema>}` (while `key` is set, `other` must match the sub-schema)."""
    for key, prop in properties.items():
        _validate_when_set(model, key, prop, instance)
        other = prop.get("x-less-than")
        if not other or key not in instance:
            continue
        limit = effective_max_tokens(model, config) if other == "max_tokens" else instance.get(other)
        if limit is not None and instance[key] >= limit:
            raise ConfigValidationError(
                f"{key}={instance[key]} must be less than {other}={limit} for {model.identifier}",
                model=model.identifier, key=key, hint=f"raise {other} above {instance[key]} or lower {key}",
            )


def _validate_when_set(model: ModelFacts, key: str, prop: Mapping[str, Any], instance: Mapping[str, Any]) -> None:
    rules = prop.get("x-when-set")
    if not rules or key not in instance:
        return
    from jsonschema import Draft202012Validator

    for other, rule in rules.items():
        if other in instance and not Draft202012Validator(rule).is_valid(instance[other]):
            raise ConfigValidationError(
                f"{other}={instance[other]!r} cannot be combined with {key} on {model.identifier}: "
                f"with {key} set, {describe_allowed(rule)}",
                model=model.identifier, key=other, hint=f"remove {other} or {key} from the config",
            )


def iter_config_fields() -> Iterable[tuple[str, Any]]:
    """(name, FieldInfo) of LLMConfig, for generated forms."""
    return LLMConfig.model_fields.items()
