"""Build llmkit/catalog/models.yaml from the research data in ../shared/data/models.yaml.

The source keeps prose (tiered pricing, off-peak hours) that billing code cannot read; the structured tiers,
off-peak schedules and capabilities below are transcribed from that prose, entry by entry. Run:

    python tools/build_catalog.py [path/to/shared/data/models.yaml]
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "models.yaml"
TARGET = ROOT / "llmkit" / "catalog" / "models.yaml"

BACKEND_BY_PROVIDER = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gemini",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "zhipu": "zhipu",
}

# "Requests with more than N input tokens are billed for the whole request at ..." (from tiered_pricing). A tier
# carries every rate the base card has, cache writes included (2x on OpenAI's >272K tier, 5x on Haiku 5.5's >100K):
# a tier without one would bill long-prompt cache writes at the tier's input rate.
TIERS: dict[str, list[dict[str, Any]]] = {
    "gpt-6.2-astra": [{"above_input_tokens": 272000, "input": 16.0, "cached_input": 0.8, "cache_write": 20.0,
                       "output": 60.0}],
    "gpt-6.2-sol": [{"above_input_tokens": 272000, "input": 4.0, "cached_input": 0.2, "cache_write": 5.0,
                     "output": 15.0}],
    "gpt-6.1-sol": [{"above_input_tokens": 272000, "input": 4.0, "cached_input": 0.2, "cache_write": 5.0,
                     "output": 15.0}],
    "gpt-6-astra": [{"above_input_tokens": 272000, "input": 20.0, "cached_input": 2.0, "cache_write": 25.0,
                     "output": 75.0}],
    "gpt-6-luna": [{"above_input_tokens": 272000, "input": 0.2, "cached_input": 0.02, "cache_write": 0.25,
                    "output": 0.75}],
    "gpt-5.5": [{"above_input_tokens": 272000, "input": 10.0, "cached_input": 1.0, "output": 45.0}],
    "claude-haiku-5-5": [{"above_input_tokens": 100000, "input": 0.5, "cached_input": 0.05, "cache_write": 0.625,
                          "output": 2.5}],
    "gemini-3.1-pro-preview": [{"above_input_tokens": 200000, "input": 4.0, "cached_input": 0.4, "output": 18.0}],
    "gemini-2.5-pro": [{"above_input_tokens": 200000, "input": 2.5, "cached_input": 0.25, "output": 15.0}],
}

# DeepSeek: "Rates shown are PEAK ... all other hours are off-peak at half price".
_DEEPSEEK_PEAK = [["01:00", "04:00"], ["06:00", "10:00"]]
OFF_PEAK: dict[str, dict[str, Any]] = {
    "deepseek-flash": {"peak_windows_utc": _DEEPSEEK_PEAK, "input": 0.15, "cached_input": 0.003, "output": 0.6},
    "deepseek-v4-pro": {"peak_windows_utc": _DEEPSEEK_PEAK, "input": 0.66, "cached_input": 0.022, "output": 1.98},
    "deepseek-v4-flash": {"peak_windows_utc": _DEEPSEEK_PEAK, "input": 0.15, "cached_input": 0.003, "output": 0.6},
}

# Fixes the research data lacks or has outdated, each backed by a source and the date it was checked; written into
# the entry's `curated_fixes` so a reader sees where and why the catalog departs from the data.
_GENAI_PRICES = "genai-prices 0.2.3 (pydantic/genai-prices, released 2026-11)"
FIXES: dict[str, list[dict[str, Any]]] = {
    "glm-4.5-air": [{
        "field": "pricing.cached_input", "value": 0.03,
        "source": f"https://docs.z.ai/guides/overview/pricing as recorded in {_GENAI_PRICES}, provider zai",
        "as_of": "2026-11-28",
        "why": "The research data found no USD cached-input rate, so cache hits were billed at the 0.20 input rate.",
    }],
    "mistral-large-4": [{
        "field": "price_changes",
        "value": [{"effective": "2026-10-20", "input": 1.36, "output": 4.18, "cached_input": 0.14},
                  {"effective": "2026-10-29", "input": 0.7, "output": 2.1, "cached_input": 0.07}],
        "source": "https://docs.mistral.ai/resources/changelogs and https://docs.mistral.ai/inference/pricing as "
                  f"recorded in {_GENAI_PRICES}, provider mistral",
        "as_of": "2026-11-28",
        "why": "The 0.68 / 0.07 / 2.09 launch promotion ended on 2026-10-20 (list price 1.36 / 0.14 / 4.18); the "
               "pricing page lists 0.70 / 0.07 / 2.10 from 2026-10-29. Earlier requests keep the launch price.",
    }],
    "gemini-4-argon": [{
        "field": "max_output_tokens", "value": 65536,
        "source": "Google Cloud guide 'Get started with Gemini 4' (65,536 output tokens per synchronous request; "
                  "32,768 for non-streaming direct HTTP; longer outputs need long decoding)",
        "as_of": "2026-10-14",
        "why": "LiteLLM's 1,048,576 is the window shared by input and output, not what one request may generate.",
    }],
}

# Where the catalog's price differs from genai-prices' (tests/test_catalog_vs_genai_prices.py compares every
# entry), the catalog's value stands only with a source and a date: each model lists genai-prices' differing values
# per rate, why the catalog's are right, and what backs them. Written into the entry as `genai_prices`.
GENAI_PRICES: dict[str, dict[str, Any]] = {
    "claude-sonnet-4-5": {
        "differences": {"input": [6.0], "output": [22.5], "cached_input": [0.6], "cache_write": [7.5]},
        "why": "genai-prices keeps the retired 1M-context beta's >200K tier for historical usage; the 200K window "
               "makes it unreachable now.",
        "source": "https://platform.claude.com/docs/en/release-notes/overview (1M beta retired 2026-04-30; "
                  "requests over 200K tokens are rejected)",
        "as_of": "2026-11-28",
    },
    "magistral-medium-latest": {
        "differences": {"input": [2.0], "output": [5.0], "cached_input": [2.0], "cache_write": [2.0]},
        "why": "genai-prices' magistral-medium record is Magistral Medium 1.x (deprecated 2026-05-22); the alias "
               "now serves the Medium 3.5 line at 1.50 / 0.15 cached / 7.50.",
        "source": "litellm 1.110.2 cost map (its source link: the Mistral Medium 3.5 model card); ../shared/data "
                  "SOURCES.md conflict table",
        "as_of": "2026-11-25",
    },
    "deepseek-chat": {
        "differences": {"input": [0.27], "output": [1.1], "cached_input": [0.07], "cache_write": [0.27]},
        "why": "Retired alias kept only to price old runs; genai-prices' card predates DeepSeek V3.2's price cut "
               "(its prices were checked 2025-07-12).",
        "source": "litellm 1.110.2 cost map (V3.2-era https://api-docs.deepseek.com/quick_start/pricing)",
        "as_of": "2026-11-25",
    },
    "deepseek-reasoner": {
        "differences": {"input": [0.55], "output": [2.19], "cached_input": [0.14], "cache_write": [0.55]},
        "why": "Retired alias kept only to price old runs; genai-prices' card predates DeepSeek V3.2's price cut "
               "(its prices were checked 2025-07-12).",
        "source": "litellm 1.110.2 cost map (V3.2-era https://api-docs.deepseek.com/quick_start/pricing)",
        "as_of": "2026-11-25",
    },
    "gpt-6.2-astra": {"unknown": "Released 2026-11-17, after genai-prices 0.2.3's data."},
    "gpt-6.2-sol": {"unknown": "Released 2026-11-17, after genai-prices 0.2.3's data."},
    "glm-4.7-flash": {"unknown": "Z.ai's free model; genai-prices lists only the paid GLM-4.7-FlashX."},
}

# Image input: every OpenAI, Anthropic and Gemini chat model listed; Mistral's 2512+ general models; no
# DeepSeek or listed GLM text model (protocols.md §4-6).
NO_VISION = {"codestral-2508", "magistral-medium-latest", "mistral-large-4"}
VISION_PROVIDERS = {"openai", "anthropic", "google", "mistral"}


def convert(entry: dict[str, Any]) -> dict[str, Any]:
    reasoning = entry.get("reasoning") or {}
    control = reasoning.get("type")
    out: dict[str, Any] = {
        "id": entry["id"],
        "provider": entry["provider"],
        "backend": BACKEND_BY_PROVIDER[entry["provider"]],
        "display_name": entry.get("display_name"),
        "status": entry["status"],
        "context_window": entry.get("context_window"),
        "max_input_tokens": entry.get("max_input_tokens"),
        "max_output_tokens": entry.get("max_output_tokens"),
        "pricing": {
            "input": entry["input_usd_per_mtok"],
            "output": entry["output_usd_per_mtok"],
            "cached_input": entry.get("cached_input_usd_per_mtok"),
            "cache_write": entry.get("cache_write_usd_per_mtok"),
        },
        "tiers": TIERS.get(entry["id"], []),
        "price_changes": [
            {
                "effective": str(c["effective"]),
                "input": c["input_usd_per_mtok"],
                "output": c["output_usd_per_mtok"],
                "cached_input": c.get("cached_input_usd_per_mtok"),
            }
            for c in entry.get("price_changes") or []
        ],
        "off_peak": OFF_PEAK.get(entry["id"]),
        "supports_temperature": bool(entry.get("supports_temperature")),
        "reasoning": None
        if control in (None, "none")
        else {
            "control": control,
            "values": reasoning.get("values"),
            "min": reasoning.get("min"),
            "max": reasoning.get("max"),
            "default": reasoning.get("default"),
            "can_disable": reasoning.get("can_disable"),
            "wire": reasoning.get("wire_param"),
            "native_values": reasoning.get("native_values"),
        },
        "capabilities": sorted(
            ({"vision"} if entry["provider"] in VISION_PROVIDERS and entry["id"] not in NO_VISION else set())
            | ({"reasoning"} if control not in (None, "none") else set())
        ),
        "deprecation_date": _date(entry.get("deprecation_date")),
        "retirement_date": _date(entry.get("retirement_date")),
        "replacement": entry.get("replacement"),
        "pricing_notes": entry.get("tiered_pricing"),
        "source": entry["source"],
        "cross_checked": entry.get("cross_checked") or [],
        "as_of": str(entry["as_of"]),
    }
    if entry["id"] in GENAI_PRICES:
        out["genai_prices"] = GENAI_PRICES[entry["id"]]
    for fix in FIXES.get(entry["id"], []):
        section, _, key = fix["field"].rpartition(".")
        (out[section] if section else out)[key] = copy.deepcopy(fix["value"])  # no YAML anchors between the two
        out.setdefault("curated_fixes", []).append(fix)
    return out


def _date(value: Any) -> str | None:
    return None if value is None else str(value)


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    data = yaml.safe_load(source.read_text("utf-8"))
    models = [convert(m) for m in data["models"]]
    header = (
        "# Generated by tools/build_catalog.py from the project research data (prices, context windows,\n"
        "# reasoning controls; each entry keeps its source and as_of). Edit the source data or the script, then\n"
        "# re-run it. Prices: USD per 1,000,000 tokens, standard on-demand rates.\n"
    )
    body = yaml.safe_dump(
        {"schema_version": 1, "as_of": str(data["as_of"]), "models": models},
        sort_keys=False, allow_unicode=True, width=120,
    )
    TARGET.write_text(header + body, "utf-8")
    print(f"wrote {len(models)} models to {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
