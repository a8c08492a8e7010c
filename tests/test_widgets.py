"""The notebook widgets, driven like a user would: pick, tune, click, read what is shown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import ipywidgets as w
import pytest

from llmkit import discovery
from llmkit.config import LLMConfig
from llmkit.errors import ConfigValidationError
from llmkit.factory import LLMFactory
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.widgets import CompareView, ConfigForm, ModelPicker, Playground

# DESIGN.md's parameter-mapping table, one row per control, on MOCK reasoners and catalog models.
MAPPING_ROWS = [
    ("reasoner-effort:mock", "reasoning_effort", w.Dropdown),
    ("reasoner-level:mock", "thinking_level", w.Dropdown),
    ("reasoner-budget:mock", "budget_tokens", w.IntSlider),
    ("reasoner-adaptive:mock", "effort", w.Dropdown),
    ("reasoner-toggle:mock", "thinking_enabled", w.ToggleButton),
    ("reasoner-thinking-budget:mock", "thinking_budget", w.IntSlider),
    ("reasoner-think:mock", "think", w.ToggleButton),
    ("gpt-5.5", "reasoning_effort", w.Dropdown),
    ("gemini-3.6-flash", "thinking_level", w.Dropdown),
    ("claude-sonnet-4-5", "budget_tokens", w.IntSlider),
    ("claude-opus-5", "effort", w.Dropdown),
    ("deepseek-v4-pro", "thinking_enabled", w.ToggleButton),
    ("glm-5", "thinking_enabled", w.ToggleButton),
    ("gemini-2.5-flash", "thinking_budget", w.IntSlider),
]


def test_import_llmkit_does_not_load_ipywidgets() -> None:
    import subprocess
    import sys

    code = "import sys, llmkit; llmkit.LLMFactory; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("cls", [ModelPicker, ConfigForm, Playground, CompareView])
def test_no_public_name_shadows_an_ipywidgets_attribute(cls: type) -> None:
    # e.g. a traitlet called model_id broke rendering (it is the comm id), and `send` is Widget.send
    own = {name for name in vars(cls) if not name.startswith("_")}
    assert own.isdisjoint(dir(w.DOMWidget)), own & set(dir(w.DOMWidget))


# ----- ModelPicker ------------------------------------------------------------------------------------------
def test_picker_defaults_to_a_mock_model_and_shows_price_and_availability() -> None:
    picker = ModelPicker()
    assert picker.value in ("echo:mock", "oracle:mock")
    assert picker.runtime.value == "mock"
    assert "available" in picker.info.value and "illustrative" in picker.info.value
    assert picker.refresh.disabled  # nothing to rediscover on MOCK


def test_picker_runtime_provider_model_and_filter_drive_value() -> None:
    picker = ModelPicker()
    seen: list[str | None] = []
    picker.observe(lambda change: seen.append(change["new"]), "value")
    picker.runtime.value = "api"
    picker.provider.value = "google"
    assert LLMFactory.get_model(picker.value).provider is LLMProvider.GOOGLE
    picker.filter.value = "2.5-flash"
    assert all("2.5-flash" in ident for _label, ident in picker.model.options)
    picker.model.value = "gemini-2.5-flash"
    assert picker.value == "gemini-2.5-flash" and seen[-1] == "gemini-2.5-flash"
    assert "set GEMINI_API_KEY" in picker.info.value
    assert "deprecated" in picker.info.value and "retires" in picker.info.value
    assert picker.refresh.disabled  # API models come from the catalog, not discovery
    picker.filter.value = "no-such-model-anywhere"
    assert picker.value is None and "no model matches" in picker.info.value


def test_setting_picker_value_moves_the_dropdowns() -> None:
    picker = ModelPicker()
    picker.value = "claude-sonnet-4-5"
    assert (picker.runtime.value, picker.provider.value, picker.model.value) == ("api", "anthropic",
                                                                                 "claude-sonnet-4-5")
    picker.value = "flaky:mock"
    assert (picker.runtime.value, picker.model.value) == ("mock", "flaky:mock")


@pytest.fixture
def fake_ollama() -> Iterator[list[list[LLMModel]]]:
    """A discoverer plugged in for OLLAMA whose answers the test scripts (next answer first)."""
    answers: list[list[LLMModel]] = []

    async def discover(host: str | None) -> list[LLMModel]:
        return answers.pop(0) if answers else []

    previous = discovery._DISCOVERERS.get(LLMRuntime.OLLAMA)
    discovery.register_discoverer(LLMRuntime.OLLAMA, discover)
    yield answers
    if previous is None:
        discovery._DISCOVERERS.pop(LLMRuntime.OLLAMA, None)
    else:
        discovery.register_discoverer(LLMRuntime.OLLAMA, previous)


def test_refresh_button_reloads_the_chosen_local_runtime(fake_ollama: list[list[LLMModel]]) -> None:
    tiny = LLMModel(name="tiny:latest", provider=LLMProvider.OTHER, runtime=LLMRuntime.OLLAMA, backend="ollama",
                    host="127.0.0.1:11434")
    fake_ollama.extend([[], [tiny], []])  # start-up finds nothing; the server comes up; then it goes away
    picker = ModelPicker()
    picker.runtime.value = "ollama"
    assert not picker.refresh.disabled and picker.value is None
    picker.refresh.click()
    assert picker.value == "tiny:latest:ollama@127.0.0.1:11434"
    assert "reloaded ollama: 1 model(s)" in picker.info.value
    picker.refresh.click()
    assert picker.value is None and "reloaded ollama: 0 model(s)" in picker.info.value


async def test_picker_on_a_running_loop_discovers_and_refreshes_in_the_background(
        fake_ollama: list[list[LLMModel]]) -> None:
    tiny = LLMModel(name="tiny:latest", provider=LLMProvider.OTHER, runtime=LLMRuntime.OLLAMA, backend="ollama",
                    host="127.0.0.1:11434")
    fake_ollama.extend([[tiny], []])  # found at start-up; then the server goes away
    picker = ModelPicker()  # like a Jupyter cell: no discovery while the constructor runs
    assert picker.value in ("echo:mock", "oracle:mock") and picker.pending is not None
    assert fake_ollama == [[tiny], []]
    await picker.wait()
    assert fake_ollama == [[]] and picker.value in ("echo:mock", "oracle:mock")  # the choice is kept
    picker.runtime.value = "ollama"
    assert picker.value == "tiny:latest:ollama@127.0.0.1:11434"
    picker.refresh.click()  # scheduled on the loop
    assert picker.pending is not None
    assert await picker.wait() == 0
    assert picker.value is None and "reloaded ollama: 0 model(s)" in picker.info.value


# ----- ConfigForm -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("identifier", "param", "control"), MAPPING_ROWS)
def test_every_mapping_table_row_renders_as_its_control(identifier: str, param: str, control: type) -> None:
    form = ConfigForm(identifier)
    assert isinstance(form.controls[param], control)
    assert form.controls[param].tooltip  # the schema's description


def test_untouched_form_sends_nothing() -> None:
    form = ConfigForm("reasoner-effort:mock")
    assert form.config == LLMConfig() and form.config.model_fields_set == set()
    assert form.error == ""
    # the control shows the schema default while unset
    assert form.controls["reasoning_effort"].value == "medium"


def test_form_values_become_only_the_set_fields() -> None:
    form = ConfigForm("reasoner-effort:mock")
    form.controls["reasoning_effort"].value = "high"  # touching a control ticks its "set" box
    form.controls["temperature"].value = 0.3
    form.controls["max_tokens"].value = "512"
    form.controls["stop"].value = "END, STOP"
    config = form.config
    assert config.model_fields_set == {"temperature", "max_tokens", "stop", "extra_params"}
    assert config.temperature == pytest.approx(0.3) and config.max_tokens == 512
    assert config.stop == ["END", "STOP"]
    assert config.extra_params == {"reasoning_effort": "high"}
    form.set_boxes["temperature"].value = False  # back to the model's default: not sent
    assert "temperature" not in form.config.model_fields_set


def test_toggle_and_slider_rows() -> None:
    form = ConfigForm("reasoner-toggle:mock")
    assert form.controls["thinking_enabled"].value is True  # schema default shown
    form.controls["thinking_enabled"].value = False
    assert form.config.extra_params == {"thinking_enabled": False}
    form = ConfigForm("reasoner-thinking-budget:mock")
    form.controls["thinking_budget"].value = 4096
    assert form.config.extra_params == {"thinking_budget": 4096}


def test_budget_not_below_max_tokens_is_an_inline_error() -> None:
    form = ConfigForm("reasoner-budget:mock")  # default max_tokens 2048
    form.controls["budget_tokens"].value = 4000
    assert "budget_tokens=4000 must be less than max_tokens=2048" in form.error
    assert "budget_tokens=4000" in form.error_html.value and "llmkit-error" in form.error_html.value
    with pytest.raises(ConfigValidationError, match="less than max_tokens"):
        _ = form.config
    form.controls["max_tokens"].value = "8000"
    assert form.error == ""
    assert form.config.max_tokens == 8000 and form.config.extra_params == {"budget_tokens": 4000}


def test_schema_rejections_and_unparsable_text_show_inline() -> None:
    form = ConfigForm("echo:mock")
    form.controls["max_tokens"].value = "99999"
    assert "max_tokens=99999" in form.error and "1 to 8192" in form.error
    form.controls["max_tokens"].value = ""  # emptied: unset again
    assert form.error == "" and not form.set_boxes["max_tokens"].value
    form.controls["seed"].value = "abc"
    assert "seed" in form.error and "whole number" in form.error


def test_form_follows_the_picker_and_remembers_values_per_model() -> None:
    picker = ModelPicker()
    form = ConfigForm().bind(picker)
    assert form.identifier == picker.value
    picker.value = "claude-opus-5"
    assert isinstance(form.controls["effort"], w.Dropdown)
    assert "temperature" not in form.controls  # the model rejects it, so the form never offers it
    form.set_values(effort="max")
    picker.value = "echo:mock"
    assert "effort" not in form.controls
    picker.value = "claude-opus-5"
    assert form.config.extra_params == {"effort": "max"}


def test_set_values_rejects_unknown_parameters() -> None:
    form = ConfigForm("echo:mock")
    with pytest.raises(ConfigValidationError, match="no parameter 'budget_tokens'"):
        form.set_values(budget_tokens=2000)


# ----- Playground -----------------------------------------------------------------------------------------
def test_click_send_streams_the_answer_and_shows_usage() -> None:
    pg = Playground(model="oracle:mock", prompt="What is 6 * 7?")
    pg.send_button.click()  # no running loop: runs to completion
    assert "The answer is 42." in pg.answer.value
    assert "tokens in" in pg.status.value and "cost $" in pg.status.value
    assert "latency" in pg.status.value and "TTFT" in pg.status.value
    assert pg.last_response is not None and pg.last_response.content == "The answer is 42."


async def test_send_on_a_running_loop_with_reasoning() -> None:
    pg = Playground(model="reasoner-effort:mock")
    pg.form.controls["reasoning_effort"].value = "high"
    pg.prompt.value = "What is the capital of France?"
    pg.send_button.click()  # a running loop: scheduled as a task, like in Jupyter
    assert pg.pending is not None
    response = await pg.wait()
    assert response is not None and response.content == "The capital of France is Paris."
    assert "reasoning_effort=high" in pg.reasoning.value
    assert pg.reasoning_box.layout.display is None  # shown, collapsed in an Accordion
    assert "reasoning" in pg.status.value


async def test_conversation_is_kept_per_model_and_new_chat_forgets_it() -> None:
    pg = Playground(model="echo:mock")
    await pg.send_prompt("first")
    await pg.send_prompt("second")
    assert pg.llm is not None and [m.content for m in pg.llm.messages] == [
        "first", "Echo: first", "second", "Echo: second"]
    assert "Echo: first" in pg.transcript.value
    pg.picker.value = "oracle:mock"
    assert pg.llm is None and pg.transcript.value == ""
    pg.picker.value = "echo:mock"
    assert "Echo: second" in pg.transcript.value
    pg.form.controls["temperature"].value = 0.5  # a new config continues the same conversation
    await pg.send_prompt("third")
    assert pg.llm is not None and pg.llm.config.temperature == 0.5 and len(pg.llm.messages) == 6
    pg.new_chat_button.click()
    assert pg.llm is None and pg.transcript.value == ""


async def test_stop_cancels_a_running_stream() -> None:
    pg = Playground(model="echo:mock", prompt="slow")
    pg.form.set_values(latency_ms=5000)  # keeps the call pending until it is stopped
    pg.send_button.click()
    await asyncio.sleep(0)  # let the task start
    assert pg.send_button.disabled and not pg.stop_button.disabled
    pg.stop_button.click()
    assert await pg.wait() is None
    assert "stopped" in pg.status.value and not pg.send_button.disabled


def test_errors_are_one_readable_line() -> None:
    pg = Playground(model="flaky:mock")
    assert pg.send_prompt_sync("hello [fail:rate_limit]") is None
    assert "RateLimitError: flaky:mock: simulated rate limit" in pg.status.value
    assert "Traceback" not in pg.status.value
    assert pg.last_error is not None
    pg.send_prompt_sync("What is 1 + 1? [fail:midstream]")
    assert "StreamError" in pg.status.value
    assert pg.answer.value  # what arrived before the failure stays visible


def test_invalid_form_disables_send_and_explains() -> None:
    pg = Playground(model="reasoner-budget:mock", prompt="hi")
    pg.form.controls["budget_tokens"].value = 4000
    assert pg.send_button.disabled and "max_tokens" in pg.send_button.tooltip
    assert pg.send_prompt_sync() is None and "ConfigValidationError" in pg.status.value
    pg.form.controls["budget_tokens"].value = 1024
    assert not pg.send_button.disabled
    assert pg.send_prompt_sync() is not None


def test_empty_prompt_is_explained() -> None:
    pg = Playground()
    assert pg.send_prompt_sync("  ") is None and "type a prompt" in pg.status.value


# ----- CompareView ----------------------------------------------------------------------------------------
def test_compare_three_models_with_one_failing() -> None:
    view = CompareView(models=["echo:mock", "oracle:mock", "flaky:mock"],
                       model_configs={"flaky:mock": {"extra_params": {"fail": "server_error"}}},
                       prompt="What is 2 + 3?")
    view.run_button.click()
    cards = {c.children[0].value: c for c in view.cards.children}
    assert len(cards) == 3
    assert "Echo: What is 2 + 3?" in cards["<b>echo:mock</b>"].children[1].value
    assert "The answer is 5." in cards["<b>oracle:mock</b>"].children[1].value
    assert "ProviderError" in cards["<b>flaky:mock</b>"].children[2].value
    assert "tokens in" in cards["<b>oracle:mock</b>"].children[2].value
    df = view.to_dataframe()
    assert df.shape[0] == 3 and {"model", "output", "latency_s", "ttft_s", "cost_usd", "error_type"} <= set(df)
    by_model = df.set_index("model")
    assert by_model.loc["flaky:mock", "error_type"] == "ProviderError"
    assert by_model.loc["oracle:mock", "output"] == "The answer is 5." and by_model.loc["oracle:mock", "cost_usd"] > 0
    assert "1 failed" in view.summary.value
    # the rows are the eval runner's typed rows: same names, same dtypes as `llmkit.evals.load`
    import pandas as pd

    from llmkit.evals.row import COLUMNS, EvalRow

    assert all(isinstance(r, EvalRow) for r in view.results)
    assert all(str(df[c].dtype) == COLUMNS[c] for c in df.columns)
    assert by_model.loc["oracle:mock", "provider"] == "llmkit"
    assert by_model.loc["oracle:mock", "prompt"] == "What is 2 + 3?"
    assert pd.isna(by_model.loc["flaky:mock", "input_tokens"]) and by_model.loc["flaky:mock", "cost_usd"] == 0


async def test_compare_models_by_configs_concurrently() -> None:
    configs: dict[str, Any] = {"low": {"extra_params": {"reasoning_effort": "low"}},
                               "high": {"extra_params": {"reasoning_effort": "high"}}}
    view = CompareView(models=["reasoner-effort:mock", "echo:mock"], configs=configs)
    rows = await view.run("What is 3 * 3?")
    df = view.to_dataframe()
    assert len(rows) == 4 and df.shape[0] == 4
    reasoner = df[df.model == "reasoner-effort:mock"].set_index("config_label")
    assert reasoner.loc["high", "reasoning_tokens"] > reasoner.loc["low", "reasoning_tokens"]
    # echo accepts no reasoning_effort: its columns show the schema's refusal, not a crash
    assert set(df[df.model == "echo:mock"].error_type) == {"ConfigValidationError"}


def test_compare_unknown_model_fails_loudly() -> None:
    from llmkit.errors import UnknownModelError

    with pytest.raises(UnknownModelError, match="echo:mock"):
        CompareView(models=["echo-typo:mock"])


def test_html_reprs() -> None:
    model = LLMFactory.get_model("claude-sonnet-4-5")
    card = model._repr_html_()
    assert "claude-sonnet-4-5" in card and "deprecated" in card and "budget_tokens" in card
    response = LLMFactory.create_llm("oracle:mock").send_user_message_sync("What is 2 + 2?")
    assert "The answer is 4." in response._repr_html_() and "tokens in" in response.usage._repr_html_()
