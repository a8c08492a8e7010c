"""Discovery of generic OpenAI-compatible servers (llama-server, llama-cpp-python, vLLM, SGLang, LiteLLM):
`GET /v1/models`, plus llama-server's `GET /props` (asked at the same time; 404 elsewhere) for the context the
server is actually running with (`default_generation_settings.n_ctx`). Context lengths otherwise come from vLLM's
`max_model_len` or llama-server's `meta.n_ctx_train`."""

from __future__ import annotations

import asyncio
import logging
import posixpath
from typing import Any

from llmkit.discovery.hostenv import HostEntry, hosts_to_probe
from llmkit.discovery.local_models import local_model, positive_int
from llmkit.discovery.probe import ProbeError, Prober, probe_hosts, require_list
from llmkit.models import LLMModel, LLMRuntime

logger = logging.getLogger("llmkit.discovery")


async def discover_openai_compatible(host: str | None = None) -> list[LLMModel]:
    return await probe_hosts("openai-compatible", hosts_to_probe(LLMRuntime.OPENAI_COMPATIBLE, host),
                             _discover_host)


async def _props(prober: Prober) -> dict[str, Any]:
    """llama-server's /props, or {} anywhere else (404, not JSON, ...)."""
    import httpx

    try:
        body = await prober.get("/props", missing_ok=True)
    except (ProbeError, httpx.HTTPError):
        return {}
    return body if isinstance(body, dict) else {}


async def _discover_host(entry: HostEntry) -> list[LLMModel]:
    prober = Prober(entry, "openai-compatible")
    listing, props = await asyncio.gather(prober.get("/v1/models"), _props(prober))
    items = [i for i in require_list(listing, "data", "GET /v1/models") if isinstance(i, dict) and i.get("id")]
    settings = props.get("default_generation_settings")
    running_ctx = positive_int(settings.get("n_ctx")) if isinstance(settings, dict) else None
    props_model = posixpath.basename(str(props.get("model_path") or "")) or None
    props_vision = isinstance(props.get("modalities"), dict) and props["modalities"].get("vision") is True
    models = []
    for item in items:
        model_id = str(item["id"])
        if "embed" in model_id.lower():
            continue
        describes_it = len(items) == 1 or props_model in (model_id, posixpath.basename(model_id))
        meta: dict[str, Any] = item["meta"] if isinstance(item.get("meta"), dict) else {}
        context = (
            (running_ctx if describes_it else None)
            or positive_int(item.get("max_model_len"))
            or positive_int(meta.get("n_ctx_train"))
        )
        arch: dict[str, Any] = item["architecture"] if isinstance(item.get("architecture"), dict) else {}
        vision = "image" in (arch.get("input_modalities") or []) or (describes_it and props_vision)
        metadata: dict[str, Any] = {"owned_by": item.get("owned_by")} if item.get("owned_by") else {}
        if running_ctx and describes_it:
            metadata["n_ctx"] = running_ctx
        if positive_int(meta.get("n_ctx_train")):
            metadata["n_ctx_train"] = meta["n_ctx_train"]
        models.append(local_model(model_id, LLMRuntime.OPENAI_COMPATIBLE, entry, context_length=context,
                                  capabilities={"vision"} if vision else set(), metadata=metadata))
    return models
