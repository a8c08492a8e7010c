"""Identifiers: one parser/formatter, round-trip, clear errors for malformed ids."""

from __future__ import annotations

import pytest

from llmkit import InvalidIdentifierError, LLMRuntime, format_identifier, parse_identifier


@pytest.mark.parametrize(
    ("identifier", "name", "runtime", "host"),
    [
        ("gpt-4o", "gpt-4o", LLMRuntime.API, None),
        ("claude-sonnet-4-5", "claude-sonnet-4-5", LLMRuntime.API, None),
        ("ft:gpt-4o:acme:run1", "ft:gpt-4o:acme:run1", LLMRuntime.API, None),
        ("llama3:latest:ollama@localhost:11434", "llama3:latest", LLMRuntime.OLLAMA, "localhost:11434"),
        ("qwen3-4b:lmstudio@localhost:1234", "qwen3-4b", LLMRuntime.LMSTUDIO, "localhost:1234"),
        ("tiny:openai-compatible@127.0.0.1:8080", "tiny", LLMRuntime.OPENAI_COMPATIBLE, "127.0.0.1:8080"),
        ("gpt-5-instant-rpa:autobyteus@10.0.0.5:8000", "gpt-5-instant-rpa", LLMRuntime.AUTOBYTEUS, "10.0.0.5:8000"),
        ("hf.co/org/model:Q4_K_M:ollama@[::1]:11434", "hf.co/org/model:Q4_K_M", LLMRuntime.OLLAMA, "[::1]:11434"),
        ("echo:mock", "echo", LLMRuntime.MOCK, None),
        ("shared-llm:api@gw.example.com:443", "shared-llm", LLMRuntime.API, "gw.example.com:443"),
    ],
)
def test_round_trip(identifier: str, name: str, runtime: LLMRuntime, host: str | None) -> None:
    parsed = parse_identifier(identifier)
    assert (parsed.name, parsed.runtime, parsed.host) == (name, runtime, host)
    assert format_identifier(parsed.name, parsed.runtime, parsed.host) == identifier
    assert str(parsed) == identifier


@pytest.mark.parametrize(
    ("identifier", "fragment"),
    [
        ("", "non-empty"),
        ("gpt 4o", "whitespace"),
        (" gpt-4o", "whitespace"),
        ("llama3:ollama", "no host"),
        ("llama3:ollama@localhost", "host:port"),
        ("llama3:ollama@localhost:99999", "1-65535"),
        ("llama3:nosuch@localhost:11434", "runtime one of"),
        ("llama3@localhost:11434", "runtime one of"),
        (":ollama@localhost:11434", "empty model name"),
        (":mock", "empty name"),
        ("openai/", "no model"),
        ("x:api@nohost", "host:port"),
    ],
)
def test_malformed_identifiers_say_what_is_expected(identifier: str, fragment: str) -> None:
    with pytest.raises(InvalidIdentifierError) as info:
        parse_identifier(identifier)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_local_identifier_needs_a_host() -> None:
    with pytest.raises(InvalidIdentifierError):
        format_identifier("llama3", LLMRuntime.OLLAMA)


@pytest.mark.parametrize(
    ("identifier", "qualifier", "name"),
    [
        ("openai/gpt-5.4", "openai", "gpt-5.4"),
        ("anthropic/claude-opus-4-6", "anthropic", "claude-opus-4-6"),
        ("groq/llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile"),
        ("openrouter/meta-llama/llama-3.3-70b-instruct", "openrouter", "meta-llama/llama-3.3-70b-instruct"),
        ("Meta-Llama/x", None, "Meta-Llama/x"),  # not a qualifier (upper case): a bare name with a slash
    ],
)
def test_qualified_api_ids(identifier: str, qualifier: str | None, name: str) -> None:
    parsed = parse_identifier(identifier)
    assert (parsed.qualifier, parsed.name, parsed.runtime, parsed.host) == (qualifier, name, LLMRuntime.API, None)
    assert str(parsed) == identifier == format_identifier(name, LLMRuntime.API, qualifier=qualifier)
