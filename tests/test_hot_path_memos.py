"""What the per-call fast paths keep between calls never goes stale (OpenAI server over loopback).

A sweep creates a client per call, so llmkit keeps a few things across clients: the CallPlan (options, price,
error classifier, body fields) of the last class, model, config and profile; the Host endpoint, until a variable
changes; whether anything can answer before the call. Each test changes what such a memo depends on and checks
the next request follows.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmkit import LLMConfig, LLMFactory
from llmkit.base import BaseLLM
from llmkit.messages import CompleteResponse, LLMRequest
from llmkit.settings import snapshot
from tests.provider_contract import SENTINEL_KEY as KEY
from tests.servers import OpenAIChatServer

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def server(openai_host: OpenAIChatServer) -> OpenAIChatServer:
    """The shared loopback OpenAI server (tests/servers/fixtures.py), accepting only KEY."""
    return openai_host


async def test_alternating_configs_each_send_their_own_fields(server: Any) -> None:
    cold = LLMFactory.resolve("gpt-4.1", LLMConfig(temperature=0.1, max_tokens=50, timeout=20))
    hot = LLMFactory.resolve("gpt-4.1", LLMConfig(temperature=0.9, timeout=30))
    for resolved in (cold, hot, cold, hot):
        llm = LLMFactory.create_llm("gpt-4.1", resolved)
        await llm.send_user_message("hi")
        body = server.requests[-1].json
        assert body["temperature"] == resolved.config.temperature
        assert body.get("max_completion_tokens", body.get("max_tokens")) == resolved.config.max_tokens
        assert llm.options().timeout_s == resolved.config.timeout  # type: ignore[attr-defined]


async def test_a_body_is_never_shared_with_the_next_call(server: Any) -> None:
    config = LLMFactory.resolve("gpt-4.1", LLMConfig(stop=["END"]))  # one config object, as a sweep passes it
    llm = LLMFactory.create_llm("gpt-4.1", config)
    first = llm.build_request(llm._request_for(llm._user_message("a", None), stream=False), stream=False)  # type: ignore[attr-defined]
    first.body["stop"].append("changed")  # a caller editing a body it got...
    await LLMFactory.create_llm("gpt-4.1", config).send_user_message("b")
    assert server.requests[-1].json["stop"] == ["END"]  # ...does not edit the next one


async def test_a_key_changed_between_calls_is_sent(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await LLMFactory.create_llm("gpt-4.1").send_user_message("hi")
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-another-key")
    with pytest.raises(Exception, match="API key"):  # the server knows only KEY: the new key went out
        await LLMFactory.create_llm("gpt-4.1").send_user_message("hi")
    assert server.requests[-1].headers["authorization"] == "Bearer sk-another-key"


def test_the_endpoint_memo_key_follows_every_change(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("LLMKIT_TEST_A", "LLMKIT_TEST_B")
    monkeypatch.delenv("LLMKIT_TEST_A", raising=False)
    monkeypatch.delenv("LLMKIT_TEST_B", raising=False)
    seen = {snapshot(names)}
    for name, value in (("LLMKIT_TEST_A", "1"), ("LLMKIT_TEST_A", "2"), ("LLMKIT_TEST_B", "1")):
        monkeypatch.setenv(name, value)
        assert snapshot(names) not in seen
        seen.add(snapshot(names))
    monkeypatch.delenv("LLMKIT_TEST_B")
    assert snapshot(names) == ("2", None)


class _Answer:
    async def before_invoke(self, llm: BaseLLM, request: LLMRequest) -> CompleteResponse:
        return CompleteResponse("from the extension", cached=True)


async def test_an_extension_registered_later_still_answers(server: Any) -> None:
    llm = LLMFactory.create_llm("gpt-4.1")
    await llm.send_user_message("hi")
    sent = len(server.requests)
    llm.register_extension(_Answer())
    assert (await llm.send_user_message("again")).content == "from the extension"
    assert len(server.requests) == sent  # answered before the call
    llm.unregister_extension(llm.extensions[-1])
    assert (await llm.send_user_message("third")).content != "from the extension"


async def test_a_subclass_overriding_before_invoke_is_still_called(server: Any) -> None:
    base = type(LLMFactory.create_llm("gpt-4.1"))

    class Answering(base):  # type: ignore[misc, valid-type]
        async def before_invoke(self, request: LLMRequest) -> CompleteResponse | None:
            return CompleteResponse("from the subclass", cached=True)

    model = LLMFactory.get_model("gpt-4.1")
    assert (await Answering(model).send_user_message("hi")).content == "from the subclass"
    assert not server.requests


async def test_a_profile_replaced_between_calls_is_used(server: Any) -> None:
    from dataclasses import replace

    from llmkit.api.openai_profiles import openai_profile, register_openai_profile

    config = LLMFactory.resolve("gpt-4.1", LLMConfig(max_tokens=50))
    await LLMFactory.create_llm("gpt-4.1", config).send_user_message("hi")
    assert "max_completion_tokens" in server.requests[-1].json
    original = openai_profile("openai")
    register_openai_profile(replace(original, max_tokens_field="max_tokens"))
    try:
        await LLMFactory.create_llm("gpt-4.1", config).send_user_message("hi")  # same model and config objects
        assert server.requests[-1].json["max_tokens"] == 50
    finally:
        register_openai_profile(original)
    await LLMFactory.create_llm("gpt-4.1", config).send_user_message("hi")
    assert "max_completion_tokens" in server.requests[-1].json


async def test_a_subclass_gets_its_own_plan(server: Any) -> None:
    base = type(LLMFactory.create_llm("gpt-4.1"))

    class Labelled(base):  # type: ignore[misc, valid-type]
        def config_fields(self) -> dict[str, Any]:
            return {**super().config_fields(), "user": "labelled"}

    model, config = LLMFactory.get_model("gpt-4.1"), LLMFactory.resolve_config("gpt-4.1")
    for llm, user in ((base(model, config), None), (Labelled(model, config), "labelled"), (base(model, config), None)):
        await llm.send_user_message("hi")
        assert server.requests[-1].json.get("user") == user
