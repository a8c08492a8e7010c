"""How one cached answer is written to disk: JSON behind a format tag and a checksum.

JSON rather than pickle, so reading a cache directory can never run code and an entry is readable by any
tool. The header `llmkit-cache/<version> <sha256 of the body>\\n` lets a reader reject a truncated,
corrupted or foreign value (and a value from a future format) as "not an entry" instead of returning a
wrong answer; the body also repeats its own key, so an entry filed under the wrong key is rejected too.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from llmkit.messages import FINISH_REASONS, CompleteResponse, FinishReason, TokenUsage

RECORD_VERSION = 1
_PREFIX = f"llmkit-cache/{RECORD_VERSION} ".encode("ascii")
_DIGEST_LEN = 64


class CorruptEntryError(ValueError):
    """A stored value that is not a valid entry for its key (truncated, edited, another format)."""


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """What a cache entry remembers about the original, fresh call."""

    key: str
    content: str
    reasoning: str | None
    usage: TokenUsage
    finish_reason: FinishReason | None
    latency_s: float | None
    ttft_s: float | None
    model: str | None
    created_at: float  # Unix time of the original call
    finish_reason_raw: str | None = None
    served_model: str | None = None  # absent from entries written before llmkit recorded it

    @classmethod
    def from_response(cls, key: str, response: CompleteResponse, created_at: float | None = None) -> CachedAnswer:
        return cls(key, response.content, response.reasoning, response.usage, response.finish_reason,
                   response.latency_s, response.ttft_s, response.model,
                   time.time() if created_at is None else created_at, response.finish_reason_raw,
                   response.served_model)


def encode(answer: CachedAnswer) -> bytes:
    body = json.dumps(
        {
            "key": answer.key,
            "content": answer.content,
            "reasoning": answer.reasoning,
            "usage": answer.usage.to_dict(),
            "finish_reason": answer.finish_reason,
            "finish_reason_raw": answer.finish_reason_raw,
            "served_model": answer.served_model,
            "latency_s": answer.latency_s,
            "ttft_s": answer.ttft_s,
            "model": answer.model,
            "created_at": answer.created_at,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    return _PREFIX + hashlib.sha256(body).hexdigest().encode("ascii") + b"\n" + body


def decode(value: Any, key: str | None = None) -> CachedAnswer:
    """Parse and verify a stored value; CorruptEntryError unless it is a complete entry (for `key`, if given)."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise CorruptEntryError(f"stored value is a {type(value).__name__}, not an llmkit cache entry")
    data = bytes(value)
    if not data.startswith(_PREFIX):
        raise CorruptEntryError("stored value lacks the llmkit-cache format tag (another format or version)")
    header_end = len(_PREFIX) + _DIGEST_LEN
    if data[header_end : header_end + 1] != b"\n":
        raise CorruptEntryError("stored value has a damaged header")
    body = data[header_end + 1 :]
    if hashlib.sha256(body).hexdigest().encode("ascii") != data[len(_PREFIX) : header_end]:
        raise CorruptEntryError("stored value fails its checksum (truncated or corrupted)")
    try:
        fields = json.loads(body)
        finish = _optional(fields.get("finish_reason"), str)
        raw = _optional(fields.get("finish_reason_raw"), str) if "finish_reason_raw" in fields else finish
        answer = CachedAnswer(
            key=_typed(fields["key"], str),
            content=_typed(fields["content"], str),
            reasoning=_optional(fields.get("reasoning"), str),
            usage=_usage(_typed(fields["usage"], dict)),
            finish_reason=_finish_reason(finish),
            latency_s=_seconds(fields.get("latency_s")),
            ttft_s=_seconds(fields.get("ttft_s")),
            model=_optional(fields.get("model"), str),
            created_at=float(_typed(fields["created_at"], (int, float))),
            finish_reason_raw=raw,
            served_model=_optional(fields.get("served_model"), str),
        )
    except CorruptEntryError:
        raise
    except Exception as exc:  # any malformed field: the entry is unusable, whatever the reason
        raise CorruptEntryError(f"stored value is malformed ({type(exc).__name__}: {exc})") from None
    if key is not None and answer.key != key:
        raise CorruptEntryError("stored value belongs to another key")
    return answer


_USAGE_FIELDS = {name: name.endswith("_cost") for name in TokenUsage.__struct_fields__}


def _usage(data: dict[str, Any]) -> TokenUsage:
    """TokenUsage.from_dict without per-call introspection: costs back to Decimal, unknown keys (a newer
    llmkit's fields) ignored, missing ones left at their defaults."""
    kwargs: dict[str, Any] = {k: (Decimal(str(v)) if _USAGE_FIELDS[k] and v is not None else v)
                              for k, v in data.items() if k in _USAGE_FIELDS}
    return TokenUsage(**kwargs)


def _finish_reason(value: str | None) -> FinishReason | None:
    """Entries written before finish reasons were normalised hold the provider's word (`end_turn`): "unknown",
    with that word kept as the raw value."""
    return value if value is None or value in FINISH_REASONS else "unknown"  # type: ignore[return-value]


def _typed(value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CorruptEntryError(f"unexpected {type(value).__name__} in stored value")
    return value


def _optional(value: Any, kind: type) -> Any:
    return None if value is None else _typed(value, kind)


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    number = float(_typed(value, (int, float)))
    if not math.isfinite(number) or number < 0:
        raise CorruptEntryError("stored latency is not a non-negative number")
    return number
