"""AutoByteus discovery (protocols.md §11): `GET /models/llm` with header `AUTOBYTEUS_API_KEY`, on the hosts of
`AUTOBYTEUS_LLM_SERVER_HOSTS` only. Entries are validated as the AutoByteus clients do (required non-empty
`name`, `value`, `provider`, `config`; a known provider; numeric non-negative `pricing_config`); a bad entry is
skipped with a warning. TLS is not verified unless `AUTOBYTEUS_SSL_CERT_FILE` names a PEM bundle."""

from __future__ import annotations

import logging
from typing import Any

from llmkit.discovery.hostenv import HostEntry, hosts_to_probe
from llmkit.discovery.local_models import positive_int
from llmkit.discovery.makers import infer_provider
from llmkit.discovery.probe import Prober, entry_host, probe_hosts, require_list
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.pricing import FREE, Pricing
from llmkit.schemas import build_schema
from llmkit.secrets import redact_secrets

logger = logging.getLogger("llmkit.discovery")

# The provider enum of the Python client, plus the newest TS client's GLM and OPENAI_COMPATIBLE spellings.
PROVIDERS: dict[str, LLMProvider | None] = {
    "OPENAI": LLMProvider.OPENAI, "ANTHROPIC": LLMProvider.ANTHROPIC, "MISTRAL": LLMProvider.MISTRAL,
    "GEMINI": LLMProvider.GOOGLE, "DEEPSEEK": LLMProvider.DEEPSEEK, "GROK": LLMProvider.XAI,
    "KIMI": LLMProvider.MOONSHOT, "QWEN": LLMProvider.QWEN, "ZHIPU": LLMProvider.ZHIPU, "GLM": LLMProvider.ZHIPU,
    "MINIMAX": LLMProvider.MINIMAX,
    # serving layers, not makers: infer the maker from the model name
    "OLLAMA": None, "LMSTUDIO": None, "AUTOBYTEUS": None, "OPENAI_COMPATIBLE": None,
}
NOTHING_TRAVELS = ("the AutoByteus server drives a browser chat UI; only the conversation is sent, "
                   "no sampling or token settings")


async def discover_autobyteus(host: str | None = None) -> list[LLMModel]:
    return await probe_hosts("autobyteus", hosts_to_probe(LLMRuntime.AUTOBYTEUS, host), _discover_host)


async def _discover_host(entry: HostEntry) -> list[LLMModel]:
    missing = entry_host("autobyteus", entry).missing_key()
    if missing:
        logger.warning("autobyteus at %s: %s is not set; the server will refuse discovery", entry.url, missing)
    prober = Prober(entry, "autobyteus")
    listing = require_list(await prober.get("/models/llm"), "models", "GET /models/llm")
    models = []
    for item in listing:
        problem = entry_problem(item)
        if problem:
            logger.warning("autobyteus at %s: skipping model entry (%s): %s", entry.url, problem,
                           redact_secrets(repr(item)[:200]))
            continue
        models.append(_model(entry, item))
    return models


def _is_amount(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 and value == value


def entry_problem(item: Any) -> str | None:
    """Why the AutoByteus clients would reject this `/models/llm` entry, or None if it is valid."""
    if not isinstance(item, dict):
        return "not an object"
    for key in ("name", "value", "provider"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            return f"{key} missing or empty"
    if str(item["provider"]).upper() not in PROVIDERS:
        return f"unknown provider {item['provider']!r}"
    config = item.get("config")
    if not isinstance(config, dict) or not config:
        return "config missing or empty"
    pricing = config.get("pricing_config")
    if pricing is not None:
        if not isinstance(pricing, dict):
            return "pricing_config is not an object"
        for key in ("input_token_pricing", "output_token_pricing"):
            if not _is_amount(pricing.get(key)):
                return f"pricing_config.{key} must be a non-negative number"
    return None


def _model(entry: HostEntry, item: dict[str, Any]) -> LLMModel:
    name = str(item["name"]).strip()
    config: dict[str, Any] = item["config"]
    provider = PROVIDERS[str(item["provider"]).upper()] or infer_provider(
        name, [str(item.get("canonical_name") or ""), str(item.get("value") or "")])
    pricing_config = config.get("pricing_config") or {}
    rates = (pricing_config.get("input_token_pricing", 0), pricing_config.get("output_token_pricing", 0))
    pricing = (Pricing.simple(*rates, source=f"AutoByteus server {entry.host} pricing_config")
               if any(rates) else FREE)
    unsupported = dict.fromkeys(("temperature", "top_p", "max_tokens", "seed", "stop"), NOTHING_TRAVELS)
    return LLMModel(
        name=name,
        provider=provider,
        runtime=LLMRuntime.AUTOBYTEUS,
        backend="autobyteus",
        host=entry.host,
        host_url=entry.url,
        display_name=f"{item.get('canonical_name') or name} (autobyteus @ {entry.host})",
        context_window=positive_int(item.get("max_context_tokens")) or positive_int(config.get("token_limit")),
        max_output_tokens=positive_int(item.get("max_output_tokens")) or positive_int(config.get("max_tokens")),
        pricing=pricing,
        config_schema=build_schema({}, unsupported, title="autobyteus model"),
        metadata={k: item[k] for k in ("value", "canonical_name", "provider", "active_context_tokens",
                                       "max_input_tokens") if item.get(k) is not None},
    )
