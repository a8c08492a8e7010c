"""Issue 16.4 and 16.5 against loopback servers, on both transports: discovery and streams never reveal a key a
server echoes back, and the cache and per-host limits never mix up two endpoints serving the same model name."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import llmkit.evals as ev
from llmkit.api.http import HTTPExecutor, executor, set_executor
from llmkit.config import LLMConfig
from llmkit.errors import StreamError
from llmkit.evals.limits import Limits
from llmkit.evals.plan import Variant, host_key
from llmkit.factory import LLMFactory
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from tests.servers.key_echo import KeyEchoServer
from tests.servers.openai_chat import OpenAIChatServer

SECRET = "sk-ECHOED-3f9a1c7be2d04e58"


@pytest.fixture(params=["aiohttp", "httpx"])
def transport(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once per HTTP transport."""
    previous = executor()
    set_executor(HTTPExecutor(backend=request.param))
    yield request.param
    set_executor(previous)


def _everything_shown(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    captured = capfd.readouterr()
    return caplog.text + captured.out + captured.err


# ----- 16.4: discovery never prints a key -------------------------------------------------------------------
@pytest.mark.parametrize(("runtime", "hosts_var", "key_var"), [
    ("openai-compatible", "OPENAI_COMPATIBLE_HOSTS", "OPENAI_COMPATIBLE_API_KEY"),
    ("ollama", "OLLAMA_HOSTS", "OLLAMA_API_KEY"),
    ("lmstudio", "LMSTUDIO_HOSTS", "LM_API_TOKEN"),
    ("autobyteus", "AUTOBYTEUS_LLM_SERVER_HOSTS", "AUTOBYTEUS_API_KEY"),
])
def test_discovery_never_prints_a_key_the_server_echoes(
        runtime: str, hosts_var: str, key_var: str, loopback: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    server = loopback(KeyEchoServer)
    monkeypatch.setenv(hosts_var, server.base_url)
    monkeypatch.setenv(key_var, SECRET)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("llmkit").addHandler(stderr := logging.StreamHandler())  # what a user's console shows
    try:
        LLMFactory.ensure_initialized()  # discovers every runtime, this server included
        assert LLMFactory.reload_models(runtime) == 0
    finally:
        logging.getLogger("llmkit").removeHandler(stderr)
    shown = _everything_shown(caplog, capfd)
    assert server.requests, "the server was asked"
    assert "401" in shown and "Incorrect API key provided: ***" in shown  # the failure is reported ...
    assert SECRET not in shown  # ... without the key


def test_discovery_of_an_echoing_server_with_a_failing_discoverer_keeps_the_traceback_redacted(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from llmkit.discovery import discover, register_discoverer

    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", SECRET)

    async def broken(host: str | None) -> list[LLMModel]:
        raise RuntimeError(f"server said: bad key {SECRET}")

    register_discoverer(LLMRuntime.OPENAI_COMPATIBLE, broken)
    try:
        caplog.set_level(logging.DEBUG)
        from llmkit._sync import run_sync

        assert run_sync(discover(LLMRuntime.OPENAI_COMPATIBLE)) == []
    finally:
        register_discoverer(LLMRuntime.OPENAI_COMPATIBLE,
                            "llmkit.discovery.openai_compatible:discover_openai_compatible")
    assert "bad key ***" in caplog.text and "RuntimeError" in caplog.text and SECRET not in caplog.text


# ----- 16.4: a key echoed in streamed content before an error ------------------------------------------------
def _local_model(server: KeyEchoServer, runtime: LLMRuntime) -> LLMModel:
    return LLMFactory.register_model(LLMModel(
        name="echoer", provider=LLMProvider.OTHER, runtime=runtime, backend=runtime.value, host=server.host,
        host_url=server.base_url))


@pytest.mark.parametrize(("runtime", "key_var"), [(LLMRuntime.OPENAI_COMPATIBLE, "OPENAI_COMPATIBLE_API_KEY"),
                                                  (LLMRuntime.OLLAMA, "OLLAMA_API_KEY")])
def test_partial_content_of_a_broken_stream_is_redacted(
        runtime: LLMRuntime, key_var: str, transport: str, loopback: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = loopback(KeyEchoServer)
    monkeypatch.setenv(key_var, SECRET)
    llm = LLMFactory.create_llm(_local_model(server, runtime).identifier)

    async def consume() -> list[str]:
        return [chunk.content async for chunk in llm.stream_user_message("hello")]

    from llmkit._sync import run_sync

    with pytest.raises(StreamError) as info:
        run_sync(consume())
    error = info.value
    assert error.partial_content is not None and error.partial_content.startswith("You sent ***")
    for text in (error.partial_content, str(error), repr(error), error.provider_message or ""):
        assert SECRET not in text


def test_an_eval_row_never_stores_a_key_echoed_before_a_stream_error(
        transport: str, loopback: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    server = loopback(KeyEchoServer)
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", SECRET)
    model = _local_model(server, LLMRuntime.OPENAI_COMPATIBLE)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "echo-key", "models": [model.identifier], "prompts": [{"id": "p1", "prompt": "hello"}],
        "output": str(tmp_path / "runs"), "cache": False}), "utf-8")
    result = ev.run(spec, progress=False)
    rows = result.load()
    assert list(rows["error_type"]) == ["StreamError"] and rows["output"][0].startswith("You sent ***")
    written = b"".join(p.read_bytes() for p in Path(result.run_dir).rglob("*") if p.is_file())
    assert SECRET.encode() not in written


# ----- 16.5: one endpoint's answer is never served for another -------------------------------------------------
def _gateway(server: OpenAIChatServer) -> LLMModel:
    """A gateway model as the README registers one: same name, its own base URL."""
    return LLMFactory.register_model(LLMModel(
        name="gw-model", provider=LLMProvider.OPENAI, runtime=LLMRuntime.API, backend="openai",
        host_url=server.base_url + "/v1"))


def test_two_gateways_serving_the_same_model_name_never_share_cache_entries(
        transport: str, loopback: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-gateway-key")
    first = loopback(OpenAIChatServer, "openai", models=["gw-model"])
    second = loopback(OpenAIChatServer, "openai", models=["gw-model"], scenario="reasoning")  # answers differently

    def ask(server: OpenAIChatServer) -> Any:
        model = _gateway(server)
        return LLMFactory.create_llm(model.identifier, cache=tmp_path).send_user_message_sync("same prompt")

    a = ask(first)
    b = ask(second)
    assert not b.cached, "the second gateway got the first one's cached answer"
    assert len(second.requests_to("/v1/chat/completions")) == 1
    assert (a.usage.reasoning_tokens, b.usage.reasoning_tokens) == (0, 7)
    again_a, again_b = ask(first), ask(second)
    assert again_a.cached and again_a.usage.reasoning_tokens == 0
    assert again_b.cached and again_b.usage.reasoning_tokens == 7
    assert len(first.requests_to("/v1/chat/completions")) == 1


def test_two_gateways_are_two_hosts_for_per_host_limits(loopback: Callable[..., Any]) -> None:
    first = loopback(OpenAIChatServer, "openai")
    second = loopback(OpenAIChatServer, "openai")
    variants = [Variant(model, "default", LLMConfig(), "{}", host_key(model))
                for model in (_gateway(first), _gateway(second))]
    assert [v.host_key for v in variants] == [first.host, second.host]
    limits = Limits(total=8, per_host={first.host: 1}, per_model={}, rpm_host=None, rpm_model=None)
    assert [limits.host_cap(v) for v in variants] == [1, 8]
    assert host_key(LLMFactory.get_model("gpt-5.5")) == "api.openai.com:443"
