"""The usage contract and the normalised finish reason, for every wire protocol over real loopback HTTP.

Usage: a server that reports no usage gets its tokens counted by llmkit and marked estimated, unary and streamed
alike, the same for every adapter (never zeros). Finish reason: one normalised word per outcome, the provider's
own value kept beside it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.api import anthropic_messages, gemini, ollama, openai_chat
from llmkit.api.wire import finish_reason
from llmkit.base import BaseLLM
from llmkit.cache import records
from llmkit.config import LLMConfig
from llmkit.evals.store import iter_rows
from llmkit.factory import LLMFactory
from llmkit.messages import FINISH_REASONS, CompleteResponse
from llmkit.tokens import count_tokens
from tests.servers import AnthropicServer, AutoByteusServer, GeminiServer, LoopbackServer, OllamaServer
from tests.servers.openai_chat import OpenAIChatServer

KEY = "sk-usage-test-1"
PROMPT = "hello there friend"
ANSWER = "Echo: hello there friend"


@dataclass
class Protocol:
    server: LoopbackServer
    model: str
    stop_raw: str | None  # the server's word for a natural end
    length_raw: str | None  # ... and for hitting max_tokens (None: the protocol has no output cap)
    served: str | None  # the model the server's bodies name (None: the protocol names none)

    def llm(self, **config: Any) -> BaseLLM:
        return LLMFactory.create_llm(self.model, LLMConfig(**config) if config else None)


def _openai(loopback: Callable[..., Any], env: pytest.MonkeyPatch) -> Protocol:
    server = loopback(OpenAIChatServer, "openai", api_key=KEY)
    env.setenv("OPENAI_API_KEY", KEY)
    env.setenv("OPENAI_BASE_URL", server.base_url + "/v1")
    return Protocol(server, "gpt-5.5", "stop", "length", "gpt-5.5")


def _anthropic(loopback: Callable[..., Any], env: pytest.MonkeyPatch) -> Protocol:
    server = loopback(AnthropicServer, api_key=KEY)
    env.setenv("ANTHROPIC_API_KEY", KEY)
    env.setenv("ANTHROPIC_BASE_URL", server.base_url)
    return Protocol(server, "claude-haiku-4-5", "end_turn", "max_tokens", "claude-haiku-4-5")


def _gemini(loopback: Callable[..., Any], env: pytest.MonkeyPatch) -> Protocol:
    server = loopback(GeminiServer, api_key=KEY)
    env.setenv("GEMINI_API_KEY", KEY)
    env.setenv("GEMINI_BASE_URL", server.base_url + "/v1beta")
    return Protocol(server, "gemini-3.6-flash", "STOP", "MAX_TOKENS", "gemini-3.6-flash")


def _ollama(loopback: Callable[..., Any], env: pytest.MonkeyPatch) -> Protocol:
    server = loopback(OllamaServer)
    env.setenv("OLLAMA_HOSTS", server.host)
    return Protocol(server, f"llama3.2:latest:ollama@{server.host}", "stop", "length", "llama3.2:latest")


def _autobyteus(loopback: Callable[..., Any], env: pytest.MonkeyPatch) -> Protocol:
    server = loopback(AutoByteusServer, api_key=KEY)
    env.setenv("AUTOBYTEUS_LLM_SERVER_HOSTS", server.base_url)
    env.setenv("AUTOBYTEUS_API_KEY", KEY)
    return Protocol(server, f"gpt-5-instant-rpa:autobyteus@{server.host}", None, None, None)


@pytest.fixture(params=[_openai, _anthropic, _gemini, _ollama, _autobyteus],
                ids=["openai_chat", "anthropic", "gemini", "ollama", "autobyteus"])
def protocol(request: pytest.FixtureRequest, loopback: Callable[..., Any],
             monkeypatch: pytest.MonkeyPatch) -> Protocol:
    for name in ("LMSTUDIO_HOSTS", "OPENAI_COMPATIBLE_HOSTS", "OLLAMA_HOSTS", "AUTOBYTEUS_LLM_SERVER_HOSTS"):
        monkeypatch.setenv(name, "none")
    # discovery must find the loopback server even on a loaded CI machine (the defaults suit real networks)
    monkeypatch.setenv("LLMKIT_DISCOVERY_CONNECT_TIMEOUT", "5")
    monkeypatch.setenv("LLMKIT_DISCOVERY_TIMEOUT", "10")
    made: Protocol = request.param(loopback, monkeypatch)
    LLMFactory.ensure_initialized()  # discovers the local servers (sync fixture: no loop runs here)
    return made


async def _answer(llm: BaseLLM, streaming: bool) -> CompleteResponse:
    return await (llm.stream_user_message(PROMPT).get() if streaming else llm.send_user_message(PROMPT))


# ----- usage ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_a_server_without_usage_is_counted_and_marked_estimated(protocol: Protocol, streaming: bool) -> None:
    protocol.server.omit_usage = True
    response = await _answer(protocol.llm(), streaming)
    assert response.content == ANSWER
    usage = response.usage
    assert usage.estimated, usage
    assert usage.output_tokens == count_tokens(ANSWER) and usage.input_tokens >= count_tokens(PROMPT)
    assert response.finish_reason == "stop"


async def test_unary_and_stream_estimate_alike(protocol: Protocol) -> None:
    protocol.server.omit_usage = True
    unary = await _answer(protocol.llm(), streaming=False)
    streamed = await _answer(protocol.llm(), streaming=True)
    assert unary.usage == streamed.usage and unary.usage.estimated


async def test_reported_usage_is_the_servers(protocol: Protocol) -> None:
    for streaming in (False, True):
        usage = (await _answer(protocol.llm(), streaming)).usage
        assert not usage.estimated and usage.output_tokens > 0 and usage.input_tokens > 0


# ----- finish reason -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_a_natural_end_is_stop_with_the_raw_value_kept(protocol: Protocol, streaming: bool) -> None:
    response = await _answer(protocol.llm(), streaming)
    assert response.finish_reason == "stop"
    assert response.finish_reason_raw == protocol.stop_raw


@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_hitting_max_tokens_is_length_with_the_raw_value_kept(protocol: Protocol, streaming: bool) -> None:
    if protocol.length_raw is None:
        pytest.skip("the protocol has no output cap")
    response = await _answer(protocol.llm(max_tokens=2), streaming)
    assert response.content == "Echo: hello"
    assert response.finish_reason == "length"
    assert response.finish_reason_raw == protocol.length_raw


# ----- the model that answered --------------------------------------------------------------------------------
@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_the_model_the_server_names_is_kept(protocol: Protocol, streaming: bool, tmp_path: Path) -> None:
    response = await _answer(LLMFactory.create_llm(protocol.model, cache=tmp_path / "cache"), streaming)
    assert not response.cached and response.served_model == protocol.served
    replayed = await _answer(LLMFactory.create_llm(protocol.model, cache=tmp_path / "cache"), streaming)
    assert replayed.cached and replayed.served_model == protocol.served  # a cache hit says who answered then


TABLES = {
    "openai_chat": openai_chat.FINISH_REASONS,
    "anthropic": anthropic_messages.FINISH_REASONS,
    "gemini": gemini.FINISH_REASONS,
    "ollama": ollama.FINISH_REASONS,
}


@pytest.mark.parametrize("table", TABLES.values(), ids=TABLES.keys())
def test_every_table_maps_to_the_normalised_words(table: dict[str, str]) -> None:
    assert set(table.values()) <= FINISH_REASONS
    assert finish_reason("a-value-from-next-year", table) == "unknown"  # type: ignore[arg-type]
    assert finish_reason(None, table) == "unknown"  # type: ignore[arg-type]


@pytest.mark.parametrize(("table", "raw", "normalised"), [
    # protocols.md: each dialect's documented values
    ("openai_chat", "content_filter", "content_filter"),
    ("openai_chat", "tool_calls", "tool_calls"),
    ("openai_chat", "model_length", "length"),  # Mistral
    ("openai_chat", "insufficient_system_resource", "error"),  # DeepSeek
    ("openai_chat", "sensitive", "content_filter"),  # Zhipu
    ("openai_chat", "network_error", "error"),  # Zhipu
    ("anthropic", "stop_sequence", "stop"),
    ("anthropic", "refusal", "content_filter"),
    ("anthropic", "tool_use", "tool_calls"),
    ("anthropic", "model_context_window_exceeded", "length"),
    ("anthropic", "pause_turn", "unknown"),
    ("gemini", "SAFETY", "content_filter"),
    ("gemini", "RECITATION", "content_filter"),
    ("gemini", "PROHIBITED_CONTENT", "content_filter"),
    ("gemini", "MALFORMED_FUNCTION_CALL", "error"),
    ("gemini", "OTHER", "unknown"),
])
def test_documented_provider_values(table: str, raw: str, normalised: str) -> None:
    assert finish_reason(raw, TABLES[table]) == normalised  # type: ignore[arg-type]


def test_eval_rows_carry_the_normalised_finish_reason_and_the_raw_one(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock"], repeats=1,
                      configs=[{"label": "default"}, {"label": "short", "max_tokens": 2}])
    result = ev.run(spec, progress=False)
    rows = list(iter_rows(result.run_dir))
    by_label: dict[str, set[str]] = {}
    for row in rows:
        by_label.setdefault(row["config_label"], set()).add(row["finish_reason"])
    assert by_label == {"default": {"stop"}, "short": {"length"}}
    assert all(row["finish_reason_raw"] == row["finish_reason"] for row in rows)  # MOCK's words are llmkit's


def test_a_cache_entry_written_before_normalisation_reads_as_unknown_with_its_raw_word() -> None:
    body = json.dumps({"key": "k", "content": "hi", "reasoning": None, "usage": {"input_tokens": 1},
                       "finish_reason": "end_turn", "latency_s": 0.5, "ttft_s": 0.1, "model": "m",
                       "created_at": 1.0}, separators=(",", ":")).encode()
    stored = records._PREFIX + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
    answer = records.decode(stored, "k")
    assert (answer.finish_reason, answer.finish_reason_raw) == ("unknown", "end_turn")
