"""Model metadata: who made a model (provider), where it runs (runtime), and its one identifier format.

Identifiers:
- API models: the provider's own id, e.g. ``gpt-4o``, ``claude-sonnet-4-5``.
- Local models: ``<model>:<runtime>@<host>:<port>``, e.g. ``llama3:latest:ollama@localhost:11434``.
- Mock models: ``<name>:mock``.
`parse_identifier` and `format_identifier` are the only code that knows this format.
"""

from __future__ import annotations

import enum
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from llmkit.errors import InvalidIdentifierError

if TYPE_CHECKING:
    from llmkit.config import LLMConfig
    from llmkit.pricing import Pricing


class LLMProvider(str, enum.Enum):
    """Who made the model (not where it runs)."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GOOGLE = "google"
    MISTRAL = "mistral"
    DEEPSEEK = "deepseek"
    ZHIPU = "zhipu"
    QWEN = "qwen"
    META = "meta"
    MICROSOFT = "microsoft"
    NVIDIA = "nvidia"
    IBM = "ibm"
    COHERE = "cohere"
    MOONSHOT = "moonshot"
    XAI = "xai"
    MINIMAX = "minimax"
    LLMKIT = "llmkit"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


class LLMRuntime(str, enum.Enum):
    """Where the model runs; the identifier's runtime tag is the value."""

    API = "api"
    OLLAMA = "ollama"
    LMSTUDIO = "lmstudio"
    OPENAI_COMPATIBLE = "openai-compatible"
    AUTOBYTEUS = "autobyteus"
    MOCK = "mock"

    def __str__(self) -> str:
        return self.value

    @property
    def is_local(self) -> bool:
        return self not in (LLMRuntime.API, LLMRuntime.MOCK)


_LOCAL_TAGS = {r.value: r for r in LLMRuntime if r.is_local}
_HOST_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}$")


@dataclass(frozen=True, slots=True)
class ModelId:
    """A parsed identifier: the backend's model name, the runtime and, for local runtimes, `host:port`."""

    name: str
    runtime: LLMRuntime
    host: str | None = None

    def __str__(self) -> str:
        return format_identifier(self.name, self.runtime, self.host)


def format_identifier(name: str, runtime: LLMRuntime, host: str | None = None) -> str:
    """The canonical identifier string for a model name on a runtime (and host)."""
    if runtime is LLMRuntime.API:
        return name
    if runtime is LLMRuntime.MOCK:
        return f"{name}:mock"
    if not host:
        raise InvalidIdentifierError(f"A {runtime.value} model needs a host:port (model {name!r})")
    return f"{name}:{runtime.value}@{host}"


def parse_identifier(identifier: str) -> ModelId:
    """Split an identifier into name, runtime and host; raise InvalidIdentifierError if it is malformed."""
    if not isinstance(identifier, str) or not identifier:
        raise InvalidIdentifierError("A model identifier must be a non-empty string")
    if identifier != identifier.strip() or any(c.isspace() for c in identifier):
        raise InvalidIdentifierError(f"Model identifier {identifier!r} contains whitespace")
    if "@" in identifier:
        left, _, host = identifier.rpartition("@")
        name, sep, tag = left.rpartition(":")
        expected = "<model>:<runtime>@<host>:<port>, e.g. llama3:latest:ollama@localhost:11434"
        if not sep or tag not in _LOCAL_TAGS:
            raise InvalidIdentifierError(
                f"Model identifier {identifier!r}: the part before '@' must end in ':<runtime>' with runtime one "
                f"of {', '.join(sorted(_LOCAL_TAGS))}; expected {expected}"
            )
        if not name:
            raise InvalidIdentifierError(
                f"Model identifier {identifier!r} has an empty model name; expected {expected}"
            )
        if not _HOST_RE.match(host) or not 0 < int(host.rsplit(":", 1)[1]) < 65536:
            raise InvalidIdentifierError(
                f"Model identifier {identifier!r}: host {host!r} must be host:port with a port in 1-65535; "
                f"expected {expected}"
            )
        return ModelId(name, _LOCAL_TAGS[tag], host)
    if identifier.endswith(":mock"):
        name = identifier[: -len(":mock")]
        if not name:
            raise InvalidIdentifierError("Mock model identifier ':mock' has an empty name; expected <name>:mock")
        return ModelId(name, LLMRuntime.MOCK)
    tag = identifier.rpartition(":")[2]
    if tag in _LOCAL_TAGS:
        raise InvalidIdentifierError(
            f"Model identifier {identifier!r} names runtime {tag!r} but no host; expected "
            f"{identifier}@<host>:<port>, e.g. {identifier}@localhost:11434"
        )
    return ModelId(identifier, LLMRuntime.API)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class LLMModel:
    """Metadata of one model: everything needed to list it, configure it, price it and create a client.

    `backend` names the entry of `llmkit.backends` that talks to it (a wire protocol plus a provider
    profile), so no code branches on provider names.
    """

    name: str
    provider: LLMProvider
    runtime: LLMRuntime
    backend: str
    host: str | None = None
    host_url: str | None = None
    display_name: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    default_config: LLMConfig | None = None
    pricing: Pricing | None = None
    config_schema: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    capabilities: frozenset[str] = frozenset()
    status: str = "active"
    deprecation_date: str | None = None
    retirement_date: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    identifier: str = field(init=False, compare=False, repr=False)
    """The globally unique id (derived from name, runtime and host; validated when the model is made)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "config_schema", _frozen(self.config_schema))
        object.__setattr__(self, "metadata", _frozen(self.metadata))
        object.__setattr__(self, "capabilities", frozenset(self.capabilities))
        object.__setattr__(self, "identifier", format_identifier(self.name, self.runtime, self.host))

    @property
    def parameters(self) -> Mapping[str, Any]:
        """The schema's properties: the parameters a user may set for this model."""
        props = self.config_schema.get("properties", {})
        return props if isinstance(props, Mapping) else {}

    def _repr_html_(self) -> str:
        """A compact card: identifier, provider/runtime, context, price, status and parameters."""
        rows = [
            ("provider / runtime", f"{self.provider.value} / {self.runtime.value}"),
            ("context / max output", f"{self.context_window or '?'} / {self.max_output_tokens or '?'} tokens"),
            ("price", price_text(self)),
            ("status", status_text(self)),
            ("parameters", ", ".join(self.parameters) or "none"),
        ]
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th><td style='text-align:left'>"
            f"{html.escape(v)}</td></tr>" for k, v in rows
        )
        title = html.escape(self.identifier)
        if self.display_name and self.display_name != self.identifier:
            title += f" <small>{html.escape(self.display_name)}</small>"
        return f"<div class='llmkit-model'><b>{title}</b><table>{body}</table></div>"

    def __repr__(self) -> str:
        return (
            f"LLMModel({self.identifier!r}, provider={self.provider.value}, runtime={self.runtime.value}, "
            f"status={self.status})"
        )


def price_text(model: LLMModel) -> str:
    """A model's list price in USD per million tokens, labelled when it is illustrative (MOCK) or free."""
    pricing = model.pricing
    if pricing is None:
        return "price unknown"
    rates = pricing.rates
    if not (rates.input or rates.output):
        return "free"
    text = f"${rates.input} in / ${rates.output} out per 1M tokens"
    if rates.cached_input is not None:
        text += f" (cached in ${rates.cached_input})"
    if pricing.illustrative:
        text += " · illustrative"
    return text


def status_text(model: LLMModel) -> str:
    """'active', or the lifecycle status with its dates (deprecated models keep working until retirement)."""
    if model.status == "active":
        return "active"
    dates = []
    if model.deprecation_date:
        dates.append(f"deprecated {model.deprecation_date}")
    if model.retirement_date:
        dates.append(f"retires {model.retirement_date}")
    return model.status + (f" ({', '.join(dates)})" if dates else "")
