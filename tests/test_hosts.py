"""Hosts: canonical URLs, host keys, auth headers as data for every backend, key lookup order, TLS, and an
endpoint that follows the environment (a key set after the client was created is used)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmkit import settings
from llmkit.errors import AuthenticationError, ConfigurationError
from llmkit.factory import LLMFactory
from llmkit.hosts import Host, KeyVar, bearer, canonical_url, get_host, host_for, register_host
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.secrets import redact_secrets
from tests.servers.openai_chat import OpenAIChatServer


# ----- canonical forms ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "canonical"), [
    ("https://api.openai.com/v1", "https://api.openai.com:443/v1"),
    ("HTTPS://API.OpenAI.com:443/v1/", "https://api.openai.com:443/v1"),
    ("http://localhost", "http://localhost:80"),
    ("127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://user:secret@gw.example:8443/team/v1?x=1#frag", "http://gw.example:8443/team/v1"),
    ("http://[::1]:11434/", "http://[::1]:11434"),
])
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("entry", ["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1",
                                   "http://127.0.0.1:8080/v1/", "127.0.0.1:8080"])
def test_a_local_openai_compatible_server_has_one_spelling_however_it_is_written(entry: str) -> None:
    host = get_host("openai-compatible").at(entry)
    assert host.url() == "http://127.0.0.1:8080/v1"
    assert host.canonical_url() == "http://127.0.0.1:8080/v1"
    assert host.host_key() == "127.0.0.1:8080"


def test_anthropic_base_url_drops_v1_and_keeps_a_gateway_path(monkeypatch: pytest.MonkeyPatch) -> None:
    anthropic = get_host("anthropic")
    assert anthropic.url() == "https://api.anthropic.com"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://gw.example/anthropic/v1/")
    assert anthropic.url() == "https://gw.example/anthropic"
    assert anthropic.canonical_url() == "https://gw.example:443/anthropic"
    assert anthropic.host_key() == "gw.example:443"


def test_host_keys_of_clouds_local_servers_and_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_host("openai").host_key() == "api.openai.com:443"
    assert get_host("gemini").host_key() == "generativelanguage.googleapis.com:443"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    assert get_host("openai").host_key() == "127.0.0.1:9999"
    assert get_host("mock").host_key() == "mock" and get_host("mock").canonical_url() is None
    ollama = LLMModel(name="llama3", provider=LLMProvider.META, runtime=LLMRuntime.OLLAMA, backend="ollama",
                      host="localhost:11434")  # no host_url: plain http at host:port
    assert host_for(ollama).canonical_url() == "http://localhost:11434"


def test_a_models_host_url_wins_over_the_base_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    gateway = LLMModel(name="m", provider=LLMProvider.OPENAI, runtime=LLMRuntime.API, backend="openai",
                       host_url="http://127.0.0.1:2/v1")
    assert host_for(gateway).url() == "http://127.0.0.1:2/v1"
    assert host_for(gateway) is host_for(gateway)  # one Host (and endpoint memo) per endpoint


# ----- auth headers as data ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("backend", "env", "headers"), [
    ("openai", {"OPENAI_API_KEY": "sk-o"}, {"Authorization": "Bearer sk-o"}),
    ("openai", {"OPENAI_API_KEY": "sk-o", "OPENAI_PROJECT_ID": "proj_1", "OPENAI_ORG_ID": "org-1"},
     {"Authorization": "Bearer sk-o", "OpenAI-Project": "proj_1", "OpenAI-Organization": "org-1"}),
    ("anthropic", {"ANTHROPIC_API_KEY": "sk-ant"}, {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}),
    ("anthropic", {"ANTHROPIC_AUTH_TOKEN": "tok-gw", "ANTHROPIC_BETA": "b1"},
     {"Authorization": "Bearer tok-gw", "anthropic-version": "2023-06-01", "anthropic-beta": "b1"}),
    ("gemini", {"GOOGLE_API_KEY": "g-key"}, {"x-goog-api-key": "g-key"}),
    ("mistral", {"MISTRAL_API_KEY": "m-key"}, {"Authorization": "Bearer m-key"}),
    ("deepseek", {"DEEPSEEK_API_KEY": "d-key"}, {"Authorization": "Bearer d-key"}),
    ("zhipu", {"ZHIPUAI_API_KEY": "z-key"}, {"Authorization": "Bearer z-key"}),
    ("ollama", {}, {}),
    ("ollama", {"OLLAMA_API_KEY": "ol-key"}, {"Authorization": "Bearer ol-key"}),
    ("lmstudio", {"LM_API_TOKEN": "lm-key"}, {"Authorization": "Bearer lm-key"}),
    ("openai-compatible", {"OPENAI_COMPATIBLE_API_KEY": "oc-key"}, {"Authorization": "Bearer oc-key"}),
    ("autobyteus", {"AUTOBYTEUS_API_KEY": "ab-key"}, {"AUTOBYTEUS_API_KEY": "ab-key"}),
])
def test_auth_headers_per_backend(backend: str, env: dict[str, str], headers: dict[str, str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "ANTHROPIC_BETA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert get_host(backend).auth_headers() == headers


@pytest.mark.parametrize(("backend", "order"), [
    ("anthropic", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]),
    ("gemini", ["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
    ("zhipu", ["ZHIPU_API_KEY", "ZAI_API_KEY", "ZHIPUAI_API_KEY"]),
    ("lmstudio", ["LMSTUDIO_API_KEY", "LM_API_TOKEN"]),
])
def test_the_first_key_variable_that_is_set_wins(backend: str, order: list[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    host = get_host(backend)
    for name in order:
        monkeypatch.setenv(name, f"key-of-{name}")
    for name in order:
        found = host.api_key()
        assert found is not None and found[0].env == name and found[1] == f"key-of-{name}"
        monkeypatch.delenv(name)
    assert host.api_key() is None


def test_a_rejected_keys_hint_names_the_variable_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok-gw")
    assert get_host("anthropic").endpoint().api_key_env == "ANTHROPIC_AUTH_TOKEN"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    assert get_host("anthropic").endpoint().api_key_env == "ANTHROPIC_API_KEY"


def test_blank_keys_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "   ")
    monkeypatch.setenv("GOOGLE_API_KEY", "g-key")
    assert get_host("gemini").auth_headers() == {"x-goog-api-key": "g-key"}


# ----- required keys and the endpoint's memo ------------------------------------------------------------------
def test_a_missing_required_key_names_its_variable_and_an_optional_one_does_not_matter() -> None:
    assert get_host("openai").missing_key() == "OPENAI_API_KEY"
    with pytest.raises(AuthenticationError) as info:
        get_host("openai").endpoint("gpt-5.5")
    assert info.value.env_var == "OPENAI_API_KEY" and "gpt-5.5" in str(info.value)
    assert get_host("ollama").at("http://127.0.0.1:11434").missing_key() is None
    assert get_host("autobyteus").missing_key() == "AUTOBYTEUS_API_KEY"


def test_the_endpoint_follows_keys_and_overrides_set_after_the_client_was_created(
        monkeypatch: pytest.MonkeyPatch) -> None:
    llm = LLMFactory.create_llm("gpt-5.5")
    with pytest.raises(AuthenticationError):
        llm.endpoint()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-first-value")
    first = llm.endpoint()
    assert first.headers["Authorization"] == "Bearer sk-first-value" and first.api_key_env == "OPENAI_API_KEY"
    assert llm.endpoint() is first  # unchanged environment: the memoised endpoint
    monkeypatch.setenv("OPENAI_API_KEY", "sk-second-value")
    assert llm.endpoint().headers["Authorization"] == "Bearer sk-second-value"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:7/v1")
    assert llm.endpoint().base_url == "http://127.0.0.1:7/v1"
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert llm.endpoint().base_url == "https://api.openai.com/v1"
    assert "sk-second-value" not in repr(llm.endpoint()) + repr(get_host("openai"))


def test_the_endpoint_follows_optional_headers_set_unset_and_cleared_in_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-org-test")
    monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
    host = get_host("openai")
    assert "OpenAI-Organization" not in host.endpoint().headers
    os.environ.update({"OPENAI_ORG_ID": "org-later"})  # MutableMapping.update: one os.environ write per key
    try:
        assert host.endpoint().headers["OpenAI-Organization"] == "org-later"
    finally:
        os.environ.pop("OPENAI_ORG_ID")
    assert "OpenAI-Organization" not in host.endpoint().headers


def test_a_change_not_yet_shown_by_os_environ_is_never_memoised(monkeypatch: pytest.MonkeyPatch) -> None:
    """`os.putenv` alone raises the same audit event as an `os.environ` write about to be stored (another thread's,
    caught between the two steps): until os.environ shows it, every endpoint is read afresh; one it never shows
    stops counting, so the memo holds again."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-stored-value")
    host = get_host("openai")
    os.putenv("OPENAI_API_KEY", "sk-pending-value")
    try:
        pending = [host.endpoint() for _ in range(3)]
        assert pending[0] is not pending[1] is not pending[2]
        assert {e.headers["Authorization"] for e in pending} == {"Bearer sk-stored-value"}
        monkeypatch.setenv("OPENAI_API_KEY", "sk-pending-value")  # now stored: the memo holds it
        assert host.endpoint() is host.endpoint()
        assert host.endpoint().headers["Authorization"] == "Bearer sk-pending-value"
        os.putenv("OPENAI_API_KEY", "sk-never-stored")
        for _ in range(settings._MAX_CHECKS + 1):
            host.endpoint()
        assert host.endpoint() is host.endpoint()
        assert host.endpoint().headers["Authorization"] == "Bearer sk-pending-value"
    finally:
        os.putenv("OPENAI_API_KEY", os.environ["OPENAI_API_KEY"])


_REFUSED_HOOK = """
import os, sys
def refuse(event, args):
    if event == "sys.addaudithook":
        raise RuntimeError("no more audit hooks")
sys.addaudithook(refuse)
from llmkit import settings
from llmkit.hosts import get_host
import llmkit.backends
assert not settings._watching
os.environ["OPENAI_API_KEY"] = "sk-first-value"
host = get_host("openai")
assert host.endpoint() is not host.endpoint()  # nothing is memoised without the hook
os.environ["OPENAI_API_KEY"] = "sk-second-value"
assert host.endpoint().headers["Authorization"] == "Bearer sk-second-value"
print("ok")
"""


def test_without_the_audit_hook_the_endpoint_is_read_on_every_call() -> None:
    """An application's own audit hook may refuse new ones (`sys.addaudithook` then adds nothing, silently): llmkit
    notices and re-reads the environment on every call instead of memoising."""
    done = subprocess.run([sys.executable, "-c", _REFUSED_HOOK], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_host_without_any_base_url_says_so() -> None:
    with pytest.raises(AuthenticationError, match="No base URL"):
        get_host("ollama").endpoint()


# ----- TLS ------------------------------------------------------------------------------------------------------
def test_tls_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert get_host("openai").tls() is True
    autobyteus = get_host("autobyteus").at("https://10.0.0.5:8000")
    assert autobyteus.tls() is False  # as the AutoByteus clients: not verified unless a bundle is named
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("AUTOBYTEUS_SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("AUTOBYTEUS_API_KEY", "ab-key")
    assert autobyteus.tls() == str(bundle)
    assert autobyteus.endpoint().verify_tls == str(bundle)


# ----- registering a host (how named clouds such as Groq are added) -----------------------------------------
def test_a_registered_host_is_data_and_its_key_variable_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = register_host(Host("examplecloud", "ExampleCloud", "https://api.examplecloud.test/openai/v1",
                               "EXAMPLECLOUD_BASE_URL", bearer("EXAMPLECLOUD_API_KEY"), True))
    monkeypatch.setenv("EXAMPLECLOUD_API_KEY", "ec-secret-value-42")
    # redacted before llmkit ever read it: registering the host watches its key variable
    assert redact_secrets("echo ec-secret-value-42") == "echo ***"
    assert cloud.endpoint().headers == {"Authorization": "Bearer ec-secret-value-42"}
    assert get_host("examplecloud") is cloud
    with pytest.raises(ConfigurationError, match="examplecloud"):
        get_host("no-such-host")


def test_custom_key_headers_are_data(monkeypatch: pytest.MonkeyPatch) -> None:
    host = Host("raw", "Raw", "http://127.0.0.1:5", keys=(KeyVar("RAW_TOKEN", "X-Token", "Token "),),
                headers={"X-Fixed": "1"})
    assert host.auth_headers() == {"X-Fixed": "1"} and host.missing_key() is None  # not required
    monkeypatch.setenv("RAW_TOKEN", "abc123")
    assert host.auth_headers() == {"X-Fixed": "1", "X-Token": "Token abc123"}


# ----- one settings module ------------------------------------------------------------------------------------
def test_only_the_settings_module_reads_the_environment() -> None:
    import ast

    import llmkit

    package = Path(llmkit.__file__).parent
    readers = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "settings.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "environb", "getenv", "getenvb"):
                readers.append(f"{path.relative_to(package)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in ("environ", "getenv") for a in node.names):
                readers.append(f"{path.relative_to(package)}:{node.lineno}")
    assert readers == [], "read environment variables through llmkit.settings"


def test_a_named_openai_compatible_cloud_is_data_end_to_end(loopback: Callable[..., Any],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """What issue 13's named hosts (Groq, Together, ...) will be: a backend, a profile and a Host, no class."""
    from llmkit.api.openai_profiles import OpenAIProfile, register_openai_profile
    from llmkit.backends import Backend, register_backend

    server = loopback(OpenAIChatServer, "openai", api_key="ex-cloud-key", models=["llama-x"])
    register_openai_profile(OpenAIProfile("examplegrid", "ExampleGrid"))
    register_backend(Backend("examplegrid", "llmkit.api.openai_chat:OpenAIChatLLM"), Host(
        "examplegrid", "ExampleGrid", "https://api.examplegrid.test/openai/v1", "EXAMPLEGRID_BASE_URL",
        bearer("EXAMPLEGRID_API_KEY"), True))
    model = LLMFactory.register_model(LLMModel(name="llama-x", provider=LLMProvider.META, runtime=LLMRuntime.API,
                                               backend="examplegrid"))
    assert not LLMFactory.availability(model.identifier)  # no key yet: listed, unavailable, names the variable
    monkeypatch.setenv("EXAMPLEGRID_API_KEY", "ex-cloud-key")
    monkeypatch.setenv("EXAMPLEGRID_BASE_URL", server.base_url + "/v1")
    answer = LLMFactory.create_llm(model.identifier).send_user_message_sync("hello grid")
    assert answer.content == "Echo: hello grid"
    assert server.last_request.headers["authorization"] == "Bearer ex-cloud-key"
