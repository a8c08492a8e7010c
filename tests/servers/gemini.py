"""Google Gemini generativelanguage API (protocols.md §3): generateContent, streamGenerateContent?alt=sse, models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .base import Endpoint, Exchange, LoopbackServer, ModelSpec, StreamPlan, json_response, model_specs, sse
from .replies import Prompt, Reply, make_reply, pieces

RESPONSE_ID = "loopback-response"
GOOGLE_RPC = "type.googleapis.com/google.rpc."

ERRORS: dict[str, tuple[int, str, str]] = {
    "auth": (400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."),
    "context_length": (
        400,
        "INVALID_ARGUMENT",
        "The input token count (1210345) exceeds the maximum number of tokens allowed (1048576).",
    ),
    "rate_limit": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "quota": (
        400,
        "FAILED_PRECONDITION",
        "Gemini API free tier is not available in your country. Please enable "
        "billing on your project in Google AI Studio.",
    ),
    "server_error": (
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    "unavailable": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "overloaded": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "not_found": (
        404,
        "NOT_FOUND",
        "models/{model} is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their supported "
        "methods.",
    ),
}

DEFAULT_MODELS: list[str | ModelSpec] = [
    ModelSpec("gemini-2.5-flash", 1048576, ("completion", "thinking", "vision")),
    ModelSpec("gemini-3-flash-preview", 1048576, ("completion", "thinking", "vision")),
]


def camel_keys(value: Any) -> Any:
    """Proto3 JSON accepts snake_case and lowerCamelCase field names alike (google-genai 3.x sends some
    snake_case, e.g. ``thinkingConfig.include_thoughts``); normalise to camelCase."""
    if isinstance(value, dict):
        return {_camel(k): camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.title() for word in rest)


def gemini_prompt(body: dict[str, Any]) -> Prompt:
    body = camel_keys(body)

    def text(content: Any) -> str:
        parts = content.get("parts", []) if isinstance(content, dict) else []
        return " ".join(str(p["text"]) for p in parts if isinstance(p, dict) and "text" in p)

    contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
    users = [text(c) for c in contents if c.get("role", "user") == "user"]
    return Prompt(
        model=str(body.get("model", "")),
        texts=[text(body.get("systemInstruction")), *(text(c) for c in contents)],
        last_user=users[-1] if users else "",
    )


def error_body(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": code, **({"details": details} if details else {})}}


class GeminiServer(LoopbackServer):
    """``block_reason``: answer every generation with ``promptFeedback.blockReason`` and no candidates (a blocked
    prompt); ``finish_reason=False``: streams end without any ``finishReason`` (a cut stream, protocols.md §3)."""

    def __init__(
        self,
        *,
        models: Sequence[str | ModelSpec] | None = None,
        block_reason: str | None = None,
        finish_reason: bool = True,
        **options: Any,
    ) -> None:
        self.models = model_specs(models if models is not None else DEFAULT_MODELS)
        self.block_reason = block_reason
        self.finish_reason = finish_reason
        super().__init__(**options)

    def endpoints(self) -> list[Endpoint]:
        """``/v1beta`` as protocols.md documents; ``/v1`` too, the google-genai 3.x default ``api_version``."""
        return [
            endpoint
            for version in ("v1beta", "v1")
            for endpoint in (
                Endpoint(f"/{version}/models", self._list_models, ("GET",)),
                Endpoint(f"/{version}/models/{{target:path}}", self._generate, prompt_of=gemini_prompt),
                Endpoint(f"/{version}/models/{{target:path}}", self._get_model, ("GET",)),
            )
        ]

    def presented_key(self, request: Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query_params.get("key")

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        status, code, message = ERRORS[scenario]
        details: list[dict[str, Any]] = []
        if scenario == "auth":
            details = [
                {
                    "@type": GOOGLE_RPC + "ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ]
        elif scenario == "rate_limit":
            details = [
                {
                    "@type": GOOGLE_RPC + "QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        }
                    ],
                },
                {"@type": GOOGLE_RPC + "RetryInfo", "retryDelay": f"{self.retry_after}s"},
            ]
        return json_response(error_body(status, code, message.format(model=self._model(ex)), details), status)

    @staticmethod
    def _model(ex: Exchange) -> str:
        return str(ex.request.path_params.get("target", "")).split(":")[0]

    def _entry(self, m: ModelSpec) -> dict[str, Any]:
        return {
            "name": f"models/{m.id}",
            "version": "001",
            "displayName": m.id.replace("-", " ").title(),
            "inputTokenLimit": m.context_length,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
            "temperature": 1,
            "maxTemperature": 2,
            "topP": 0.95,
            "topK": 64,
            "thinking": m.thinking,
        }

    async def _list_models(self, ex: Exchange) -> Response:
        return json_response({"models": [self._entry(m) for m in self.models]})

    async def _get_model(self, ex: Exchange) -> Response:
        model = next((m for m in self.models if m.id == self._model(ex)), None)
        if model is None:
            return self.error_response("not_found", ex)
        return json_response(self._entry(model))

    async def _generate(self, ex: Exchange) -> Response:
        model, _, method = str(ex.request.path_params["target"]).partition(":")
        if method not in ("generateContent", "streamGenerateContent"):
            return json_response(error_body(404, "NOT_FOUND", f"Method {method!r} not found."), 404)
        config = camel_keys(ex.json).get("generationConfig") or {}
        thinking = config.get("thinkingConfig") or {}
        if "thinkingLevel" in thinking and "thinkingBudget" in thinking:
            return json_response(
                error_body(400, "INVALID_ARGUMENT", "You can only set only one of thinking budget and thinking level."),
                400,
            )
        reasoning = ex.scenario == "reasoning" or (bool(thinking) and thinking.get("thinkingBudget") != 0)
        show_thoughts = ex.scenario == "reasoning" or thinking.get("includeThoughts") is True
        reply = make_reply(ex.prompt or Prompt(), reasoning=reasoning, max_tokens=config.get("maxOutputTokens"))
        if self.block_reason:
            blocked = {
                "promptFeedback": {"blockReason": self.block_reason},
                "usageMetadata": {"promptTokenCount": reply.input_tokens, "totalTokenCount": reply.input_tokens},
                "modelVersion": model,
                "responseId": RESPONSE_ID,
            }
            if method == "streamGenerateContent":
                return self.stream(ex, StreamPlan([sse(blocked, newline="\r\n")], [], [], b"", b""))
            return json_response(blocked)
        if method == "streamGenerateContent":
            return self.stream(ex, self._plan(model, reply, show_thoughts))
        parts: list[dict[str, Any]] = []
        if reply.reasoning is not None and show_thoughts:
            parts.append({"text": reply.reasoning, "thought": True})
        parts.append({"text": reply.text})
        return self.unary(ex, self._response(model, parts, reply, reply.output_tokens, final=True))

    @staticmethod
    def _usage(r: Reply, candidates: int) -> dict[str, Any]:
        usage: dict[str, Any] = {"promptTokenCount": r.input_tokens}
        if candidates:
            usage["candidatesTokenCount"] = candidates
        if r.reasoning_tokens:
            usage["thoughtsTokenCount"] = r.reasoning_tokens
        if r.cached_tokens:
            usage["cachedContentTokenCount"] = r.cached_tokens
        usage["totalTokenCount"] = r.input_tokens + candidates + r.reasoning_tokens
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": r.input_tokens}]
        return usage

    def _response(
        self, model: str, parts: list[dict[str, Any]], r: Reply, candidates: int, final: bool
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if final and self.finish_reason:
            candidate["finishReason"] = "MAX_TOKENS" if r.truncated else "STOP"
        return {
            "candidates": [candidate],
            "usageMetadata": self._usage(r, candidates),
            "modelVersion": model,
            "responseId": RESPONSE_ID,
        }

    def _plan(self, model: str, r: Reply, show_thoughts: bool) -> StreamPlan:
        def event(data: Any) -> bytes:
            return sse(data, newline="\r\n")

        head = []
        if r.reasoning is not None and show_thoughts:
            head.append(event(self._response(model, [{"text": r.reasoning, "thought": True}], r, 0, final=False)))
        texts = pieces(r.text)
        frames = [
            event(
                self._response(model, [{"text": t}], r, len("".join(texts[: i + 1]).split()), final=i == len(texts) - 1)
            )
            for i, t in enumerate(texts)
        ]
        return StreamPlan(
            head=head,
            body=frames[:-1],
            tail=frames[-1:],
            error=event(
                error_body(
                    500,
                    "INTERNAL",
                    "An internal error has occurred. Please retry or report in "
                    "https://developers.generativeai.google/guide/troubleshooting",
                )
            ),
            malformed=b'data: {"candidates":[{"content":{"role":"mo\r\n\r\n',
        )
