"""List what cloud APIs serve: each provider's and each cloud host's models endpoint (protocols.md §1-§6).

Only `LLMFactory.reload_models("api")` calls this — never start-up: no request goes to a cloud unless asked. A
host is listed when its key is set; the ids the catalog already has are left to the catalog, the others become
models like a qualified id's (`openai/<id>`, `groq/<id>`, see `llmkit.discovery.qualified`), marked `listed_from`.

The three list shapes, as data: OpenAI and every compatible cloud `GET {base}/models` → `data[].id`; Anthropic
`GET /v1/models?limit=1000[&after_id=]` → `data[].id`, `has_more`, `last_id`; Gemini `GET /v1beta/models?pageSize=
1000[&pageToken=]` → `models[].name` (`models/` stripped) keeping those offering generateContent. Keys travel in
headers (Gemini's `x-goog-api-key`, never `?key=`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from llmkit.errors import AuthenticationError, ConfigurationError, LLMError, ProviderError
from llmkit.hosts import get_host
from llmkit.models import PROVIDER_BACKENDS, LLMModel, LLMRuntime, ModelId
from llmkit.secrets import redact_secrets

logger = logging.getLogger("llmkit.discovery")
LISTING_TIMEOUT_S = 20.0
MAX_PAGES = 50


@dataclass(frozen=True, slots=True)
class ListShape:
    """Where a host lists its models and how its answer is read."""

    path: str
    items: str = "data"  # the list's key
    id_field: str = "id"
    strip: str = ""  # prefix removed from ids (Gemini's "models/")
    page_size: tuple[str, str] | None = None  # (parameter, value) asking for big pages
    next_param: str | None = None  # the parameter carrying the cursor
    next_field: str | None = None  # where the answer puts the cursor (None: one page only)
    more_field: str | None = None  # a flag saying whether there is more (Anthropic's has_more)
    methods_field: str | None = None  # keep items whose list here holds "generateContent"


OPENAI_SHAPE = ListShape("models")
# Where list entries state the context window and output cap, when they do (Gemini, Anthropic, Groq, Together, vLLM)
CONTEXT_FIELDS = ("inputTokenLimit", "max_input_tokens", "context_window", "context_length", "max_model_len")
OUTPUT_FIELDS = ("outputTokenLimit", "max_tokens", "max_completion_tokens")
SHAPES: Mapping[str, ListShape] = {
    "anthropic": ListShape("v1/models", page_size=("limit", "1000"), next_param="after_id", next_field="last_id",
                           more_field="has_more"),
    "gemini": ListShape("models", items="models", id_field="name", strip="models/", page_size=("pageSize", "1000"),
                        next_param="pageToken", next_field="nextPageToken", methods_field="supportedGenerationMethods"),
}


async def list_ids(backend: str) -> list[dict[str, Any]]:
    """The raw model entries a cloud host lists (every page), id normalised into "id"; typed errors."""
    from llmkit.api.http import CallOptions, executor

    shape = SHAPES.get(backend, OPENAI_SHAPE)
    endpoint = get_host(backend).endpoint(f"listing {backend}'s models")
    options = CallOptions(timeout_s=LISTING_TIMEOUT_S, max_retries=1)
    params: dict[str, str] = dict([shape.page_size]) if shape.page_size else {}
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        body = await executor().request_json(endpoint, "GET", shape.path, options=options, params=params or None)
        items = body.get(shape.items) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ProviderError(f"{endpoint.provider}'s model list is not a JSON object with a {shape.items!r} "
                                f"list: {str(body)[:120]!r}")
        for item in items:
            ident = item.get(shape.id_field) if isinstance(item, dict) else None
            if not isinstance(ident, str) or not ident.strip():
                continue
            if shape.methods_field and "generateContent" not in (item.get(shape.methods_field) or ()):
                continue
            found.append({**item, "id": ident.removeprefix(shape.strip)})
        cursor = body.get(shape.next_field) if shape.next_field else None
        more = body.get(shape.more_field, bool(cursor)) if shape.more_field else bool(cursor)
        if not (cursor and more and shape.next_param):
            break
        params = {**params, shape.next_param: str(cursor)}
    return found


def _qualifier(backend: str) -> str:
    return next((p for p, b in PROVIDER_BACKENDS.items() if b == backend), backend)


def _to_model(backend: str, item: dict[str, Any], registered: Mapping[str, LLMModel]) -> LLMModel | None:
    from llmkit.discovery.qualified import qualified_model

    name = str(item["id"])
    if any(c.isspace() for c in name):
        return None
    model = qualified_model(ModelId(name, LLMRuntime.API, qualifier=_qualifier(backend)), registered)
    if model is None or model.identifier == name:
        return None  # catalogued: the catalog's entry stands
    return replace(model, metadata={**model.metadata, "listed_from": backend},
                   context_window=_first_int(item, CONTEXT_FIELDS), max_output_tokens=_first_int(item, OUTPUT_FIELDS))


def _first_int(item: Mapping[str, Any], fields: tuple[str, ...]) -> int | None:
    return next((v for v in map(item.get, fields) if isinstance(v, int) and not isinstance(v, bool) and v > 0), None)


async def list_api_models(registered: Mapping[str, LLMModel], host: str | None = None) -> list[LLMModel]:
    """Models the cloud hosts list (all hosts whose key is set, or the one named), catalogued ids excepted. A
    named host without a key, or whose listing fails, raises the typed error; otherwise a failure is logged."""
    from llmkit.discovery.qualified import cloud_hosts, qualifiers

    names = cloud_hosts()
    if host is not None:
        backend = PROVIDER_BACKENDS.get(host, host)
        if backend not in names:
            raise ConfigurationError(f"No cloud host named {host!r} to list; known: {', '.join(qualifiers())}")
        cloud = get_host(backend)
        if cloud.api_key() is None:
            missing = cloud.keys[0].env if cloud.keys else None
            raise AuthenticationError(f"Cannot list {host}'s models: {missing or 'its key'} is not set",
                                      env_var=missing)
        names = [backend]
    else:
        names = [n for n in names if get_host(n).api_key() is not None]
    results = await asyncio.gather(*(list_ids(n) for n in names), return_exceptions=True)
    models: list[LLMModel] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            if host is not None or not isinstance(result, LLMError):
                raise result
            logger.warning("listing %s's models failed: %s", name, redact_secrets(str(result)))
            continue
        models.extend(m for m in (_to_model(name, item, registered) for item in result) if m is not None)
    return models
