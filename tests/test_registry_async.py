"""The registry without hidden I/O: `await LLMFactory.ainitialize()`, getters that never wait for discovery inside a
running event loop, one discovery shared by concurrent callers, and clients built from a resolved config."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit import LLMFactory, LLMModel, LLMProvider, LLMRuntime, UnknownModelError
from llmkit.discovery import register_discoverer
from llmkit.errors import ConfigurationError
from llmkit.factory import ResolvedConfig


@pytest.fixture
def hung_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """OLLAMA_HOSTS pointing at a loopback socket that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # the kernel completes the handshakes; nobody ever reads or writes
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("OLLAMA_HOSTS", host)
    monkeypatch.setenv("LLMKIT_DISCOVERY_TIMEOUT", "1.5")
    yield host
    listener.close()


class _Ticker:
    """Measures how long the event loop goes without running a task that sleeps 10 ms at a time."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.gaps.append(time.perf_counter() - before)

    async def __aenter__(self) -> _Ticker:
        self._task = asyncio.ensure_future(self._run())
        await asyncio.sleep(0.03)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.03)
        assert self._task is not None
        self._task.cancel()

    @property
    def worst(self) -> float:
        return max(self.gaps)


async def test_getters_inside_a_running_loop_never_wait_for_discovery(hung_host: str) -> None:
    async with _Ticker() as ticker:
        started = time.perf_counter()
        ids = {m.identifier for m in LLMFactory.list_models()}
        assert {"gpt-5.5", "claude-sonnet-4-5", "echo:mock", "oracle:mock"} <= ids  # registered without I/O
        assert LLMFactory.get_model("oracle:mock").runtime is LLMRuntime.MOCK
        assert LLMFactory.availability("echo:mock")
        llm = LLMFactory.create_llm("oracle:mock", {"temperature": 0.2})
        assert (await llm.send_user_message("What is 6 * 7?")).content == "The answer is 42."
        local_id = f"llama3:latest:ollama@{hung_host}"
        with pytest.raises(UnknownModelError, match=r"await LLMFactory\.ainitialize\(\)"):
            LLMFactory.get_model(local_id)
        with pytest.raises(UnknownModelError, match=r"await LLMFactory\.ainitialize\(\)"):
            LLMFactory.create_llm(local_id)
        LLMFactory.register_model(_model("gateway-model", "127.0.0.1:7011"))
        elapsed = time.perf_counter() - started
    assert elapsed < 0.75, f"getters took {elapsed:.2f}s: they waited for discovery"
    assert ticker.worst < 0.75, f"the loop stalled for {ticker.worst:.2f}s"


async def test_ainitialize_waits_for_a_hung_host_without_blocking_the_loop(hung_host: str) -> None:
    async with _Ticker() as ticker:
        started = time.perf_counter()
        await LLMFactory.ainitialize()
        elapsed = time.perf_counter() - started
    assert 1.0 < elapsed < 4.0  # cut off by the discovery timeout, not hung forever
    assert ticker.worst < 0.75, f"the loop stalled for {ticker.worst:.2f}s"
    assert not LLMFactory.list_models(runtime="ollama")  # the hung host served nothing
    started = time.perf_counter()
    await LLMFactory.ainitialize()  # idempotent: no second discovery
    assert time.perf_counter() - started < 0.05


async def test_arun_awaits_discovery_without_blocking_the_loop(hung_host: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, models=["oracle:mock"], repeats=1)
    async with _Ticker() as ticker:
        result = await ev.arun(spec)
    assert result.status == "completed" and result.summary.rows == 10
    assert ticker.worst < 0.75, f"the loop stalled for {ticker.worst:.2f}s"


def _model(name: str, host: str) -> LLMModel:
    return LLMModel(name=name, provider=LLMProvider.OTHER, runtime=LLMRuntime.OPENAI_COMPATIBLE, backend="mock",
                    host=host, host_url=f"http://{host}")


@pytest.fixture
def counted_discovery() -> Iterator[list[float]]:
    """A slow OPENAI_COMPATIBLE discoverer that records each call; serves one model, `tiny` on 127.0.0.1:7010."""
    from llmkit import discovery

    calls: list[float] = []

    async def discover(host: str | None) -> list[LLMModel]:
        calls.append(time.perf_counter())
        await asyncio.sleep(0.2)
        return [_model("tiny", "127.0.0.1:7010")]

    previous = discovery._DISCOVERERS.get(LLMRuntime.OPENAI_COMPATIBLE)
    register_discoverer(LLMRuntime.OPENAI_COMPATIBLE, discover)
    yield calls
    discovery._DISCOVERERS.pop(LLMRuntime.OPENAI_COMPATIBLE, None)
    if previous is not None:
        register_discoverer(LLMRuntime.OPENAI_COMPATIBLE, previous)


TINY = "tiny:openai-compatible@127.0.0.1:7010"


async def test_concurrent_callers_on_one_loop_share_one_discovery(counted_discovery: list[float]) -> None:
    with pytest.raises(UnknownModelError):
        LLMFactory.get_model(TINY)  # not discovered yet, and getters do not discover inside a loop
    await asyncio.gather(*(LLMFactory.ainitialize() for _ in range(20)))
    assert len(counted_discovery) == 1
    assert LLMFactory.get_model(TINY).host == "127.0.0.1:7010"


def test_callers_on_several_threads_and_loops_share_one_discovery(counted_discovery: list[float]) -> None:
    errors: list[BaseException] = []

    def call(target: object) -> None:
        try:
            if target == "sync":
                LLMFactory.ensure_initialized()
            else:
                asyncio.run(LLMFactory.ainitialize())  # a loop of its own
            LLMFactory.get_model(TINY)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(kind,)) for kind in ["sync", "async"] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors and len(counted_discovery) == 1


async def test_a_cancelled_discovery_is_taken_over_by_the_next_caller(counted_discovery: list[float]) -> None:
    first = asyncio.ensure_future(LLMFactory.ainitialize())
    await asyncio.sleep(0.05)
    waiter = asyncio.ensure_future(LLMFactory.ainitialize())
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.wait_for(waiter, 2)
    assert len(counted_discovery) == 2 and LLMFactory.get_model(TINY)


async def test_a_model_registered_before_discovery_keeps_its_entry(counted_discovery: list[float]) -> None:
    mine = LLMFactory.register_model(_model("tiny", "127.0.0.1:7010"))
    await LLMFactory.ainitialize()
    assert LLMFactory.get_model(TINY) is mine


async def test_areload_models_is_the_async_reload(counted_discovery: list[float]) -> None:
    assert await LLMFactory.areload_models("openai-compatible") == 1
    assert len(counted_discovery) == 2  # ainitialize first, then the reload itself
    assert await LLMFactory.reload_models_async("openai-compatible") == 1  # the earlier name
    assert len(counted_discovery) == 3


def test_sync_code_without_a_loop_still_discovers_on_demand(counted_discovery: list[float]) -> None:
    assert LLMFactory.get_model("echo:mock") and not counted_discovery  # a registered id needs no discovery
    assert LLMFactory.get_model(TINY).host == "127.0.0.1:7010"  # an unknown one runs it once, for scripts
    assert len(counted_discovery) == 1


# ----- one way to build a client ------------------------------------------------------------------------------
def test_create_llm_takes_a_resolved_config_as_is() -> None:
    resolved = LLMFactory.resolve("reasoner-effort:mock", {"max_tokens": 300,
                                                           "extra_params": {"reasoning_effort": "high"}})
    assert isinstance(resolved, ResolvedConfig) and resolved.config.max_tokens == 300
    llm = LLMFactory.create_llm("reasoner-effort:mock", resolved)
    assert llm.config is resolved.config and llm.model is resolved.model
    assert LLMFactory.resolve_config("reasoner-effort:mock", {"max_tokens": 300}).max_tokens == 300
    with pytest.raises(ConfigurationError, match="resolved config of reasoner-effort:mock"):
        LLMFactory.create_llm("oracle:mock", resolved)



def test_a_sync_call_on_llmkits_own_loop_says_to_await_instead() -> None:
    from llmkit._sync import run_sync

    async def inside() -> None:
        LLMFactory.ensure_initialized()  # would wait for the loop it runs on

    with pytest.raises(ConfigurationError, match=r"await LLMFactory\.ainitialize\(\)"):
        run_sync(inside())


def test_create_llm_without_overrides_follows_model_and_default_changes() -> None:
    assert LLMFactory.create_llm("oracle:mock").config.temperature is None
    LLMFactory.set_model_config("oracle:mock", {"temperature": 0.3})
    assert LLMFactory.create_llm("oracle:mock").config.temperature == 0.3
    first = LLMFactory.create_llm("echo:mock").model
    replacement = LLMFactory.register_model(LLMModel(
        name="echo", provider=first.provider, runtime=first.runtime, backend="mock", metadata={"behaviour": "echo"},
        default_config=first.default_config))
    assert LLMFactory.create_llm("echo:mock").model is replacement
