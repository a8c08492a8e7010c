"""The packaged catalog is complete and consistent."""

from __future__ import annotations

from llmkit import LLMFactory, LLMRuntime
from llmkit.backends import get_backend
from llmkit.catalog import catalog_entries
from llmkit.models import LLMProvider


def test_every_entry_has_prices_provider_source_and_date() -> None:
    entries = catalog_entries()
    assert len(entries) >= 50
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for e in entries:
        assert LLMProvider(e["provider"]), e["id"]
        assert get_backend(e["backend"]), e["id"]
        assert e["pricing"]["input"] is not None and e["pricing"]["output"] is not None, e["id"]
        assert e["pricing"]["input"] >= 0 and e["pricing"]["output"] >= 0
        assert e["source"].startswith("https://"), e["id"]
        assert e["as_of"], e["id"]
        assert e["status"] in {"active", "preview", "legacy", "deprecated", "retired"}
        for tier in e["tiers"]:
            assert tier["above_input_tokens"] > 0 and tier["input"] >= e["pricing"]["input"]
        if e["reasoning"]:
            assert e["reasoning"]["control"] in {"reasoning_effort", "thinking_level", "budget_tokens", "effort",
                                                 "thinking_budget", "thinking_enabled"}


def test_registered_api_models_have_schema_pricing_and_provider() -> None:
    api = LLMFactory.list_models(runtime=LLMRuntime.API)
    retired = {e["id"] for e in catalog_entries() if e["status"] == "retired"}
    assert {m.identifier for m in api} == {e["id"] for e in catalog_entries()} - retired
    for model in api:
        assert model.pricing is not None and model.pricing.source
        assert model.config_schema["type"] == "object" and "max_tokens" in model.parameters
        assert model.provider is not LLMProvider.OTHER
        assert model.context_window


def test_retired_models_are_not_registered_but_explain_themselves() -> None:
    import pytest

    from llmkit import UnknownModelError

    with pytest.raises(UnknownModelError, match="retired"):
        LLMFactory.get_model("deepseek-chat")


def test_deprecated_models_show_status_and_retirement_date() -> None:
    model = LLMFactory.get_model("gpt-5")
    assert model.status == "deprecated" and model.retirement_date == "2026-12-11"


def test_catalog_file_matches_its_generator(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The packaged YAML is exactly what tools/build_catalog.py makes from the shared research data."""
    import importlib.util
    from pathlib import Path

    import pytest

    root = Path(__file__).resolve().parents[1]
    source = root.parent / "shared" / "data" / "models.yaml"
    if not source.exists():
        pytest.skip("shared research data not beside the checkout")
    spec = importlib.util.spec_from_file_location("build_catalog", root / "tools" / "build_catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.TARGET = tmp_path / "models.yaml"
    module.main(["build_catalog.py", str(source)])
    packaged = (root / "llmkit" / "catalog" / "models.yaml").read_text("utf-8")
    assert module.TARGET.read_text("utf-8") == packaged
