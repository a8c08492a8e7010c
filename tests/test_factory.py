"""LLMFactory: registry, lookup with suggestions, availability, reload plug-in point."""

from __future__ import annotations

import pytest

from llmkit import InvalidIdentifierError, LLMFactory, LLMModel, LLMProvider, LLMRuntime, UnknownModelError
from llmkit.discovery import register_discoverer


def test_lists_catalog_and_mock_models() -> None:
    models = LLMFactory.list_models()
    ids = {m.identifier for m in models}
    assert {"gpt-5.5", "claude-sonnet-4-5", "gemini-3.6-flash", "echo:mock", "oracle:mock"} <= ids
    mock = LLMFactory.list_models(runtime=LLMRuntime.MOCK)
    assert mock and all(m.runtime is LLMRuntime.MOCK for m in mock)
    anthropic = LLMFactory.list_models(provider="anthropic")
    assert anthropic and all(m.provider is LLMProvider.ANTHROPIC for m in anthropic)


def test_ensure_initialized_is_idempotent() -> None:
    LLMFactory.ensure_initialized()
    first = LLMFactory.list_models()
    LLMFactory.ensure_initialized()
    assert LLMFactory.list_models() == first


def test_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(UnknownModelError) as info:
        LLMFactory.get_model("claude-sonet-4-5")
    assert "claude-sonnet-4-5" in info.value.suggestions
    assert "Did you mean" in str(info.value) and "list_models" in str(info.value)


def test_malformed_id_is_not_reported_as_unknown() -> None:
    with pytest.raises(InvalidIdentifierError):
        LLMFactory.get_model("llama3:ollama")


def test_missing_key_marks_api_models_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not LLMFactory.availability("gpt-5.5")
    assert LLMFactory.availability("gpt-5.5").reason == "set OPENAI_API_KEY"
    assert LLMFactory.availability("echo:mock")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-present")
    assert LLMFactory.availability("gpt-5.5")


def _model(name: str, host: str) -> LLMModel:
    return LLMModel(name=name, provider=LLMProvider.OTHER, runtime=LLMRuntime.OPENAI_COMPATIBLE, backend="mock",
                    host=host, host_url=f"http://{host}")


def test_reload_models_clears_then_discovers_one_runtime_and_host() -> None:
    served = {"127.0.0.1:7001": ["a", "b"], "127.0.0.1:7002": ["a"]}

    async def discover(host: str | None) -> list[LLMModel]:
        hosts = [host] if host else list(served)
        return [_model(name, h) for h in hosts for name in served.get(h, [])]

    from llmkit import discovery

    previous = discovery._DISCOVERERS.get(LLMRuntime.OPENAI_COMPATIBLE)
    register_discoverer(LLMRuntime.OPENAI_COMPATIBLE, discover)
    try:
        LLMFactory.ensure_initialized()
        assert len(LLMFactory.list_models(runtime=LLMRuntime.OPENAI_COMPATIBLE)) == 3
        mock_before = LLMFactory.list_models(runtime=LLMRuntime.MOCK)
        served["127.0.0.1:7001"] = []  # that server went down
        assert LLMFactory.reload_models(LLMRuntime.OPENAI_COMPATIBLE) == 1
        ids = {m.identifier for m in LLMFactory.list_models(runtime=LLMRuntime.OPENAI_COMPATIBLE)}
        assert ids == {"a:openai-compatible@127.0.0.1:7002"}
        assert LLMFactory.list_models(runtime=LLMRuntime.MOCK) == mock_before  # other runtimes untouched
        served["127.0.0.1:7001"] = ["c"]  # it came back with another model
        assert LLMFactory.reload_models("openai-compatible", host="http://127.0.0.1:7001/v1") == 1
        ids = {m.identifier for m in LLMFactory.list_models(runtime=LLMRuntime.OPENAI_COMPATIBLE)}
        assert ids == {"a:openai-compatible@127.0.0.1:7002", "c:openai-compatible@127.0.0.1:7001"}
    finally:
        discovery._DISCOVERERS.pop(LLMRuntime.OPENAI_COMPATIBLE, None)
        if previous is not None:  # the real OpenAI-compatible discoverer, for the tests that follow
            register_discoverer(LLMRuntime.OPENAI_COMPATIBLE, previous)


def test_register_model_adds_a_gateway_model() -> None:
    model = _model("tiny", "127.0.0.1:7003")
    LLMFactory.register_model(model)
    assert LLMFactory.get_model("tiny:openai-compatible@127.0.0.1:7003") is model
    llm = LLMFactory.create_llm("tiny:openai-compatible@127.0.0.1:7003")
    assert llm.send_user_message_sync("What is 1 + 1?").content == "The answer is 2."
