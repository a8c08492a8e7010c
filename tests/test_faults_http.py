"""Issue 16's HTTP faults, each on both transports against a misbehaving loopback server: keep-alives and pings
cannot outlast the deadline (16.1), the deadline covers retries and their waits (16.2), running out of file
descriptors queues or fails typed (16.6), a web page answering a stream and a 413 are reported as what they are
(16.9). Calls go through the public client (`LLMFactory.create_llm`) where an adapter is involved."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from llmkit.api.endpoint import CallOptions, Endpoint
from llmkit.api.error_mapping import parse_retry_after
from llmkit.api.executor import HTTPExecutor, executor, set_executor
from llmkit.api.retry import retry_wait
from llmkit.config import LLMConfig
from llmkit.errors import ContextLengthError, LLMTimeoutError, ProviderError, RateLimitError
from llmkit.factory import LLMFactory
from tests.servers.garbage import GarbageServer, HungServer
from tests.servers.scripted import ScriptedServer, chunk, json_reply, response_head

KEY = "sk-faults-1234"
OK_BODY = json.dumps({"id": "x", "object": "chat.completion", "model": "gpt-4.1", "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()


@pytest.fixture(params=["aiohttp", "httpx"], autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test runs on both transports, through the process-wide executor the clients use."""
    previous = executor()
    set_executor(HTTPExecutor(backend=request.param))
    yield str(request.param)
    set_executor(previous)


def openai_llm(monkeypatch: pytest.MonkeyPatch, base_url: str, **config: Any) -> Any:
    monkeypatch.setenv("OPENAI_BASE_URL", base_url + "/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return LLMFactory.create_llm("gpt-4.1", LLMConfig(**config))


def anthropic_llm(monkeypatch: pytest.MonkeyPatch, base_url: str, **config: Any) -> Any:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    return LLMFactory.create_llm("claude-sonnet-4-5", LLMConfig(**config))


async def drain(llm: Any) -> str:
    return "".join([chunk.content async for chunk in llm.stream_user_message("hello")])


def timed(coro: Any) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        asyncio.run(coro)
    except BaseException as exc:  # the test inspects it
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def forever(event: bytes, every: float = 0.1) -> list[bytes | float]:
    return [response_head(200, "text/event-stream", chunked=True), *[chunk(event), every] * 600]


# ----- 16.1: keep-alives and pings cannot defeat the deadline ---------------------------------------------------
@pytest.mark.parametrize("make, keepalive", [
    (openai_llm, b": keep-alive\n\n"),
    (anthropic_llm, b'event: ping\ndata: {"type": "ping"}\n\n'),
])
def test_keepalives_cannot_outlast_the_deadline(monkeypatch: pytest.MonkeyPatch, make: Any, keepalive: bytes) -> None:
    with ScriptedServer(forever(keepalive)) as server:
        llm = make(monkeypatch, server.base_url, timeout=1.0)
        elapsed, error = timed(drain(llm))
    assert isinstance(error, LLMTimeoutError), error
    assert "within 1s" in str(error)
    assert elapsed < 2.0


def test_keepalives_after_content_still_end_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    first = b'data: {"choices": [{"index": 0, "delta": {"content": "par"}}]}\n\n'
    with ScriptedServer([*forever(b": keep-alive\n\n")[:1], chunk(first), *forever(b":\n\n")[1:]]) as server:
        llm = openai_llm(monkeypatch, server.base_url, timeout=1.0)
        elapsed, error = timed(drain(llm))
    assert isinstance(error, LLMTimeoutError) and elapsed < 2.0


# ----- 16.2: the deadline covers every try and every wait -------------------------------------------------------
def test_a_hung_server_fails_at_the_deadline_not_per_try(monkeypatch: pytest.MonkeyPatch) -> None:
    with HungServer() as hung:
        llm = openai_llm(monkeypatch, hung.base_url, timeout=1.0)  # default: 2 retries
        for call in (llm.send_user_message("hi"), drain(llm)):
            elapsed, error = timed(call)
            assert isinstance(error, LLMTimeoutError), error
            assert "within 1s" in str(error) and "deadline" in str(error)
            assert 0.9 < elapsed < 1.6


def test_a_long_retry_after_is_not_slept_past_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer(json_reply(429, b'{"error": {"message": "busy"}}', headers={"retry-after": "100"})) as server:
        llm = openai_llm(monkeypatch, server.base_url, timeout=3.0, max_retries=1)
        for call in (llm.send_user_message("hi"), drain(llm)):
            elapsed, error = timed(call)
            assert isinstance(error, RateLimitError), error
            assert "3s deadline" in str(error) and "60s from now" in str(error)
            assert elapsed < 1.0
        assert server.requests == 2  # one try each, no retry


def test_retries_stop_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tries at 0, 0.4 and 0.8 s; the next would start at 1.2 s, past the 1 s deadline, so the call gives up. On a
    loaded machine the last try may itself be cut by the deadline: then the error is that timeout."""
    with ScriptedServer(json_reply(503, b'{"error": {"message": "down"}}', headers={"retry-after": "0.4"})) as server:
        llm = openai_llm(monkeypatch, server.base_url, timeout=1.0, max_retries=20)
        elapsed, error = timed(llm.send_user_message("hi"))
    assert (isinstance(error, ProviderError) and error.status_code == 503) or isinstance(error, LLMTimeoutError)
    assert "1s deadline" in str(error)
    assert elapsed < 1.2 and 2 <= server.requests <= 3


def test_a_503_is_retried_after_its_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry-After on a 503 is the server's word, as on a 429 (it used to be ignored for a random backoff)."""
    answers = [json_reply(503, b'{"error": {"message": "warming up"}}', headers={"retry-after": "0.4"}),
               json_reply(200, OK_BODY)]
    with ScriptedServer(lambda n: answers[min(n, 1)]) as server:
        llm = openai_llm(monkeypatch, server.base_url, timeout=5.0, max_retries=3)
        elapsed, error = timed(llm.send_user_message("hi"))
    assert error is None and server.requests == 2
    assert 0.4 <= elapsed < 1.5


def test_attempt_timeout_leaves_time_for_a_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    with HungServer() as hung:
        llm = openai_llm(monkeypatch, hung.base_url, timeout=1.5, attempt_timeout=0.3, max_retries=5)
        elapsed, error = timed(llm.send_user_message("hi"))
        tries = len(hung.connections)
    assert isinstance(error, LLMTimeoutError) and elapsed < 2.0
    assert tries >= 2


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "NaN", "1e400"])
def test_retry_after_nonsense_gives_a_bounded_wait(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    assert parse_retry_after({"retry-after": value}) is None
    assert parse_retry_after({"retry-after-ms": value}) is None
    wait = retry_wait(RateLimitError("x", retry_after=parse_retry_after({"retry-after": value})), 1)
    assert 0 <= wait <= 1.0
    answers = [json_reply(429, b"{}", headers={"retry-after": value}), json_reply(200, OK_BODY)]
    with ScriptedServer(lambda n: answers[min(n, 1)]) as server:
        llm = openai_llm(monkeypatch, server.base_url, timeout=5.0)
        elapsed, error = timed(llm.send_user_message("hi"))
    assert error is None and elapsed < 2.0


# ----- 16.6: out of file descriptors ----------------------------------------------------------------------------
_FD_SCRIPT = """
import asyncio, collections, json, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from llmkit.api.endpoint import CallOptions, Endpoint
from llmkit.api.executor import HTTPExecutor
from llmkit.errors import LLMError

async def main():
    ex = HTTPExecutor(backend=sys.argv[2])
    endpoint = Endpoint(base_url=sys.argv[1], provider="loopback")
    async def one():
        try:
            await ex.request_json(endpoint, "POST", "/v1/x", json_body={}, options=CallOptions(60.0, 2))
            return "ok"
        except LLMError as exc:
            return "typed:" + type(exc).__name__
        except BaseException as exc:
            return "raw:" + type(exc).__name__ + ":" + str(exc)[:80]
    results = await asyncio.gather(*(one() for _ in range(500)))
    await ex.aclose()
    print(json.dumps(collections.Counter(results)))

asyncio.run(main())
"""


def test_500_calls_under_ulimit_256_queue_instead_of_failing(backend: str) -> None:
    with ScriptedServer([0.2, *json_reply(200, b'{"ok": true}')]) as server:
        done = subprocess.run([sys.executable, "-c", _FD_SCRIPT, server.base_url, backend], capture_output=True,
                              text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == {"ok": 500}, counts


_NO_FD_SCRIPT = """
import asyncio, json, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from llmkit.api.endpoint import CallOptions, Endpoint
from llmkit.api.executor import HTTPExecutor
from llmkit.errors import LLMError

async def main():
    ex = HTTPExecutor(backend=sys.argv[2])
    endpoint = Endpoint(base_url=sys.argv[1], provider="loopback")
    await ex.request_json(endpoint, "POST", "/v1/x", json_body={})  # warm: the pool exists, modules are loaded
    await ex.aclose()
    ex = HTTPExecutor(backend=sys.argv[2])
    hog = []
    try:
        while True:
            hog.append(open("/dev/null"))  # every descriptor taken
    except OSError:
        pass
    outcome = []
    for call in ("unary", "stream"):
        try:
            if call == "unary":
                await ex.request_json(endpoint, "POST", "/v1/x", json_body={}, options=CallOptions(5.0, 2))
            else:
                [i async for i in ex.stream(endpoint, "/v1/x", json_body={}, options=CallOptions(5.0, 2))]
            outcome.append("ok")
        except LLMError as exc:
            outcome.append(type(exc).__name__ + ": " + str(exc))
        except BaseException as exc:
            outcome.append("raw " + type(exc).__name__ + ": " + str(exc))
    for f in hog:
        f.close()
    print(json.dumps(outcome))

asyncio.run(main())
"""


def test_no_descriptor_left_is_a_typed_error(backend: str) -> None:
    with ScriptedServer(json_reply(200, b'{"ok": true}')) as server:
        done = subprocess.run([sys.executable, "-c", _NO_FD_SCRIPT, server.base_url, backend], capture_output=True,
                              text=True, timeout=60, env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-2000:]
    for outcome in json.loads(done.stdout.strip().splitlines()[-1]):
        assert outcome.startswith("ResourceLimitError: Cannot open a connection to loopback"), outcome
        assert "out of file descriptors" in outcome and "ulimit -n" in outcome


# ----- 16.9: what came back is named ----------------------------------------------------------------------------
def test_a_web_page_answering_a_stream_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with GarbageServer(kind="html") as server:
        llm = openai_llm(monkeypatch, server.base_url)
        _elapsed, error = timed(drain(llm))
    assert isinstance(error, ProviderError), error
    assert "answered with text/html instead of an event stream: '<!doctype html>" in str(error)
    assert "closed the stream" not in str(error)


def test_413_is_a_request_too_large_error_not_context_length(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"<html><head><title>413 Request Entity Too Large</title></head></html>"
    with ScriptedServer(json_reply(413, body, "text/html")) as server:
        llm = openai_llm(monkeypatch, server.base_url)
        _elapsed, error = timed(llm.send_user_message("hi"))
    assert isinstance(error, ProviderError) and not isinstance(error, ContextLengthError), error
    assert error.status_code == 413 and "too large" in str(error) and error.hint


def test_errors_never_carry_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    echoed = json.dumps({"error": {"message": f"bad key Bearer {KEY}"}}).encode()
    with ScriptedServer(json_reply(401, echoed)) as server:
        llm = openai_llm(monkeypatch, server.base_url)
        _elapsed, error = timed(llm.send_user_message("hi"))
    assert error is not None and KEY not in str(error) and KEY not in repr(error)


def test_endpoint_and_options_from_config() -> None:
    options = CallOptions.from_config(LLMConfig(timeout=3, attempt_timeout=1, max_retries=4))
    assert (options.timeout_s, options.attempt_timeout_s, options.max_retries, options.first_attempt_s) == (3, 1, 4, 1)
    assert "sk-" not in repr(Endpoint("http://h", {"authorization": f"Bearer {KEY}"}))


def test_a_sweep_against_a_keepalive_only_server_ends_at_the_deadline(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Any) -> None:
    import llmkit.evals as ev
    from tests.evals_helpers import PROMPTS, write_spec

    with ScriptedServer(forever(b": keep-alive\n\n")) as server:
        openai_llm(monkeypatch, server.base_url)  # points the openai backend at the server
        spec = write_spec(tmp_path, models=["gpt-4.1"], configs=[{"label": "t", "timeout": 1}], prompts=PROMPTS[:3],
                          repeats=1, scorers=["contains"])
        started = time.monotonic()
        result = ev.run(spec, progress=False)
        elapsed = time.monotonic() - started
    rows = result.load()
    assert len(rows) == 3 and rows["error_type"].eq("LLMTimeoutError").all()
    assert elapsed < 6.0
