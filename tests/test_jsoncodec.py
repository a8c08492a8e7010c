"""The wire JSON codec: msgspec's speed, the standard library's answers (value or error) for what msgspec refuses."""

from __future__ import annotations

import json
import math

import pytest

from llmkit.api.jsoncodec import dumps, loads


def test_dumps_matches_the_standard_library_byte_for_byte_on_a_request_body() -> None:
    body = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Grüße, 世界 \"quoted\"\n"}],
            "temperature": 0.2, "max_tokens": 64, "stop": ["\n\n"], "stream": False, "seed": None}
    standard = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    assert dumps(body) == standard


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_float_is_refused_as_json_refuses_it(value: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"extra": [1, {"x": value}]})


def test_what_msgspec_cannot_encode_goes_to_the_standard_library() -> None:
    assert loads(dumps({1: "integer key"})) == {"1": "integer key"}  # as json writes it
    with pytest.raises(UnicodeEncodeError):
        dumps({"content": "lone surrogate \ud800"})
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"content": object()})


def test_loads_accepts_what_json_accepts() -> None:
    assert loads('{"a": "b"}'.encode("utf-16")) == {"a": "b"}  # json detects UTF-16/32; msgspec needs UTF-8
    assert math.isnan(loads(b'{"x": NaN}')["x"])
    assert loads(b'{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}  # exact
    assert loads(b'{"choices": [], "usage": {"prompt_tokens": 3}}') == {"choices": [], "usage": {"prompt_tokens": 3}}


def test_loads_raises_value_error_for_what_is_not_json() -> None:
    with pytest.raises(ValueError):
        loads(b"<html><body>Bad gateway</body></html>")
    with pytest.raises(ValueError):
        loads(b'{"truncated": ')
