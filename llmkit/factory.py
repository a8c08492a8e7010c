"""LLMFactory: the process-wide registry of models and the way to create clients for them."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from llmkit._sync import run_sync
from llmkit.backends import get_backend
from llmkit.config import LLMConfig, config_from_mapping, validate_config
from llmkit.errors import UnknownModelError
from llmkit.hosts import host_for, normalise_host
from llmkit.models import LLMModel, LLMProvider, LLMRuntime, parse_identifier

if TYPE_CHECKING:
    from llmkit.base import BaseLLM


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a model can be called right now, and if not, what to do about it."""

    available: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.available


class LLMFactory:
    """Class-level registry. `ensure_initialized()` registers the packaged API models and discovers MOCK and
    local models; it is idempotent and safe to call from several threads."""

    _lock: ClassVar[threading.RLock] = threading.RLock()
    _models: ClassVar[dict[str, LLMModel]] = {}
    _model_configs: ClassVar[dict[str, LLMConfig]] = {}
    _initialized: ClassVar[bool] = False

    # ----- registry ----------------------------------------------------------------------------------------
    @classmethod
    def ensure_initialized(cls) -> None:
        if cls._initialized:
            return
        with cls._lock:
            if cls._initialized:
                return
            from llmkit.catalog.api_models import api_models
            from llmkit.discovery import discover_all

            for model in api_models():
                cls._models[model.identifier] = model
            for models in run_sync(discover_all()).values():
                for model in models:
                    cls._models[model.identifier] = model
            cls._initialized = True

    @classmethod
    def reset(cls) -> None:
        """Forget every model and per-model config (tests and long-lived kernels)."""
        with cls._lock:
            cls._models = {}
            cls._model_configs = {}
            cls._initialized = False

    @classmethod
    def register_model(cls, model: LLMModel) -> LLMModel:
        """Add or replace a model (e.g. an OpenAI-compatible gateway model with its own price)."""
        cls.ensure_initialized()
        with cls._lock:
            cls._models[model.identifier] = model
        return model

    @classmethod
    def unregister_model(cls, identifier: str) -> None:
        with cls._lock:
            cls._models.pop(identifier, None)

    @classmethod
    def list_models(cls, provider: LLMProvider | str | None = None,
                    runtime: LLMRuntime | str | None = None) -> list[LLMModel]:
        """Registered models, optionally filtered, sorted by runtime then identifier."""
        cls.ensure_initialized()
        wanted_provider = LLMProvider(provider) if provider is not None else None
        wanted_runtime = LLMRuntime(runtime) if runtime is not None else None
        models = [
            m for m in cls._models.values()
            if (wanted_provider is None or m.provider is wanted_provider)
            and (wanted_runtime is None or m.runtime is wanted_runtime)
        ]
        return sorted(models, key=lambda m: (m.runtime.value, m.identifier))

    @classmethod
    def get_model(cls, identifier: str) -> LLMModel:
        """The model with this identifier; UnknownModelError (with close matches) if none."""
        parse_identifier(identifier)  # a malformed id gets InvalidIdentifierError, not "unknown"
        cls.ensure_initialized()
        model = cls._models.get(identifier)
        if model is not None:
            return model
        raise UnknownModelError(identifier, difflib.get_close_matches(identifier, list(cls._models), n=3, cutoff=0.5),
                                hint=_retired_hint(identifier))

    @classmethod
    def availability(cls, identifier: str) -> Availability:
        """Can this model be called now? (A missing API key makes an API model unavailable.)"""
        model = cls.get_model(identifier)
        missing = host_for(model).missing_key()
        if missing:
            return Availability(False, f"set {missing}")
        return Availability(True)

    # ----- configs ----------------------------------------------------------------------------------------
    @classmethod
    def set_model_config(cls, identifier: str, config: LLMConfig | Mapping[str, Any]) -> None:
        """Defaults for every client of this model created afterwards (validated now)."""
        model = cls.get_model(identifier)
        config = config if isinstance(config, LLMConfig) else config_from_mapping(config)
        validate_config(model, (model.default_config or LLMConfig()).merged(config))
        with cls._lock:
            cls._model_configs[identifier] = config

    @classmethod
    def get_model_config(cls, identifier: str) -> LLMConfig:
        """The config a new client gets: model defaults, then `set_model_config` values."""
        model = cls.get_model(identifier)
        return (model.default_config or LLMConfig()).merged(cls._model_configs.get(identifier))

    @classmethod
    def resolve_config(cls, identifier: str, config: LLMConfig | Mapping[str, Any] | None = None) -> LLMConfig:
        """Defaults overridden only by the fields the caller set, validated against the model's schema."""
        model = cls.get_model(identifier)
        override = config if config is None or isinstance(config, LLMConfig) else config_from_mapping(config)
        merged = cls.get_model_config(identifier).merged(override)
        validate_config(model, merged)
        return merged

    # ----- clients ---------------------------------------------------------------------------------------
    @classmethod
    def create_llm(cls, identifier: str, config: LLMConfig | Mapping[str, Any] | None = None,
                   cache: Any = None) -> BaseLLM:
        """A new conversation with the model. `cache`: a directory, True for the default one, or a cache
        object (see llmkit.extensions.cache); None/False for no caching."""
        model = cls.get_model(identifier)
        merged = cls.resolve_config(identifier, config)
        llm = get_backend(model.backend).load_class()(model, merged)
        if cache is not None and cache is not False:
            from llmkit.extensions.cache import ResponseCacheExtension

            llm.register_extension(ResponseCacheExtension.from_option(cache))
        return llm

    # ----- discovery ------------------------------------------------------------------------------------
    @classmethod
    def reload_models(cls, runtime: LLMRuntime | str, host: str | None = None) -> int:
        """Clear-then-discover one runtime (optionally one `host:port`); returns how many models that runtime
        (and host) has afterwards. A server that went down leaves none behind."""
        return run_sync(cls.reload_models_async(runtime, host))

    @classmethod
    async def reload_models_async(cls, runtime: LLMRuntime | str, host: str | None = None) -> int:
        from llmkit.discovery import discover

        cls.ensure_initialized()
        runtime = LLMRuntime(runtime)
        host = normalise_host(host) if host else None
        found = await discover(runtime, host)
        with cls._lock:
            cls._models = {
                key: m for key, m in cls._models.items()
                if not (m.runtime is runtime and (host is None or m.host == host))
            }
            for model in found:
                if host is None or model.host == host:
                    cls._models[model.identifier] = model
            return sum(1 for m in cls._models.values() if m.runtime is runtime and (host is None or m.host == host))


def _retired_hint(identifier: str) -> str | None:
    from llmkit.catalog import catalog_entry

    entry = catalog_entry(identifier)
    if entry and entry["status"] == "retired":
        replacement = entry.get("replacement")
        return (f"{identifier} was retired on {entry.get('retirement_date')}; its price is kept for old runs"
                + (f"; use {replacement}" if replacement else ""))
    return None
