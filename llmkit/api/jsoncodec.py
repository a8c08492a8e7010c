"""JSON on the wire: msgspec for speed, the standard library for what msgspec refuses.

A model call encodes one request body and decodes one response (or one payload per stream chunk); with the
standard library that is a visible share of a call's own CPU, with msgspec (already llmkit's value types) a few
microseconds. Whatever msgspec rejects is handed to `json`, so the result — value or exception — is what `json`
gives: bodies in UTF-16/32 and `NaN` literals decode, and a request that `json` cannot encode (a lone surrogate, a
non-finite float) raises as before.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_FAST_ENCODER = msgspec.json.Encoder()
_FAST_DECODER = msgspec.json.Decoder()


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as httpx's `json=` sends it; ValueError for non-finite floats (msgspec would send null)."""
    try:
        encoded = _FAST_ENCODER.encode(value)
    except (TypeError, ValueError):  # a type or a string (a lone surrogate) it refuses: json says what is wrong
        return _ENCODER.encode(value).encode()
    if b"null" in encoded and _has_non_finite(value):  # msgspec writes NaN and ±inf as null
        return _ENCODER.encode(value).encode()  # raises ValueError, as json.dumps(allow_nan=False) does
    return encoded


def loads(data: bytes | str) -> Any:
    """Parse JSON text; ValueError (json.JSONDecodeError) when it is not JSON."""
    try:
        return _FAST_DECODER.decode(data)
    except ValueError:  # msgspec.DecodeError: not UTF-8, NaN literals... or really not JSON
        return json.loads(data)


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(v) for v in value)
    return False
