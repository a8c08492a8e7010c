"""The cache key: a sha256 over canonical JSON of everything that changes a model's answer.

Why each part is in (or out):
- in: a format version (bump it to orphan old entries when the recipe changes), the runtime, the backend,
  where the request goes (the canonical base URL of the model's Host, `llmkit.hosts`: it honours `*_BASE_URL`
  and a model's own `host_url`, so two gateways serving the same model name never share answers), the model
  name, the whole message history (roles, text, reasoning kept in it, image digests and media types, never
  image bytes), `LLMConfig.output_params()` and `sample_index` when the caller asked
  for a specific sample (eval repeats at temperature > 0 are independent draws).
- out: the API key (a secret, and the same model answers the same way whoever pays), timeout, max_retries,
  pricing and anything about this particular client instance; changing those must still hit.

Canonical JSON: sorted keys, no whitespace, ASCII only, Decimals as strings, tuples as lists. Python's float
repr (the shortest round-tripping form) is stable across versions, so keys are stable across processes and
Python versions; `tests/test_cache.py` pins one key as a golden value.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import msgspec

from llmkit.messages import LLMRequest, Message

KEY_VERSION = 2
"""Part of every key; bump when the recipe below changes so old entries are simply never found again."""


class UnhashableRequestError(TypeError):
    """A request holds a value (in extra_params) that has no canonical JSON form; it is not cached."""


def _canonical_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=canonical_json)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (bytes, bytearray)):
        return {"sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, PurePath):
        return value.as_posix()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, msgspec.Struct):  # llmkit's value types (llmkit.messages)
        return msgspec.structs.asdict(value)
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return dump(mode="json")
    raise UnhashableRequestError(f"{type(value).__name__} value has no canonical JSON form")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_canonical_default)


def canonical_json(value: Any) -> str:
    """One string per value: sorted keys, no whitespace, Decimals as strings (see the module docstring)."""
    return _ENCODER.encode(value)


def _message_part(message: Message) -> dict[str, Any]:
    part: dict[str, Any] = {"role": message.role.value, "content": message.content}
    if message.images:
        part["images"] = [{"digest": i.digest, "media_type": i.media_type} for i in message.images]
    if message.reasoning is not None:
        part["reasoning"] = message.reasoning
    return part


def endpoint(model: Any) -> str | None:
    """Where a model's requests go: its Host's canonical base URL (None for a Host without one, e.g. MOCK)."""
    from llmkit.hosts import host_for

    return host_for(model).canonical_url()


def key_material(request: LLMRequest) -> dict[str, Any]:
    """The values hashed into the key, for debugging and for tests that show what a key depends on."""
    model = request.model
    material: dict[str, Any] = {
        "v": KEY_VERSION,  # cache_key writes these keys out in sorted order; keep _canonical_text in step
        "runtime": model.runtime.value,
        "backend": model.backend,
        "endpoint": endpoint(model),
        "model": model.name,
        "messages": [_message_part(m) for m in request.messages],
        "params": request.config.output_params(),
    }
    if request.sample_index is not None:
        material["sample"] = request.sample_index
    return material


def cache_key(request: LLMRequest) -> str:
    """The hex sha256 of `canonical_json(key_material(request))`; UnhashableRequestError if it has no canonical
    form. Tests check the text equals canonical_json(key_material(...)) exactly."""
    try:
        text = _canonical_text(request)
    except (TypeError, ValueError) as exc:  # includes circular references
        raise UnhashableRequestError(str(exc)) from exc
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@functools.lru_cache(maxsize=1024)
def _model_pieces(backend: str, name: str) -> tuple[str, str]:
    """The encoded text around a model's endpoint and params (keyed on the strings, not on the model object)."""
    return '{"backend":' + canonical_json(backend) + ',"endpoint":', ',"model":' + canonical_json(name) + ',"params":'


def _canonical_text(request: LLMRequest) -> str:
    """canonical_json(key_material(request)), with the top-level keys in sorted order written out by hand."""
    model = request.model
    head, middle = _model_pieces(model.backend, model.name)
    sample = "" if request.sample_index is None else ',"sample":' + canonical_json(request.sample_index)
    return (head + canonical_json(endpoint(model))
            + ',"messages":' + canonical_json([_message_part(m) for m in request.messages])
            + middle + canonical_json(request.config.output_params())
            + ',"runtime":' + canonical_json(model.runtime.value) + sample + ',"v":' + str(KEY_VERSION) + "}")
