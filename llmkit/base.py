"""BaseLLM: one instance is one conversation with one model.

It owns what every backend shares: history and system prompt, extensions and hooks, timing, pricing and
the sync conveniences. A backend implements only `_send_user_message_to_llm` and
`_stream_user_message_to_llm` (and `_cleanup` if it holds resources).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from llmkit._sync import run_sync
from llmkit.billing import effective_pricing
from llmkit.config import LLMConfig
from llmkit.errors import ConfigurationError, LLMError, StreamError
from llmkit.messages import ChunkResponse, CompleteResponse, Image, ImageInput, LLMRequest, Message, Role, TokenUsage
from llmkit.pricing import apply_pricing
from llmkit.streaming import ResponseStream, SyncResponseStream
from llmkit.tokens import estimated_usage
from llmkit.usage import TokenUsageTrackingExtension

if TYPE_CHECKING:
    from llmkit.models import LLMModel

E = TypeVar("E")

TYPICAL_OUTPUT_TOKENS = 256  # the default output-token estimate (see `BaseLLM.estimate_output_tokens`)
TYPICAL_REASONING_TOKENS = 1024


class BaseLLM(ABC):
    """A conversation with one model; see the module docstring."""

    _closed = False
    _may_answer = False  # whether the hooks have anything to run: per class here, per instance once an
    _may_replace = False  # extension is registered (see `_note_extensions`)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._may_answer = cls.before_invoke is not BaseLLM.before_invoke
        cls._may_replace = cls.after_invoke is not BaseLLM.after_invoke

    def __init__(self, model: LLMModel, config: LLMConfig | None = None) -> None:
        self.model = model
        self.config = config if config is not None else (model.default_config or LLMConfig())
        self._system_prompt: str | None = self.config.system_message
        self._history: list[Message] = []
        self._usage_tracker = TokenUsageTrackingExtension()
        self._extensions: list[Any] = [self._usage_tracker]

    @classmethod
    def estimate_output_tokens(cls, model: LLMModel, config: LLMConfig, prompt: str) -> int:
        """A guess at the output tokens one answer bills, for dry runs and budget caps (no call is made):
        min(max_tokens, 256), or 1024 for reasoning models. A backend that knows better overrides it (MOCK's is
        exact); for real models treat it as an order of magnitude."""
        cap = config.max_tokens or model.max_output_tokens or TYPICAL_OUTPUT_TOKENS
        return min(cap, TYPICAL_REASONING_TOKENS if "reasoning" in model.capabilities else TYPICAL_OUTPUT_TOKENS)

    # ----- conversation -------------------------------------------------------------------------------
    @property
    def messages(self) -> list[Message]:
        """The conversation so far (system prompt first); a copy, so editing it changes nothing."""
        system = [Message(Role.SYSTEM, self._system_prompt)] if self._system_prompt else []
        return system + self._history

    @property
    def system_prompt(self) -> str | None:
        return self._system_prompt

    def configure_system_prompt(self, prompt: str | None) -> None:
        self._system_prompt = prompt or None

    def add_user_message(self, content: str, images: Sequence[ImageInput | Image] | None = None) -> Message:
        message = self._user_message(content, images)
        self._history.append(message)
        return message

    def add_assistant_message(self, content: str, reasoning: str | None = None) -> Message:
        message = Message(Role.ASSISTANT, content, reasoning=reasoning)
        self._history.append(message)
        return message

    def clear_history(self) -> None:
        self._history.clear()

    def _user_message(self, content: str, images: Sequence[ImageInput | Image] | None) -> Message:
        if not isinstance(content, str):
            raise ConfigurationError(f"A user message must be a string, got {type(content).__name__}")
        if not images:  # the common case, without building a generator
            return Message(Role.USER, content)
        normalised = tuple(Image.from_input(i) for i in images)
        if normalised and "vision" not in self.model.capabilities:
            raise ConfigurationError(
                f"{self.model.identifier} does not accept images",
                hint="choose a vision-capable model (capabilities include 'vision')",
            )
        return Message(Role.USER, content, normalised)

    # ----- extensions and hooks ----------------------------------------------------------------------
    @property
    def usage(self) -> TokenUsageTrackingExtension:
        """Per-call usage records and totals (`.total`, `.records`, `.to_dataframe()`)."""
        return self._usage_tracker

    @property
    def extensions(self) -> list[Any]:
        return list(self._extensions)

    def register_extension(self, extension: E) -> E:
        if extension not in self._extensions:
            self._extensions.append(extension)
            self._note_extensions()
        return extension

    def unregister_extension(self, extension: Any) -> None:
        if extension in self._extensions:
            self._extensions.remove(extension)
            self._note_extensions()

    def _note_extensions(self) -> None:
        """Whether the hooks have anything to run (an extension has the hook, or a subclass overrides it): when
        not, calls skip them — coroutines and loops per call saved in the common case (no cache, no extension)."""
        self._may_answer = type(self)._may_answer or any(
            getattr(e, "before_invoke", None) is not None for e in self._extensions)
        self._may_replace = type(self)._may_replace or any(
            getattr(e, "after_invoke", None) is not None for e in self._extensions)

    def get_extension(self, kind: type[E]) -> E | None:
        return next((e for e in self._extensions if isinstance(e, kind)), None)

    async def before_invoke(self, request: LLMRequest) -> CompleteResponse | None:
        """Run extensions' before_invoke in order; the first that returns a response answers the call."""
        for extension in self._extensions:
            hook = getattr(extension, "before_invoke", None)
            if hook is not None:
                answer = await hook(self, request)
                if answer is not None:
                    return answer  # type: ignore[no-any-return]
        return None

    async def after_invoke(self, request: LLMRequest, response: CompleteResponse) -> CompleteResponse:
        """Run extensions' after_invoke in order; each may replace the response."""
        for extension in self._extensions:
            hook = getattr(extension, "after_invoke", None)
            if hook is not None:
                replaced = await hook(self, request, response)
                if replaced is not None:
                    response = replaced
        return response

    # ----- calls ----------------------------------------------------------------------------------------
    def _request_for(self, message: Message, *, stream: bool, sample_index: int | None = None) -> LLMRequest:
        if self._system_prompt:
            messages = (Message(Role.SYSTEM, self._system_prompt), *self._history, message)
        else:
            messages = (*self._history, message)
        return LLMRequest(messages, self.config, self.model, stream, sample_index)

    async def send_user_message(self, content: str, images: Sequence[ImageInput | Image] | None = None, *,
                                sample_index: int | None = None) -> CompleteResponse:
        """Send a user message and return the whole answer; both join the history on success."""
        self._ensure_open()
        message = self._user_message(content, images)
        request = self._request_for(message, stream=False, sample_index=sample_index)
        started, at = time.perf_counter(), datetime.now(timezone.utc)
        hit = await self.before_invoke(request) if self._may_answer else None
        if hit is None:
            response = await self._fresh_response(request, started, at)
        else:
            response = hit.finished(hit.usage, time.perf_counter() - started, self.model.identifier)
        if self._may_replace:
            response = await self.after_invoke(request, response)
        self._usage_tracker.record(response, at, self.model.identifier)
        self._history += [message, Message(Role.ASSISTANT, response.content, reasoning=response.reasoning)]
        return response

    def stream_user_message(self, content: str, images: Sequence[ImageInput | Image] | None = None, *,
                            sample_index: int | None = None) -> ResponseStream:
        """Stream the answer: iterate the result for chunks (the last has is_complete=True and the priced usage);
        once finished, its `.response` (or `await stream.get()`) is the final CompleteResponse."""
        return ResponseStream(lambda stream: self._produce(stream, content, images, sample_index))

    async def _produce(self, stream: ResponseStream, content: str, images: Sequence[ImageInput | Image] | None,
                       sample_index: int | None) -> AsyncGenerator[ChunkResponse, None]:
        """The chunks of one streamed call; at the final chunk it assembles, prices and hooks the response once
        and hands it to `stream` before yielding that chunk."""
        self._ensure_open()
        message = self._user_message(content, images)
        request = self._request_for(message, stream=True, sample_index=sample_index)
        started, at = time.perf_counter(), datetime.now(timezone.utc)
        hit = await self.before_invoke(request) if self._may_answer else None
        stream.cached = hit is not None
        source = replay_chunks(hit) if hit is not None else self._stream_user_message_to_llm(request)
        try:
            async for chunk in source:
                if chunk.content or chunk.reasoning:
                    stream._received_text(chunk, started)
                if chunk.is_complete:
                    usage = chunk.usage
                    if usage is None:  # the server reported none: count it, the same for every backend
                        usage = estimated_usage(request.messages, stream.content, stream.reasoning)
                    if hit is None:
                        usage = self.price_usage(usage, at)
                    response = stream._assemble(chunk, usage, time.perf_counter() - started, self.model.identifier,
                                                hit)
                    if self._may_replace:
                        response = await self.after_invoke(request, response)
                    self._usage_tracker.record(response, at, self.model.identifier)
                    stream._finish(response)
                    self._history += [message, Message(Role.ASSISTANT, response.content, reasoning=response.reasoning)]
                    yield msgspec.structs.replace(chunk, usage=response.usage)
                    return
                yield chunk
        except LLMError as exc:
            if exc.partial_content is None:
                exc.partial_content = stream.content
            raise
        finally:
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()
        raise StreamError(
            f"The stream from {self.model.identifier} ended before the model finished",
            partial_content=stream.content,
        )

    async def _fresh_response(self, request: LLMRequest, started: float, at: datetime) -> CompleteResponse:
        """The backend's answer to `request` as the caller gets it: priced at `at`, timed from `started`, naming
        the model. HTTPLLM overrides it to build that response in one step from the parsed wire parts."""
        answer = await self._send_user_message_to_llm(request)
        usage = answer.usage if answer.cached else self.price_usage(answer.usage, at)
        return answer.finished(usage, time.perf_counter() - started, self.model.identifier)

    def price_usage(self, usage: TokenUsage, at: datetime | None = None) -> TokenUsage:
        """Cost of usage at this instance's price (LLMConfig.pricing, else the catalog's); unpriced when none."""
        return apply_pricing(effective_pricing(self.model, self.config), usage, at)

    # ----- sync conveniences -------------------------------------------------------------------------
    def send_user_message_sync(self, content: str, images: Sequence[ImageInput | Image] | None = None,
                               **kwargs: Any) -> CompleteResponse:
        """`send_user_message` for scripts and notebook cells that do not use await."""
        return run_sync(self.send_user_message(content, images, **kwargs))

    def stream_user_message_sync(self, content: str, images: Sequence[ImageInput | Image] | None = None,
                                 **kwargs: Any) -> SyncResponseStream:
        """`stream_user_message` for sync code: iterate it for chunks; `.response` / `.get()` as in the async one."""
        return SyncResponseStream(self.stream_user_message(content, images, **kwargs))

    # ----- lifecycle --------------------------------------------------------------------------------------
    async def cleanup(self) -> None:
        """Release the backend's resources; the instance cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            await self._cleanup()

    def cleanup_sync(self) -> None:
        run_sync(self.cleanup())

    async def _cleanup(self) -> None:
        """Backends holding resources override this."""

    def _ensure_open(self) -> None:
        if self._closed:
            raise ConfigurationError(f"This {type(self).__name__} was cleaned up; create a new one with create_llm")

    async def __aenter__(self) -> BaseLLM:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.cleanup()

    def __enter__(self) -> BaseLLM:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup_sync()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model.identifier!r}, turns={len(self._history)})"

    # ----- what a backend implements -----------------------------------------------------------------
    @abstractmethod
    async def _send_user_message_to_llm(self, request: LLMRequest) -> CompleteResponse:
        """Send request.messages and return the answer with token counts (costs are added by BaseLLM)."""

    @abstractmethod
    def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        """Yield chunks; the last has is_complete=True, the finish reason and the token counts (None when the
        server reported none: BaseLLM then counts them and marks them estimated)."""


async def replay_chunks(response: CompleteResponse, size: int = 64) -> AsyncIterator[ChunkResponse]:
    """Replay a stored response as a stream (reasoning first, then content), ending with its usage."""
    if response.reasoning:
        for i in range(0, len(response.reasoning), size):
            yield ChunkResponse(reasoning=response.reasoning[i : i + size])
    for i in range(0, len(response.content), size):
        yield ChunkResponse(content=response.content[i : i + size])
    yield ChunkResponse(is_complete=True, usage=response.usage, finish_reason=response.finish_reason,
                        finish_reason_raw=response.finish_reason_raw, served_model=response.served_model)
