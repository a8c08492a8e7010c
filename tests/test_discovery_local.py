"""Discovery of local runtimes against real loopback servers: identifiers, several hosts, failures, reload."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from llmkit.discovery import probe
from llmkit.factory import LLMFactory
from llmkit.models import LLMProvider, LLMRuntime
from llmkit.pricing import FREE
from tests.servers import (
    AutoByteusServer,
    GarbageServer,
    HungServer,
    ModelSpec,
    OllamaServer,
    OpenAIChatServer,
)

Loopback = Callable[..., Any]


def _ids(runtime: LLMRuntime) -> set[str]:
    return {m.identifier for m in LLMFactory.list_models(runtime=runtime)}


@pytest.fixture
def no_defaults(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Only what a test configures is probed."""
    for name in ("OLLAMA_HOSTS", "LMSTUDIO_HOSTS", "OPENAI_COMPATIBLE_HOSTS"):
        monkeypatch.setenv(name, "none" if name != "OLLAMA_HOSTS" else "127.0.0.1:9")
    return monkeypatch


def test_two_ollama_hosts_with_the_same_models_give_two_identifiers_each(loopback: Loopback,
                                                                          no_defaults: pytest.MonkeyPatch) -> None:
    a, b = loopback(OllamaServer), loopback(OllamaServer, models=["llama3.2:latest", "gemma3:4b"])
    no_defaults.setenv("OLLAMA_HOSTS", f"{a.host},http://{b.host}/v1")
    ids = _ids(LLMRuntime.OLLAMA)
    assert f"llama3.2:latest:ollama@{a.host}" in ids and f"llama3.2:latest:ollama@{b.host}" in ids
    assert f"qwen3:latest:ollama@{a.host}" in ids and f"gemma3:4b:ollama@{b.host}" in ids
    assert len(ids) == 5
    qwen = LLMFactory.get_model(f"qwen3:latest:ollama@{a.host}")
    assert qwen.provider is LLMProvider.QWEN and qwen.host == a.host and qwen.host_url == a.base_url
    assert qwen.context_window == 40960 and qwen.pricing == FREE
    assert qwen.parameters["num_ctx"]["maximum"] == 40960 and "think" in qwen.parameters
    llava = LLMFactory.get_model(f"llava:latest:ollama@{a.host}")
    assert "vision" in llava.capabilities and "think" not in llava.parameters
    assert LLMFactory.get_model(f"gemma3:4b:ollama@{b.host}").provider is LLMProvider.GOOGLE


def test_gpt_oss_think_takes_a_level(loopback: Loopback, no_defaults: pytest.MonkeyPatch) -> None:
    server = loopback(OllamaServer, models=[ModelSpec("gpt-oss:20b", 131072, ("completion", "thinking"), "gptoss")])
    no_defaults.setenv("OLLAMA_HOSTS", server.host)
    think = LLMFactory.get_model(f"gpt-oss:20b:ollama@{server.host}").parameters["think"]
    assert think["enum"] == ["low", "medium", "high"] and think["x-ui"] == "dropdown"


def test_down_hung_and_garbage_hosts_are_skipped(loopback: Loopback, no_defaults: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    good, garbage = loopback(OllamaServer), loopback(GarbageServer)
    down = loopback(OllamaServer)
    down.stop()
    no_defaults.setenv("LLMKIT_DISCOVERY_TIMEOUT", "0.5")
    with HungServer() as hung, caplog.at_level(logging.DEBUG, logger="llmkit.discovery"):
        no_defaults.setenv("OLLAMA_HOSTS", ",".join([good.host, down.host, hung.host, garbage.host]))
        started = time.perf_counter()
        LLMFactory.ensure_initialized()
        elapsed = time.perf_counter() - started
    assert {m.host for m in LLMFactory.list_models(runtime="ollama")} == {good.host}
    assert elapsed < probe.host_deadline() + 2.0  # bounded by the discovery timeout, plus generous slack
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(hung.host in w and "timed out" in w for w in warnings)
    assert any(garbage.host in w and "not JSON" in w for w in warnings)
    assert not any(down.host in w for w in warnings)  # nothing running is normal: debug only


@pytest.mark.parametrize("kind", ["html", "wrong_shape", "empty"])
def test_other_garbage_is_skipped_too(loopback: Loopback, no_defaults: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture, kind: str) -> None:
    garbage = loopback(GarbageServer, kind)
    no_defaults.setenv("OPENAI_COMPATIBLE_HOSTS", garbage.base_url)
    no_defaults.setenv("LMSTUDIO_HOSTS", garbage.host)
    assert LLMFactory.list_models(runtime="openai-compatible") == []
    assert LLMFactory.list_models(runtime="lmstudio") == []
    assert garbage.host in caplog.text


def test_reload_after_stop_and_restart_touches_only_that_host(loopback: Loopback,
                                                              no_defaults: pytest.MonkeyPatch) -> None:
    a, b = loopback(OllamaServer), loopback(OllamaServer)
    other = loopback(OpenAIChatServer, "llamacpp")
    no_defaults.setenv("OLLAMA_HOSTS", f"{a.host},{b.host}")
    no_defaults.setenv("OPENAI_COMPATIBLE_HOSTS", other.base_url)
    before = _ids(LLMRuntime.OLLAMA)
    compat = _ids(LLMRuntime.OPENAI_COMPATIBLE)
    mock_count = len(LLMFactory.list_models(runtime="mock"))
    assert len(before) == 6 and len(compat) == 1

    a.stop()
    assert LLMFactory.reload_models(LLMRuntime.OLLAMA) == 3
    assert {m.host for m in LLMFactory.list_models(runtime="ollama")} == {b.host}
    assert _ids(LLMRuntime.OPENAI_COMPATIBLE) == compat
    assert len(LLMFactory.list_models(runtime="mock")) == mock_count

    a.start(a.port)  # same port again
    assert LLMFactory.reload_models("ollama", f"http://{a.host}/v1") == 3
    assert _ids(LLMRuntime.OLLAMA) == before


def test_reload_of_one_host_finds_a_new_model_and_drops_a_removed_one(loopback: Loopback,
                                                                      no_defaults: pytest.MonkeyPatch) -> None:
    a, b = loopback(OllamaServer), loopback(OllamaServer)
    no_defaults.setenv("OLLAMA_HOSTS", f"{a.host},{b.host}")
    LLMFactory.ensure_initialized()
    a.models[:] = [m for m in a.models if m.id != "llava:latest"] + [ModelSpec("phi4:latest", family="phi3")]
    assert LLMFactory.reload_models("ollama", a.host) == 3
    ids = _ids(LLMRuntime.OLLAMA)
    assert f"phi4:latest:ollama@{a.host}" in ids and f"llava:latest:ollama@{a.host}" not in ids
    assert f"llava:latest:ollama@{b.host}" in ids


def test_lmstudio_rest_listing_and_v1_fallback(loopback: Loopback, no_defaults: pytest.MonkeyPatch) -> None:
    studio = loopback(OpenAIChatServer, "lmstudio", models=[
        ModelSpec("qwen3-4b", 32768, family="qwen3"),
        ModelSpec("qwen2-vl-7b-instruct", 32768, ("completion", "vision"), "qwen2_vl", loaded=False),
    ])
    plain = loopback(OpenAIChatServer, "vllm", models=[ModelSpec("mistral-7b-instruct", 8192)])
    no_defaults.setenv("LMSTUDIO_HOSTS", f"{studio.host},{plain.base_url}/v1")
    models = {m.identifier: m for m in LLMFactory.list_models(runtime="lmstudio")}
    vl = models[f"qwen2-vl-7b-instruct:lmstudio@{studio.host}"]
    assert vl.context_window == 32768 and "vision" in vl.capabilities and vl.metadata["state"] == "not-loaded"
    assert vl.backend == "lmstudio" and vl.provider is LLMProvider.QWEN
    fallback = models[f"mistral-7b-instruct:lmstudio@{plain.host}"]
    assert fallback.context_window is None and fallback.provider is LLMProvider.MISTRAL


def test_openai_compatible_context_from_props_and_max_model_len(loopback: Loopback,
                                                                no_defaults: pytest.MonkeyPatch) -> None:
    llama = loopback(OpenAIChatServer, "llamacpp", n_ctx=16384)
    vllm = loopback(OpenAIChatServer, "vllm")
    no_defaults.setenv("OPENAI_COMPATIBLE_HOSTS", f"{llama.base_url}/v1,{vllm.host}")
    served = LLMFactory.get_model(f"qwen3-4b-q4_k_m.gguf:openai-compatible@{llama.host}")
    assert served.context_window == 16384 and served.metadata["n_ctx_train"] == 131072
    assert served.parameters["max_tokens"]["maximum"] == 16384
    assert LLMFactory.get_model(f"Qwen/Qwen3-8B:openai-compatible@{vllm.host}").context_window == 32768


def test_autobyteus_validates_entries(loopback: Loopback, no_defaults: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    good = {"name": "claude-rpa", "value": "claude-rpa", "provider": "ANTHROPIC",
            "config": {"token_limit": 100000, "pricing_config": {"input_token_pricing": 1.5,
                                                                 "output_token_pricing": 6}}}
    bad = [
        {"name": "", "value": "x", "provider": "OPENAI", "config": {"a": 1}},
        {"name": "no-config", "value": "x", "provider": "OPENAI", "config": {}},
        {"name": "odd-provider", "value": "x", "provider": "ACME", "config": {"a": 1}},
        {"name": "neg-price", "value": "x", "provider": "OPENAI",
         "config": {"pricing_config": {"input_token_pricing": -1, "output_token_pricing": 0}}},
        {"name": "str-price", "value": "x", "provider": "OPENAI",
         "config": {"pricing_config": {"input_token_pricing": "1", "output_token_pricing": 0}}},
        {"value": "nameless"},
    ]
    server = loopback(AutoByteusServer, models=["gpt-5-instant-rpa", good, *bad], api_key="secret-key")
    no_defaults.setenv("AUTOBYTEUS_LLM_SERVER_HOSTS", f"http://{server.host}")
    no_defaults.setenv("AUTOBYTEUS_API_KEY", "secret-key")
    models = {m.name: m for m in LLMFactory.list_models(runtime="autobyteus")}
    assert set(models) == {"gpt-5-instant-rpa", "claude-rpa"}
    claude = models["claude-rpa"]
    assert claude.identifier == f"claude-rpa:autobyteus@{server.host}"
    assert claude.provider is LLMProvider.ANTHROPIC and claude.context_window == 100000
    assert claude.pricing is not None and str(claude.pricing.rates.output) == "6"
    assert models["gpt-5-instant-rpa"].pricing == FREE
    assert server.requests_to("/models/llm")[0].headers["autobyteus_api_key"] == "secret-key"
    for name in ("no-config", "odd-provider", "neg-price", "str-price"):
        assert name in caplog.text
    assert "secret-key" not in caplog.text


def test_autobyteus_is_not_probed_unless_configured(loopback: Loopback, no_defaults: pytest.MonkeyPatch) -> None:
    server = loopback(AutoByteusServer)
    no_defaults.setenv("AUTOBYTEUS_API_KEY", "k-1234")
    assert LLMFactory.list_models(runtime="autobyteus") == []
    assert server.requests == []
