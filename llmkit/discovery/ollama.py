"""Ollama discovery: `GET /api/tags` lists the pulled models; `POST /api/show` per model (concurrently) gives
the native context length (`model_info["<arch>.context_length"]`) and capabilities (`thinking`, `vision`, ...).
Embedding-only models are skipped. A model whose /api/show fails is still listed, without those facts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from llmkit.discovery.hostenv import HostEntry, hosts_to_probe
from llmkit.discovery.local_models import THINK_LEVELS, local_model, local_schema, positive_int
from llmkit.discovery.probe import ProbeError, Prober, probe_hosts, require_list
from llmkit.models import LLMModel, LLMRuntime
from llmkit.secrets import redact_secrets

logger = logging.getLogger("llmkit.discovery")


async def discover_ollama(host: str | None = None) -> list[LLMModel]:
    return await probe_hosts("ollama", hosts_to_probe(LLMRuntime.OLLAMA, host), _discover_host)


async def _discover_host(entry: HostEntry) -> list[LLMModel]:
    prober = Prober(entry, "ollama")
    listing = require_list(await prober.get("/api/tags"), "models", "GET /api/tags")
    names = []
    for item in listing:
        name = item.get("model") or item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name:
            names.append((name, item))
        else:
            logger.warning("ollama at %s: skipping a malformed /api/tags entry: %s", entry.url,
                           redact_secrets(repr(item)))
    shows = await asyncio.gather(*(_show(prober, name) for name, _ in names))
    models = []
    for (name, item), show in zip(names, shows, strict=True):
        model = _model(entry, name, item, show)
        if model is not None:
            models.append(model)
    return models


async def _show(prober: Prober, name: str) -> dict[str, Any]:
    try:
        body = await prober.json("POST", "/api/show", {"model": name})
    except ProbeError as exc:
        logger.warning("ollama at %s: /api/show for %s failed (%s); listing it without context length",
                       prober.entry.url, name, exc)
        return {}
    return body if isinstance(body, dict) else {}


def context_length(show: dict[str, Any]) -> int | None:
    """`model_info["<general.architecture>.context_length"]`, else any `*.context_length` key."""
    info = show.get("model_info")
    if not isinstance(info, dict):
        return None
    arch = info.get("general.architecture")
    if isinstance(arch, str) and (value := positive_int(info.get(f"{arch}.context_length"))):
        return value
    return next((v for k, raw in info.items() if k.endswith(".context_length") and (v := positive_int(raw))), None)


def _model(entry: HostEntry, name: str, item: dict[str, Any], show: dict[str, Any]) -> LLMModel | None:
    raw_caps = show.get("capabilities")
    capabilities = {str(c) for c in raw_caps} if isinstance(raw_caps, list) else set()
    if capabilities and "completion" not in capabilities and "embedding" in capabilities:
        return None  # an embedding model cannot chat
    details = show.get("details") if isinstance(show.get("details"), dict) else item.get("details")
    details = details if isinstance(details, dict) else {}
    families = [str(f) for f in details.get("families") or [] if f] + [str(details.get("family") or "")]
    context = context_length(show)
    thinking = "thinking" in capabilities
    levels = THINK_LEVELS if thinking and "gpt-oss" in (name.lower() + " ".join(families).lower()) else None
    metadata = {k: details[k] for k in ("family", "parameter_size", "quantization_level", "format") if details.get(k)}
    return local_model(
        name, LLMRuntime.OLLAMA, entry, context_length=context, families=families,
        capabilities=capabilities & {"vision", "thinking", "tools"},
        schema=local_schema(LLMRuntime.OLLAMA, context, thinking=thinking, think_levels=levels),
        metadata=metadata,
    )
