"""AutoByteus RPA LLM server (protocols.md §11): custom REST + ``data:``-line streaming, no terminator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

from .base import Endpoint, Exchange, LoopbackServer, ModelSpec, StreamPlan, json_response, sse
from .replies import Prompt, Reply, make_reply, pieces

KEY_HEADER = "AUTOBYTEUS_API_KEY"
GEN1_FIELDS = frozenset({"conversation_id", "model_name", "user_message", "image_urls", "audio_urls", "video_urls"})
GEN2_FIELDS = frozenset({"conversation_id", "model_name", "messages", "current_message_index"})
MESSAGE_FIELDS = frozenset({"role", "content", "image_urls", "audio_urls", "video_urls"})
ROLES = frozenset({"system", "user", "assistant", "tool"})

ERRORS: dict[str, tuple[int, str]] = {
    "auth": (401, "invalid key"),
    "context_length": (400, "Conversation too long for the browser session"),
    "rate_limit": (429, "Too many requests"),
    "quota": (402, "Quota exceeded"),
    "server_error": (500, "Internal Server Error"),
    "unavailable": (503, "Browser session unavailable"),
    "overloaded": (503, "All browser sessions are busy"),
    "not_found": (404, "Model '{model}' not found"),
}


def autobyteus_prompt(body: dict[str, Any]) -> Prompt:
    model = str(body.get("model_name", ""))
    messages = body.get("messages")
    if not isinstance(messages, list):
        text = str(body.get("user_message") or "")
        return Prompt(model=model, texts=[text], last_user=text)
    messages = [m for m in messages if isinstance(m, dict)]
    index = body.get("current_message_index")
    users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
    current = messages[index] if isinstance(index, int) and 0 <= index < len(messages) else None
    last_user = str(current.get("content") or "") if current else (users[-1] if users else "")
    return Prompt(model=model, texts=[str(m.get("content") or "") for m in messages], last_user=last_user)


def fastapi_error(kind: str, loc: list[Any], msg: str, value: Any = None) -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


class AutoByteusServer(LoopbackServer):
    """``generation`` = 1 or 2 accepts only that request shape; None accepts both. ``models`` entries may be raw
    dicts (sent verbatim, e.g. to test that clients skip malformed entries). Without ``api_key`` any non-empty
    ``AUTOBYTEUS_API_KEY`` header is accepted; a missing one is always a 401."""

    def __init__(
        self,
        *,
        models: Sequence[str | ModelSpec | dict[str, Any]] = ("gpt-5-instant-rpa",),
        generation: Literal[1, 2] | None = None,
        **options: Any,
    ) -> None:
        self.models = list(models)
        self.generation = generation
        self.conversation_ids: list[str] = []
        self.cleaned_up: list[str] = []
        super().__init__(**options)

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("/models/llm", self._list_models, ("GET",)),
            Endpoint("/send-message", self._send, prompt_of=autobyteus_prompt),
            Endpoint("/stream-message", self._send, prompt_of=autobyteus_prompt),
            Endpoint("/cleanup", self._cleanup),
        ]

    def presented_key(self, request: Request) -> str | None:
        return request.headers.get(KEY_HEADER)

    def authorized(self, request: Request) -> bool:
        key = self.presented_key(request)
        return bool(key) and (self.api_key is None or key == self.api_key)

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        status, detail = ERRORS[scenario]
        return json_response({"detail": detail.format(model=ex.json.get("model_name", ""))}, status)

    def _names(self) -> list[str]:
        return [
            str(m.get("name")) if isinstance(m, dict) else m.id if isinstance(m, ModelSpec) else m for m in self.models
        ]

    @staticmethod
    def _entry(model: str | ModelSpec | dict[str, Any]) -> dict[str, Any]:
        if isinstance(model, dict):
            return model
        spec = model if isinstance(model, ModelSpec) else ModelSpec(model, 200000)
        return {
            "name": spec.id,
            "value": spec.id,
            "canonical_name": spec.id.removesuffix("-rpa"),
            "provider": "OPENAI",
            "config": {
                "token_limit": spec.context_length,
                "temperature": 0.7,
                "max_tokens": None,
                "system_message": "You are a helpful assistant.",
                "pricing_config": {"input_token_pricing": 0.0, "output_token_pricing": 0.0},
            },
            "max_context_tokens": spec.context_length,
            "active_context_tokens": 64000,
            "max_input_tokens": spec.context_length - 20000,
            "max_output_tokens": 16000,
        }

    async def _list_models(self, ex: Exchange) -> Response:
        return json_response({"models": [self._entry(m) for m in self.models]})

    async def _cleanup(self, ex: Exchange) -> Response:
        self.cleaned_up.append(str(ex.json.get("conversation_id")))
        return json_response({"status": "ok"})

    def _problems(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """FastAPI/pydantic-style validation of either request generation."""
        gen = 2 if "messages" in body or self.generation == 2 else 1
        required = ["conversation_id", "model_name"] + (
            ["messages", "current_message_index"] if gen == 2 else ["user_message"]
        )
        problems = [fastapi_error("missing", ["body", f], "Field required", body) for f in required if f not in body]
        if gen == 1:
            return problems
        problems += [
            fastapi_error("extra_forbidden", ["body", k], "Extra inputs are not permitted", v)
            for k, v in body.items()
            if k not in GEN2_FIELDS
        ]
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            too_short = "List should have at least 1 item after validation, not 0"
            return [*problems, fastapi_error("too_short", ["body", "messages"], too_short, messages)]
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                problems.append(
                    fastapi_error(
                        "literal_error",
                        ["body", "messages", i, "role"],
                        "Input should be 'system', 'user', 'assistant' or 'tool'",
                        m,
                    )
                )
                continue
            problems += [
                fastapi_error("extra_forbidden", ["body", "messages", i, k], "Extra inputs are not permitted", v)
                for k, v in m.items()
                if k not in MESSAGE_FIELDS
            ]
        index = body.get("current_message_index")
        valid = isinstance(index, int) and 0 <= index < len(messages) and isinstance(messages[index], dict)
        if not valid or messages[index].get("role") != "user":
            problems.append(
                fastapi_error(
                    "value_error",
                    ["body", "current_message_index"],
                    "Value error, current_message_index must point at a user message",
                    index,
                )
            )
        return problems

    async def _send(self, ex: Exchange) -> Response:
        body = ex.json
        if self.generation == 1 and "messages" in body:
            problems = [fastapi_error("missing", ["body", "user_message"], "Field required", body)]
        else:
            problems = self._problems(body)
        if problems:
            return json_response({"detail": problems}, 422)
        if str(body["model_name"]) not in self._names():
            return self.error_response("not_found", ex)
        conversation = str(body["conversation_id"])
        if conversation not in self.conversation_ids:
            self.conversation_ids.append(conversation)
        reply = make_reply(ex.prompt or Prompt(), reasoning=ex.scenario == "reasoning")
        if ex.request.url.path == "/stream-message":
            return self.stream(ex, self._plan(reply))
        return self.unary(ex, {"response": reply.text, "token_usage": _usage(reply)})

    @staticmethod
    def _plan(r: Reply) -> StreamPlan:
        return StreamPlan(
            head=[sse({"content": "", "reasoning": p, "is_complete": False}) for p in pieces(r.reasoning)]
            if r.reasoning
            else [],
            body=[sse({"content": p, "is_complete": False}) for p in pieces(r.text)],
            tail=[sse({"content": "", "is_complete": True, "token_usage": _usage(r)})],
            error=sse({"error": "boom"}),
            malformed=b'data: {"content":"oops","is_compl\n\n',
        )


def _usage(r: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": r.input_tokens,
        "completion_tokens": r.all_output_tokens,
        "total_tokens": r.input_tokens + r.all_output_tokens,
    }
