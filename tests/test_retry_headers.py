"""How long to wait before a retry, read from what the provider said."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from llmkit.api.http import parse_retry_after


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"retry-after": "3"}, None, 3.0),
        ({"retry-after-ms": "250", "retry-after": "3"}, None, 0.25),
        ({}, {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}},
         37.0),
        # OpenAI: only exhausted limits count; the wait covers every one of them
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m30s",
          "x-ratelimit-remaining-tokens": "5000", "x-ratelimit-reset-tokens": "6m0s"}, None, 90.0),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "250ms",
          "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "2s"}, None, 2.0),
        ({"x-ratelimit-remaining-requests": "10", "x-ratelimit-reset-requests": "20s"}, None, None),
        ({"retry-after": "1", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s"}, None,
         1.0),  # the explicit Retry-After wins
        ({}, None, None),
    ],
)
def test_retry_wait_from_headers_and_body(headers: dict[str, str], body: object, expected: float | None) -> None:
    assert parse_retry_after(headers, json.loads(json.dumps(body))) == expected


def test_anthropic_reset_timestamps() -> None:
    reset = (datetime.now(timezone.utc) + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    headers = {"anthropic-ratelimit-input-tokens-remaining": "0", "anthropic-ratelimit-input-tokens-reset": reset,
               "anthropic-ratelimit-requests-remaining": "40", "anthropic-ratelimit-requests-reset": reset}
    wait = parse_retry_after(headers)
    assert wait is not None and 25 < wait <= 30
