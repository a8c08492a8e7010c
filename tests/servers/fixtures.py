"""Function-scoped pytest fixtures yielding started loopback servers (import with
``from tests.servers.fixtures import *``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from .anthropic_messages import AnthropicServer
from .autobyteus import AutoByteusServer
from .base import LoopbackServer
from .garbage import GarbageServer, HungServer
from .gemini import GeminiServer
from .ollama import OllamaServer
from .openai_chat import OpenAIChatServer

S = TypeVar("S", bound=LoopbackServer)

__all__ = [
    "anthropic_server",
    "autobyteus_server",
    "garbage_server",
    "gemini_server",
    "hung_server",
    "loopback",
    "ollama_server",
    "openai_host",
    "openai_server",
]


@pytest.fixture
def loopback() -> Iterator[Callable[..., Any]]:
    """Factory: ``loopback(OpenAIChatServer, "deepseek", api_key="k")`` starts a server, stopped after the test."""
    started: list[LoopbackServer] = []

    def make(cls: type[S], *args: Any, **kwargs: Any) -> S:
        server = cls(*args, **kwargs)
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def _serve(server: S) -> Iterator[S]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openai_server() -> Iterator[OpenAIChatServer]:
    yield from _serve(OpenAIChatServer("openai"))


@pytest.fixture
def openai_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIChatServer]:
    """The `openai` API backend pointed at a loopback server that accepts only the test suite's sentinel key."""
    from tests.provider_contract import SENTINEL_KEY

    server = OpenAIChatServer("openai", api_key=SENTINEL_KEY)
    server.start()
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/v1")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    yield from _serve(AnthropicServer())


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    yield from _serve(GeminiServer())


@pytest.fixture
def ollama_server() -> Iterator[OllamaServer]:
    yield from _serve(OllamaServer())


@pytest.fixture
def autobyteus_server() -> Iterator[AutoByteusServer]:
    yield from _serve(AutoByteusServer())


@pytest.fixture
def garbage_server() -> Iterator[GarbageServer]:
    yield from _serve(GarbageServer())


@pytest.fixture
def hung_server() -> Iterator[HungServer]:
    server = HungServer().start()
    try:
        yield server
    finally:
        server.stop()
