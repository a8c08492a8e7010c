"""Issue 13: models beyond the catalog — qualified ids, the clouds' models endpoints, named OpenAI-compatible clouds.

Everything runs against loopback servers (tests/servers) reached through each Host's `*_BASE_URL`."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit.errors import ConfigurationError, ConfigValidationError, ModelNotFoundError, UnknownModelError
from llmkit.evals.cli import main as evals_main
from llmkit.factory import LLMFactory
from llmkit.hosts import host_for
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from tests.servers import AnthropicServer, OpenAIChatServer
from tests.servers.base import Exchange, json_response
from tests.servers.gemini import GeminiServer

KEY = "sk-reach-loopback-key"
Loopback = Callable[..., Any]


# ----- LLMModel without a backend ----------------------------------------------------------------------------
def test_an_api_model_of_ones_own_needs_no_backend_argument() -> None:
    """Was: TypeError: missing 1 required positional argument: 'backend'."""
    model = LLMFactory.register_model(LLMModel(name="my-model", provider=LLMProvider.OPENAI, runtime=LLMRuntime.API))
    assert (model.backend, model.identifier) == ("openai", "my-model")
    assert LLMModel("g", LLMProvider.GOOGLE, LLMRuntime.API).backend == "gemini"
    assert LLMModel("x", LLMProvider.OPENAI, LLMRuntime.API, backend="groq").backend == "groq"  # still accepted
    assert LLMModel("llama3", LLMProvider.META, LLMRuntime.OLLAMA, host="h:1").backend == "ollama"
    with pytest.raises(ConfigurationError, match=r"meta has no API of its own.*backend="):
        LLMModel("llama", LLMProvider.META, LLMRuntime.API)


# ----- qualified ids without a network -----------------------------------------------------------------------
def test_qualified_ids_reach_uncatalogued_models_with_their_familys_schema() -> None:
    gpt = LLMFactory.get_model("openai/gpt-5.4")
    assert (gpt.name, gpt.backend, gpt.provider, gpt.identifier) == ("gpt-5.4", "openai", LLMProvider.OPENAI,
                                                                      "openai/gpt-5.4")
    assert "reasoning_effort" in gpt.parameters and "temperature" not in gpt.parameters  # gpt-5* family rule
    claude = LLMFactory.get_model("anthropic/claude-opus-4-6")
    assert "effort" in claude.parameters and "seed" not in claude.parameters
    assert claude.default_config is not None and claude.default_config.max_tokens  # Anthropic requires it
    gemini = LLMFactory.get_model("google/gemini-3.5-flash")
    assert gemini.backend == "gemini" and "thinking_level" in gemini.parameters
    assert LLMFactory.get_model("gemini/gemini-3.5-flash") is gemini  # the backend's name is accepted too
    plain = LLMFactory.get_model("mistral/some-future-model")  # no family: the generic schema
    assert {"temperature", "top_p", "max_tokens", "stop", "seed"} <= set(plain.parameters)
    for qualified in ("deepseek/deepseek-v9", "zhipu/glm-7"):
        assert LLMFactory.create_llm(qualified).model.identifier == qualified  # no network needed
    with pytest.raises(ConfigValidationError, match="temperature"):
        LLMFactory.create_llm("openai/gpt-5.4", {"temperature": 0.2})


def test_a_catalogued_model_named_with_its_provider_is_the_catalog_entry() -> None:
    assert LLMFactory.get_model("openai/gpt-4o") is LLMFactory.get_model("gpt-4o")
    LLMFactory.set_model_config("openai/gpt-4o", {"temperature": 0.3})
    assert LLMFactory.get_model_config("gpt-4o").temperature == 0.3


def test_an_unknown_qualifier_names_the_known_ones() -> None:
    with pytest.raises(UnknownModelError, match=r"'nosuch' is not a provider or cloud host; known: openai.*groq"):
        LLMFactory.get_model("nosuch/model")


# ----- called over loopback, priced --------------------------------------------------------------------------
def _openai(loopback: Loopback, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> OpenAIChatServer:
    server: OpenAIChatServer = loopback(OpenAIChatServer, "openai", api_key=KEY, **kwargs)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/v1")
    return server


def test_an_uncatalogued_openai_model_is_answered_and_priced_from_genai_prices(
        loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    server = _openai(loopback, monkeypatch)
    answer = LLMFactory.create_llm("openai/gpt-4.1-mini").send_user_message_sync("one two three")
    assert server.last_request.json["model"] == "gpt-4.1-mini"
    usage = answer.usage
    assert usage is not None and usage.priced is True
    # genai-prices: $0.40 in / $1.60 out per million tokens
    expected = (Decimal(usage.input_tokens) * Decimal("0.4") + Decimal(usage.output_tokens) * Decimal("1.6")) / 10**6
    assert usage.total_cost == pytest.approx(expected)


def test_an_uncatalogued_anthropic_model_is_answered_and_priced_from_genai_prices(
        loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    server: AnthropicServer = loopback(AnthropicServer, api_key=KEY, models=["claude-opus-4-6"])
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    llm = LLMFactory.create_llm("anthropic/claude-opus-4-6", {"extra_params": {"effort": "low"}})
    answer = llm.send_user_message_sync("hi there")
    assert server.last_request.headers["x-api-key"] == KEY
    assert server.last_request.json["model"] == "claude-opus-4-6"
    usage = answer.usage
    assert usage is not None and usage.priced is True
    expected = (Decimal(usage.input_tokens) * 5 + Decimal(usage.output_tokens) * 25) / 10**6  # $5 / $25
    assert usage.total_cost == pytest.approx(expected)


def test_an_id_no_price_source_knows_is_answered_unpriced_and_its_eval_rows_cost_nan(
        loopback: Loopback, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _openai(loopback, monkeypatch)
    answer = LLMFactory.create_llm("openai/llmkit-nonesuch-1").send_user_message_sync("hello")
    assert answer.usage is not None and answer.usage.priced is False and answer.usage.total_cost is None
    spec = write_spec(tmp_path, models=["openai/llmkit-nonesuch-1", "echo:mock"], configs=[{"label": "default"}],
                      repeats=1, scorers=[])
    result = ev.run(spec, progress=False, cache=False)
    rows = result.load()
    mine = rows[rows["model"] == "openai/llmkit-nonesuch-1"]
    assert len(mine) == 5 and mine["error_type"].isna().all()
    assert all(math.isnan(c) for c in mine["cost_usd"])
    assert "openai/llmkit-nonesuch-1" in result.summary.unpriced_models


def test_what_the_provider_rejects_comes_back_typed(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    _openai(loopback, monkeypatch, models=["gpt-4.1-mini"], known_models_only=True)
    with pytest.raises(ModelNotFoundError):
        LLMFactory.create_llm("openai/gpt-nonexistent").send_user_message_sync("hello")


# ----- named OpenAI-compatible clouds --------------------------------------------------------------------------
@pytest.mark.parametrize(("cloud", "key_var", "url"), [
    ("groq", "GROQ_API_KEY", "https://api.groq.com/openai/v1"),
    ("deepinfra", "DEEPINFRA_TOKEN", "https://api.deepinfra.com/v1/openai"),
    ("together", "TOGETHER_API_KEY", "https://api.together.xyz/v1"),
    ("fireworks", "FIREWORKS_API_KEY", "https://api.fireworks.ai/inference/v1"),
    ("openrouter", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1"),
    ("cerebras", "CEREBRAS_API_KEY", "https://api.cerebras.ai/v1"),
])
def test_each_cloud_is_a_host_with_its_key_variable_and_public_url(cloud: str, key_var: str, url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    model = LLMFactory.get_model(f"{cloud}/meta-llama/Llama-3.3-70B-Instruct")
    assert (model.runtime, model.provider, model.backend) == (LLMRuntime.API, LLMProvider.META, cloud)
    assert model.name == "meta-llama/Llama-3.3-70B-Instruct"
    assert not LLMFactory.availability(model.identifier)  # no key yet
    monkeypatch.setenv(key_var, "k")
    assert LLMFactory.availability(model.identifier)
    endpoint = host_for(model).endpoint()
    assert endpoint.base_url == url and endpoint.headers["Authorization"] == "Bearer k"


def test_a_groq_style_host_is_listed_from_its_models_endpoint_and_called(
        loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    server: OpenAIChatServer = loopback(OpenAIChatServer, "openai", api_key=KEY,
                                        models=["llama-3.3-70b-versatile", "qwen-qwq-32b"])
    monkeypatch.setenv("GROQ_API_KEY", KEY)
    monkeypatch.setenv("GROQ_BASE_URL", server.base_url + "/v1")
    LLMFactory.ensure_initialized()
    assert server.requests == []  # never at start-up
    assert LLMFactory.reload_models("api", host="groq") == 2
    listed = {m.identifier: m for m in LLMFactory.list_models(runtime="api") if m.backend == "groq"}
    assert set(listed) == {"groq/llama-3.3-70b-versatile", "groq/qwen-qwq-32b"}
    llama = listed["groq/llama-3.3-70b-versatile"]
    assert llama.provider is LLMProvider.META and listed["groq/qwen-qwq-32b"].provider is LLMProvider.QWEN
    assert server.requests_to("/v1/models")[0].headers["authorization"] == f"Bearer {KEY}"
    answer = LLMFactory.create_llm(llama.identifier).send_user_message_sync("hello groq")
    assert answer.content == "Echo: hello groq"
    assert answer.usage is not None and answer.usage.priced  # genai-prices prices Groq's llama-3.3-70b-versatile
    server.models = server.protocol.models = []  # the host stopped serving them: a reload leaves none behind
    assert LLMFactory.reload_models("api", host="groq") == 0


def test_listing_registers_only_what_the_catalog_lacks(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    _openai(loopback, monkeypatch, models=["gpt-4o", "gpt-new-x"])
    assert LLMFactory.reload_models("api") == 1
    assert LLMFactory.get_model("openai/gpt-new-x").metadata["listed_from"] == "openai"
    assert LLMFactory.get_model("gpt-4o").metadata.get("listed_from") is None  # the catalog's entry stands


def test_anthropic_and_gemini_list_in_their_own_shapes(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    anthropic: AnthropicServer = loopback(AnthropicServer, api_key=KEY, models=["claude-new-9", "claude-haiku-4-5"])
    gemini: GeminiServer = loopback(GeminiServer, api_key=KEY, models=["gemini-new-9"])
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic.base_url)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GEMINI_BASE_URL", gemini.base_url + "/v1beta")
    assert LLMFactory.reload_models("api") == 2
    assert LLMFactory.get_model("anthropic/claude-new-9").metadata["listed_from"] == "anthropic"
    assert LLMFactory.get_model("google/gemini-new-9").metadata["listed_from"] == "gemini"
    assert anthropic.requests_to("/v1/models")[0].headers["x-api-key"] == KEY
    listing = gemini.requests_to("/v1beta/models")[0]
    assert listing.headers["x-goog-api-key"] == KEY and "key" not in listing.query  # never ?key=
    listed = LLMFactory.get_model("google/gemini-new-9")
    assert (listed.context_window, listed.max_output_tokens) == (32768, 65536)  # from the list entry


class PagedAnthropic(AnthropicServer):
    """Lists one model per page, as Anthropic does for `limit=1` (`has_more`, `last_id`, `after_id`)."""

    async def _list_models(self, ex: Exchange) -> Any:
        ids = [m.id for m in self.models]
        after = ex.request.query_params.get("after_id")
        start = ids.index(after) + 1 if after else 0
        page = ids[start:start + 1]
        return json_response({"data": [{"type": "model", "id": i} for i in page],
                              "has_more": start + 1 < len(ids), "last_id": page[-1] if page else None})


def test_listing_follows_every_page(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    server: PagedAnthropic = loopback(PagedAnthropic, api_key=KEY, models=["claude-a-9", "claude-b-9", "claude-c-9"])
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    assert LLMFactory.reload_models("api", host="anthropic") == 3
    assert [r.query.get("after_id") for r in server.requests_to("/v1/models")] == [None, "claude-a-9", "claude-b-9"]


def test_listing_a_named_host_without_its_key_says_which_variable() -> None:
    from llmkit.errors import AuthenticationError

    with pytest.raises(AuthenticationError, match="GROQ_API_KEY is not set"):
        LLMFactory.reload_models("api", host="groq")
    assert LLMFactory.reload_models("api") == 0  # no key set anywhere: nothing asked, nothing listed


def test_models_remote_shows_the_listed_models(loopback: Loopback, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    server: OpenAIChatServer = loopback(OpenAIChatServer, "openai", api_key=KEY, models=["llama-3.1-8b-instant"])
    monkeypatch.setenv("GROQ_API_KEY", KEY)
    monkeypatch.setenv("GROQ_BASE_URL", server.base_url + "/v1")
    assert evals_main(["models", "--runtime", "api"]) == 0
    assert "groq/llama-3.1-8b-instant" not in capsys.readouterr().out and server.requests == []
    assert evals_main(["models", "--remote", "--runtime", "api"]) == 0
    assert "groq/llama-3.1-8b-instant" in capsys.readouterr().out
