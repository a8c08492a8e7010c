"""The registry that maps a model's `backend` name to the class that talks to it and where its key lives.

A backend is a wire protocol plus a provider profile; `LLMModel.backend` names one, so creating a client
never branches on provider names. Classes are imported lazily, when the first client is created.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmkit.errors import ConfigurationError

if TYPE_CHECKING:
    from llmkit.base import BaseLLM


@dataclass(frozen=True, slots=True)
class Backend:
    """How to reach one kind of model: the BaseLLM subclass and the credentials it needs."""

    name: str
    llm_class: str  # "package.module:ClassName"
    api_key_env: tuple[str, ...] = ()  # first variable that is set wins
    requires_key: bool = False
    base_url_env: str | None = None
    default_base_url: str | None = None

    def load_class(self) -> type[BaseLLM]:
        module_name, _, class_name = self.llm_class.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(
                f"Backend {self.name!r} could not be loaded ({exc})",
                hint="install llmkit with its dependencies: pip install llmkit",
            ) from exc
        cls: type[BaseLLM] = getattr(module, class_name)
        return cls

    def missing_key(self) -> str | None:
        """The variable to set when this backend needs a key and none is set, else None."""
        if not self.requires_key or any(os.environ.get(v, "").strip() for v in self.api_key_env):
            return None
        return self.api_key_env[0] if self.api_key_env else None

    def base_url(self) -> str | None:
        override = os.environ.get(self.base_url_env, "").strip() if self.base_url_env else ""
        return override or self.default_base_url


_BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> None:
    _BACKENDS[backend.name] = backend


def get_backend(name: str) -> Backend:
    try:
        return _BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(_BACKENDS))
        raise ConfigurationError(f"No backend named {name!r}; registered backends: {known}") from None


def backends() -> dict[str, Backend]:
    return dict(_BACKENDS)


def _register_defaults(register: Callable[[Backend], None]) -> None:
    api = "llmkit.api"
    register(Backend("mock", f"{api}.mock:MockLLM"))
    register(Backend("openai", f"{api}.openai_chat:OpenAIChatLLM", ("OPENAI_API_KEY",), True,
                     "OPENAI_BASE_URL", "https://api.openai.com/v1"))
    register(Backend("anthropic", f"{api}.anthropic_messages:AnthropicLLM",
                     ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"), True,
                     "ANTHROPIC_BASE_URL", "https://api.anthropic.com"))
    register(Backend("gemini", f"{api}.gemini:GeminiLLM", ("GEMINI_API_KEY", "GOOGLE_API_KEY"), True,
                     "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com/v1beta"))
    register(Backend("mistral", f"{api}.openai_chat:OpenAIChatLLM", ("MISTRAL_API_KEY",), True,
                     "MISTRAL_BASE_URL", "https://api.mistral.ai/v1"))
    register(Backend("deepseek", f"{api}.openai_chat:OpenAIChatLLM", ("DEEPSEEK_API_KEY",), True,
                     "DEEPSEEK_BASE_URL", "https://api.deepseek.com"))
    register(Backend("zhipu", f"{api}.openai_chat:OpenAIChatLLM", ("ZHIPU_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY"),
                     True, "ZHIPU_BASE_URL", "https://api.z.ai/api/paas/v4"))
    register(Backend("ollama", f"{api}.ollama:OllamaLLM", ("OLLAMA_API_KEY",)))
    register(Backend("lmstudio", f"{api}.openai_chat:OpenAIChatLLM", ("LMSTUDIO_API_KEY", "LM_API_TOKEN")))
    register(Backend("openai-compatible", f"{api}.openai_chat:OpenAIChatLLM", ("OPENAI_COMPATIBLE_API_KEY",)))
    register(Backend("autobyteus", f"{api}.autobyteus:AutobyteusLLM", ("AUTOBYTEUS_API_KEY",), True))


_register_defaults(register_backend)
