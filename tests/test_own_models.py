"""Issue 13: your own models — the models file ($LLMKIT_CONFIG_DIR/models.yaml) and inline spec entries define
gateway models; two models with one name on two base URLs are two models everywhere (identifier, cache, limits)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from evals_helpers import PROMPTS

import llmkit.evals as ev
from llmkit.errors import AuthenticationError, ConfigurationError
from llmkit.evals.limits import Limits
from llmkit.factory import LLMFactory
from llmkit.hosts import host_for
from llmkit.models import LLMProvider, LLMRuntime
from tests.servers import OpenAIChatServer

Loopback = Callable[..., Any]
KEY_A, KEY_B, KEY_C = "gw-key-aaaa-1111", "gw-key-bbbb-2222", "gw-key-cccc-3333"


def write_models_file(entries: list[dict[str, Any]] | str) -> Path:
    path = Path(os.environ["LLMKIT_CONFIG_DIR"]) / "models.yaml"  # conftest: a fresh directory per test
    path.write_text(entries if isinstance(entries, str) else yaml.safe_dump({"models": entries}, sort_keys=False))
    return path


@pytest.fixture
def gateways(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> list[OpenAIChatServer]:
    """Three OpenAI-compatible gateways serving the same model name, each with its own key variable."""
    servers = [loopback(OpenAIChatServer, "openai", api_key=key, models=["shared-llm"])
               for key in (KEY_A, KEY_B, KEY_C)]
    for var, key in (("GW_A_KEY", KEY_A), ("GW_B_KEY", KEY_B), ("GW_C_KEY", KEY_C)):
        monkeypatch.setenv(var, key)
    write_models_file([
        {"name": "shared-llm", "base_url": servers[0].base_url + "/v1", "api_key_env": "GW_A_KEY",
         "pricing": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}, "context_window": 32768},
        {"name": "shared-llm", "backend": "openai", "base_url": servers[1].base_url + "/v1", "api_key_env": "GW_B_KEY",
         "provider": "qwen"},
    ])
    return servers


def test_models_file_entries_are_registered_at_start_up_as_distinct_models(
        gateways: list[OpenAIChatServer]) -> None:
    LLMFactory.ensure_initialized()
    a, b = (LLMFactory.get_model(f"shared-llm:api@{s.host}") for s in gateways[:2])
    assert a.identifier != b.identifier and a.name == b.name == "shared-llm"
    assert (a.runtime, a.backend, a.context_window) == (LLMRuntime.API, "openai", 32768)
    assert b.provider is LLMProvider.QWEN and a.pricing is not None and b.pricing is None
    assert host_for(a).host_key() != host_for(b).host_key()
    assert host_for(a).canonical_url() != host_for(b).canonical_url()
    assert all(s.requests == [] for s in gateways)  # registering needs no network
    answer = LLMFactory.create_llm(b.identifier).send_user_message_sync("hello b")
    assert answer.content == "Echo: hello b"
    assert gateways[1].last_request.headers["authorization"] == f"Bearer {KEY_B}"  # its own key variable


def test_a_gateway_model_names_its_own_key_variable_in_errors(gateways: list[OpenAIChatServer],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    model = LLMFactory.get_model(f"shared-llm:api@{gateways[0].host}")
    monkeypatch.delenv("GW_A_KEY")
    assert LLMFactory.availability(model.identifier).reason == "set GW_A_KEY"
    monkeypatch.setenv("GW_A_KEY", "gw-wrong-key-9999")
    with pytest.raises(AuthenticationError) as info:
        LLMFactory.create_llm(model.identifier).send_user_message_sync("hello")
    assert "GW_A_KEY" in str(info.value) and "gw-wrong-key-9999" not in str(info.value)


def test_file_and_inline_models_in_one_sweep_never_share_a_cache_entry_or_a_limit(
        gateways: list[OpenAIChatServer], tmp_path: Path) -> None:
    a_id, b_id = (f"shared-llm:api@{s.host}" for s in gateways[:2])
    spec = {
        "name": "gateways", "prompts": PROMPTS, "output": str(tmp_path / "runs"),
        "models": [a_id, b_id, {"name": "shared-llm", "base_url": gateways[2].base_url + "/v1",
                                "api_key_env": "GW_C_KEY", "id": "gw-inline",
                                "pricing": {"input_usd_per_mtok": 3, "output_usd_per_mtok": 4}}],
        "concurrency": {"default": 8, "per_host": {gateways[0].host: 1}},
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    plan = ev.dry_run(path)
    assert [m.identifier for m in plan.models] == [a_id, b_id, "gw-inline"]
    assert len({v.host_key for v in plan.variants}) == 3  # three hosts: three per-host limits
    limits = Limits(total=8, per_host={gateways[0].host: 1}, per_model={}, rpm_host=None, rpm_model=None)
    assert [limits.host_cap(v) for v in plan.variants] == [1, 8, 8]

    first = ev.run(path, progress=False, cache=tmp_path / "cache").load()
    assert [len(s.requests_to("/v1/chat/completions")) for s in gateways] == [5, 5, 5]  # nothing shared
    assert first["error_type"].isna().all(), first["error"].tolist()[:2]
    assert first["host"].nunique() == 3
    cost = first.groupby("model")["cost_usd"].apply(list)
    assert all(c > 0 for c in cost[a_id] + cost["gw-inline"])  # priced by their entries
    assert all(math.isnan(c) for c in cost[b_id])  # no price known: NaN, not $0
    again = ev.run(path, progress=False, cache=tmp_path / "cache").load()  # each model from its own entries
    assert again["cached"].all() and len(again) == 15
    assert [len(s.requests_to("/v1/chat/completions")) for s in gateways] == [5, 5, 5]
    assert sorted(again["output"]) == sorted(first["output"])


def test_anthropic_and_ollama_entries_use_their_protocols_and_keys(loopback: Loopback,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.servers import AnthropicServer, OllamaServer

    claude: AnthropicServer = loopback(AnthropicServer, api_key=KEY_A, models=["team-claude"])
    ollama: OllamaServer = loopback(OllamaServer)
    monkeypatch.setenv("TEAM_ANTHROPIC_KEY", KEY_A)
    write_models_file([
        {"name": "team-claude", "backend": "anthropic", "base_url": claude.base_url,
         "api_key_env": "TEAM_ANTHROPIC_KEY", "provider": "anthropic", "id": "team-claude"},
        {"name": "llama3.2:latest", "backend": "ollama", "base_url": ollama.base_url},
    ])
    answer = LLMFactory.create_llm("team-claude").send_user_message_sync("hello team")
    assert answer.content and claude.last_request.headers["x-api-key"] == KEY_A  # the backend's header, own key
    local = LLMFactory.get_model(f"llama3.2:latest:ollama@{ollama.host}")
    assert local.runtime is LLMRuntime.OLLAMA
    assert LLMFactory.create_llm(local.identifier).send_user_message_sync("hi").content


@pytest.mark.parametrize(("text", "fragments"), [
    ("models:\n- name: ok-model\n  base_url: http://127.0.0.1:9/v1\n- name: bad\n  base_url: ftp://x\n",
     [":4: models[1] (bad)", "base_url"]),
    ("models:\n- name: typo\n  nme: x\n", [":2: models[0] (typo)", "nme", "Extra inputs"]),
    ("models:\n- name: x\n  backend: nosuch\n", [":2: models[0] (x)", "backend 'nosuch' is not one of"]),
    ("models:\n- {name: x, id: 'has space'}\n", [":2: models[0] (x)", "id"]),
    ("models:\n- {name: m, base_url: 'http://h:1/a'}\n- {name: m, base_url: 'http://h:1/b'}\n",
     [":3: models[1] (m)", "already defined by", ":2: models[0]", "give one of them an `id`"]),
    ("model:\n- {name: x}\n", ["a models file is a mapping with one key, `models:`"]),
    ("models: [\n", ["not valid YAML"]),
])
def test_a_bad_models_file_entry_names_file_line_and_entry(text: str, fragments: list[str]) -> None:
    path = write_models_file(text)
    with pytest.raises(ConfigurationError) as info:
        LLMFactory.list_models()
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_an_inline_spec_entry_with_a_bad_field_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("name: t\nprompts: [{prompt: hi}]\nmodels:\n  - echo:mock\n  - {name: x, base_url: 'nope'}\n")
    with pytest.raises(ev.SpecError, match=r"spec.yaml:5: models\[1\]\.base_url"):
        ev.dry_run(path)
