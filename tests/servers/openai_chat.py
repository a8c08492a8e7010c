"""OpenAI Chat Completions and its dialects (protocols.md §1, §4, §5, §6, §8, §9, §10, §7 /v1 door).

``OpenAIChatProtocol`` holds the wire logic and can be mounted into any LoopbackServer (the Ollama server reuses it
for its ``/v1`` door); ``OpenAIChatServer`` is a server that speaks only this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.responses import Response

from .base import Endpoint, Exchange, LoopbackServer, ModelSpec, StreamPlan, json_response, model_specs, sse
from .replies import Prompt, Reply, make_reply, pieces, text_of

CREATED = 1776000000
COMPLETION_ID = "chatcmpl-loopback"


@dataclass(frozen=True)
class Flavor:
    name: str
    chat_paths: tuple[str, ...] = ("/v1/chat/completions",)
    models_paths: tuple[str, ...] = ("/v1/models",)
    #: Field carrying reasoning text in messages/deltas; None = text never returned (OpenAI proper).
    reasoning_field: str | None = None
    #: "opt_in": extra ``choices: []`` chunk only with stream_options.include_usage; "final": always on the
    #: finish_reason chunk; "never": streams carry no usage at all.
    stream_usage: Literal["opt_in", "final", "never"] = "opt_in"
    keepalive: bytes | None = None
    owned_by: str = "system"


FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in [
        Flavor("openai", keepalive=b": keep-alive\n\n"),
        Flavor("mistral", stream_usage="final", owned_by="mistralai"),
        Flavor(
            "deepseek",
            chat_paths=("/chat/completions", "/v1/chat/completions"),
            models_paths=("/models", "/v1/models"),
            reasoning_field="reasoning_content",
            keepalive=b": keep-alive\n\n",
            owned_by="deepseek",
        ),
        Flavor(
            "zhipu",
            chat_paths=("/api/paas/v4/chat/completions",),
            models_paths=("/api/paas/v4/models",),
            reasoning_field="reasoning_content",
            stream_usage="final",
            owned_by="z-ai",
        ),
        Flavor("vllm", reasoning_field="reasoning", owned_by="vllm"),
        Flavor("llamacpp", reasoning_field="reasoning_content", keepalive=b":\n\n", owned_by="llamacpp"),
        Flavor("lmstudio", reasoning_field="reasoning", owned_by="organization_owner"),
        Flavor("llamacpp_python", stream_usage="never", owned_by="me"),
        Flavor("ollama", reasoning_field="reasoning", owned_by="library"),
    ]
}

#: Mistral's request schema (anything else is a 422 extra_forbidden).
MISTRAL_FIELDS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "top_p",
        "max_tokens",
        "stream",
        "stop",
        "random_seed",
        "response_format",
        "tools",
        "tool_choice",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "prediction",
        "parallel_tool_calls",
        "safe_prompt",
        "prompt_mode",
        "reasoning_effort",
        "metadata",
    }
)

#: scenario -> (status, type, code, message template); ``{model}`` is filled in.
OPENAI_ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    "auth": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: sk-***. You can find "
        "your API key at https://platform.openai.com/account/api-keys.",
    ),
    "context_length": (
        400,
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context "
        "length is 128000 tokens. However, your messages resulted in 210345 tokens. Please reduce "
        "the length of the messages.",
    ),
    "rate_limit": (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for {model} on requests per min "
        "(RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.",
    ),
    "quota": (
        429,
        "insufficient_quota",
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "server_error": (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    "unavailable": (503, "server_error", "slow_down", "The engine is currently overloaded, please try again later."),
    "overloaded": (503, "server_error", "slow_down", "The engine is currently overloaded, please try again later."),
    "not_found": (
        404,
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
}

#: Flavor-specific bodies that differ from OpenAI's, scenario -> (status, body).
FLAVOR_ERRORS: dict[str, dict[str, tuple[int, Any]]] = {
    "mistral": {
        "auth": (401, {"detail": "Unauthorized"}),
        "rate_limit": (429, {"message": "Requests rate limit exceeded"}),
        "context_length": (
            400,
            {
                "object": "error",
                "message": "Prompt contains 210345 tokens, too large for model with 131072 maximum context length",
                "type": "invalid_request_error",
                "param": None,
                "code": "3051",
            },
        ),
    },
    "deepseek": {
        "auth": (
            401,
            {
                "error": {
                    "message": "Authentication Fails, Your api key: ****test is invalid",
                    "type": "authentication_error",
                    "param": None,
                    "code": "invalid_request_error",
                }
            },
        ),
        "quota": (
            402,
            {
                "error": {
                    "message": "Insufficient Balance",
                    "type": "unknown_error",
                    "param": None,
                    "code": "invalid_request_error",
                }
            },
        ),
        "unavailable": (
            503,
            {
                "error": {
                    "message": "Server overloaded, please try again later",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
    },
    "zhipu": {
        "auth": (401, {"error": {"code": "1000", "message": "Authentication failed"}}),
        "context_length": (400, {"error": {"code": "1261", "message": "Prompt exceeds max length"}}),
        "rate_limit": (
            429,
            {
                "error": {
                    "code": "1302",
                    "message": "High concurrency usage of this API, please "
                    "reduce concurrency or contact customer service to increase limits",
                }
            },
        ),
        "quota": (
            429,
            {"error": {"code": "1113", "message": "Insufficient balance or no resource package. Please recharge."}},
        ),
        "server_error": (500, {"error": {"code": "500", "message": "Internal Error"}}),
        "not_found": (400, {"error": {"code": "1211", "message": "Unknown Model, please check the model code."}}),
    },
    "llamacpp": {
        "auth": (401, {"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}}),
        "context_length": (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "request (13392 tokens) exceeds the available "
                    "context size (8192 tokens), try increasing it",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 13392,
                    "n_ctx": 8192,
                }
            },
        ),
        "unavailable": (503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}),
        "server_error": (500, {"error": {"code": 500, "message": "Internal server error", "type": "server_error"}}),
    },
    "vllm": {
        "context_length": (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 32768 tokens. "
                    "However, you requested 40000 tokens (39000 in the messages, 1000 in "
                    "the completion). Please reduce the length of the messages or "
                    "completion.",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                }
            },
        ),
    },
    "ollama": {
        "not_found": (
            404,
            {
                "error": {
                    "message": 'model "{model}" not found, try pulling it first',
                    "type": "api_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
    },
}


def openai_prompt(body: dict[str, Any]) -> Prompt:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    users = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    return Prompt(
        model=str(body.get("model", "")),
        texts=[text_of(m.get("content")) for m in messages],
        last_user=users[-1] if users else "",
    )


class OpenAIChatProtocol:
    """Chat Completions as one flavor speaks it, mounted on ``server``."""

    def __init__(
        self,
        server: LoopbackServer,
        flavor: Flavor,
        models: list[ModelSpec],
        *,
        reasoning_field: str | None = None,
        thinking_default: bool = False,
        lookup: Callable[[str], ModelSpec | None] | None = None,
        served_as: Mapping[str, str] | None = None,
    ) -> None:
        self.server = server
        #: The model a body names as having answered, per model asked for (a dated snapshot, a gateway's fallback);
        #: the model asked for when it is not listed.
        self.served_as = dict(served_as or {})
        self.flavor = flavor
        self.models = models
        self.reasoning_field = reasoning_field or flavor.reasoning_field
        self.thinking_default = thinking_default
        #: When given, a model it cannot find is answered with the flavor's not_found error.
        self.lookup = lookup

    def endpoints(self) -> list[Endpoint]:
        chat = [Endpoint(p, self.chat, prompt_of=openai_prompt) for p in self.flavor.chat_paths]
        listing = [Endpoint(p, self.list_models, methods=("GET",)) for p in self.flavor.models_paths]
        return chat + listing

    # -- errors ------------------------------------------------------------------------------------------------
    def error_response(self, scenario: str, ex: Exchange) -> Response:
        model = ex.prompt.model if ex.prompt else ""
        special = FLAVOR_ERRORS.get(self.flavor.name, {}).get(scenario)
        if special is not None:
            status, body = special
            return json_response(_fill(body, model), status)
        status, etype, code, message = OPENAI_ERRORS[scenario]
        return self.error(status, message.format(model=model), etype, code)

    def error(
        self,
        status: int,
        message: str,
        etype: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> Response:
        return json_response({"error": {"message": message, "type": etype, "param": param, "code": code}}, status)

    # -- endpoints ---------------------------------------------------------------------------------------------
    async def list_models(self, ex: Exchange) -> Response:
        return json_response({"object": "list", "data": [self.model_entry(m) for m in self.models]})

    def model_entry(self, m: ModelSpec) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": m.id, "object": "model", "created": CREATED, "owned_by": self.flavor.owned_by}
        name = self.flavor.name
        if name == "vllm":
            entry.update(root=m.id, parent=None, max_model_len=m.context_length)
        elif name == "llamacpp":
            entry.update(
                architecture={
                    "input_modalities": ["text", *(["image"] if "vision" in m.capabilities else [])],
                    "output_modalities": ["text"],
                },
                meta={
                    "vocab_type": 2,
                    "n_vocab": 151936,
                    "n_ctx_train": m.context_length,
                    "n_embd": 2048,
                    "n_params": 1_720_000_000,
                    "size": 1_100_000_000,
                },
            )
        elif name == "mistral":
            entry.update(
                capabilities={
                    "completion_chat": True,
                    "function_calling": True,
                    "vision": "vision" in m.capabilities,
                    "completion_fim": False,
                    "fine_tuning": False,
                    "classification": False,
                },
                max_context_length=m.context_length,
                aliases=[],
                deprecation=None,
                default_model_temperature=0.7,
                type="base",
            )
        return entry

    async def chat(self, ex: Exchange) -> Response:
        body = ex.json
        if self.flavor.name == "mistral" and (rejected := self._mistral_extra(body)):
            return json_response(
                {"object": "error", "message": {"detail": rejected}, "type": "invalid_request_error"}, 422
            )
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return self.error(400, "'messages' and 'model' are required properties", param="messages")
        if self.lookup is not None and self.lookup(str(body["model"])) is None:
            return self.error_response("not_found", ex)
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        reply = make_reply(ex.prompt or Prompt(), reasoning=self._wants_reasoning(ex), max_tokens=max_tokens)
        if body.get("stream"):
            return self.server.stream(ex, self._plan(body, reply))
        return self.server.unary(ex, self._completion(body, reply))

    # -- pieces ------------------------------------------------------------------------------------------------
    def _wants_reasoning(self, ex: Exchange) -> bool:
        body = ex.json
        thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else {}
        kwargs = body.get("chat_template_kwargs") if isinstance(body.get("chat_template_kwargs"), dict) else {}
        return (
            ex.scenario == "reasoning"
            or body.get("reasoning_effort") not in (None, "none")
            or thinking.get("type") == "enabled"
            or kwargs.get("enable_thinking") is True
            or (self.flavor.name == "mistral" and str(body.get("model", "")).startswith("magistral"))
            or (self.thinking_default and thinking.get("type") != "disabled")
        )

    @staticmethod
    def _mistral_extra(body: dict[str, Any]) -> list[dict[str, Any]]:
        problems = []
        for key, value in body.items():
            if key == "stream_options" and isinstance(value, dict):
                locs = [["body", key, sub] for sub in value]
            elif key not in MISTRAL_FIELDS:
                locs = [["body", key]]
            else:
                continue
            problems += [
                {"type": "extra_forbidden", "loc": loc, "msg": "Extra inputs are not permitted"} for loc in locs
            ]
        return problems

    def _usage(self, r: Reply) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": r.input_tokens,
            "completion_tokens": r.all_output_tokens,
            "total_tokens": r.input_tokens + r.all_output_tokens,
        }
        name = self.flavor.name
        if name == "mistral":
            return usage
        if name == "deepseek":
            usage.update(
                prompt_cache_hit_tokens=r.cached_tokens, prompt_cache_miss_tokens=r.input_tokens - r.cached_tokens
            )
        else:
            usage["prompt_tokens_details"] = {"cached_tokens": r.cached_tokens}
            if name == "openai" and r.cache_write_tokens:
                usage["prompt_tokens_details"]["cache_write_tokens"] = r.cache_write_tokens
        if name != "zhipu":
            details: dict[str, int] = {"reasoning_tokens": r.reasoning_tokens}
            if name == "openai":
                details.update(accepted_prediction_tokens=0, rejected_prediction_tokens=0)
            usage["completion_tokens_details"] = details
        return usage

    def _timings(self, r: Reply) -> dict[str, Any]:
        return {
            "cache_n": r.cached_tokens,
            "prompt_n": r.input_tokens - r.cached_tokens,
            "prompt_ms": 1.5,
            "prompt_per_second": 1000.0,
            "predicted_n": r.all_output_tokens,
            "predicted_ms": 2.5,
            "predicted_per_second": 400.0,
        }

    def _served(self, body: dict[str, Any]) -> Any:
        return self.served_as.get(body.get("model"), body.get("model"))

    def _finish(self, r: Reply) -> str:
        return "length" if r.truncated else "stop"

    def _completion(self, body: dict[str, Any], r: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": r.text}
        if self.flavor.name == "openai":
            message["refusal"] = None
        if r.reasoning is not None and self.flavor.name == "mistral":
            message["content"] = [_mistral_thinking(r.reasoning), {"type": "text", "text": r.text}]
        elif r.reasoning is not None and self.reasoning_field:
            message[self.reasoning_field] = r.reasoning
        out: dict[str, Any] = {
            "id": COMPLETION_ID,
            "object": "chat.completion",
            "created": CREATED,
            "model": self._served(body),
            "system_fingerprint": "fp_loopback",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": self._finish(r)}],
            "usage": self._usage(r),
        }
        if self.flavor.name == "llamacpp":
            out["timings"] = self._timings(r)
        return out

    def _plan(self, body: dict[str, Any], r: Reply) -> StreamPlan:
        opts = body.get("stream_options")
        include_usage = (
            self.flavor.stream_usage == "opt_in" and isinstance(opts, dict) and opts.get("include_usage") is True
        )
        extra: dict[str, Any] = {"usage": None} if include_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return sse(
                {
                    "id": COMPLETION_ID,
                    "object": "chat.completion.chunk",
                    "created": CREATED,
                    "model": self._served(body),
                    "system_fingerprint": "fp_loopback",
                    "choices": [choice],
                    **extra,
                    **more,
                }
            )

        ping = [self.flavor.keepalive] if self.flavor.keepalive else []
        head = [*ping, chunk({"role": "assistant", "content": ""})]
        for piece in pieces(r.reasoning) if r.reasoning else []:
            if self.flavor.name == "mistral":
                head.append(chunk({"content": [_mistral_thinking(piece)]}))
            elif self.reasoning_field:
                head.append(chunk({"content": None, self.reasoning_field: piece}))
        final: dict[str, Any] = {}
        if self.flavor.stream_usage == "final":
            final["usage"] = self._usage(r)
        if self.flavor.name == "llamacpp":
            final["timings"] = self._timings(r)
        tail = [*ping, chunk({}, self._finish(r), **final)]
        if include_usage:
            tail.append(
                sse(
                    {
                        "id": COMPLETION_ID,
                        "object": "chat.completion.chunk",
                        "created": CREATED,
                        "model": self._served(body),
                        "choices": [],
                        "usage": self._usage(r),
                        **final,
                    }
                )
            )
        tail.append(b"data: [DONE]\n\n")
        return StreamPlan(
            head=head,
            body=[chunk({"content": piece}) for piece in pieces(r.text)],
            tail=tail,
            error=sse(
                {
                    "error": {
                        "message": "boom: the model failed mid-stream",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
            ),
            malformed=b'data: {"id":"chatcmpl-loopback","choices":[{"index":0,"delta":{"content":"oo\n\n',
        )


def _mistral_thinking(text: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": [{"type": "text", "text": text}]}


def _fill(body: Any, model: str) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, model) for k, v in body.items()}
    if isinstance(body, str):
        return body.replace("{model}", model)
    return body


DEFAULT_OPENAI_MODELS: dict[str, list[str | ModelSpec]] = {
    "openai": ["gpt-5.4", "gpt-5-mini", "gpt-4o"],
    "mistral": [ModelSpec("mistral-small-latest", 131072), ModelSpec("magistral-medium-latest", 131072)],
    "deepseek": ["deepseek-v4-flash", "deepseek-v4-pro"],
    "zhipu": ["glm-5.1", "glm-4.7"],
    "vllm": [ModelSpec("Qwen/Qwen3-8B", 32768)],
    "llamacpp": [ModelSpec("qwen3-4b-q4_k_m.gguf", 131072)],
    "lmstudio": [
        ModelSpec("qwen3-4b", 32768, family="qwen3"),
        ModelSpec("qwen2-vl-7b-instruct", 32768, ("completion", "vision"), "qwen2_vl", loaded=False),
    ],
    "llamacpp_python": ["local-model"],
}


class OpenAIChatServer(LoopbackServer):
    """``/v1/chat/completions`` + ``/v1/models`` in one of the FLAVORS (plus llama-server's /props, /health and
    LM Studio's /api/v0/models)."""

    def __init__(
        self,
        flavor: str = "openai",
        *,
        models: Sequence[str | ModelSpec] | None = None,
        reasoning_field: str | None = None,
        thinking_default: bool = False,
        known_models_only: bool = False,
        n_ctx: int = 8192,
        served_as: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        if flavor not in FLAVORS or flavor == "ollama":
            raise ValueError(f"unknown flavor {flavor!r}")
        self.flavor = FLAVORS[flavor]
        self.n_ctx = n_ctx
        self.models = model_specs(models if models is not None else DEFAULT_OPENAI_MODELS[flavor])
        self.protocol = OpenAIChatProtocol(
            self,
            self.flavor,
            self.models,
            reasoning_field=reasoning_field,
            thinking_default=thinking_default,
            lookup=self._lookup if known_models_only else None,
            served_as=served_as,
        )
        super().__init__(**options)

    def endpoints(self) -> list[Endpoint]:
        extra: list[Endpoint] = []
        if self.flavor.name == "llamacpp":
            extra = [
                Endpoint("/props", self._props, ("GET",)),
                *(Endpoint(p, self._health, ("GET",), public=True) for p in ("/health", "/v1/health")),
            ]
        elif self.flavor.name == "lmstudio":
            extra = [Endpoint("/api/v0/models", self._lmstudio_models, ("GET",))]
        return self.protocol.endpoints() + extra

    def error_response(self, scenario: str, ex: Exchange) -> Response:
        return self.protocol.error_response(scenario, ex)

    def _lookup(self, model: str) -> ModelSpec | None:
        return next((m for m in self.models if m.id == model), None)

    async def _health(self, ex: Exchange) -> Response:
        return json_response({"status": "ok"})

    async def _props(self, ex: Exchange) -> Response:
        model = self.models[0]
        return json_response(
            {
                "default_generation_settings": {"n_ctx": self.n_ctx, "params": {"temperature": 0.8, "top_k": 40}},
                "total_slots": 1,
                "model_path": f"/models/{model.id}",
                "chat_template": "{% for message in messages %}{{ message.content }}{% endfor %}",
                "chat_template_caps": {"supports_tools": True, "supports_system_role": True},
                "modalities": {"vision": "vision" in model.capabilities, "audio": False},
                "build_info": "b9500-loopback",
                "is_sleeping": False,
            }
        )

    async def _lmstudio_models(self, ex: Exchange) -> Response:
        data = [
            {
                "id": m.id,
                "object": "model",
                "type": "vlm" if "vision" in m.capabilities else "llm",
                "publisher": "lmstudio-community",
                "arch": m.family,
                "compatibility_type": "gguf",
                "quantization": "Q4_K_M",
                "state": "loaded" if m.loaded else "not-loaded",
                "max_context_length": m.context_length,
            }
            for m in self.models
        ]
        return json_response({"object": "list", "data": data})
