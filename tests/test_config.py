"""LLMConfig: merge only what the caller set; validate against each model's schema before any request."""

from __future__ import annotations

import pytest

from llmkit import ConfigValidationError, LLMConfig, LLMFactory
from llmkit.config import PricingConfig


def test_merge_overrides_only_fields_the_caller_set() -> None:
    defaults = LLMConfig(temperature=0.3, max_tokens=100,
                         pricing=PricingConfig(input_usd_per_mtok=1, output_usd_per_mtok=2),
                         extra_params={"latency_ms": 5})
    merged = defaults.merged(LLMConfig(max_tokens=500, extra_params={"reasoning_effort": "high"}))
    assert merged.max_tokens == 500
    assert merged.temperature == 0.3  # not reset by the override
    assert merged.pricing == defaults.pricing
    assert merged.extra_params == {"latency_ms": 5, "reasoning_effort": "high"}


def test_set_model_config_then_create_llm_override() -> None:
    LLMFactory.set_model_config("oracle:mock", {"temperature": 0.2, "max_tokens": 64})
    llm = LLMFactory.create_llm("oracle:mock", LLMConfig(max_tokens=10))
    assert (llm.config.temperature, llm.config.max_tokens) == (0.2, 10)
    plain = LLMFactory.create_llm("oracle:mock")
    assert (plain.config.temperature, plain.config.max_tokens) == (0.2, 64)


def test_unknown_config_field_is_rejected() -> None:
    with pytest.raises(ConfigValidationError, match="temprature"):
        LLMFactory.create_llm("oracle:mock", {"temprature": 0.5})


@pytest.mark.parametrize(
    ("model_id", "config", "must_mention"),
    [
        ("reasoner-effort:mock", {"extra_params": {"reasoning_effort": "extreme"}},
         ["reasoning_effort", "'extreme'", "reasoner-effort:mock", "none, low, medium, high, xhigh"]),
        ("gpt-5.5", {"extra_params": {"reasoning_effort": "extreme"}},
         ["reasoning_effort", "gpt-5.5", "none, low, medium, high, xhigh"]),
        ("claude-sonnet-4-5", {"extra_params": {"budget_tokens": 10}},
         ["budget_tokens=10", "claude-sonnet-4-5", "1024 to 63999"]),
        ("claude-sonnet-4-5", {"max_tokens": 4000, "extra_params": {"budget_tokens": 8000}},
         ["budget_tokens=8000", "less than max_tokens=4000", "raise max_tokens"]),
        ("reasoner-effort:mock", {"extra_params": {"verbosity": "low"}},
         ["'verbosity'", "reasoner-effort:mock", "reasoning_effort"]),
        ("gpt-6.2-sol", {"temperature": 0.2}, ["temperature", "gpt-6.2-sol", "reject"]),
        ("claude-opus-5", {"top_p": 0.9}, ["top_p", "claude-opus-5", "Claude 4.7"]),
        ("claude-sonnet-4-5", {"seed": 7}, ["seed", "no seed parameter"]),
        ("gemini-2.5-pro", {"extra_params": {"thinking_budget": 64}}, ["thinking_budget=64", "except 0 to 127"]),
        ("gemini-3.6-flash", {"extra_params": {"thinking_level": "HIGHEST"}},
         ["thinking_level", "minimal, low, medium, high"]),
        ("deepseek-v4-pro", {"extra_params": {"thinking_enabled": "yes"}}, ["thinking_enabled", "boolean"]),
    ],
)
def test_schema_rejections_name_key_model_and_allowed(model_id: str, config: dict[str, object],
                                                      must_mention: list[str]) -> None:
    with pytest.raises(ConfigValidationError) as info:
        LLMFactory.create_llm(model_id, config)
    message = str(info.value)
    for fragment in must_mention:
        assert fragment in message, message
    assert info.value.model == model_id


@pytest.mark.parametrize(
    ("model_id", "extra"),
    [
        ("gpt-5.5", {"reasoning_effort": "xhigh"}),
        ("gemini-3.6-flash", {"thinking_level": "minimal"}),
        ("claude-sonnet-4-5", {"budget_tokens": 10000}),
        ("claude-opus-5", {"effort": "max"}),
        ("deepseek-v4-pro", {"thinking_enabled": False, "reasoning_effort": "max"}),
        ("glm-5", {"thinking_enabled": True}),
        ("glm-5.3", {"reasoning_effort": "high"}),
        ("gemini-2.5-flash", {"thinking_budget": 0}),
        ("gemini-2.5-pro", {"thinking_budget": -1}),
    ],
)
def test_documented_reasoning_controls_are_accepted(model_id: str, extra: dict[str, object]) -> None:
    config = LLMFactory.resolve_config(model_id, {"extra_params": extra})
    assert config.extra_params == extra


def test_mapping_table_controls_have_their_ui_hint() -> None:
    from llmkit.schemas import ui_control

    expected = {
        ("gpt-5.5", "reasoning_effort"): "dropdown",
        ("gemini-3.6-flash", "thinking_level"): "dropdown",
        ("claude-sonnet-4-5", "budget_tokens"): "slider",
        ("claude-opus-5", "effort"): "dropdown",
        ("deepseek-v4-pro", "thinking_enabled"): "toggle",
        ("glm-5", "thinking_enabled"): "toggle",
        ("glm-5.3", "reasoning_effort"): "dropdown",
        ("gemini-2.5-flash", "thinking_budget"): "slider",
        ("reasoner-think:mock", "think"): "toggle",
    }
    for (model_id, param), control in expected.items():
        prop = LLMFactory.get_model(model_id).parameters[param]
        assert ui_control(prop) == control, (model_id, param)


def test_shared_fragments_are_not_copied_per_model() -> None:
    from llmkit.schemas import fragments

    description = fragments()["reasoning_effort"]["description"]
    users = [m for m in LLMFactory.list_models() if "reasoning_effort" in m.parameters]
    assert len(users) > 5
    assert all(m.parameters["reasoning_effort"]["description"] == description for m in users)
