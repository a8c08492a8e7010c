"""The registry that maps a model's `backend` name to the class that talks to it, and the packaged Hosts.

A backend is a wire protocol plus a provider profile; `LLMModel.backend` names one, so creating a client
never branches on provider names. Classes are imported lazily, when the first client is created. Where a
backend's requests go and how they are authorised is its Host (`llmkit.hosts`), registered under the same name:
the cloud providers' Hosts carry their default base URL, `*_BASE_URL` override and key variables; local runtimes'
Hosts carry only keys and TLS settings, and are moved to each discovered server's URL (`Host.at`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmkit.api.openai_profiles import OpenAIProfile, register_openai_profile
from llmkit.errors import ConfigurationError
from llmkit.hosts import Host, KeyVar, bearer, register_host

if TYPE_CHECKING:
    from llmkit.base import BaseLLM


@dataclass(frozen=True, slots=True)
class Backend:
    """How to speak to one kind of model: the BaseLLM subclass (its Host, of the same name, says where)."""

    name: str
    llm_class: str  # "package.module:ClassName"

    def load_class(self) -> type[BaseLLM]:
        try:
            return _load_class(self.llm_class)
        except ImportError as exc:
            raise ConfigurationError(
                f"Backend {self.name!r} could not be loaded ({exc})",
                hint="install llmkit with its dependencies: pip install llmkit",
            ) from exc


@functools.cache
def _load_class(llm_class: str) -> type[BaseLLM]:
    """Import "package.module:ClassName" once: `create_llm` runs per call in a sweep, `import_module` costs ~2 µs
    even when the module is loaded (a failed import is not cached, so installing the package later works)."""
    module_name, _, class_name = llm_class.partition(":")
    cls: type[BaseLLM] = getattr(importlib.import_module(module_name), class_name)
    return cls


_BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend, host: Host | None = None) -> None:
    """Add or replace a backend, and its Host when given (else a Host of that name must be registered)."""
    _BACKENDS[backend.name] = backend
    if host is not None:
        register_host(host)


def get_backend(name: str) -> Backend:
    try:
        return _BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(_BACKENDS))
        raise ConfigurationError(f"No backend named {name!r}; registered backends: {known}") from None


def backends() -> dict[str, Backend]:
    return dict(_BACKENDS)


CLOUDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("groq", "Groq", "https://api.groq.com/openai/v1", ("GROQ_API_KEY",)),
    ("deepinfra", "DeepInfra", "https://api.deepinfra.com/v1/openai", ("DEEPINFRA_API_KEY", "DEEPINFRA_TOKEN")),
    ("together", "Together AI", "https://api.together.xyz/v1", ("TOGETHER_API_KEY",)),
    ("fireworks", "Fireworks AI", "https://api.fireworks.ai/inference/v1", ("FIREWORKS_API_KEY",)),
    ("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", ("OPENROUTER_API_KEY",)),
    ("cerebras", "Cerebras", "https://api.cerebras.ai/v1", ("CEREBRAS_API_KEY",)),
)
"""The named OpenAI-compatible clouds: (backend and Host name, label, public base URL, key variables)."""


def _register_defaults(register: Callable[[Backend, Host], None]) -> None:
    api = "llmkit.api"
    chat = f"{api}.openai_chat:OpenAIChatLLM"
    register(Backend("mock", f"{api}.mock:MockLLM"), Host("mock", "MOCK"))
    # Cloud APIs: a default base URL, an override variable, required keys.
    register(Backend("openai", chat), Host(
        "openai", "OpenAI", "https://api.openai.com/v1", "OPENAI_BASE_URL", bearer("OPENAI_API_KEY"), True,
        env_headers={"OpenAI-Organization": "OPENAI_ORG_ID", "OpenAI-Project": "OPENAI_PROJECT_ID"}))
    register(Backend("anthropic", f"{api}.anthropic_messages:AnthropicLLM"), Host(
        "anthropic", "Anthropic", "https://api.anthropic.com", "ANTHROPIC_BASE_URL",
        # x-api-key for an Anthropic key; the bearer form gateways expect for ANTHROPIC_AUTH_TOKEN
        (KeyVar("ANTHROPIC_API_KEY", "x-api-key", ""), KeyVar("ANTHROPIC_AUTH_TOKEN")), True,
        headers={"anthropic-version": "2023-06-01"}, env_headers={"anthropic-beta": "ANTHROPIC_BETA"},
        strip_path="/v1"))
    register(Backend("gemini", f"{api}.gemini:GeminiLLM"), Host(
        "gemini", "Gemini", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_BASE_URL",
        # never `?key=`, which ends up in logs
        (KeyVar("GEMINI_API_KEY", "x-goog-api-key", ""), KeyVar("GOOGLE_API_KEY", "x-goog-api-key", "")), True))
    register(Backend("mistral", chat), Host(
        "mistral", "Mistral", "https://api.mistral.ai/v1", "MISTRAL_BASE_URL", bearer("MISTRAL_API_KEY"), True))
    register(Backend("deepseek", chat), Host(
        "deepseek", "DeepSeek", "https://api.deepseek.com", "DEEPSEEK_BASE_URL", bearer("DEEPSEEK_API_KEY"), True))
    register(Backend("zhipu", chat), Host(
        "zhipu", "Z.ai", "https://api.z.ai/api/paas/v4", "ZHIPU_BASE_URL",
        bearer("ZHIPU_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY"), True))
    # OpenAI-compatible clouds: data only (the generic Chat Completions profile); ids `groq/<model>`, the maker of
    # the weights inferred from the name. Each: its public base URL, a `*_BASE_URL` override, its key variables.
    for name, label, url, keys in CLOUDS:
        register_openai_profile(OpenAIProfile(name, label))  # plain Chat Completions
        register(Backend(name, chat), Host(name, label, url, f"{name.upper()}_BASE_URL", bearer(*keys), True))
    # Local runtimes: no base URL of their own (each server's comes from discovery), optional keys.
    register(Backend("ollama", f"{api}.ollama:OllamaLLM"), Host(
        "ollama", "Ollama", keys=bearer("OLLAMA_API_KEY")))  # ollama.com needs a key; a local server none
    register(Backend("lmstudio", chat), Host(
        "lmstudio", "LM Studio", keys=bearer("LMSTUDIO_API_KEY", "LM_API_TOKEN"), api_path="/v1"))
    register(Backend("openai-compatible", chat), Host(
        "openai-compatible", "OpenAI-compatible server", keys=bearer("OPENAI_COMPATIBLE_API_KEY"), api_path="/v1"))
    register(Backend("autobyteus", f"{api}.autobyteus:AutobyteusLLM"), Host(
        "autobyteus", "AutoByteus", keys=(KeyVar("AUTOBYTEUS_API_KEY", "AUTOBYTEUS_API_KEY", ""),),
        key_required=True,
        # not verified, as the AutoByteus clients do, unless AUTOBYTEUS_SSL_CERT_FILE names a PEM bundle
        verify_tls=False, ca_bundle_env="AUTOBYTEUS_SSL_CERT_FILE"))


_register_defaults(register_backend)
