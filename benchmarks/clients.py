"""The contenders: one unary and one streaming chat call each, against the loopback server's OpenAI endpoint.

Every contender sends the same request (one user message, the same model name; streams ask for usage) and does
the same minimum of work with the answer: the text and the token counts. Baselines parse by hand, which is the
least any caller must do; the SDKs and llmkit do what they always do. A contender that cannot be imported is
skipped, never an error (LiteLLM and the openai SDK are optional).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

PROMPT = "Say twenty words."
MODEL = "gpt-4.1"
API_KEY = "sk-bench-not-a-real-key"

Call = Callable[[], Awaitable[Any]]


@dataclass
class Contender:
    """A named pair of calls and how to release what they hold."""

    name: str
    unary: Call
    stream: Call
    close: Callable[[], Awaitable[None]]
    fork: Callable[[], Call] | None = None  # concurrency: a unary call for one more worker (own conversation)
    notes: dict[str, Any] = field(default_factory=dict)


def body(stream: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
    if stream:
        data["stream"] = True
        data["stream_options"] = {"include_usage": True}
    return data


def _check(text: str, usage: Any) -> None:
    if not text or not usage:
        raise RuntimeError("the loopback server's answer was not parsed (empty text or usage)")


async def raw_httpx(base_url: str) -> Contender:
    """httpx.AsyncClient with pool limits sized for the concurrency test; hand-parsed JSON and SSE."""
    import httpx

    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000, max_keepalive_connections=256),
                               timeout=httpx.Timeout(600, connect=10))
    url = base_url + "/chat/completions"
    headers = {"authorization": f"Bearer {API_KEY}"}
    unary_body, stream_body = body(False), body(True)

    async def unary() -> None:
        response = await client.post(url, json=unary_body, headers=headers)
        response.raise_for_status()
        data = response.json()
        _check(data["choices"][0]["message"]["content"], data["usage"])

    async def stream() -> None:
        parts: list[str] = []
        usage = None
        async with client.stream("POST", url, json=stream_body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    break
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk["choices"]:
                    parts.append(choice["delta"].get("content") or "")
        _check("".join(parts), usage)

    return Contender("raw httpx", unary, stream, client.aclose)


async def raw_aiohttp(base_url: str) -> Contender:
    """aiohttp.ClientSession, hand-parsed JSON and SSE (the fastest common asyncio HTTP client)."""
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000),
                                    timeout=aiohttp.ClientTimeout(total=600, connect=10))
    url = base_url + "/chat/completions"
    headers = {"authorization": f"Bearer {API_KEY}"}
    unary_body, stream_body = body(False), body(True)

    async def unary() -> None:
        async with session.post(url, json=unary_body, headers=headers) as response:
            response.raise_for_status()
            data = await response.json()
        _check(data["choices"][0]["message"]["content"], data["usage"])

    async def stream() -> None:
        parts: list[str] = []
        usage = None
        async with session.post(url, json=stream_body, headers=headers) as response:
            response.raise_for_status()
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    break
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk["choices"]:
                    parts.append(choice["delta"].get("content") or "")
        _check("".join(parts), usage)

    return Contender("raw aiohttp", unary, stream, session.close)


async def openai_sdk(base_url: str) -> Contender | None:
    """The official SDK's AsyncOpenAI (retries off, so it does the same work as the others)."""
    try:
        from openai import AsyncOpenAI
    except ImportError:
        return None
    client = AsyncOpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)
    messages: Any = [{"role": "user", "content": PROMPT}]

    async def unary() -> None:
        completion = await client.chat.completions.create(model=MODEL, messages=messages)
        _check(completion.choices[0].message.content or "", completion.usage)

    async def stream() -> None:
        parts: list[str] = []
        usage = None
        events = await client.chat.completions.create(model=MODEL, messages=messages, stream=True,
                                                      stream_options={"include_usage": True})
        async for chunk in events:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
        _check("".join(parts), usage)

    return Contender("openai SDK", unary, stream, client.close)


async def litellm_client(base_url: str) -> Contender | None:
    """LiteLLM's acompletion, measured only when it is installed (never a dependency)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
    try:
        import litellm
    except ImportError:
        return None
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    messages = [{"role": "user", "content": PROMPT}]
    kwargs: dict[str, Any] = {"model": f"openai/{MODEL}", "api_base": base_url, "api_key": API_KEY,
                              "messages": messages, "num_retries": 0}

    async def unary() -> None:
        response: Any = await litellm.acompletion(**kwargs)
        _check(response.choices[0].message.content or "", response.usage)

    async def stream() -> None:
        parts: list[str] = []
        usage = None
        response: Any = await litellm.acompletion(**kwargs, stream=True, stream_options={"include_usage": True})
        async for chunk in response:
            usage = getattr(chunk, "usage", None) or usage
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
        _check("".join(parts), usage)

    async def close() -> None:
        return None

    return Contender("LiteLLM", unary, stream, close)


def configure_llmkit_env(base_url: str) -> None:
    """Point llmkit at the loopback server twice over: the `openai` API backend (OPENAI_BASE_URL) and an
    OpenAI-compatible host discovered from OPENAI_COMPATIBLE_HOSTS; other local runtimes stay off real ports."""
    os.environ["OPENAI_BASE_URL"] = base_url
    os.environ["OPENAI_API_KEY"] = API_KEY
    os.environ["OPENAI_COMPATIBLE_HOSTS"] = base_url
    os.environ.setdefault("OLLAMA_HOSTS", "none")
    os.environ.setdefault("LMSTUDIO_HOSTS", "none")


async def _initialise() -> Any:
    from llmkit import LLMFactory

    initialise = getattr(LLMFactory, "ainitialize", None)
    if initialise is not None:
        await initialise()
    else:  # before the async registry existed
        await asyncio.to_thread(LLMFactory.ensure_initialized)
    return LLMFactory


async def _llmkit(base_url: str, discovered: bool) -> Contender | None:
    """llmkit's public path as an eval sweep uses it: every call builds its client with `LLMFactory.create_llm`
    (one conversation per call), then `send_user_message` / `stream_user_message`."""
    try:
        from llmkit.api.http import executor
    except ImportError:
        return None
    configure_llmkit_env(base_url)
    try:
        factory = await _initialise()
        if discovered:
            found = [m for m in factory.list_models(runtime="openai-compatible") if m.name == MODEL]
            if not found:
                raise RuntimeError(f"{MODEL} was not discovered from OPENAI_COMPATIBLE_HOSTS={base_url}")
            identifier = found[0].identifier
        else:
            identifier = MODEL
        create = factory.create_llm
        create(identifier)
    except Exception as exc:  # report, do not crash the suite
        print(f"  llmkit skipped: {type(exc).__name__}: {exc}")
        return None

    async def unary() -> None:
        response = await create(identifier).send_user_message(PROMPT)
        _check(response.content, response.usage.output_tokens)

    async def stream() -> None:
        parts: list[str] = []
        usage = None
        async for chunk in create(identifier).stream_user_message(PROMPT):
            parts.append(chunk.content)
            if chunk.is_complete:
                usage = chunk.usage
        _check("".join(parts), usage and usage.output_tokens)

    async def close() -> None:
        await executor().aclose()

    contender = Contender("llmkit" if discovered else "llmkit (API model)", unary, stream, close,
                          fork=lambda: unary)
    contender.notes["identifier"] = identifier
    return contender


async def llmkit_client(base_url: str) -> Contender | None:
    """The model as a researcher's local server exposes it: discovered from OPENAI_COMPATIBLE_HOSTS."""
    return await _llmkit(base_url, discovered=True)


async def llmkit_api_client(base_url: str) -> Contender | None:
    """The catalogued API model `gpt-4.1` with OPENAI_BASE_URL pointed at the loopback server."""
    return await _llmkit(base_url, discovered=False)


FACTORIES: dict[str, Callable[[str], Awaitable[Contender | None]]] = {
    "llmkit": llmkit_client,
    "llmkit (API model)": llmkit_api_client,
    "raw httpx": raw_httpx,
    "raw aiohttp": raw_aiohttp,
    "openai SDK": openai_sdk,
    "LiteLLM": litellm_client,
}
