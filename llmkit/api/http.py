"""The shared async HTTP layer of every model call, as one import: `executor()`, `Endpoint`, `CallOptions` and the
error mapping helpers adapters use. The pieces live in their own modules:

- `llmkit.api.endpoint`      Endpoint, CallOptions, ErrorClassifier, the defaults
- `llmkit.api.transport`     the transport contract; `transport_aiohttp` (default) and `transport_httpx` implement it
- `llmkit.api.executor`      the policy: deadline, retries, status mapping, stream framing
- `llmkit.api.retry`         which errors are retried, how long to wait, the deadline-bounded loop (tenacity)
- `llmkit.api.error_mapping` status + body -> the `llmkit.errors` tree
- `llmkit.api.framing`       byte-fed line framing: SSE, NDJSON, `data:` lines
"""

from __future__ import annotations

from llmkit.api.endpoint import (
    CONNECT_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    CallOptions,
    Endpoint,
    ErrorClassifier,
)
from llmkit.api.error_mapping import (
    map_http_error,
    parse_json_body,
    parse_retry_after,
    parse_stream_json,
    provider_message,
)
from llmkit.api.executor import HTTPExecutor, executor, set_executor
from llmkit.api.retry import MAX_RETRY_WAIT_S, RETRYABLE_STATUS, is_retryable, retry_wait

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "MAX_RETRY_WAIT_S",
    "RETRYABLE_STATUS",
    "CallOptions",
    "Endpoint",
    "ErrorClassifier",
    "HTTPExecutor",
    "executor",
    "is_retryable",
    "map_http_error",
    "parse_json_body",
    "parse_retry_after",
    "parse_stream_json",
    "provider_message",
    "retry_wait",
    "set_executor",
]
