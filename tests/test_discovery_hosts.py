"""Host configuration: OLLAMA_HOST parsing (Ollama's own rules), *_HOSTS lists, normalisation, makers table."""

from __future__ import annotations

import pytest

from llmkit.api.autobyteus import protocol_generation
from llmkit.discovery.hostenv import (
    DEFAULT_OPENAI_COMPATIBLE_HOSTS,
    HostEntry,
    autobyteus_hosts,
    hosts_to_probe,
    lmstudio_hosts,
    ollama_hosts,
    openai_compatible_hosts,
    parse_ollama_host,
)
from llmkit.discovery.makers import infer_provider
from llmkit.hosts import normalise_host
from llmkit.models import LLMProvider, LLMRuntime


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "http://127.0.0.1:11434"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("example.com:1234", "http://example.com:1234"),
        ("example.com", "http://example.com:11434"),
        (":1234", "http://127.0.0.1:1234"),
        ("::1", "http://[::1]:11434"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com/ollama", "https://example.com:443/ollama"),
        ("http://1.2.3.4:5678", "http://1.2.3.4:5678"),
        ("ollama.com", "https://ollama.com:443"),
        ("example.com:99999", "http://example.com:11434"),
        ("example.com:abc", "http://example.com:11434"),
        ("  '10.0.0.1:5'  ", "http://10.0.0.1:5"),
        ('"0.0.0.0"', "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("::", "http://[::1]:11434"),
    ],
)
def test_ollama_host_follows_ollamas_rules(value: str, expected: str) -> None:
    assert parse_ollama_host(value) == expected


@pytest.mark.parametrize(
    "value",
    ["http://127.0.0.1:8080/v1", "127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/",
     " 127.0.0.1:8080 ", "'http://127.0.0.1:8080'"],
)
def test_host_spellings_normalise_to_one_identifier(value: str) -> None:
    assert normalise_host(value) == "127.0.0.1:8080"


def test_ollama_hosts_combine_list_and_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOSTS", "127.0.0.1:1111, http://127.0.0.1:2222/v1 ,127.0.0.1:1111")
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:3333")
    assert ollama_hosts() == [
        HostEntry("127.0.0.1:1111", "http://127.0.0.1:1111"),
        HostEntry("127.0.0.1:2222", "http://127.0.0.1:2222"),
        HostEntry("127.0.0.1:3333", "http://127.0.0.1:3333"),
    ]


def test_defaults_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OLLAMA_HOSTS", "OLLAMA_HOST", "LMSTUDIO_HOSTS", "OPENAI_COMPATIBLE_HOSTS",
                 "AUTOBYTEUS_LLM_SERVER_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    assert [e.host for e in ollama_hosts()] == ["localhost:11434"]
    assert [e.host for e in lmstudio_hosts()] == ["localhost:1234"]
    assert [e.host for e in openai_compatible_hosts()] == list(DEFAULT_OPENAI_COMPATIBLE_HOSTS)
    assert not any(e.explicit for e in ollama_hosts() + lmstudio_hosts() + openai_compatible_hosts())
    assert autobyteus_hosts() == []


def test_openai_compatible_can_be_switched_off_and_keeps_path_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_HOSTS", "")
    assert openai_compatible_hosts() == []
    monkeypatch.setenv("OPENAI_COMPATIBLE_HOSTS", "https://gw.example:4000/litellm/v1,localhost:8000")
    assert openai_compatible_hosts() == [
        HostEntry("gw.example:4000", "https://gw.example:4000/litellm"),
        HostEntry("localhost:8000", "http://localhost:8000"),
    ]


def test_default_openai_compatible_ports_skip_hosts_other_runtimes_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_COMPATIBLE_HOSTS", raising=False)
    monkeypatch.setenv("OLLAMA_HOSTS", "localhost:8080")
    assert "localhost:8080" not in [e.host for e in openai_compatible_hosts()]


def test_bad_entries_are_skipped_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("LMSTUDIO_HOSTS", "http://:bad, 127.0.0.1:1234")
    assert [e.host for e in lmstudio_hosts()] == ["127.0.0.1:1234"]
    assert "LMSTUDIO_HOSTS" in caplog.text


def test_autobyteus_hosts_default_to_https_and_drop_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOBYTEUS_LLM_SERVER_HOSTS", "10.0.0.5:8000,http://127.0.0.1:9000/prefix")
    assert autobyteus_hosts() == [
        HostEntry("10.0.0.5:8000", "https://10.0.0.5:8000"),
        HostEntry("127.0.0.1:9000", "http://127.0.0.1:9000"),
    ]


def test_one_host_is_probed_with_its_configured_url_or_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_HOSTS", "https://127.0.0.1:8443/v1,127.0.0.1:8080")
    assert hosts_to_probe(LLMRuntime.OPENAI_COMPATIBLE, "http://127.0.0.1:8443/v1") == [
        HostEntry("127.0.0.1:8443", "https://127.0.0.1:8443")]
    assert hosts_to_probe(LLMRuntime.OPENAI_COMPATIBLE, "127.0.0.1:7777") == [
        HostEntry("127.0.0.1:7777", "http://127.0.0.1:7777")]


@pytest.mark.parametrize(
    ("name", "families", "provider"),
    [
        ("llama3.2:latest", (), LLMProvider.META),
        ("qwen3:8b", (), LLMProvider.QWEN),
        ("Qwen/Qwen3-8B", (), LLMProvider.QWEN),
        ("gemma3:4b", (), LLMProvider.GOOGLE),
        ("mistral-small3.2", (), LLMProvider.MISTRAL),
        ("dolphin-mistral:7b", (), LLMProvider.MISTRAL),
        ("deepseek-r1:14b", (), LLMProvider.DEEPSEEK),
        ("phi4-mini", (), LLMProvider.MICROSOFT),
        ("gpt-oss:20b", (), LLMProvider.OPENAI),
        ("granite3.3:8b", (), LLMProvider.IBM),
        ("command-r7b", (), LLMProvider.COHERE),
        ("kimi-k2", (), LLMProvider.MOONSHOT),
        ("glm4:9b", (), LLMProvider.ZHIPU),
        ("nemotron-mini", (), LLMProvider.NVIDIA),
        ("my-finetune:latest", ("llama",), LLMProvider.META),
        ("tinyllama", (), LLMProvider.OTHER),
        ("some-model", (), LLMProvider.OTHER),
    ],
)
def test_maker_is_inferred_from_name_then_family(name: str, families: tuple[str, ...],
                                                 provider: LLMProvider) -> None:
    assert infer_provider(name, families) is provider


def test_autobyteus_generation_is_chosen_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOBYTEUS_PROTOCOL_GENERATION", raising=False)
    assert protocol_generation("127.0.0.1:1") == 2
    monkeypatch.setenv("AUTOBYTEUS_PROTOCOL_GENERATION", "1")
    assert protocol_generation("127.0.0.1:1") == 1
    monkeypatch.setenv("AUTOBYTEUS_PROTOCOL_GENERATION", "2, http://127.0.0.1:9000=1, junk=7")
    assert protocol_generation("127.0.0.1:9000") == 1
    assert protocol_generation("127.0.0.1:9001") == 2
