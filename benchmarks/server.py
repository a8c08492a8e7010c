"""A fast loopback server for the benchmarks: canned OpenAI, Anthropic and Ollama answers over HTTP/1.1 keep-alive.

It is deliberately tiny (a raw `asyncio.Protocol`, no framework, answers precomputed) so that the server is never
what limits a measurement: its per-request work is finding the end of the request and one write, a fraction of
what any client under test spends (the clients saturate their core first; the suite reports their CPU per
request). It runs in its own process (`python -m benchmarks.server`), so it never competes with the client for the
client's event loop; it prints its port on the first line of stdout and serves until stdin closes.

Routes (every answer is canned; only the request's `"stream"` flag and the path are looked at):
- POST /v1/chat/completions   OpenAI unary JSON, or SSE chunks + usage chunk + `data: [DONE]`
- POST /v1/messages           Anthropic unary JSON, or named SSE events (message_start … message_stop)
- POST /api/chat              Ollama unary JSON, or NDJSON lines ending with `done: true` and the counts
- GET  /v1/models, /api/tags  model lists (so discovery and SDK sanity checks work)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

MODEL = "gpt-4.1"
WORDS = [f"word{i} " for i in range(20)]  # 20 content chunks per stream
ANSWER = "".join(WORDS)
PROMPT_TOKENS, COMPLETION_TOKENS = 12, len(WORDS)


def _dump(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else _dump(data)
    return ((f"event: {event}\n" if event else "") + f"data: {payload}\n\n").encode()


def openai_unary() -> bytes:
    return _dump({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1776000000, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
                  "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
                  "prompt_tokens_details": {"cached_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0}},
        "system_fingerprint": "fp_bench",
    }).encode()


def openai_stream() -> bytes:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1776000000, "model": MODEL,
            "system_fingerprint": "fp_bench"}
    frames = [_sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                         "logprobs": None, "finish_reason": None}]})]
    frames += [_sse({**base, "choices": [{"index": 0, "delta": {"content": w}, "logprobs": None,
                                          "finish_reason": None}]}) for w in WORDS]
    frames.append(_sse({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}))
    frames.append(_sse({**base, "choices": [], "usage": {
        "prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS, "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0}}}))
    frames.append(_sse("[DONE]"))
    return b"".join(frames)


def anthropic_unary() -> bytes:
    return _dump({
        "id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": ANSWER}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": COMPLETION_TOKENS,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }).encode()


def anthropic_stream() -> bytes:
    frames = [_sse({"type": "message_start", "message": {
        "id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": 1}}}, "message_start"),
        _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
             "content_block_start")]
    frames += [_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}},
                    "content_block_delta") for w in WORDS]
    frames += [_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
               _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                     "usage": {"output_tokens": COMPLETION_TOKENS}}, "message_delta"),
               _sse({"type": "message_stop"}, "message_stop")]
    return b"".join(frames)


def ollama_unary() -> bytes:
    return _dump({"model": "llama3:latest", "created_at": "2026-01-01T00:00:00Z",
                  "message": {"role": "assistant", "content": ANSWER}, "done": True, "done_reason": "stop",
                  "total_duration": 1, "prompt_eval_count": PROMPT_TOKENS, "eval_count": COMPLETION_TOKENS}).encode()


def ollama_stream() -> bytes:
    lines = [_dump({"model": "llama3:latest", "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": w}, "done": False}) for w in WORDS]
    lines.append(_dump({"model": "llama3:latest", "created_at": "2026-01-01T00:00:00Z",
                        "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                        "prompt_eval_count": PROMPT_TOKENS, "eval_count": COMPLETION_TOKENS}))
    return ("\n".join(lines) + "\n").encode()


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
            "connection: keep-alive\r\n\r\n")
    return head.encode() + body


def _chunked(content_type: str, pieces: list[bytes]) -> bytes:
    """A streamed answer as chunked transfer encoding, one HTTP chunk per event, sent in one write."""
    head = (f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\n"
            "transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n").encode()
    out = [head]
    for piece in pieces:
        out.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    out.append(b"0\r\n\r\n")
    return b"".join(out)


def _split_sse(stream: bytes) -> list[bytes]:
    return [p + b"\n\n" for p in stream.split(b"\n\n") if p]


def _split_lines(stream: bytes) -> list[bytes]:
    return [p + b"\n" for p in stream.split(b"\n") if p]


def build_routes() -> dict[tuple[str, bool], bytes]:
    """(path, stream?) -> the complete canned HTTP response bytes."""
    models = _dump({"object": "list", "data": [{"id": MODEL, "object": "model", "created": 1776000000,
                                                 "owned_by": "system"}]}).encode()
    tags = _dump({"models": [{"name": "llama3:latest", "model": "llama3:latest", "size": 1,
                              "details": {"family": "llama"}}]}).encode()
    sse, nd, js = "text/event-stream; charset=utf-8", "application/x-ndjson", "application/json"
    oa, an, ol = openai_stream(), anthropic_stream(), ollama_stream()
    return {
        ("/v1/chat/completions", False): _response("200 OK", js, openai_unary()),
        ("/v1/chat/completions", True): _chunked(sse, _split_sse(oa)),
        ("/v1/messages", False): _response("200 OK", js, anthropic_unary()),
        ("/v1/messages", True): _chunked(sse, _split_sse(an)),
        ("/api/chat", False): _response("200 OK", js, ollama_unary()),
        ("/api/chat", True): _chunked(nd, _split_lines(ol)),
        ("/v1/models", False): _response("200 OK", js, models),
        ("/api/tags", False): _response("200 OK", js, tags),
    }


ROUTES = build_routes()
NOT_FOUND = _response("404 Not Found", "application/json", b'{"error":{"message":"not found"}}')


class BenchProtocol(asyncio.Protocol):
    """Minimal HTTP/1.1: request line + headers, Content-Length bodies, pipelining-safe buffering."""

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            path = head.split(" ", 2)[1].split("?", 1)[0]
            stream = b'"stream":true' in body or b'"stream": true' in body
            answer = ROUTES.get((path, stream)) or ROUTES.get((path, False)) or NOT_FOUND
            assert self.transport is not None
            self.transport.write(answer)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(BenchProtocol, "127.0.0.1", port, backlog=2048, reuse_address=True)
    print(server.sockets[0].getsockname()[1], flush=True)
    # serve until the parent closes our stdin (or dies)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
