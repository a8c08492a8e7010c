"""``KeyEchoServer``: a hostile server that quotes back the key it was sent, for redaction tests (issue 16.4).

- every model-list path (`/v1/models`, `/api/tags`, `/api/v0/models`, `/models/llm`) answers 401 with a body
  quoting the presented key, as some gateways do (`Incorrect API key provided: sk-...`);
- `POST /v1/chat/completions` streams one content chunk quoting the key, then an error event quoting it again
  (unary: a 401 quoting it); `POST /api/chat` does the same in Ollama's NDJSON.
The key is read from `Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `AUTOBYTEUS_API_KEY`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .base import Endpoint, Exchange, LoopbackServer, json_response, ndjson, sse

LIST_PATHS = ("/v1/models", "/api/tags", "/api/v0/models", "/models/llm")


class KeyEchoServer(LoopbackServer):
    """Echoes the presented key in error bodies and in streamed content; see the module docstring."""

    def endpoints(self) -> list[Endpoint]:
        listing = [Endpoint(path, self._reject, ("GET",)) for path in LIST_PATHS]
        return [*listing, Endpoint("/v1/chat/completions", self._chat), Endpoint("/api/chat", self._ollama_chat)]

    def presented_key(self, request: Request) -> str | None:
        for header in ("x-api-key", "x-goog-api-key", "AUTOBYTEUS_API_KEY"):
            if request.headers.get(header):
                return request.headers[header]
        return super().presented_key(request)

    def authorized(self, request: Request) -> bool:
        return True  # every handler decides for itself (it wants to see the key)

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        return self._rejection(ex)

    def _rejection(self, ex: Exchange) -> Response:
        key = self.presented_key(ex.request)
        message = f"Incorrect API key provided: {key}. You can find your API key at https://example.test."
        return json_response({"error": {"message": message, "type": "invalid_request_error"}}, 401)

    async def _reject(self, ex: Exchange) -> Response:
        return self._rejection(ex)

    async def _chat(self, ex: Exchange) -> Response:
        if not ex.json.get("stream"):
            return self._rejection(ex)
        key = self.presented_key(ex.request)
        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": ex.json.get("model"),
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": f"You sent {key} and "},
                              "finish_reason": None}]}
        error = {"error": {"message": f"key {key} was revoked mid-stream", "type": "server_error"}}
        return StreamingResponse(iter([sse(chunk), sse(error)]), media_type="text/event-stream")

    async def _ollama_chat(self, ex: Exchange) -> Response:
        key = self.presented_key(ex.request)
        lines = [ndjson({"model": ex.json.get("model"), "message": {"role": "assistant", "content": f"You sent {key}"},
                         "done": False}),
                 ndjson({"error": f"key {key} was revoked mid-stream"})]
        return StreamingResponse(iter(lines), media_type="application/x-ndjson")
