"""One way to build a client: the sweep builds every client through `LLMFactory.create_llm` from the plan's resolved
config; one `effective_pricing()`; the output-token estimate is a property of the backend class."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest
from evals_helpers import write_spec

import llmkit.evals as ev
from llmkit import LLMFactory, LLMModel, LLMProvider, LLMRuntime
from llmkit.api.mock import MockLLM
from llmkit.backends import Backend, register_backend
from llmkit.base import BaseLLM
from llmkit.billing import effective_pricing
from llmkit.config import LLMConfig
from llmkit.extensions.cache import ResponseCacheExtension
from llmkit.pricing import Pricing


class RecordingLLM(MockLLM):
    """MOCK's echo model that remembers every instance built, and estimates 7 output tokens per answer."""

    built: ClassVar[list[RecordingLLM]] = []

    def __init__(self, model: LLMModel, config: LLMConfig | None = None) -> None:
        super().__init__(model, config)
        RecordingLLM.built.append(self)

    @classmethod
    def estimate_output_tokens(cls, model: LLMModel, config: LLMConfig, prompt: str) -> int:
        return 7


@pytest.fixture
def recorder() -> Iterator[str]:
    register_backend(Backend("recording", f"{__name__}:RecordingLLM"))
    model = LLMFactory.register_model(LLMModel(
        name="recorder", provider=LLMProvider.OTHER, runtime=LLMRuntime.MOCK, backend="recording",
        metadata={"behaviour": "echo"}, pricing=Pricing.simple(1, 2)))
    RecordingLLM.built.clear()
    yield model.identifier
    RecordingLLM.built.clear()


def test_every_sweep_client_comes_from_create_llm_with_the_plans_resolved_config(tmp_path: Path,
                                                                                 recorder: str) -> None:
    spec = write_spec(tmp_path, models=[recorder], repeats=1, cache=str(tmp_path / "cache"))
    result = ev.run(spec, progress=False)
    assert result.status == "completed" and len(RecordingLLM.built) == 2 * 5
    resolved = {v.label: v.resolved for v in result.plan.variants}
    assert all(r is not None and r.model.identifier == recorder for r in resolved.values())
    configs = [llm.config for llm in RecordingLLM.built]
    assert all(any(c is r.config for r in resolved.values() if r is not None) for c in configs)  # not re-merged
    caches = [[e for e in llm.extensions if isinstance(e, ResponseCacheExtension)] for llm in RecordingLLM.built]
    assert all(len(found) == 1 for found in caches)  # registered by create_llm(cache=...), once
    assert len({id(found[0]) for found in caches}) == 1  # one extension shared by the whole run


def test_dry_run_asks_the_backend_for_its_output_estimate(tmp_path: Path, recorder: str) -> None:
    spec = write_spec(tmp_path, models=[recorder, "oracle:mock"], configs=[{"label": "default"}], repeats=1)
    estimates = ev.dry_run(spec).estimates()
    assert estimates[(recorder, "default")].output_tokens == 7 * 5
    oracle = ev.run(spec, progress=False).load()
    oracle = oracle[oracle["model"] == "oracle:mock"]
    assert estimates[("oracle:mock", "default")].output_tokens == oracle["output_tokens"].sum()  # MOCK: exact


def test_the_default_output_estimate_lives_on_base_llm() -> None:
    plain = LLMFactory.get_model("gpt-4.1")
    thinker = LLMFactory.get_model("gpt-5.5")
    assert "reasoning" in thinker.capabilities and "reasoning" not in plain.capabilities
    assert BaseLLM.estimate_output_tokens(plain, LLMConfig(), "hi") == 256
    assert BaseLLM.estimate_output_tokens(thinker, LLMConfig(), "hi") == 1024
    assert BaseLLM.estimate_output_tokens(thinker, LLMConfig(max_tokens=100), "hi") == 100


def test_effective_pricing_is_the_config_override_else_the_catalog_price(tmp_path: Path) -> None:
    model = LLMFactory.get_model("oracle:mock")
    assert effective_pricing(model, None) is model.pricing
    assert effective_pricing(model, LLMConfig(temperature=0.1)) is model.pricing
    override = LLMConfig.model_validate({"pricing": {"input_usd_per_mtok": 1000, "output_usd_per_mtok": 2000}})
    price = effective_pricing(model, override)
    assert price is not None and (price.rates.input, price.rates.output) == (Decimal(1000), Decimal(2000))
    assert effective_pricing(model, override) is price  # built once per distinct override
    # the client, the plan's estimate and the row all bill at that same price
    spec = write_spec(tmp_path, models=["oracle:mock"], repeats=1, configs=[
        {"label": "priced", "pricing": {"input_usd_per_mtok": 1000, "output_usd_per_mtok": 2000}}])
    estimate = ev.dry_run(spec).total_estimate()
    df = ev.run(spec, progress=False).load()
    tokens_in, tokens_out = int(df["input_tokens"].sum()), int(df["output_tokens"].sum())
    billed = (Decimal(1000) * tokens_in + Decimal(2000) * tokens_out) / 10**6
    assert abs(Decimal(str(df["cost_usd"].sum())) - billed) < Decimal("0.000001")
    assert estimate.cost_usd == billed  # MOCK's estimate is exact, at the same price
    llm = LLMFactory.create_llm("oracle:mock", override)
    assert llm.send_user_message_sync("What is 2 + 2?").usage.total_cost > 0
