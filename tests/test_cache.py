"""The response cache: what the key depends on, what a hit reports, streaming, failures, processes."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmkit.backends import _BACKENDS, Backend
from llmkit.base import BaseLLM
from llmkit.cache import (
    CachedAnswer,
    CacheWarning,
    ResponseCache,
    UnhashableRequestError,
    cache_key,
    canonical_json,
    key_material,
    open_cache,
)
from llmkit.config import LLMConfig
from llmkit.errors import ConfigurationError, RateLimitError, StreamError
from llmkit.extensions.cache import ResponseCacheExtension
from llmkit.factory import LLMFactory
from llmkit.hosts import Host, bearer, register_host
from llmkit.messages import CompleteResponse, Image, LLMRequest, Message, Role, TokenUsage
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.pricing import Pricing

PNG_A = b"\x89PNG\r\n\x1a\n" + b"a" * 32
PNG_B = b"\x89PNG\r\n\x1a\n" + b"b" * 32
SLOW = {"latency_ms": 50}


@pytest.fixture(autouse=True)
def fresh_factory() -> Any:
    LLMFactory.reset()
    yield
    LLMFactory.reset()


def entries(directory: Path) -> int:
    return open_cache(directory).stats().entries


def ask(directory: Path | ResponseCache, prompt: str, config: dict[str, Any] | None = None, model: str = "echo:mock",
        **kwargs: Any) -> CompleteResponse:
    llm = LLMFactory.create_llm(model, config, cache=directory)
    return llm.send_user_message_sync(prompt, **kwargs)


def local_model(port: int) -> LLMModel:
    return LLMFactory.register_model(LLMModel(
        name="echo", provider=LLMProvider.OTHER, runtime=LLMRuntime.OPENAI_COMPATIBLE, backend="mock",
        host=f"127.0.0.1:{port}", pricing=Pricing.simple(1, 2), metadata={"behaviour": "echo"},
    ))


# ----- what the key depends on -----------------------------------------------------------------------------
def test_same_request_on_two_hosts_is_two_entries(tmp_path: Path) -> None:
    first, second = local_model(1111), local_model(2222)
    a = ask(tmp_path, "hello", model=first.identifier)
    b = ask(tmp_path, "hello", model=second.identifier)
    assert not a.cached and not b.cached
    assert entries(tmp_path) == 2
    assert ask(tmp_path, "hello", model=first.identifier).cached
    assert ask(tmp_path, "hello", model=second.identifier).cached


@pytest.fixture
def keyed_backend(monkeypatch: pytest.MonkeyPatch) -> LLMModel:
    """An API-style model whose Host needs a key and honours a *_BASE_URL override (served by MockLLM)."""
    monkeypatch.setitem(_BACKENDS, "mock-keyed", Backend("mock-keyed", "llmkit.api.mock:MockLLM"))
    register_host(Host("mock-keyed", "Mock keyed", "http://127.0.0.1:3333/v1", "MOCKKEYED_BASE_URL",
                       bearer("MOCKKEYED_API_KEY"), True))
    monkeypatch.setenv("MOCKKEYED_API_KEY", "sk-first-secret-value")
    return LLMFactory.register_model(LLMModel(
        name="keyed-echo", provider=LLMProvider.OTHER, runtime=LLMRuntime.API, backend="mock-keyed",
        pricing=Pricing.simple(1, 2), metadata={"behaviour": "echo"},
    ))


def test_api_key_is_not_in_the_key_but_base_url_is(tmp_path: Path, keyed_backend: LLMModel,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert not ask(tmp_path, "hi", model=keyed_backend.identifier).cached
    monkeypatch.setenv("MOCKKEYED_API_KEY", "sk-second-secret-value")
    assert ask(tmp_path, "hi", model=keyed_backend.identifier).cached
    monkeypatch.setenv("MOCKKEYED_BASE_URL", "http://127.0.0.1:4444/v1")
    assert not ask(tmp_path, "hi", model=keyed_backend.identifier).cached
    assert entries(tmp_path) == 2
    on_disk = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"secret-value" not in on_disk


def test_timeout_retries_and_pricing_do_not_change_the_key(tmp_path: Path) -> None:
    fresh = ask(tmp_path, "hello", {"timeout": 5, "max_retries": 0})
    hit = ask(tmp_path, "hello", {"timeout": 99, "max_retries": 7,
                                  "pricing": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 100}})
    assert not fresh.cached and hit.cached
    # The saving is priced at the caller's current price, not the stored one.
    expected = Decimal(fresh.usage.input_tokens + fresh.usage.output_tokens) * 100 / 1_000_000
    assert hit.usage.saved_cost == expected
    assert entries(tmp_path) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"prompt": "hello", "config": {"temperature": 0.2}}, {"prompt": "hello", "config": {"temperature": 0.3}}),
        ({"prompt": "hello"}, {"prompt": "hello!"}),
        ({"prompt": "hello", "images": [PNG_A]}, {"prompt": "hello", "images": [PNG_B]}),
        ({"prompt": "hello", "config": {"extra_params": {"latency_ms": 0}}},
         {"prompt": "hello", "config": {"extra_params": {"latency_ms": 1}}}),
        ({"prompt": "hello", "config": {"system_message": "Be terse."}},
         {"prompt": "hello", "config": {"system_message": "Be chatty."}}),
        ({"prompt": "hello", "config": {"max_tokens": 50}}, {"prompt": "hello", "config": {"max_tokens": 51}}),
    ],
    ids=["temperature", "message", "image-bytes", "extra_params", "system", "max_tokens"],
)
def test_changes_that_matter_miss(tmp_path: Path, first: dict[str, Any], second: dict[str, Any]) -> None:
    def run(spec: dict[str, Any]) -> CompleteResponse:
        llm = LLMFactory.create_llm("echo:mock", spec.get("config"), cache=tmp_path)
        return llm.send_user_message_sync(spec["prompt"], spec.get("images"))

    assert not run(first).cached
    assert not run(second).cached
    assert run(first).cached and run(second).cached
    assert entries(tmp_path) == 2


def test_reasoning_control_changes_the_answer_and_the_key(tmp_path: Path) -> None:
    low = ask(tmp_path, "What is 2 + 2?", {"extra_params": {"reasoning_effort": "low"}}, "reasoner-effort:mock")
    high = ask(tmp_path, "What is 2 + 2?", {"extra_params": {"reasoning_effort": "high"}}, "reasoner-effort:mock")
    assert not low.cached and not high.cached and low.reasoning != high.reasoning
    again = ask(tmp_path, "What is 2 + 2?", {"extra_params": {"reasoning_effort": "high"}}, "reasoner-effort:mock")
    assert again.cached and again.reasoning == high.reasoning and again.usage.reasoning_tokens > 0


def test_repeats_with_distinct_sample_index_are_distinct_entries(tmp_path: Path) -> None:
    config = {"temperature": 0.9}
    assert not ask(tmp_path, "hi", config, sample_index=0).cached
    assert not ask(tmp_path, "hi", config, sample_index=1).cached
    assert not ask(tmp_path, "hi", config).cached  # "any sample" is its own entry
    assert ask(tmp_path, "hi", config, sample_index=1).cached
    assert entries(tmp_path) == 3


def test_history_is_part_of_the_key(tmp_path: Path) -> None:
    llm = LLMFactory.create_llm("echo:mock", cache=tmp_path)
    llm.send_user_message_sync("one")
    second = llm.send_user_message_sync("two")
    alone = ask(tmp_path, "two")
    assert not second.cached and not alone.cached
    replay = LLMFactory.create_llm("echo:mock", cache=tmp_path)
    assert replay.send_user_message_sync("one").cached and replay.send_user_message_sync("two").cached


def test_canonical_json_and_golden_key() -> None:
    assert canonical_json({"b": Decimal("1.10"), "a": [1, (2, 3)], "c": {"z": 1.5, "y": None}}) == (
        '{"a":[1,[2,3]],"b":"1.10","c":{"y":null,"z":1.5}}')
    with pytest.raises(UnhashableRequestError):
        cache_key(_request({"opaque": object()}))
    material = key_material(_request())
    assert "timeout" not in canonical_json(material) and "pricing" not in canonical_json(material)
    assert material["messages"][1]["images"][0]["digest"] == Image(data=PNG_A).digest
    # Pinned: if this changes, bump KEY_VERSION (old entries must not be found under a new meaning).
    assert cache_key(_request()) == GOLDEN_KEY


GOLDEN_KEY = "874b010679d28b1c48f2e1b1b9219f2b086e88433495b79e73516326e850e3ae"

_KEY_SCRIPT = """
from llmkit.config import LLMConfig
from llmkit.factory import LLMFactory
from llmkit.messages import Image, LLMRequest, Message, Role
from llmkit.cache import cache_key
model = LLMFactory.get_model("echo:mock")
messages = (Message(Role.SYSTEM, "Be terse."), Message(Role.USER, "Bonjour, ça va? 2×3", (Image(data={png!r}),)))
config = LLMConfig(temperature=0.7, seed=3, stop=["END"], timeout=7, extra_params={{"latency_ms": 0}})
print(cache_key(LLMRequest(messages, config, model, False, 2)))
"""


def _request(extra: dict[str, Any] | None = None) -> LLMRequest:
    model = LLMFactory.get_model("echo:mock")
    messages = (Message(Role.SYSTEM, "Be terse."), Message(Role.USER, "Bonjour, ça va? 2×3", (Image(data=PNG_A),)))
    config = LLMConfig(temperature=0.7, seed=3, stop=["END"], timeout=7, extra_params=extra or {"latency_ms": 0})
    return LLMRequest(messages, config, model, False, 2)


def test_key_text_is_the_canonical_json_of_its_material() -> None:
    from llmkit.cache.keys import _canonical_text

    local = local_model(1111)
    plain = LLMRequest((Message(Role.USER, "hi"),), LLMConfig(), LLMFactory.get_model("echo:mock"))
    for request in (_request(), plain, LLMRequest(plain.messages, LLMConfig(top_p=0.5), local, True, 0)):
        assert _canonical_text(request) == canonical_json(key_material(request))
    assert key_material(LLMRequest(plain.messages, LLMConfig(), local))["endpoint"] == "http://127.0.0.1:1111"


def test_key_is_the_same_in_another_process() -> None:
    out = subprocess.run([sys.executable, "-c", _KEY_SCRIPT.format(png=PNG_A)], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin",
                                          "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    assert out.stdout.strip() == cache_key(_request())


# ----- what a hit reports -----------------------------------------------------------------------------------
def test_hit_is_marked_free_and_keeps_the_original_latency(tmp_path: Path) -> None:
    fresh = ask(tmp_path, "What is 6 * 7?", {"extra_params": SLOW}, "oracle:mock")
    hit = ask(tmp_path, "What is 6 * 7?", {"extra_params": SLOW}, "oracle:mock")
    assert not fresh.cached and fresh.usage.total_cost > 0 and fresh.original_latency_s is None
    assert hit.cached and hit.content == fresh.content == "The answer is 42."
    assert (hit.usage.input_tokens, hit.usage.output_tokens) == (fresh.usage.input_tokens, fresh.usage.output_tokens)
    assert hit.usage.total_cost == 0 and hit.usage.input_cost == 0 and hit.usage.output_cost == 0
    assert hit.usage.saved_cost == fresh.usage.total_cost > 0
    assert hit.original_latency_s is not None and hit.original_latency_s >= 0.05
    assert hit.original_latency_s == fresh.latency_s
    assert hit.latency_s is not None and hit.latency_s < hit.original_latency_s
    assert hit.model == "oracle:mock" and hit.metadata["cache_key"]


def test_usage_tracker_counts_a_hit_as_saving_not_spend(tmp_path: Path) -> None:
    llm = LLMFactory.create_llm("oracle:mock", cache=tmp_path)
    fresh = llm.send_user_message_sync("What is 1 + 1?")
    llm.clear_history()
    llm.send_user_message_sync("What is 1 + 1?")
    assert [r.cached for r in llm.usage.records] == [False, True]
    assert llm.usage.total.total_cost == fresh.usage.total_cost
    assert llm.usage.total.saved_cost == fresh.usage.total_cost
    extension = llm.get_extension(ResponseCacheExtension)
    assert extension is not None and (extension.hits, extension.misses) == (1, 1)


class Capture:
    """Registered last: sees each final response as extensions do."""

    def __init__(self) -> None:
        self.responses: list[CompleteResponse] = []

    async def after_invoke(self, llm: BaseLLM, request: LLMRequest, response: CompleteResponse) -> None:
        self.responses.append(response)


def test_stream_replays_a_cached_unary_answer(tmp_path: Path) -> None:
    config = {"extra_params": {"reasoning_effort": "high", **SLOW}}
    fresh = ask(tmp_path, "What is the capital of France?", config, "reasoner-effort:mock")
    llm = LLMFactory.create_llm("reasoner-effort:mock", config, cache=tmp_path)
    seen = llm.register_extension(Capture())
    chunks = list(llm.stream_user_message_sync("What is the capital of France?"))
    assert len(chunks) > 2 and chunks[-1].is_complete
    assert "".join(c.content for c in chunks) == fresh.content
    assert "".join(c.reasoning or "" for c in chunks) == fresh.reasoning
    final = chunks[-1].usage
    assert final is not None and final.total_cost == 0 and final.saved_cost == fresh.usage.total_cost
    assert (final.input_tokens, final.output_tokens, final.reasoning_tokens) == (
        fresh.usage.input_tokens, fresh.usage.output_tokens, fresh.usage.reasoning_tokens)
    record = llm.usage.records[-1]
    assert record.cached and record.usage == final
    (assembled,) = seen.responses  # what extensions (e.g. the eval runner) see for a streamed hit
    assert assembled.cached and assembled.original_latency_s == fresh.latency_s
    assert assembled.original_latency_s is not None and assembled.original_latency_s >= 0.05
    assert assembled.ttft_s is not None and assembled.latency_s is not None  # this replay's own timings
    assert assembled.metadata["cache_key"] and "original_ttft_s" in assembled.metadata
    assert llm.messages[-1].content == fresh.content  # the replayed answer joins the history


async def test_a_streamed_fresh_answer_is_stored_and_replayed(tmp_path: Path) -> None:
    llm = LLMFactory.create_llm("oracle:mock", {"extra_params": SLOW}, cache=tmp_path)
    streamed = [c async for c in llm.stream_user_message("What is the capital of Japan?")]
    text = "".join(c.content for c in streamed)
    assert text == "The capital of Japan is Tokyo." and entries(tmp_path) == 1
    unary = await LLMFactory.create_llm("oracle:mock", {"extra_params": SLOW}, cache=tmp_path).send_user_message(
        "What is the capital of Japan?")
    assert unary.cached and unary.content == text
    assert unary.original_latency_s is not None and unary.original_latency_s >= 0.05
    assert unary.metadata["original_ttft_s"] is not None and unary.ttft_s is None
    replay_llm = LLMFactory.create_llm("oracle:mock", {"extra_params": SLOW}, cache=tmp_path)
    replay = [c async for c in replay_llm.stream_user_message("What is the capital of Japan?")]
    assert "".join(c.content for c in replay) == text
    assert replay[-1].usage is not None and replay[-1].usage.output_tokens == streamed[-1].usage.output_tokens  # type: ignore[union-attr]
    assert replay_llm.usage.records[-1].cached


def test_errors_are_never_stored(tmp_path: Path) -> None:
    with pytest.raises(RateLimitError):
        ask(tmp_path, "What is 2 + 2? [fail:rate_limit]", model="flaky:mock")
    llm = LLMFactory.create_llm("flaky:mock", cache=tmp_path)
    with pytest.raises(StreamError):
        list(llm.stream_user_message_sync("What is the capital of Peru? [fail:midstream]"))
    assert entries(tmp_path) == 0


def test_ttl_sets_an_expiry(tmp_path: Path) -> None:
    extension = ResponseCacheExtension(tmp_path, ttl=3600)
    llm = LLMFactory.create_llm("echo:mock", cache=extension)
    response = llm.send_user_message_sync("hello")
    import diskcache

    with diskcache.Cache(str(tmp_path)) as raw:
        _, expire_time = raw.get(response.metadata.get("cache_key") or _only_key(tmp_path), expire_time=True)
    assert expire_time is not None and time.time() < expire_time <= time.time() + 3600
    with pytest.raises(ConfigurationError):
        ResponseCacheExtension(tmp_path, ttl=0)


def _only_key(directory: Path) -> str:
    (key,) = list(open_cache(directory).keys())
    return key


def test_cache_options(tmp_path: Path) -> None:
    shared = ResponseCacheExtension(tmp_path / "shared")
    assert ResponseCacheExtension.from_option(shared) is shared
    assert ResponseCacheExtension.from_option(True).cache.directory == Path(
        __import__("os").environ["LLMKIT_CACHE_DIR"])
    assert ResponseCacheExtension.from_option(str(tmp_path / "a")).cache is open_cache(tmp_path / "a")
    mapped = ResponseCacheExtension.from_option({"dir": tmp_path / "b", "ttl": 60})
    assert mapped.ttl == 60 and mapped.cache.directory == tmp_path / "b"
    import diskcache

    wrapped = LLMFactory.create_llm("echo:mock", cache=diskcache.Cache(str(tmp_path / "c")))
    wrapped.send_user_message_sync("x")
    wrapped.clear_history()
    assert wrapped.send_user_message_sync("x").cached
    for bad in (42, {"directory": tmp_path, "colour": "red"}):
        with pytest.raises(ConfigurationError):
            ResponseCacheExtension.from_option(bad)
    assert LLMFactory.create_llm("echo:mock", cache=False).get_extension(ResponseCacheExtension) is None


# ----- failures are misses, never crashes or wrong answers ----------------------------------------------------
def _corrupt(directory: Path, sql: str) -> None:
    with sqlite3.connect(directory / "cache.db") as db:
        db.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE Cache SET value = substr(value, 1, 40) WHERE key LIKE '________%' AND key NOT LIKE 'llmkit:%'",
        "UPDATE Cache SET value = CAST(replace(CAST(value AS TEXT), 'Echo', 'Ecno') AS BLOB) "
        "WHERE key NOT LIKE 'llmkit:%'",
        "UPDATE Cache SET value = X'80049500' WHERE key NOT LIKE 'llmkit:%'",
        "UPDATE Cache SET value = 'not even bytes' WHERE key NOT LIKE 'llmkit:%'",
    ],
    ids=["truncated", "edited", "pickle-bytes", "text"],
)
def test_corrupt_entry_is_a_miss_with_a_warning(tmp_path: Path, sql: str) -> None:
    original = ask(tmp_path, "hello")
    _corrupt(tmp_path, sql)
    # A new ResponseCache has an empty memory, like another process: it must read the damaged disk entry.
    with pytest.warns(CacheWarning, match="unreadable"):
        again = ask(ResponseCache(tmp_path), "hello")
    assert not again.cached and again.content == original.content
    assert ask(ResponseCache(tmp_path), "hello").cached  # the bad entry was replaced


def test_a_pickled_value_is_never_unpickled(tmp_path: Path) -> None:
    import diskcache

    ask(tmp_path, "hello")
    key = _only_key(tmp_path)
    with diskcache.Cache(str(tmp_path)) as raw:
        raw.set(key, {"content": "forged"})  # stored as a pickle
    with pytest.warns(CacheWarning, match="pickle"):
        again = ask(ResponseCache(tmp_path), "hello")
    assert not again.cached and again.content == "Echo: hello"


def test_an_unusable_directory_disables_the_cache_with_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.warns(CacheWarning, match="disabled"):
        first = ask(blocker / "cache", "hello")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not on every call
        second = ask(blocker / "cache", "hello")
    assert first.content == second.content == "Echo: hello" and not second.cached


def test_a_read_only_database_skips_writes_with_a_warning(tmp_path: Path) -> None:
    import diskcache

    raw = diskcache.Cache(str(tmp_path))
    store = ResponseCache(backend=raw)
    answer = CachedAnswer.from_response("k" * 64, CompleteResponse("text", usage=TokenUsage(1, 1)))
    assert store.put(answer)
    raw.reset("sqlite_query_only", 1)  # from now on SQLite refuses every write on this connection
    with pytest.warns(CacheWarning, match="write failed"):
        assert store.put(CachedAnswer.from_response("j" * 64, CompleteResponse("other"))) is False
    assert store.get("k" * 64) == answer  # reads still work
    assert store.get("j" * 64) is None
    raw.close()


def test_memory_forgets_entries_cleared_elsewhere(tmp_path: Path) -> None:
    assert not ask(tmp_path, "hello").cached
    assert ask(tmp_path, "hello").cached  # now in this process's memory
    other = ResponseCache(tmp_path)  # another process, e.g. `python -m llmkit.cache clear`
    assert other.clear() == 1
    assert not ask(tmp_path, "hello").cached
    assert ask(tmp_path, "hello").cached


def test_memory_respects_the_ttl(tmp_path: Path) -> None:
    store = ResponseCache(tmp_path)
    answer = CachedAnswer.from_response("t" * 64, CompleteResponse("soon gone"))
    assert store.put(answer, ttl=0.01)
    time.sleep(0.05)
    assert store.get("t" * 64) is None
    assert store.put(answer, ttl=3600) and store.get("t" * 64) == answer


# ----- several processes --------------------------------------------------------------------------------------
def _hammer(directory: str, worker: int, rounds: int, barrier: Any, results: Any) -> None:
    """One process: write then read the same 'rounds' keys every other worker writes too."""
    warnings.simplefilter("error", CacheWarning)
    problems: list[str] = []
    store = ResponseCache(directory)
    try:
        if not store.usable:  # opened before the barrier, so the processes start writing together
            problems.append("could not open the cache")
        barrier.wait(timeout=60)
        for i in range(rounds):
            key = f"{i:064x}"
            answer = CachedAnswer(key, f"answer {i}", None, TokenUsage(i, i), "stop", 0.5, None, "echo:mock",
                                  1_700_000_000.0 + worker)
            if not store.put(answer):
                problems.append(f"put {i} failed")
            read = store.get(key)
            if read is None or read.content != f"answer {i}" or read.usage.input_tokens != i:
                problems.append(f"read {i} returned {read!r}")
            store.record(hit=True)
        # Built directly (not via create_llm) so each process skips importing jsonschema for config validation.
        from llmkit.api.mock import MockLLM

        llm = MockLLM(LLMFactory.get_model("echo:mock"))
        llm.register_extension(ResponseCacheExtension(store))
        for i in range(20):
            llm.clear_history()
            if llm.send_user_message_sync(f"shared prompt {i}").content != f"Echo: shared prompt {i}":
                problems.append(f"wrong answer for prompt {i}")
    except BaseException as exc:
        problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        store.close()
    results.put((worker, "; ".join(problems)))


def test_four_processes_share_a_directory_safely(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_hammer, args=(str(tmp_path), w, 200, barrier, results)) for w in range(4)]
    for process in workers:
        process.start()
    outcomes = dict(results.get(timeout=90) for _ in workers)
    for process in workers:
        process.join(timeout=30)
    assert outcomes == {0: "", 1: "", 2: "", 3: ""}
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    store = ResponseCache(tmp_path)
    assert len(set(store.keys())) == 220
    assert all(store.get(f"{i:064x}") is not None for i in range(200))
    stats = store.stats()
    assert stats.entries == 220 and stats.hits >= 800


def test_import_llmkit_does_not_load_diskcache() -> None:
    code = "import sys, llmkit, llmkit.cache, llmkit.extensions.cache; print('diskcache' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cached_response_from_another_extension_is_not_stored(tmp_path: Path) -> None:
    class Canned:
        async def before_invoke(self, llm: BaseLLM, request: LLMRequest) -> CompleteResponse:
            return CompleteResponse("canned", cached=True)

    llm = LLMFactory.create_llm("echo:mock")
    llm.register_extension(Canned())
    llm.register_extension(ResponseCacheExtension(tmp_path))
    assert llm.send_user_message_sync("hi").content == "canned"
    assert entries(tmp_path) == 0
