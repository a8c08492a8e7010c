"""LLMFactory: the process-wide registry of models and the way to create clients for them.

Getters never do network I/O. The packaged API models and MOCK are registered on first use (no I/O, so they
always work); local runtimes are found by discovery, which runs only when asked: `await
LLMFactory.ainitialize()` from async code, or `ensure_initialized()` (the sync wrapper) from scripts and
notebooks. A getter called from sync code with no running event loop may still run that sync discovery for
the caller; inside a running loop it uses what is registered, and an id it cannot find before discovery ran
raises UnknownModelError saying to `await LLMFactory.ainitialize()`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import difflib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from llmkit._sync import in_running_loop, run_sync
from llmkit.backends import get_backend
from llmkit.config import LLMConfig, config_from_mapping, validate_config
from llmkit.errors import ConfigurationError, UnknownModelError
from llmkit.hosts import host_for, normalise_host
from llmkit.models import LLMModel, LLMProvider, LLMRuntime, parse_identifier

if TYPE_CHECKING:
    from llmkit.base import BaseLLM

_AINITIALIZE_HINT = ("local models are found by discovery, which has not run yet and never starts inside a running "
                     "event loop: `await LLMFactory.ainitialize()` first (or call LLMFactory.ensure_initialized() "
                     "from sync code)")


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a model can be called right now, and if not, what to do about it."""

    available: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.available


@dataclass(frozen=True, slots=True)
class ResolvedConfig:
    """A config already merged with a model's defaults and validated against its schema (`LLMFactory.resolve`).

    `create_llm` takes it as is, so a sweep validates once per model x config and builds one client per row
    without paying for validation again."""

    model: LLMModel
    config: LLMConfig


class LLMFactory:
    """Class-level registry; see the module docstring for when discovery runs. `_models` is replaced, never
    changed in place, so readers on other threads iterate a stable dict."""

    _lock: ClassVar[threading.RLock] = threading.RLock()
    _models: ClassVar[dict[str, LLMModel]] = {}
    _model_configs: ClassVar[dict[str, LLMConfig]] = {}
    _defaults: ClassVar[dict[str, ResolvedConfig]] = {}  # `resolve(id)` with no overrides, kept per model
    _seeded: ClassVar[bool] = False  # packaged API models and MOCK registered
    _discovered: ClassVar[bool] = False  # local runtimes discovered once
    _discovery: ClassVar[concurrent.futures.Future[None] | None] = None  # the discovery in flight, on any loop

    # ----- initialisation ---------------------------------------------------------------------------------
    @classmethod
    async def ainitialize(cls) -> None:
        """Register the packaged API models and MOCK, and discover local runtimes concurrently (short timeouts).

        Idempotent; concurrent callers, on one loop or on several threads' loops, share one discovery."""
        cls._seed()
        while not cls._discovered:
            mine: concurrent.futures.Future[None] = concurrent.futures.Future()
            with cls._lock:
                running = cls._discovery
                if running is None:
                    cls._discovery = mine
            if running is not None:  # another caller is discovering: wait for it without cancelling it
                await asyncio.shield(asyncio.wrap_future(running))
                continue
            await cls._discover_once(mine)

    @classmethod
    async def _discover_once(cls, mine: concurrent.futures.Future[None]) -> None:
        from llmkit.discovery import discover_all

        try:
            found = await discover_all()
            with cls._lock:
                discovered = {m.identifier: m for models in found.values() for m in models}
                cls._models = {**discovered, **cls._models}  # a model the caller registered itself keeps its entry
                cls._discovered = True
        finally:
            with cls._lock:
                if cls._discovery is mine:
                    cls._discovery = None
                if not mine.done():  # (reset() may have released the waiters already)
                    mine.set_result(None)  # waiters re-check `_discovered`; after a failure one of them retries

    @classmethod
    def ensure_initialized(cls) -> None:
        """`ainitialize()` for sync code (scripts, notebook cells): runs it on llmkit's background loop.

        Inside a running loop this blocks that loop until discovery is done (at most the discovery timeouts);
        async code should `await LLMFactory.ainitialize()` instead."""
        if cls._discovered:
            return
        cls._seed()
        run_sync(cls.ainitialize())

    @classmethod
    def _seed(cls) -> None:
        """Register what needs no network: the packaged API models, the MOCK models and the models file's
        (`$LLMKIT_CONFIG_DIR/models.yaml`, llmkit.modelfile: a bad entry raises ConfigurationError here)."""
        if cls._seeded:
            return
        from llmkit.api.mock import mock_models
        from llmkit.catalog.api_models import api_models
        from llmkit.modelfile import load_models_file

        with cls._lock:
            if not cls._seeded:
                seeded = {m.identifier: m for m in [*api_models(), *mock_models(), *load_models_file()]}
                cls._models = {**cls._models, **seeded}
                cls._seeded = True

    @classmethod
    def _may_discover(cls) -> bool:
        """A getter may run discovery for its caller only from sync code with no running loop in this thread."""
        return not cls._discovered and not in_running_loop()

    @classmethod
    def reset(cls) -> None:
        """Forget every model and per-model config (tests and long-lived kernels)."""
        with cls._lock:
            cls._models = {}
            cls._model_configs = {}
            cls._defaults = {}
            cls._seeded = False
            cls._discovered = False
            stale, cls._discovery = cls._discovery, None
            if stale is not None and not stale.done():
                stale.set_result(None)  # a discovery cut off with its loop must not keep later callers waiting

    # ----- registry ----------------------------------------------------------------------------------------
    @classmethod
    def register_model(cls, model: LLMModel) -> LLMModel:
        """Add or replace a model (e.g. an OpenAI-compatible gateway model with its own price); no I/O."""
        cls._seed()
        with cls._lock:
            cls._models = {**cls._models, model.identifier: model}
        return model

    @classmethod
    def unregister_model(cls, identifier: str) -> None:
        with cls._lock:
            cls._models = {k: m for k, m in cls._models.items() if k != identifier}

    @classmethod
    def list_models(cls, provider: LLMProvider | str | None = None,
                    runtime: LLMRuntime | str | None = None) -> list[LLMModel]:
        """Registered models, optionally filtered, sorted by runtime then identifier. Inside a running loop:
        what is registered now (see the module docstring)."""
        if cls._may_discover():
            cls.ensure_initialized()
        else:
            cls._seed()
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
        model = cls._models.get(identifier)
        if model is not None:
            return model
        parsed = parse_identifier(identifier)  # a malformed id gets InvalidIdentifierError, not "unknown"
        cls._seed()
        if identifier not in cls._models and cls._may_discover():
            cls.ensure_initialized()
        model = cls._models.get(identifier)
        if model is not None:
            return model
        if parsed.qualifier:  # `openai/gpt-5.4`, `groq/llama-3.3-70b-versatile`: no catalog entry needed
            from llmkit.discovery.qualified import qualified_model, qualifiers

            model = qualified_model(parsed, cls._models)
            if model is not None:
                return cls._models.get(model.identifier) or cls.register_model(model)
            raise UnknownModelError(identifier, [], hint=f"{parsed.qualifier!r} is not a provider or cloud host; "
                                                           f"known: {', '.join(qualifiers())}")
        hint = _retired_hint(identifier) or (None if cls._discovered else _AINITIALIZE_HINT)
        raise UnknownModelError(identifier, difflib.get_close_matches(identifier, list(cls._models), n=3, cutoff=0.5),
                                hint=hint)

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
            cls._model_configs[model.identifier] = config
            cls._defaults.pop(model.identifier, None)

    @classmethod
    def get_model_config(cls, identifier: str) -> LLMConfig:
        """The config a new client gets: model defaults, then `set_model_config` values."""
        model = cls.get_model(identifier)
        return (model.default_config or LLMConfig()).merged(cls._model_configs.get(model.identifier))

    @classmethod
    def resolve_config(cls, identifier: str, config: LLMConfig | Mapping[str, Any] | None = None) -> LLMConfig:
        """Defaults overridden only by the fields the caller set, validated against the model's schema."""
        return cls.resolve(identifier, config).config

    @classmethod
    def resolve(cls, identifier: str, config: LLMConfig | Mapping[str, Any] | None = None) -> ResolvedConfig:
        """`resolve_config` kept with its model, for `create_llm` to use without validating again. Without
        overrides the result is kept until the model or its `set_model_config` changes: `create_llm(id)` per call
        (as a sweep or a benchmark does) validates once."""
        model = cls.get_model(identifier)
        identifier = model.identifier
        if config is None:
            hit = cls._defaults.get(identifier)
            if hit is not None and hit.model is model:
                return hit
        override = config if config is None or isinstance(config, LLMConfig) else config_from_mapping(config)
        defaults = cls._model_configs.get(identifier)
        merged = (model.default_config or LLMConfig()).merged(defaults).merged(override)
        validate_config(model, merged)
        resolved = ResolvedConfig(model, merged)
        with cls._lock:
            if config is None and cls._model_configs.get(identifier) is defaults:  # not changed meanwhile
                cls._defaults[identifier] = resolved
        return resolved

    # ----- clients ---------------------------------------------------------------------------------------
    @classmethod
    def create_llm(cls, identifier: str, config: LLMConfig | Mapping[str, Any] | ResolvedConfig | None = None,
                   cache: Any = None) -> BaseLLM:
        """A new conversation with the model. `config`: overrides of the model's defaults (validated here), or
        a ResolvedConfig from `resolve` (used as is). `cache`: a directory, True for the default one, or a
        cache object (see llmkit.extensions.cache); None/False for no caching."""
        if isinstance(config, ResolvedConfig):
            if config.model.identifier != identifier and cls.get_model(identifier) is not config.model:
                raise ConfigurationError(
                    f"create_llm({identifier!r}) was given the resolved config of {config.model.identifier}",
                    hint=f"resolve the config for this model: LLMFactory.resolve({identifier!r}, ...)")
            resolved = config
        else:
            resolved = cls.resolve(identifier, config)
        model = resolved.model
        llm = get_backend(model.backend).load_class()(model, resolved.config)
        if cache is not None and cache is not False:
            from llmkit.extensions.cache import ResponseCacheExtension

            llm.register_extension(ResponseCacheExtension.from_option(cache))
        return llm

    # ----- discovery ------------------------------------------------------------------------------------
    @classmethod
    def reload_models(cls, runtime: LLMRuntime | str, host: str | None = None) -> int:
        """Clear-then-discover one runtime (optionally one `host:port`); returns how many models that runtime
        (and host) has afterwards. A server that went down leaves none behind.

        `reload_models("api")` lists the models endpoints of every cloud host whose key is set (`host="groq"`: only
        that one) and registers the ids the catalog lacks (`openai/<id>`, `groq/<id>`); it returns how many listed
        models are registered afterwards. Only this sends requests to clouds (see llmkit.discovery.api_listing)."""
        return run_sync(cls.areload_models(runtime, host))

    @classmethod
    async def areload_models(cls, runtime: LLMRuntime | str, host: str | None = None) -> int:
        """`reload_models` for async code (after `ainitialize`, which it awaits first if needed)."""
        from llmkit.discovery import discover

        await cls.ainitialize()
        runtime = LLMRuntime(runtime)
        if runtime is LLMRuntime.API:
            return await cls._relist_api(host)
        host = normalise_host(host) if host else None
        found = await discover(runtime, host)
        def served(m: LLMModel) -> bool:
            return m.runtime is runtime and (host is None or m.host == host)

        with cls._lock:
            kept = {key: m for key, m in cls._models.items() if not served(m)}
            cls._models = {**kept, **{m.identifier: m for m in found if served(m)}}
            return sum(1 for m in cls._models.values() if served(m))

    @classmethod
    async def _relist_api(cls, host: str | None) -> int:
        from llmkit.discovery.api_listing import list_api_models
        from llmkit.models import PROVIDER_BACKENDS

        found = await list_api_models(cls._models, host)
        backend = PROVIDER_BACKENDS.get(host, host) if host else None

        def listed(m: LLMModel) -> bool:
            origin = m.metadata.get("listed_from")
            return origin is not None and (backend is None or origin == backend)

        with cls._lock:
            kept = {key: m for key, m in cls._models.items() if not listed(m)}
            cls._models = {**kept, **{m.identifier: m for m in found}}
            return sum(1 for m in cls._models.values() if listed(m))

    reload_models_async = areload_models  # the earlier name


def _retired_hint(identifier: str) -> str | None:
    from llmkit.catalog import catalog_entry

    entry = catalog_entry(identifier)
    if entry and entry["status"] == "retired":
        replacement = entry.get("replacement")
        return (f"{identifier} was retired on {entry.get('retirement_date')}; its price is kept for old runs"
                + (f"; use {replacement}" if replacement else ""))
    return None
