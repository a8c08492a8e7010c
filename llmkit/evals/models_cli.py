"""`llmkit models`: what is available, by runtime, with prices (`--json`, `--remote` to list the clouds' models
endpoints first)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from llmkit.evals.fmt import grid

EXIT_OK = 0


def models_command(args: argparse.Namespace) -> int:
    """List models by runtime (or as JSON), with prices and availability."""
    from llmkit.billing import effective_pricing
    from llmkit.factory import LLMFactory
    from llmkit.models import LLMRuntime, status_text

    runtime = None
    if args.runtime:
        try:
            runtime = LLMRuntime(args.runtime.lower())
        except ValueError:
            from llmkit.evals.spec import SpecError

            raise SpecError(f"--runtime {args.runtime!r}: allowed: {', '.join(r.value for r in LLMRuntime)}") from None
    if args.remote:
        before = {m.identifier for m in LLMFactory.list_models(runtime="api")}
        LLMFactory.reload_models("api")
        new = [m for m in LLMFactory.list_models(runtime="api") if m.identifier not in before]
        print(f"--remote: {len(new)} models beyond the catalog listed by the providers' models endpoints (only clouds "
              "whose key is set are asked)", file=sys.stderr)
    by_runtime: dict[str, list[list[str]]] = {}
    listed: list[dict[str, Any]] = []
    for m in LLMFactory.list_models(runtime=runtime):
        available = LLMFactory.availability(m.identifier)
        if args.available and not available:
            continue
        listed.append(model_json(m, available))
        pricing = effective_pricing(m, None)  # the catalog's, else genai-prices' for an API model
        rates = pricing.rates if pricing else None
        price = "unknown" if rates is None else f"{rates.input}/{rates.output}" + (
            " (illustrative)" if pricing and pricing.illustrative else "")
        status = "yes" if available else f"no: {available.reason}"
        lifecycle = status_text(m)
        if lifecycle != "active":
            status += f" [{lifecycle}]"
        by_runtime.setdefault(m.runtime.value, []).append([m.identifier, m.provider.value, price, status])
    if args.json:
        print(json.dumps(listed, indent=1))
        return EXIT_OK
    if not by_runtime:
        print("no models match")
        return EXIT_OK
    for name, rows in by_runtime.items():
        print(f"\n{name} ({len(rows)} models)")
        print(grid([["model", "provider", "usd_per_mtok_in/out", "available"], *rows]))
    print("\nuse them in a sweep: python -m llmkit.evals run evals/quickstart.yaml --models <id> ...")
    return EXIT_OK


def model_json(m: Any, available: Any) -> dict[str, Any]:
    from llmkit.models import lifecycle

    rates = m.pricing.rates if m.pricing else None
    return {
        "id": m.identifier, "name": m.name, "provider": m.provider.value, "runtime": m.runtime.value,
        "status": lifecycle(m), "deprecation_date": m.deprecation_date, "retirement_date": m.retirement_date,
        "context_window": m.context_window, "capabilities": sorted(m.capabilities),
        "available": bool(available), "unavailable_reason": None if available else available.reason,
        "usd_per_mtok": None if rates is None else {
            "input": str(rates.input), "output": str(rates.output),
            "cached_input": None if rates.cached_input is None else str(rates.cached_input)},
        "price_illustrative": bool(m.pricing and m.pricing.illustrative),
    }
