"""Ollama native API (protocols.md §7) plus its OpenAI-compatible ``/v1`` door (served by OpenAIChatProtocol)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from .base import Endpoint, Exchange, LoopbackServer, ModelSpec, StreamPlan, json_response, model_specs, ndjson
from .openai_chat import FLAVORS, OpenAIChatProtocol
from .replies import Prompt, Reply, make_reply, pieces, text_of

CREATED_AT = "2026-01-01T00:00:00.000000Z"
VERSION = "0.13.5"

ERRORS: dict[str, tuple[int, str]] = {
    "auth": (401, "unauthorized"),
    "context_length": (400, "prompt too long; exceeded max context length by 210 tokens"),
    "rate_limit": (429, "rate limit exceeded, please try again later"),
    "quota": (429, "you've reached your weekly usage limit, upgrade for higher limits"),
    "server_error": (500, "llama runner process has terminated: exit status 2"),
    "unavailable": (503, "server busy, please try again.  maximum pending requests exceeded"),
    "overloaded": (503, "server busy, please try again.  maximum pending requests exceeded"),
    "not_found": (404, 'model "{model}" not found, try pulling it first'),
}

DEFAULT_MODELS: list[str | ModelSpec] = [
    ModelSpec("llama3.2:latest", 131072, ("completion", "tools"), "llama"),
    ModelSpec("qwen3:latest", 40960, ("completion", "tools", "thinking"), "qwen3"),
    ModelSpec("llava:latest", 32768, ("completion", "vision"), "llama"),
]


def ollama_prompt(body: dict[str, Any]) -> Prompt:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    return Prompt(
        model=str(body.get("model", "")),
        texts=[text_of(m.get("content")) for m in messages],
        last_user=users[-1] if users else "",
    )


def full_name(model: str) -> str:
    """Ollama's implicit tag: ``llama3.2`` means ``llama3.2:latest``."""
    return model if ":" in model else f"{model}:latest"


class OllamaServer(LoopbackServer):
    """``models`` carry capabilities (completion, thinking, vision, tools) and the native context length."""

    def __init__(
        self, *, models: Sequence[str | ModelSpec] | None = None, version: str = VERSION, **options: Any
    ) -> None:
        self.models = model_specs(models if models is not None else DEFAULT_MODELS)
        self.version = version
        self.openai = OpenAIChatProtocol(self, FLAVORS["ollama"], self.models, lookup=self.lookup)
        super().__init__(**options)

    def endpoints(self) -> list[Endpoint]:
        return [
            Endpoint("/api/version", self._version, ("GET",)),
            Endpoint("/api/tags", self._tags, ("GET",)),
            Endpoint("/api/show", self._show),
            Endpoint("/api/chat", self._chat, prompt_of=ollama_prompt),
            *self.openai.endpoints(),
        ]

    def lookup(self, model: str) -> ModelSpec | None:
        return next((m for m in self.models if m.id == full_name(model)), None)

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        if ex.request.url.path.startswith("/v1/"):
            return self.openai.error_response(scenario, ex)
        status, message = ERRORS[scenario]
        return json_response({"error": message.format(model=str(ex.json.get("model", "")))}, status)

    @staticmethod
    def error(status: int, message: str) -> Response:
        return json_response({"error": message}, status)

    async def _version(self, ex: Exchange) -> Response:
        return json_response({"version": self.version})

    @staticmethod
    def _details(m: ModelSpec) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": m.family,
            "families": [m.family],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        }

    async def _tags(self, ex: Exchange) -> Response:
        return json_response(
            {
                "models": [
                    {
                        "name": m.id,
                        "model": m.id,
                        "modified_at": "2026-01-01T00:00:00Z",
                        "size": 2019393189,
                        "digest": hashlib.sha256(m.id.encode()).hexdigest(),
                        "details": self._details(m),
                    }
                    for m in self.models
                ]
            }
        )

    async def _show(self, ex: Exchange) -> Response:
        name = str(ex.json.get("model") or ex.json.get("name") or "")
        model = self.lookup(name)
        if model is None:
            return self.error(404, f"model '{name}' not found")
        return json_response(
            {
                "modelfile": f"FROM {model.id}\n",
                "parameters": 'stop "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": self._details(model),
                "model_info": {
                    "general.architecture": model.family,
                    "general.parameter_count": 3212749888,
                    f"{model.family}.context_length": model.context_length,
                    f"{model.family}.embedding_length": 3072,
                },
                "capabilities": list(model.capabilities),
                "modified_at": "2026-01-01T00:00:00Z",
            }
        )

    async def _chat(self, ex: Exchange) -> Response:
        body = ex.json
        name = str(body.get("model") or "")
        if not name:
            return self.error(400, "model is required")
        model = self.lookup(name)
        if model is None:
            return self.error_response("not_found", ex)
        think = body.get("think")
        if think not in (None, False) and not model.thinking:
            return self.error(400, f'"{name}" does not support thinking')
        options = body.get("options") if isinstance(body.get("options"), dict) else {}
        reasoning = ex.scenario == "reasoning" or think not in (None, False)
        reply = make_reply(ex.prompt or Prompt(), reasoning=reasoning, max_tokens=options.get("num_predict"))
        if body.get("stream", True):
            return self.stream(ex, self._plan(name, reply))
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.reasoning is not None:
            message["thinking"] = reply.reasoning
        return self.unary(ex, self._line(name, message) | self._final(reply))

    @staticmethod
    def _line(model: str, message: dict[str, Any], done: bool = False) -> dict[str, Any]:
        return {"model": model, "created_at": CREATED_AT, "message": message, "done": done}

    @staticmethod
    def _final(r: Reply) -> dict[str, Any]:
        prompt_ns, eval_ns = r.input_tokens * 1_000_000, r.all_output_tokens * 2_000_000
        return {
            "done": True,
            "done_reason": "length" if r.truncated else "stop",
            "total_duration": prompt_ns + eval_ns + 2_000_000,
            "load_duration": 1_000_000,
            "prompt_eval_count": r.input_tokens,
            "prompt_eval_duration": prompt_ns,
            "eval_count": r.all_output_tokens,
            "eval_duration": eval_ns,
        }

    def _plan(self, model: str, r: Reply) -> StreamPlan:
        def line(**message: str) -> bytes:
            return ndjson(self._line(model, {"role": "assistant", "content": "", **message}))

        return StreamPlan(
            head=[line(thinking=p) for p in pieces(r.reasoning)] if r.reasoning else [],
            body=[line(content=p) for p in pieces(r.text)],
            tail=[ndjson(self._line(model, {"role": "assistant", "content": ""}) | self._final(r))],
            error=ndjson({"error": "an error was encountered while running the model: unexpected EOF"}),
            malformed=b'{"model":"' + model.encode() + b'","message":{"role":"assistant","cont\n',
            media_type="application/x-ndjson",
        )
