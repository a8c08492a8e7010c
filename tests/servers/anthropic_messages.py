"""Anthropic Messages API (protocols.md §2): ``POST /v1/messages`` and ``GET /v1/models``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .base import Endpoint, Exchange, LoopbackServer, ModelSpec, StreamPlan, json_response, model_specs, sse
from .replies import SIGNATURE, Prompt, Reply, make_reply, pieces, text_of

MESSAGE_ID = "msg_loopback"
REQUEST_ID = "req_loopback"
EFFORTS = ("low", "medium", "high", "xhigh", "max")

ERRORS: dict[str, tuple[int, str, str]] = {
    "auth": (401, "authentication_error", "invalid x-api-key"),
    "context_length": (400, "invalid_request_error", "prompt is too long: 210345 tokens > 200000 maximum"),
    "rate_limit": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests per minute.",
    ),
    "quota": (
        402,
        "billing_error",
        "Your credit balance is too low to access the Anthropic API. Please go to "
        "Plans & Billing to upgrade or purchase credits.",
    ),
    "server_error": (500, "api_error", "Internal server error"),
    "unavailable": (503, "api_error", "Service unavailable"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
    "not_found": (404, "not_found_error", "model: {model}"),
}

DEFAULT_MODELS: list[str | ModelSpec] = [
    ModelSpec("claude-sonnet-4-5", 200000, ("completion", "thinking", "vision")),
    ModelSpec("claude-sonnet-4-6", 1000000, ("completion", "thinking", "vision")),
    ModelSpec(
        "claude-opus-4-7", 1000000, ("completion", "thinking", "vision"), rejects_budget=True, rejects_temperature=True
    ),
]


def anthropic_prompt(body: dict[str, Any]) -> Prompt:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    return Prompt(
        model=str(body.get("model", "")),
        texts=[text_of(body.get("system")), *(text_of(m.get("content")) for m in messages)],
        last_user=users[-1] if users else "",
    )


def error_body(etype: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": etype, "message": message}, "request_id": REQUEST_ID}


class AnthropicServer(LoopbackServer):
    """Messages API. ``rejects_budget`` / ``rejects_temperature`` apply Opus-4.7 rules to every model (they can
    also be set per model through ``ModelSpec``)."""

    def __init__(
        self,
        *,
        models: Sequence[str | ModelSpec] | None = None,
        rejects_budget: bool = False,
        rejects_temperature: bool = False,
        **options: Any,
    ) -> None:
        self.models = model_specs(models if models is not None else DEFAULT_MODELS)
        self.rejects_budget = rejects_budget
        self.rejects_temperature = rejects_temperature
        super().__init__(**options)

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("/v1/messages", self._messages, prompt_of=anthropic_prompt),
            Endpoint("/v1/models", self._list_models, ("GET",)),
        ]

    def presented_key(self, request: Request) -> str | None:
        """``x-api-key`` (protocols.md); gateways and anthropic SDK 2.x send ``Authorization: Bearer`` instead."""
        return request.headers.get("x-api-key") or super().presented_key(request)

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        status, etype, message = ERRORS[scenario]
        model = ex.prompt.model if ex.prompt else ""
        return self.invalid(message.format(model=model), status, etype)

    def invalid(self, message: str, status: int = 400, etype: str = "invalid_request_error") -> Response:
        return json_response(error_body(etype, message), status, headers={"request-id": REQUEST_ID})

    async def _list_models(self, ex: Exchange) -> Response:
        data = [
            {
                "type": "model",
                "id": m.id,
                "display_name": m.id.replace("-", " ").title(),
                "created_at": "2026-01-01T00:00:00Z",
                "max_input_tokens": m.context_length,
                "max_tokens": 64000,
                "capabilities": {
                    "thinking": {
                        "supported": m.thinking,
                        "types": {
                            "adaptive": {"supported": m.thinking},
                            "enabled": {"supported": m.thinking and not self._rejects_budget(m.id)},
                        },
                    }
                },
            }
            for m in self.models
        ]
        return json_response(
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )

    def _spec(self, model: str) -> ModelSpec:
        return next((m for m in self.models if m.id == model), ModelSpec(model))

    def _rejects_budget(self, model: str) -> bool:
        return self.rejects_budget or self._spec(model).rejects_budget

    def _check(self, ex: Exchange) -> Response | None:
        """The request validation the real API does, in its wording; None when the request is acceptable."""
        body, model = ex.json, str(ex.json.get("model", ""))
        if "anthropic-version" not in ex.request.headers:
            return self.invalid("anthropic-version: header is required")
        if "max_tokens" not in body:
            return self.invalid("max_tokens: Field required")
        if any(isinstance(m, dict) and m.get("role") == "system" for m in body.get("messages") or []):
            return self.invalid(
                'messages: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.'
            )
        if self.rejects_temperature or self._spec(model).rejects_temperature:
            for name in ("temperature", "top_p", "top_k"):
                if body.get(name) is not None:
                    return self.invalid(f"'{name}' is deprecated for this model.")
        thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
        if thinking.get("type") == "enabled":
            budget = thinking.get("budget_tokens")
            if self._rejects_budget(model):
                return self.invalid(
                    "thinking.type.enabled is not supported for this model. Use "
                    "thinking.type.adaptive and output_config.effort to control thinking behavior."
                )
            if not isinstance(budget, int) or budget < 1024:
                return self.invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
            if budget >= body["max_tokens"]:
                return self.invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")
            if body.get("temperature") not in (None, 1, 1.0):
                return self.invalid("`temperature` may only be set to 1 when thinking is enabled or in adaptive mode.")
        effort = (body.get("output_config") or {}).get("effort")
        if effort is not None and effort not in EFFORTS:
            return self.invalid(f"output_config.effort: Input should be {', '.join(map(repr, EFFORTS))}")
        return None

    async def _messages(self, ex: Exchange) -> Response:
        if (problem := self._check(ex)) is not None:
            return problem
        body = ex.json
        thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
        reasoning = ex.scenario == "reasoning" or thinking.get("type") in ("enabled", "adaptive")
        reply = make_reply(ex.prompt or Prompt(), reasoning=reasoning, max_tokens=body["max_tokens"])
        omitted = thinking.get("display") == "omitted"
        if body.get("stream"):
            return self.stream(ex, self._plan(body, reply, omitted))
        content: list[dict[str, Any]] = []
        if reply.reasoning is not None:
            content.append({"type": "thinking", "thinking": "" if omitted else reply.reasoning, "signature": SIGNATURE})
        content.append({"type": "text", "text": reply.text})
        message = {
            **self._message_shell(body),
            "content": content,
            "stop_reason": _stop(reply),
            "usage": self._usage(reply),
        }
        return self.unary(ex, message, headers={"request-id": REQUEST_ID})

    @staticmethod
    def _message_shell(body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": MESSAGE_ID,
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
        }

    @staticmethod
    def _usage(r: Reply, output_tokens: int | None = None) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "input_tokens": r.input_tokens - r.cached_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": r.cached_tokens,
            "output_tokens": r.all_output_tokens if output_tokens is None else output_tokens,
            "service_tier": "standard",
        }
        if r.reasoning_tokens and output_tokens is None:
            usage["output_tokens_details"] = {"thinking_tokens": r.reasoning_tokens}
        return usage

    def _plan(self, body: dict[str, Any], r: Reply, omitted: bool) -> StreamPlan:
        def event(name: str, **data: Any) -> bytes:
            return sse({"type": name, **data}, event=name)

        ping = event("ping")
        head = [event("message_start", message={**self._message_shell(body), "usage": self._usage(r, 1)})]
        index = 0
        if r.reasoning is not None:
            head += [
                event(
                    "content_block_start", index=0, content_block={"type": "thinking", "thinking": "", "signature": ""}
                ),
                ping,
            ]
            if not omitted:
                head += [
                    event("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": p})
                    for p in pieces(r.reasoning)
                ]
            head += [
                event("content_block_delta", index=0, delta={"type": "signature_delta", "signature": SIGNATURE}),
                event("content_block_stop", index=0),
            ]
            index = 1
        head.append(event("content_block_start", index=index, content_block={"type": "text", "text": ""}))
        if r.reasoning is None:
            head.append(ping)
        usage = self._usage(r)
        usage.pop("service_tier")
        return StreamPlan(
            head=head,
            body=[
                event("content_block_delta", index=index, delta={"type": "text_delta", "text": p})
                for p in pieces(r.text)
            ],
            tail=[
                event("content_block_stop", index=index),
                event("message_delta", delta={"stop_reason": _stop(r), "stop_sequence": None}, usage=usage),
                event("message_stop"),
            ],
            error=sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, event="error"),
            malformed=b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"ty\n\n',
            extra_headers={"request-id": REQUEST_ID},
        )


def _stop(r: Reply) -> str:
    return "max_tokens" if r.truncated else "end_turn"
