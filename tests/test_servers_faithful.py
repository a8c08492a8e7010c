"""The loopback servers are faithful: the official SDKs parse what they send, and the wire details of
protocols.md (framing, usage placement, error bodies, keep-alives) are there."""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import httpx
import ollama
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as gtypes
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.servers import (
    AnthropicServer,
    AutoByteusServer,
    GarbageServer,
    GeminiServer,
    HungServer,
    ModelSpec,
    OllamaServer,
    OpenAIChatServer,
    fixtures,
)

# The fixtures, imported explicitly (assigned rather than imported by name so test parameters don't shadow imports).
anthropic_server = fixtures.anthropic_server
autobyteus_server = fixtures.autobyteus_server
gemini_server = fixtures.gemini_server
hung_server = fixtures.hung_server
loopback = fixtures.loopback
ollama_server = fixtures.ollama_server
openai_server = fixtures.openai_server

pytestmark = pytest.mark.timeout(30)

PROMPT = "hello loopback world"  # 3 input words
ANSWER = "Echo: hello loopback world"  # 4 output words
KEY_HEADERS = {"authorization": "Bearer sk-test"}


def sse_data(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("data: ")]


def chat_body(model: str = "m", content: str = PROMPT, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def oai(server: OpenAIChatServer | OllamaServer, prefix: str = "/v1", retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + prefix, api_key="sk-test", max_retries=retries)


# -- OpenAI Chat Completions family ---------------------------------------------------------------------------
COMPAT = ["openai", "deepseek", "zhipu", "vllm", "llamacpp", "lmstudio"]
PREFIX = {"zhipu": "/api/paas/v4", "deepseek": ""}
REASONING_FIELD = {
    "deepseek": "reasoning_content",
    "zhipu": "reasoning_content",
    "llamacpp": "reasoning_content",
    "vllm": "reasoning",
    "lmstudio": "reasoning",
}


@pytest.mark.parametrize("flavor", COMPAT)
def test_openai_sdk_unary(loopback: Any, flavor: str) -> None:
    server = loopback(OpenAIChatServer, flavor)
    client = oai(server, PREFIX.get(flavor, "/v1"))
    result = client.chat.completions.create(
        model="m", messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": PROMPT}]
    )
    assert result.choices[0].message.content == ANSWER
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (5, 4, 9)
    raw = httpx.post(f"{server.base_url}{PREFIX.get(flavor, '/v1')}/chat/completions", json=chat_body()).json()
    ChatCompletion.model_validate(raw)


@pytest.mark.parametrize("flavor", COMPAT)
def test_openai_sdk_stream_usage(loopback: Any, flavor: str) -> None:
    server = loopback(OpenAIChatServer, flavor)
    stream = oai(server, PREFIX.get(flavor, "/v1")).chat.completions.create(
        model="m", messages=[{"role": "user", "content": PROMPT}], stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].usage is not None
    assert usage_chunks[0].usage.prompt_tokens == 3 and usage_chunks[0].usage.completion_tokens == 4
    if flavor == "zhipu":  # usage rides on the finish_reason chunk, no opt-in needed
        assert usage_chunks[0].choices[0].finish_reason == "stop"
    else:
        assert chunks[-1] is usage_chunks[0] and chunks[-1].choices == []


def test_openai_stream_has_no_usage_chunk_without_opt_in(openai_server: OpenAIChatServer) -> None:
    with httpx.stream("POST", openai_server.base_url + "/v1/chat/completions", json=chat_body(stream=True)) as r:
        text = r.read().decode()
    payloads = sse_data(text)
    assert text.startswith(": keep-alive\n\n") and payloads[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate(json.loads(p)) for p in payloads[:-1]]
    assert all(c.choices and c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize("flavor", [*REASONING_FIELD, "openai"])
def test_reasoning_fields(loopback: Any, flavor: str) -> None:
    server = loopback(OpenAIChatServer, flavor)
    client = oai(server, PREFIX.get(flavor, "/v1"))
    content = f"{PROMPT} [scenario:reasoning]"
    message = client.chat.completions.create(model="m", messages=[{"role": "user", "content": content}])
    assert message.choices[0].message.content == ANSWER
    assert message.usage is not None and message.usage.completion_tokens == 4 + 7
    field = REASONING_FIELD.get(flavor)
    extra = message.choices[0].message.model_extra or {}
    if field is None:  # OpenAI never returns reasoning text, only the count
        assert not {"reasoning", "reasoning_content"} & set(extra)
        assert message.usage.completion_tokens_details is not None
        assert message.usage.completion_tokens_details.reasoning_tokens == 7
        return
    assert extra[field] == "The user wants me to echo it."
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": content}], stream=True)
    deltas = [c.choices[0].delta for c in stream if c.choices]
    assert "".join((d.model_extra or {}).get(field) or "" for d in deltas) == "The user wants me to echo it."


def test_reasoning_triggered_by_protocol_controls(loopback: Any) -> None:
    deepseek = oai(loopback(OpenAIChatServer, "deepseek"), "")
    on = deepseek.chat.completions.create(**chat_body(), extra_body={"thinking": {"type": "enabled"}})
    off = deepseek.chat.completions.create(**chat_body())
    assert (on.choices[0].message.model_extra or {}).get("reasoning_content")
    assert "reasoning_content" not in (off.choices[0].message.model_extra or {})
    vllm = oai(loopback(OpenAIChatServer, "vllm"))
    on = vllm.chat.completions.create(**chat_body(), extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    assert (on.choices[0].message.model_extra or {}).get("reasoning")


async def test_async_openai_stream(openai_server: OpenAIChatServer) -> None:
    client = openai.AsyncOpenAI(base_url=openai_server.base_url + "/v1", api_key="sk-test", max_retries=0)
    stream = await client.chat.completions.create(**chat_body(), stream=True, stream_options={"include_usage": True})
    text, usage = "", None
    async for chunk in stream:
        text += chunk.choices[0].delta.content or "" if chunk.choices else ""
        usage = chunk.usage or usage
    assert text == ANSWER and usage is not None and usage.total_tokens == 7
    await client.close()


def test_openai_errors(loopback: Any) -> None:
    server = loopback(OpenAIChatServer, "openai", api_key="sk-test", retry_after="0.2")
    client = oai(server)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.base_url + "/v1", api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(**chat_body(content="x [scenario:context_length]"))
    assert bad.value.code == "context_length_exceeded"
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(**chat_body(content="x [scenario:rate_limit]"))
    assert limited.value.code == "rate_limit_exceeded" and limited.value.response.headers["retry-after"] == "0.2"
    with pytest.raises(openai.RateLimitError) as broke:
        client.chat.completions.create(**chat_body(), extra_headers={"x-test-scenario": "quota"})
    assert broke.value.code == "insufficient_quota" and "retry-after" not in broke.value.response.headers
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(**chat_body(content="x [scenario:not_found]"))
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(**chat_body(content="x [scenario:unavailable]"))


def test_openai_sdk_honours_retry_after_then_succeeds(loopback: Any) -> None:
    server = loopback(OpenAIChatServer, "openai", retry_after="0.3")
    server.queue_scenarios(["rate_limit", "ok"])
    started = time.monotonic()
    result = oai(server, retries=1).chat.completions.create(**chat_body())
    assert result.choices[0].message.content == ANSWER
    assert len(server.requests_to("/v1/chat/completions")) == 2 and time.monotonic() - started >= 0.3


def test_openai_midstream_error_and_malformed_chunk(openai_server: OpenAIChatServer) -> None:
    client = oai(openai_server)
    received: list[str] = []
    with pytest.raises(openai.APIError, match="boom"):
        for chunk in client.chat.completions.create(**chat_body(content="x [scenario:error_midstream]"), stream=True):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Echo:"
    with pytest.raises(json.JSONDecodeError):
        list(client.chat.completions.create(**chat_body(content="x [scenario:malformed_chunk]"), stream=True))


def test_deepseek_wire_details(loopback: Any) -> None:
    server = loopback(OpenAIChatServer, "deepseek")
    with pytest.raises(openai.APIStatusError) as broke:
        oai(server, "").chat.completions.create(**chat_body(content="x [scenario:quota]"))
    assert broke.value.status_code == 402
    body = chat_body(
        content="hi [cached] a b c d", stream=True, stream_options={"include_usage": True}, thinking={"type": "enabled"}
    )
    text = httpx.post(server.base_url + "/chat/completions", json=body).text
    assert text.startswith(": keep-alive\n\n")
    usage = json.loads(sse_data(text)[-2])["usage"]
    assert usage["prompt_cache_hit_tokens"] == 4 and usage["prompt_cache_miss_tokens"] == 2
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 7
    assert json.loads(sse_data(text)[1])["choices"][0]["delta"]["reasoning_content"] == "The"


def test_llamacpp_server_extras(loopback: Any) -> None:
    server = loopback(OpenAIChatServer, "llamacpp", api_key="sk-test", n_ctx=4096)
    assert httpx.get(server.base_url + "/health").json() == {"status": "ok"}  # public even with --api-key
    assert httpx.get(server.base_url + "/props").status_code == 401
    props = httpx.get(server.base_url + "/props", headers=KEY_HEADERS).json()
    assert props["default_generation_settings"]["n_ctx"] == 4096
    model = oai(server).models.list().data[0]
    assert (model.model_extra or {})["meta"]["n_ctx_train"] == 131072
    text = httpx.post(
        server.base_url + "/v1/chat/completions",
        headers=KEY_HEADERS,
        json=chat_body(stream=True, stream_options={"include_usage": True}),
    ).text
    assert text.startswith(":\n\n") and "timings" in sse_data(text)[-2]
    error = httpx.post(
        server.base_url + "/v1/chat/completions",
        headers=KEY_HEADERS,
        json=chat_body(content="[scenario:context_length]"),
    ).json()["error"]
    assert error["type"] == "exceed_context_size_error" and error["n_ctx"] == 8192


def test_lmstudio_vllm_and_llamacpp_python_listings(loopback: Any) -> None:
    lmstudio = loopback(OpenAIChatServer, "lmstudio")
    v0 = httpx.get(lmstudio.base_url + "/api/v0/models").json()["data"]
    assert [(m["type"], m["state"], m["max_context_length"]) for m in v0] == [
        ("llm", "loaded", 32768),
        ("vlm", "not-loaded", 32768),
    ]
    vllm = loopback(OpenAIChatServer, "vllm", models=[ModelSpec("tiny", 2048)])
    assert (oai(vllm).models.list().data[0].model_extra or {})["max_model_len"] == 2048
    plain = loopback(OpenAIChatServer, "llamacpp_python")
    chunks = list(
        oai(plain).chat.completions.create(**chat_body(), stream=True, stream_options={"include_usage": True})
    )
    assert all(c.usage is None for c in chunks) and chunks[-1].choices[0].finish_reason == "stop"


def test_mistral_strict_schema_and_final_usage(loopback: Any) -> None:
    server = loopback(OpenAIChatServer, "mistral")
    url = server.base_url + "/v1/chat/completions"
    r = httpx.post(url, json=chat_body(stream=True, stream_options={"include_usage": True}))
    assert r.status_code == 422
    assert r.json() == {
        "object": "error",
        "message": {
            "detail": [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "stream_options", "include_usage"],
                    "msg": "Extra inputs are not permitted",
                }
            ]
        },
        "type": "invalid_request_error",
    }
    r = httpx.post(url, json=chat_body(max_completion_tokens=5))
    assert r.status_code == 422 and r.json()["message"]["detail"][0]["loc"] == ["body", "max_completion_tokens"]
    text = httpx.post(url, json=chat_body(stream=True, random_seed=7, max_tokens=100)).text
    last = json.loads(sse_data(text)[-2])
    assert last["choices"][0]["finish_reason"] == "stop" and last["usage"]["prompt_tokens"] == 3
    reasoned = httpx.post(url, json=chat_body(model="magistral-medium-latest")).json()
    content = reasoned["choices"][0]["message"]["content"]
    assert content[0]["type"] == "thinking" and content[1] == {"type": "text", "text": ANSWER}


# -- Anthropic Messages ---------------------------------------------------------------------------------------
def claude(server: AnthropicServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.base_url, api_key="sk-ant-test", max_retries=0)


def test_anthropic_unary_and_usage(anthropic_server: AnthropicServer) -> None:
    message = claude(anthropic_server).messages.create(
        model="claude-sonnet-4-6",
        max_tokens=100,
        system="Be terse.",
        messages=[{"role": "user", "content": f"{PROMPT} [cached]"}],
    )
    assert message.content[0].type == "text" and message.content[0].text == f"{ANSWER} [cached]"
    assert message.usage.input_tokens == 6 - 4 and message.usage.cache_read_input_tokens == 4
    assert message.usage.output_tokens == 5 and message.stop_reason == "end_turn"
    raw = httpx.post(
        anthropic_server.base_url + "/v1/messages",
        headers={"anthropic-version": "2023-06-01"},
        json={"model": "claude-sonnet-4-6", "max_tokens": 2, **chat_body()},
    )
    assert anthropic.types.Message.model_validate(raw.json()).stop_reason == "max_tokens"


def test_anthropic_stream_events_and_thinking(anthropic_server: AnthropicServer) -> None:
    with claude(anthropic_server).messages.stream(
        model="claude-sonnet-4-6",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": PROMPT}],
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and "message_delta" in kinds and kinds[-1] == "message_stop"
    start = next(e for e in events if e.type == "message_start")
    assert start.message.usage.input_tokens == 3  # type: ignore[union-attr]
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "The user wants me to echo it."  # type: ignore[union-attr]
    assert final.content[0].signature  # type: ignore[union-attr]
    assert final.content[1].text == ANSWER and final.usage.output_tokens == 4 + 7  # type: ignore[union-attr]
    raw = httpx.post(
        anthropic_server.base_url + "/v1/messages",
        headers={"anthropic-version": "2023-06-01"},
        json={"model": "claude-sonnet-4-6", "max_tokens": 50, "stream": True, **chat_body()},
    ).text
    assert 'event: ping\ndata: {"type":"ping"}' in raw and "[DONE]" not in raw


def test_anthropic_request_validation(loopback: Any) -> None:
    server = loopback(AnthropicServer)
    url, headers = server.base_url + "/v1/messages", {"anthropic-version": "2023-06-01"}

    def post(**body: Any) -> httpx.Response:
        return httpx.post(url, headers=headers, json={"model": "claude-sonnet-4-6", **chat_body(), **body})

    assert "max_tokens" in post().json()["error"]["message"]
    system_role = post(max_tokens=10, messages=[{"role": "system", "content": "x"}])
    assert system_role.status_code == 400 and system_role.json()["error"]["type"] == "invalid_request_error"
    assert post(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 512}).status_code == 400
    assert post(max_tokens=1024, thinking={"type": "enabled", "budget_tokens": 1024}).status_code == 400
    assert post(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000}).status_code == 200
    opus = {"model": "claude-opus-4-7", "max_tokens": 4000}
    assert post(**opus, thinking={"type": "enabled", "budget_tokens": 2000}).status_code == 400
    assert post(**opus, temperature=0.2).status_code == 400
    adaptive = post(**opus, thinking={"type": "adaptive"}, output_config={"effort": "xhigh"})
    assert adaptive.status_code == 200 and adaptive.json()["content"][0]["type"] == "thinking"


def test_anthropic_errors(anthropic_server: AnthropicServer) -> None:
    client = claude(anthropic_server)
    create = {"model": "claude-sonnet-4-6", "max_tokens": 50}
    with pytest.raises(anthropic.APIStatusError, match="Overloaded") as midstream:
        for _ in client.messages.create(
            **create, messages=[{"role": "user", "content": "[scenario:error_midstream]"}], stream=True
        ):
            pass
    assert "overloaded_error" in str(midstream.value.body)
    with pytest.raises(anthropic.InternalServerError) as overloaded:
        client.messages.create(**create, messages=[{"role": "user", "content": "[scenario:overloaded]"}])
    assert overloaded.value.status_code == 529
    with pytest.raises(anthropic.APIStatusError) as billing:
        client.messages.create(**create, messages=[{"role": "user", "content": "[scenario:quota]"}])
    assert billing.value.status_code == 402
    with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
        client.messages.create(**create, messages=[{"role": "user", "content": "[scenario:context_length]"}])
    anthropic_server.api_key = "sk-ant-real"
    with pytest.raises(anthropic.AuthenticationError):
        client.models.list()


# -- Gemini ---------------------------------------------------------------------------------------------------
def gemini(server: GeminiServer) -> genai.Client:
    options = gtypes.HttpOptions(
        base_url=server.base_url, api_version="v1beta", retry_options=gtypes.HttpRetryOptions(attempts=1)
    )
    return genai.Client(api_key="k", http_options=options)


def test_gemini_sdk_unary_with_thoughts(gemini_server: GeminiServer) -> None:
    config = gtypes.GenerateContentConfig(
        system_instruction="Be terse.",
        thinking_config=gtypes.ThinkingConfig(include_thoughts=True, thinking_budget=1024),
    )
    client = gemini(gemini_server)
    result = client.models.generate_content(model="gemini-2.5-flash", contents=PROMPT, config=config)
    parts = result.candidates[0].content.parts  # type: ignore[index,union-attr]
    assert [bool(p.thought) for p in parts] == [True, False]  # type: ignore[union-attr]
    assert result.text == ANSWER
    usage = result.usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.thoughts_token_count) == (5, 4, 7)
    assert usage.total_token_count == 16
    assert gemini_server.last_request.headers["x-goog-api-key"] == "k"
    raw = httpx.post(
        gemini_server.base_url + "/v1beta/models/gemini-2.5-flash:generateContent",
        json={"contents": [{"role": "user", "parts": [{"text": "a [cached] b c d"}]}]},
    ).json()
    assert gtypes.GenerateContentResponse.model_validate(raw).usage_metadata.cached_content_token_count == 4  # type: ignore[union-attr]


def test_gemini_sdk_stream_and_framing(gemini_server: GeminiServer) -> None:
    client = gemini(gemini_server)
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents=PROMPT))
    assert "".join(c.text or "" for c in chunks) == ANSWER
    counts = [c.usage_metadata.candidates_token_count for c in chunks]  # type: ignore[union-attr]
    assert counts == [1, 2, 3, 4]  # cumulative
    assert chunks[-1].candidates[0].finish_reason == gtypes.FinishReason.STOP  # type: ignore[index]
    assert gemini_server.last_request.query == {"alt": "sse"}
    raw = httpx.post(
        gemini_server.base_url + "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        json={"contents": [{"parts": [{"text": PROMPT}]}]},
    ).text
    assert raw.count("\r\n\r\n") == 4 and "[DONE]" not in raw
    for payload in sse_data(raw):
        gtypes.GenerateContentResponse.model_validate(json.loads(payload))


def test_gemini_errors(gemini_server: GeminiServer) -> None:
    client = gemini(gemini_server)
    both = gtypes.GenerateContentConfig(
        thinking_config=gtypes.ThinkingConfig(thinking_budget=100, thinking_level=gtypes.ThinkingLevel.LOW)
    )
    with pytest.raises(genai_errors.ClientError, match="only one of thinking budget"):
        client.models.generate_content(model="gemini-3-flash-preview", contents=PROMPT, config=both)
    with pytest.raises(genai_errors.ClientError) as bad_key:
        client.models.generate_content(model="gemini-2.5-flash", contents="[scenario:auth]")
    assert bad_key.value.code == 400 and "API_KEY_INVALID" in json.dumps(bad_key.value.details)
    gemini_server.retry_after = "0.2"
    raw = httpx.post(
        gemini_server.base_url + "/v1beta/models/gemini-2.5-flash:generateContent",
        headers={"x-test-scenario": "rate_limit"},
        json={"contents": []},
    )
    assert raw.status_code == 429 and raw.headers["retry-after"] == "0.2"
    assert raw.json()["error"]["details"][-1]["retryDelay"] == "0.2s"
    with pytest.raises(genai_errors.ServerError):
        list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="[scenario:error_midstream]"))
    assert [m.name for m in client.models.list()] == ["models/gemini-2.5-flash", "models/gemini-3-flash-preview"]


# -- Ollama ---------------------------------------------------------------------------------------------------
def test_ollama_sdk_discovery(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.base_url)
    assert [m.model for m in client.list().models] == ["llama3.2:latest", "qwen3:latest", "llava:latest"]
    shown = client.show("qwen3")
    assert shown.modelinfo is not None and shown.modelinfo["qwen3.context_length"] == 40960
    assert shown.capabilities is not None and "thinking" in shown.capabilities
    assert "vision" in (client.show("llava").capabilities or [])
    assert httpx.get(ollama_server.base_url + "/api/version").json() == {"version": "0.13.5"}


def test_ollama_sdk_chat(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.base_url)
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": PROMPT}]
    result = client.chat(model="qwen3", messages=messages, think=True, options={"num_ctx": 8192, "seed": 7})
    assert result.message.content == ANSWER and result.message.thinking == "The user wants me to echo it."
    assert (result.prompt_eval_count, result.eval_count, result.done_reason) == (5, 4 + 7, "stop")
    assert result.eval_duration is not None and result.eval_duration > 1000  # nanoseconds
    parts = list(client.chat(model="llama3.2", messages=messages, stream=True))
    assert "".join(p.message.content or "" for p in parts) == ANSWER and parts[-1].done
    truncated = client.chat(model="llama3.2", messages=messages, options={"num_predict": 2})
    assert truncated.message.content == "Echo: hello" and truncated.done_reason == "length"
    with pytest.raises(ollama.ResponseError) as missing:
        client.chat(model="nope", messages=messages)
    assert missing.value.status_code == 404 and 'model "nope" not found' in missing.value.error
    with pytest.raises(ollama.ResponseError) as no_think:
        client.chat(model="llama3.2", messages=messages, think=True)
    assert no_think.value.status_code == 400 and no_think.value.error == '"llama3.2" does not support thinking'
    with pytest.raises(ollama.ResponseError, match="error was encountered"):
        list(
            client.chat(
                model="llama3.2", messages=[{"role": "user", "content": "[scenario:error_midstream]"}], stream=True
            )
        )


def test_ollama_streams_ndjson_by_default_and_v1_door(ollama_server: OllamaServer) -> None:
    r = httpx.post(ollama_server.base_url + "/api/chat", json=chat_body(model="llama3.2"))
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["done"] for line in lines] == [False] * 4 + [True]
    message = oai(ollama_server).chat.completions.create(**chat_body(model="qwen3"), reasoning_effort="low")
    assert (message.choices[0].message.model_extra or {})["reasoning"] == "The user wants me to echo it."
    with pytest.raises(openai.NotFoundError):
        oai(ollama_server).chat.completions.create(**chat_body(model="nope"))
    assert oai(ollama_server).models.list().data[0].id == "llama3.2:latest"


# -- AutoByteus -----------------------------------------------------------------------------------------------
AB_HEADERS = {"AUTOBYTEUS_API_KEY": "secret"}


def test_autobyteus_models_and_auth(autobyteus_server: AutoByteusServer) -> None:
    denied = httpx.get(autobyteus_server.base_url + "/models/llm")
    assert denied.status_code == 401 and denied.json() == {"detail": "invalid key"}
    models = httpx.get(autobyteus_server.base_url + "/models/llm", headers=AB_HEADERS).json()["models"]
    assert models[0]["name"] == "gpt-5-instant-rpa" and models[0]["config"]["pricing_config"] == {
        "input_token_pricing": 0.0,
        "output_token_pricing": 0.0,
    }


def test_autobyteus_both_generations(autobyteus_server: AutoByteusServer) -> None:
    url = autobyteus_server.base_url + "/send-message"
    gen1 = {
        "conversation_id": "c1",
        "model_name": "gpt-5-instant-rpa",
        "user_message": PROMPT,
        "image_urls": [],
        "audio_urls": [],
        "video_urls": [],
    }
    assert httpx.post(url, headers=AB_HEADERS, json=gen1).json() == {
        "response": ANSWER,
        "token_usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    media = {"image_urls": [], "audio_urls": [], "video_urls": []}
    gen2 = {
        "conversation_id": "c2",
        "model_name": "gpt-5-instant-rpa",
        "current_message_index": 1,
        "messages": [{"role": "system", "content": "Be terse.", **media}, {"role": "user", "content": PROMPT, **media}],
    }
    assert httpx.post(url, headers=AB_HEADERS, json=gen2).json()["response"] == ANSWER
    rejected = httpx.post(url, headers=AB_HEADERS, json={**gen2, "temperature": 0.2})
    assert rejected.status_code == 422 and rejected.json()["detail"][0]["type"] == "extra_forbidden"
    assert httpx.post(url, headers=AB_HEADERS, json={**gen2, "current_message_index": 0}).status_code == 422
    assert autobyteus_server.conversation_ids == ["c1", "c2"]
    assert httpx.post(
        autobyteus_server.base_url + "/cleanup", headers=AB_HEADERS, json={"conversation_id": "c1"}
    ).json() == {"status": "ok"}
    assert autobyteus_server.cleaned_up == ["c1"]


def test_autobyteus_stream_format(loopback: Any) -> None:
    server = loopback(AutoByteusServer, generation=2)
    url = server.base_url + "/stream-message"
    gen1 = {"conversation_id": "c1", "model_name": "gpt-5-instant-rpa", "user_message": PROMPT}
    assert httpx.post(url, headers=AB_HEADERS, json=gen1).status_code == 422  # generation-2-only server
    body = {
        "conversation_id": "c",
        "model_name": "gpt-5-instant-rpa",
        "current_message_index": 0,
        "messages": [{"role": "user", "content": f"{PROMPT} [scenario:reasoning]"}],
    }
    text = httpx.post(url, headers=AB_HEADERS, json=body).text
    assert all(line.startswith("data: ") for line in text.split("\n\n") if line) and "[DONE]" not in text
    chunks = [json.loads(p) for p in sse_data(text)]
    assert "".join(c.get("reasoning", "") for c in chunks) == "The user wants me to echo it."
    assert "".join(c["content"] for c in chunks) == ANSWER
    assert chunks[-1]["is_complete"] and chunks[-1]["token_usage"]["completion_tokens"] == 11
    body["messages"][0]["content"] = "x [scenario:error_midstream]"
    assert sse_data(httpx.post(url, headers=AB_HEADERS, json=body).text)[-1] == '{"error":"boom"}'


# -- Base machinery -------------------------------------------------------------------------------------------
def test_scenario_precedence_recording_and_restart(openai_server: OpenAIChatServer) -> None:
    url = openai_server.base_url + "/v1/chat/completions"
    openai_server.scenario = "server_error"
    openai_server.queue_scenarios(["unavailable"])
    statuses = [
        httpx.post(url, json=chat_body(content="x [scenario:not_found]"), headers={"X-Test-Scenario": "ok"}),
        httpx.post(url, json=chat_body(content="x [scenario:not_found]")),
        httpx.post(url, json=chat_body()),
    ]
    assert [r.status_code for r in statuses] == [200, 404, 500]  # header > tag > queue (consumed above) > attr
    assert httpx.get(openai_server.base_url + "/v1/models").status_code == 500  # discovery honours the attribute
    assert openai_server.requests[0].headers["x-test-scenario"] == "ok"
    assert openai_server.requests[0].json["messages"][0]["content"] == "x [scenario:not_found]"
    assert httpx.post(url, json=chat_body(content="[scenario:bogus]")).status_code == 500
    with pytest.raises(ValueError):
        openai_server.queue_scenarios(["bogus"])
    port = openai_server.port
    openai_server.scenario = "ok"
    openai_server.restart()
    assert openai_server.port == port and httpx.post(url, json=chat_body()).status_code == 200


def test_timeouts_slow_and_hung(loopback: Any, hung_server: HungServer) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(hung_server.base_url + "/v1/models", timeout=0.3)
    server = loopback(OpenAIChatServer, "openai", slow_seconds=5, chunk_delay=0.1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.base_url + "/v1/chat/completions", json=chat_body(content="[scenario:slow]"), timeout=0.3)
    started = time.monotonic()
    text = httpx.post(
        server.base_url + "/v1/chat/completions", json=chat_body(content="a b [scenario:slow_stream]", stream=True)
    ).text
    assert time.monotonic() - started >= 0.5 and sse_data(text)[-1] == "[DONE]"
    started = time.monotonic()
    server.stop()  # a slow handler must not hold up shutdown
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("kind", ["invalid_json", "html", "wrong_shape"])
def test_garbage_server(loopback: Any, kind: str) -> None:
    server = loopback(GarbageServer, kind)
    for path in ("/v1/models", "/api/tags", "/models/llm"):
        r = httpx.get(server.base_url + path)
        assert r.status_code == 200
        if kind != "wrong_shape":
            with pytest.raises(json.JSONDecodeError):
                r.json()
