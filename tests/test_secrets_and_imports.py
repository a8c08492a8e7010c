"""API keys never leak; `import llmkit` stays light; the public API changes only on purpose."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import llmkit
from llmkit import AuthenticationError, LLMConfig, LLMFactory
from llmkit.api.http import Endpoint, map_http_error

SENTINEL = "sk-SENTINEL-0123456789abcdef"


def test_api_key_never_appears_in_reprs_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    endpoint = Endpoint("https://api.example.test/v1", {"Authorization": f"Bearer {SENTINEL}"}, "openai",
                        "OPENAI_API_KEY")
    error = map_http_error(endpoint, 401, {}, json.dumps({"error": {"message": f"Incorrect API key: {SENTINEL}"}}))
    assert isinstance(error, AuthenticationError)
    texts = [str(error), repr(error), repr(endpoint), repr(LLMFactory.get_model("gpt-5.5")),
             repr(LLMFactory.resolve_config("gpt-5.5")), repr(LLMConfig())]
    for text in texts:
        assert SENTINEL not in text
    assert "***" in str(error) and "OPENAI_API_KEY" in str(error)


def test_missing_key_names_the_environment_variable() -> None:
    pytest.importorskip("llmkit.api.openai_chat")
    llm = LLMFactory.create_llm("gpt-5.5")
    with pytest.raises(AuthenticationError) as info:
        llm.send_user_message_sync("hi")
    assert info.value.env_var == "OPENAI_API_KEY" and "OPENAI_API_KEY" in str(info.value)


HEAVY = ["pandas", "matplotlib", "ipywidgets", "numpy", "pyarrow", "tqdm", "openai", "anthropic", "google.genai",
         "ollama", "diskcache", "jsonschema", "pydantic", "httpx"]


def test_import_llmkit_pulls_in_nothing_heavy() -> None:
    code = f"import sys, llmkit; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_factory_start_up_does_not_load_notebook_or_sdk_modules() -> None:
    code = (
        "import sys; from llmkit import LLMFactory; LLMFactory.ensure_initialized(); "
        "print([m for m in ['pandas','matplotlib','ipywidgets','openai','anthropic','google.genai','ollama'] "
        "if m in sys.modules])"
    )
    env_code = "import os; os.environ['OLLAMA_HOSTS']='127.0.0.1:9'; os.environ['LMSTUDIO_HOSTS']='127.0.0.1:9'; "
    out = subprocess.run([sys.executable, "-c", env_code + code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_is_explicit() -> None:
    assert set(llmkit.__all__) == {
        "AuthenticationError", "BaseLLM", "BudgetExceededError", "ChunkResponse", "CompleteResponse",
        "ConfigValidationError", "ConfigurationError", "ContextLengthError", "FinishReason", "InvalidIdentifierError",
        "LLMConfig",
        "LLMError", "LLMFactory", "LLMModel", "LLMProvider", "LLMRuntime", "LLMTimeoutError", "Message",
        "ModelNotFoundError", "PermissionDeniedError", "PricingConfig", "ProviderError", "ProviderUnavailableError",
        "QuotaExceededError", "RateLimitError", "ResponseStream", "Role", "StreamError", "TokenUsage",
        "UnknownModelError", "__version__", "format_identifier", "parse_identifier",
    }
    for name in llmkit.__all__:
        assert getattr(llmkit, name) is not None
