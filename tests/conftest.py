"""Shared test setup: hermetic environment, a fresh model registry per test, loopback servers' fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmkit.factory import LLMFactory
from tests.servers.fixtures import *  # noqa: F403  (loopback protocol servers: openai_server, ...)

# Variables that would make tests depend on the machine they run on.
_HERMETIC_VARS = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL",
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BASE_URL", "MISTRAL_API_KEY", "MISTRAL_BASE_URL",
    "DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL", "ZHIPU_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY", "ZHIPU_BASE_URL",
    "OLLAMA_HOST", "OLLAMA_HOSTS", "LMSTUDIO_HOSTS", "OPENAI_COMPATIBLE_HOSTS", "AUTOBYTEUS_LLM_SERVER_HOSTS",
    "AUTOBYTEUS_API_KEY", "AUTOBYTEUS_PROTOCOL_GENERATION", "AUTOBYTEUS_SSL_CERT_FILE", "LLMKIT_CACHE_DIR",
    "LLMKIT_DISCOVERY_TIMEOUT", "LLMKIT_DISCOVERY_CONNECT_TIMEOUT", "OLLAMA_API_KEY", "LMSTUDIO_API_KEY",
    "LM_API_TOKEN", "OPENAI_COMPATIBLE_API_KEY", "GROQ_API_KEY", "GROQ_BASE_URL", "DEEPINFRA_API_KEY",
    "DEEPINFRA_TOKEN", "TOGETHER_API_KEY", "FIREWORKS_API_KEY", "OPENROUTER_API_KEY", "CEREBRAS_API_KEY",
)


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    for name in _HERMETIC_VARS:
        monkeypatch.delenv(name, raising=False)
    # Point local runtimes at a port nothing listens on, so discovery never sees a developer's own servers.
    for name in ("OLLAMA_HOSTS", "LMSTUDIO_HOSTS"):
        monkeypatch.setenv(name, "127.0.0.1:9")
    monkeypatch.setenv("OPENAI_COMPATIBLE_HOSTS", "none")
    monkeypatch.setenv("LLMKIT_CACHE_DIR", str(tmp_path_factory.mktemp("llmkit-cache")))
    monkeypatch.setenv("LLMKIT_CONFIG_DIR", str(tmp_path_factory.mktemp("llmkit-config")))  # no models.yaml
    LLMFactory.reset()
    yield
    LLMFactory.reset()
