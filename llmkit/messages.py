"""Value types that cross the public API: messages, token usage, responses and stream chunks.

They render themselves (`__str__`, `_repr_html_`) with the standard library only: a value type never imports
presentation code (`llmkit.display` builds on these, not the other way round).

They are frozen `msgspec.Struct`s rather than frozen dataclasses or attrs classes: a Struct is built in C, with a
quarter of the instructions a frozen attrs class takes (itself faster than a frozen dataclass), and every model call
builds several (the request, two usages, the response, two history messages). `msgspec.structs.replace` is their
`dataclasses.replace`; `__struct_fields__` names their fields.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import html
import mimetypes
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Union, get_args

import msgspec

_ZERO = Decimal(0)


FinishReason = Literal["stop", "length", "content_filter", "tool_calls", "error", "unknown"]
"""Why a model stopped, the same words for every provider: `stop` (a natural end or a stop sequence), `length`
(the output cap or the context window), `content_filter` (a safety filter or a refusal), `tool_calls`, `error` (the
server gave up mid-answer), `unknown` (a value the adapter's table does not know; the raw value is kept beside it
as `finish_reason_raw`)."""
FINISH_REASONS: frozenset[str] = frozenset(get_args(FinishReason))

ImageInput = Union[str, Path, bytes]  # noqa: UP007 - a runtime alias, valid on 3.10
"""An image for a vision model: a file path, raw bytes, an http(s) URL or a data: URI."""


class Role(str, enum.Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"

    def __str__(self) -> str:
        return self.value


class Image(msgspec.Struct, frozen=True):
    """An image normalised once: either a remote URL or bytes with their media type."""

    url: str | None = None
    data: bytes | None = None
    media_type: str = "image/png"

    @classmethod
    def from_input(cls, value: ImageInput | Image) -> Image:
        if isinstance(value, Image):
            return value
        if isinstance(value, bytes):
            return cls(data=value, media_type=_sniff_media_type(value))
        text = str(value)
        if text.startswith(("http://", "https://")):
            return cls(url=text)
        if text.startswith("data:"):
            header, _, payload = text.partition(",")
            media_type = header[5:].split(";")[0] or "application/octet-stream"
            return cls(data=base64.b64decode(payload), media_type=media_type)
        path = Path(text).expanduser()
        if not path.is_file():
            from llmkit.errors import ConfigurationError

            raise ConfigurationError(f"Image {text!r} is neither an http(s) URL, a data: URI nor a readable file")
        data = path.read_bytes()
        return cls(data=data, media_type=mimetypes.guess_type(path.name)[0] or _sniff_media_type(data))

    @property
    def base64(self) -> str:
        return base64.b64encode(self.data or b"").decode("ascii")

    @property
    def data_uri(self) -> str:
        return self.url or f"data:{self.media_type};base64,{self.base64}"

    @property
    def digest(self) -> str:
        """Stable content hash, used in cache keys instead of the bytes."""
        return self.url or hashlib.sha256(self.data or b"").hexdigest()

    def __repr__(self) -> str:
        return f"Image(url={self.url!r})" if self.url else f"Image({self.media_type}, {len(self.data or b'')} bytes)"


def _sniff_media_type(data: bytes) -> str:
    signatures = {
        b"\x89PNG": "image/png",
        b"\xff\xd8\xff": "image/jpeg",
        b"GIF8": "image/gif",
        b"RIFF": "image/webp",
    }
    for magic, media_type in signatures.items():
        if data.startswith(magic):
            return media_type
    return "application/octet-stream"


class Message(msgspec.Struct, frozen=True):
    """One turn of a conversation."""

    role: Role
    content: str
    images: tuple[Image, ...] = ()
    reasoning: str | None = None

    def __repr__(self) -> str:
        text = self.content if len(self.content) <= 60 else self.content[:57] + "..."
        extra = f", images={len(self.images)}" if self.images else ""
        return f"Message({self.role.value}, {text!r}{extra})"


class TokenUsage(msgspec.Struct, frozen=True):
    """Tokens of one call (or a sum of calls) and what they cost in USD.

    `input_tokens` includes `cached_input_tokens` (cache reads) and `cache_write_tokens` (prompt tokens written to
    a provider's cache, billed at its cache-write rate, e.g. Anthropic `cache_creation_input_tokens`);
    `output_tokens` includes `reasoning_tokens`.
    `saved_cost` is what a cache hit would have cost (its `total_cost` is 0).
    `estimated` is True when a server reported no usage and llmkit counted the tokens itself.
    `priced` is False when no price is known for the model: every cost is then None, never a made-up $0, and a
    sum that includes such a usage is unpriced too (a total with an unknown part is not a known total).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    input_cost: Decimal | None = Decimal(0)
    output_cost: Decimal | None = Decimal(0)
    total_cost: Decimal | None = Decimal(0)
    saved_cost: Decimal | None = Decimal(0)
    estimated: bool = False
    priced: bool = True

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        if not isinstance(other, TokenUsage):
            return NotImplemented
        values: dict[str, Any] = {}
        priced = self.priced and other.priced
        for name in TokenUsage.__struct_fields__:
            a, b = getattr(self, name), getattr(other, name)
            if name == "estimated":
                values[name] = a or b
            elif name == "priced":
                values[name] = priced
            elif name.endswith("_cost"):
                values[name] = a + b if priced else None
            else:
                values[name] = a + b
        return TokenUsage(**values)

    def __radd__(self, other: Any) -> TokenUsage:
        if other == 0:  # lets sum() work
            return self
        return NotImplemented

    def as_cached(self) -> TokenUsage:
        """The usage of a cache hit: same tokens, nothing charged, the would-have-been cost kept aside."""
        if not self.priced:  # what it would have cost is unknown: every cost stays None
            return self
        zero = _ZERO
        return TokenUsage(self.input_tokens, self.output_tokens, self.reasoning_tokens, self.cached_input_tokens,
                          self.cache_write_tokens, zero, zero, zero,
                          (self.total_cost or zero) + (self.saved_cost or zero), self.estimated)

    def to_dict(self) -> dict[str, Any]:
        return {name: (str(v) if isinstance(v, Decimal) else v)
                for name in TokenUsage.__struct_fields__ for v in [getattr(self, name)]}

    def __str__(self) -> str:
        """One plain-text line of tokens and cost, as the CLI, the playground and reprs show it."""
        parts = [f"in {self.input_tokens}", f"out {self.output_tokens}"]
        if self.reasoning_tokens:
            parts.append(f"reasoning {self.reasoning_tokens}")
        if self.cached_input_tokens:
            parts.append(f"cached {self.cached_input_tokens}")
        text = "tokens " + " / ".join(parts) + f" · cost {format_usd(self.total_cost)}"
        if self.saved_cost:
            text += f" (saved {format_usd(self.saved_cost)})"
        if self.estimated:
            text += " · estimated"
        return text

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(str(self))}</code>"


_BODIES = frozenset({"raw", "metadata"})


class _CarriesBody(msgspec.Struct, frozen=True):
    """A value carrying what the provider sent (`raw`, `metadata`): that is not part of its identity (two answers
    with the same text, usage and timing are equal whatever request id the server gave them) nor of its repr."""

    def _identity(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__struct_fields__ if name not in _BODIES)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        shown = (f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__ if name not in _BODIES)
        return f"{type(self).__name__}({', '.join(shown)})"


def format_usd(value: object) -> str:
    """A cost in USD; None is an unknown price (no price card for the model), never shown as $0."""
    return "unknown" if value is None else f"${float(str(value)):.6f}"


class CompleteResponse(_CarriesBody, frozen=True):
    """The answer to one unary call (or the assembled result of a stream)."""

    content: str
    reasoning: str | None = None
    usage: TokenUsage = msgspec.field(default_factory=TokenUsage)
    finish_reason: FinishReason | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    cached: bool = False
    original_latency_s: float | None = None
    model: str | None = None
    raw: Any = None  # the provider's body
    metadata: dict[str, Any] = {}  # copied per instance
    finish_reason_raw: str | None = None
    """The provider's own word for why it stopped (`end_turn`, `MAX_TOKENS`, ...), kept beside the normalised one."""
    served_model: str | None = None
    """The model the server says answered (its `model` or `modelVersion` field; None when it names none): a dated
    snapshot of the model asked for, or another model when a gateway or a retirement routed the call elsewhere."""

    def __str__(self) -> str:
        return self.content

    def finished(self, usage: TokenUsage, latency_s: float, model: str) -> CompleteResponse:
        """This response with its priced usage, measured latency and model id: `msgspec.structs.replace` without its
        generic per-field machinery, because it runs once per call on the hot path."""
        return CompleteResponse(self.content, self.reasoning, usage, self.finish_reason, latency_s, self.ttft_s,
                                self.cached, self.original_latency_s, model, self.raw, self.metadata,
                                self.finish_reason_raw, self.served_model)

    def stats_line(self) -> str:
        """latency · TTFT · tokens and cost (· cached · finish reason · the model the server named when it is not
        the id asked for), one line: what the playground, the compare view and the notebook repr show."""
        parts = []
        if self.latency_s is not None:
            parts.append(f"latency {self.latency_s:.3f}s")
        if self.ttft_s is not None:
            parts.append(f"TTFT {self.ttft_s:.3f}s")
        parts.append(str(self.usage))
        if self.cached:
            original = self.original_latency_s
            parts.append("cached" + (f" (originally {original:.3f}s)" if original is not None else ""))
        if self.finish_reason and self.finish_reason != "stop":
            raw = self.finish_reason_raw
            shown = raw if raw and raw.lower() != self.finish_reason else None
            parts.append(f"finish {self.finish_reason}" + (f" ({shown})" if shown else ""))
        if self.served_model and self.served_model != self.model:
            parts.append(f"served by {self.served_model}")
        return " · ".join(parts)

    def _repr_html_(self) -> str:
        reasoning = ""
        if self.reasoning:
            reasoning = (
                "<details><summary>reasoning</summary><pre style='white-space:pre-wrap'>"
                f"{html.escape(self.reasoning)}</pre></details>"
            )
        model = f"<b>{html.escape(self.model)}</b>" if self.model else ""
        return (
            f"<div class='llmkit-response'>{model}"
            f"{reasoning}<pre style='white-space:pre-wrap'>{html.escape(self.content)}</pre>"
            f"<small><code>{html.escape(self.stats_line())}</code></small></div>"
        )


class ChunkResponse(_CarriesBody, frozen=True):
    """One piece of a streamed answer; the last one has `is_complete=True` and carries the usage and the finish
    reason. A backend leaves the final chunk's `usage` None when the server reported none (llmkit then counts it
    and marks it estimated)."""

    content: str = ""
    reasoning: str | None = None
    is_complete: bool = False
    usage: TokenUsage | None = None
    finish_reason: FinishReason | None = None
    raw: Any = None
    finish_reason_raw: str | None = None
    served_model: str | None = None  # on the final chunk: see CompleteResponse.served_model


class LLMRequest(msgspec.Struct, frozen=True):
    """Everything one call sends, as extensions (and the cache key) see it.

    `sample_index` distinguishes independent samples of the same request (eval repeats); `None` means
    "any sample will do".
    """

    messages: tuple[Message, ...]
    config: Any  # LLMConfig; typed loosely to keep this module free of pydantic
    model: Any  # LLMModel
    stream: bool = False
    sample_index: int | None = None

    @property
    def last_user_message(self) -> Message | None:
        return next((m for m in reversed(self.messages) if m.role is Role.USER), None)

