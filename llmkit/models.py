"""Model metadata: who made a model (provider), where it runs (runtime), and its one identifier format.

Identifiers:
- API models in the catalog: the provider's own id, e.g. ``gpt-4o``, ``claude-sonnet-4-5``.
- Any other API model reached by name (a qualified id, a listed model, a cloud host's): ``<qualifier>/<model>``
  (its `alias`), the qualifier naming a provider or a cloud host, e.g.
  ``openai/gpt-5.4``, ``google/gemini-3.5-flash``, ``groq/llama-3.3-70b-versatile``,
  ``openrouter/meta-llama/llama-3.3-70b-instruct`` (the model part may hold further slashes).
- An API model at its own base URL (a gateway): ``<model>:api@<host>:<port>``, unless it has an alias (`id`).
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
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from llmkit.errors import ConfigurationError, InvalidIdentifierError

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
_HOSTED_TAGS = {**_LOCAL_TAGS, LLMRuntime.API.value: LLMRuntime.API}  # runtimes written `<model>:<tag>@host:port`
_QUALIFIER_RE = re.compile(r"^[a-z][a-z0-9_.\-]*$")

# The backend of each provider's own API: `LLMModel(name, provider, API)` without `backend=` and `provider/model`
# ids use it; an API model on any other backend (a cloud host) is named `<backend>/<model>`.
PROVIDER_BACKENDS: Mapping[str, str] = MappingProxyType({
    "openai": "openai", "anthropic": "anthropic", "google": "gemini", "mistral": "mistral", "deepseek": "deepseek",
    "zhipu": "zhipu"})
_HOST_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):\d{1,5}$")


@dataclass(frozen=True, slots=True)
class ModelId:
    """A parsed identifier: the backend's model name, the runtime, for local runtimes and gateways `host:port`,
    and for a qualified API id (`groq/llama-3.3-70b-versatile`) its qualifier (a provider or a cloud host)."""

    name: str
    runtime: LLMRuntime
    host: str | None = None
    qualifier: str | None = None

    def __str__(self) -> str:
        return format_identifier(self.name, self.runtime, self.host, self.qualifier)


def format_identifier(name: str, runtime: LLMRuntime, host: str | None = None, qualifier: str | None = None) -> str:
    """The canonical identifier string for a model name on a runtime (and host, or qualifier)."""
    if runtime is LLMRuntime.API:
        if host:
            return f"{name}:api@{host}"
        return f"{qualifier}/{name}" if qualifier else name
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
        if not sep or tag not in _HOSTED_TAGS:
            raise InvalidIdentifierError(
                f"Model identifier {identifier!r}: the part before '@' must end in ':<runtime>' with runtime one "
                f"of {', '.join(sorted(_HOSTED_TAGS))}; expected {expected}"
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
        return ModelId(name, _HOSTED_TAGS[tag], host)
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
    qualifier, slash, name = identifier.partition("/")
    if slash and _QUALIFIER_RE.match(qualifier):
        if not name:
            raise InvalidIdentifierError(
                f"Model identifier {identifier!r} names {qualifier!r} but no model; expected "
                f"{qualifier}/<model>, e.g. openai/gpt-5.4 or groq/llama-3.3-70b-versatile")
        return ModelId(name, LLMRuntime.API, qualifier=qualifier)
    return ModelId(identifier, LLMRuntime.API)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class LLMModel:
    """Metadata of one model: everything needed to list it, configure it, price it and create a client.

    `backend` names the entry of `llmkit.backends` that talks to it (a wire protocol plus a provider
    profile), so no code branches on provider names. Left out, it is the provider's own API for an API model
    (`PROVIDER_BACKENDS`) and the runtime's backend otherwise. `alias` replaces the derived identifier (a gateway
    model's `id`); `api_key_env` names the variable holding this model's key (its Host sends that one instead).
    """

    name: str
    provider: LLMProvider
    runtime: LLMRuntime
    backend: str = ""
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
    alias: str | None = None
    api_key_env: str | None = None
    identifier: str = field(init=False, compare=False, repr=False)
    """The globally unique id: the alias, else derived from name, runtime, host and backend (see the module
    docstring); validated when the model is made."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "config_schema", _frozen(self.config_schema))
        object.__setattr__(self, "metadata", _frozen(self.metadata))
        object.__setattr__(self, "capabilities", frozenset(self.capabilities))
        if not self.backend:
            object.__setattr__(self, "backend", default_backend(self.provider, self.runtime, self.name))
        if self.alias is not None:
            parse_identifier(self.alias)  # an alias must be a well-formed identifier too
        object.__setattr__(self, "identifier", self.alias or format_identifier(self.name, self.runtime, self.host))

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


def default_backend(provider: LLMProvider, runtime: LLMRuntime, name: str = "?") -> str:
    """The backend a model uses when none is given: its provider's own API for API models, else the runtime's."""
    if runtime is not LLMRuntime.API:
        return str(runtime)  # local runtimes and MOCK: the backend is named like the runtime
    backend: str | None = PROVIDER_BACKENDS.get(provider.value)
    if backend is None:
        raise ConfigurationError(
            f"Model {name!r}: {provider.value} has no API of its own; give backend= the host that serves it "
            f"(e.g. groq, together, deepinfra) or, for a gateway, backend='openai' with its base URL as host_url")
    return backend


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


_SNAPSHOT_SUFFIX = re.compile(r"-[0-9]{3,}(-[0-9]+)*")  # -2025-04-14, -20250929, -2512, -001; not -5 (4 -> 4-5)


def same_model(asked: str, served: str) -> bool:
    """Whether `served` (the model a server says answered) is the model `asked` for (the name sent): the same name,
    a dated snapshot of it (`gpt-4.1` -> `gpt-4.1-2025-04-14`, `mistral-large-latest` -> `mistral-large-2512`) or a
    tag of it (`qwen3` -> `qwen3:latest`). Anything else (`gemini-2.5-pro` -> `gemini-3.8-flash`, `gpt-4o` ->
    `gpt-4o-mini-2024-07-18`) is another model, as when a gateway falls back or a retired model is routed on."""
    asked = asked.lower().removeprefix("models/").removesuffix("-latest")
    served = served.lower().removeprefix("models/")
    if not served.startswith(asked):
        return False
    rest = served[len(asked):]
    return not rest or rest[0] in ":@" or _SNAPSHOT_SUFFIX.fullmatch(rest) is not None


def lifecycle(model: LLMModel, today: date | None = None) -> str:
    """The model's status as of `today` (default: today, UTC): the catalog's status, except that a model whose
    retirement date has passed is "retired" and one whose deprecation date has passed is at least "deprecated".
    The catalog is a snapshot, and a model it lists as deprecated stops answering on its date."""
    today = today or datetime.now(timezone.utc).date()
    if _on_or_before(model.retirement_date, today):
        return "retired"
    if model.status in ("active", "preview") and _on_or_before(model.deprecation_date, today):
        return "deprecated"
    return model.status


def status_text(model: LLMModel, today: date | None = None) -> str:
    """'active', or the lifecycle status as of `today` with its dates: "deprecated (deprecated 2025-09-29, retires
    2026-11-30, in 3 days)", "retired (deprecated 2025-09-29, retired 2026-11-30)"."""
    today = today or datetime.now(timezone.utc).date()
    status = lifecycle(model, today)
    if status == "active":
        return "active"
    dates = []
    if model.deprecation_date:
        dates.append(f"deprecated {model.deprecation_date}")
    retires = _parse_date(model.retirement_date)
    if retires is not None and retires <= today:
        dates.append(f"retired {model.retirement_date}")
    elif retires is not None:
        days = (retires - today).days
        dates.append(f"retires {model.retirement_date}" + (f", in {days} day{'s' * (days != 1)}" if days <= 90 else ""))
    return status + (f" ({', '.join(dates)})" if dates else "")


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:  # a month or free text in hand-written data: not a date to act on
        return None


def _on_or_before(value: str | None, today: date) -> bool:
    parsed = _parse_date(value)
    return parsed is not None and parsed <= today
