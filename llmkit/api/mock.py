"""The MOCK runtime: deterministic in-process models, so every feature runs with no keys and no servers.

Models (identifier `<name>:mock`, prices illustrative, not real):
- `echo:mock` repeats the last user message ("Echo: ...").
- `oracle:mock` answers arithmetic ("What is 17 * 3?") and capital-city questions; otherwise says it does not
  know. Gives eval sweeps something to score.
- `reasoner-<kind>:mock`, one per reasoning control of DESIGN.md's mapping table; it thinks (returns
  reasoning text, billed as output tokens) in proportion to the control, then answers like oracle.
- `flaky:mock` fails on demand: a prompt containing `[fail:rate_limit]`, `[fail:server_error]`,
  `[fail:timeout]`, `[fail:context_length]`, `[fail:auth]` or `[fail:midstream]`, or
  extra_params `{"fail": "<kind>"}`, or `{"fail_rate": 0.3}` (chosen by a hash of the prompt, so
  deterministic) raises the matching llmkit error; otherwise it answers like oracle.
- `judge:mock` grades like a model-graded scorer's judge (`llmkit.evals.judge`): it reads the prompt's
  `[BEGIN EXPECTED]` / `[BEGIN ANSWER]` (or `ANSWER A` / `ANSWER B`) sections and replies with the asked-for JSON:
  score 1 when the expected answer (or one of a JSON list of them) appears in the answer, else 0, with an
  explanation; pairwise, the answer that contains it wins. Without an answer section it says it cannot grade.
Tokens are counted with `llmkit.tokens` (documented rule); max_tokens truncates (finish_reason "length"; MOCK's
own words are the normalised ones, so `finish_reason_raw` repeats them);
extra_params `latency_ms` adds a simulated delay.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import operator
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from llmkit.base import BaseLLM
from llmkit.config import LLMConfig
from llmkit.errors import (
    AuthenticationError,
    ContextLengthError,
    LLMTimeoutError,
    ProviderError,
    RateLimitError,
    StreamError,
)
from llmkit.messages import ChunkResponse, CompleteResponse, FinishReason, LLMRequest, TokenUsage
from llmkit.models import LLMModel, LLMProvider, LLMRuntime
from llmkit.pricing import Pricing
from llmkit.schemas import build_schema, parameter, reasoning_parameter, sampling_parameters
from llmkit.tokens import count_message_tokens, count_tokens, split_tokens

MOCK_CONTEXT_WINDOW = 32768
MOCK_MAX_OUTPUT = 8192
ILLUSTRATIVE = "illustrative MOCK price, not a real one"

CAPITALS = {
    "france": "Paris", "germany": "Berlin", "italy": "Rome", "spain": "Madrid", "japan": "Tokyo",
    "canada": "Ottawa", "australia": "Canberra", "brazil": "Brasília", "egypt": "Cairo", "kenya": "Nairobi",
    "india": "New Delhi", "china": "Beijing", "mexico": "Mexico City", "norway": "Oslo", "peru": "Lima",
    "portugal": "Lisbon", "poland": "Warsaw", "turkey": "Ankara", "vietnam": "Hanoi", "argentina": "Buenos Aires",
}

FAILURES: dict[str, Callable[[str], Exception]] = {
    "rate_limit": lambda m: RateLimitError(f"{m}: simulated rate limit", retry_after=1.0),
    "server_error": lambda m: ProviderError(f"{m}: simulated server error", status_code=500,
                                            provider_message="internal error"),
    "timeout": lambda m: LLMTimeoutError(f"{m}: simulated timeout", host="mock"),
    "context_length": lambda m: ContextLengthError(f"{m}: simulated context overflow"),
    "auth": lambda m: AuthenticationError(
        f"{m}: simulated authentication failure", hint="the prompt's [fail:auth] tag asked for it; MOCK models need "
        "no key (a real provider's hint names its variable, e.g. OPENAI_API_KEY)"),
}
_FAIL_TAG = re.compile(r"\[fail:(\w+)\]")

# Reasoning depth (sentences of thinking) per control value.
_DEPTH = {"none": 0, "minimal": 1, "low": 2, "medium": 4, "high": 8, "xhigh": 12, "max": 16}


@dataclass(frozen=True, slots=True)
class _Reply:
    content: str
    reasoning: str | None
    input_tokens: int


class MockLLM(BaseLLM):
    """In-process model of the MOCK runtime (see the module docstring)."""

    async def _send_user_message_to_llm(self, request: LLMRequest) -> CompleteResponse:
        reply = await self._reply(request)
        content, reasoning, usage, finish = self._truncate(reply)
        return CompleteResponse(content, reasoning, usage, finish, finish_reason_raw=finish)

    async def _stream_user_message_to_llm(self, request: LLMRequest) -> AsyncIterator[ChunkResponse]:
        reply = await self._reply(request)
        content, reasoning, usage, finish = self._truncate(reply)
        if reasoning:
            for piece in _pieces(reasoning):
                yield ChunkResponse(reasoning=piece)
        pieces = _pieces(content)
        fail_midway = _failure_kind(request) == "midstream"
        for i, piece in enumerate(pieces):
            if fail_midway and i == len(pieces) // 2:
                raise StreamError(f"{self.model.identifier}: simulated error in the middle of the stream",
                                  status_code=200, provider_message="midstream failure")
            yield ChunkResponse(content=piece)
            await asyncio.sleep(0)
        yield ChunkResponse(is_complete=True, usage=usage, finish_reason=finish, finish_reason_raw=finish)

    async def _reply(self, request: LLMRequest) -> _Reply:
        extra = request.config.extra_params
        latency = float(extra.get("latency_ms", 0)) / 1000
        if latency:
            await asyncio.sleep(latency)
        kind = _failure_kind(request)
        if kind in FAILURES:
            raise FAILURES[kind](self.model.identifier)
        last = request.last_user_message
        prompt = last.content if last else ""
        input_tokens = count_message_tokens(m.content for m in request.messages)
        if input_tokens > (self.model.context_window or MOCK_CONTEXT_WINDOW):
            raise ContextLengthError(
                f"{self.model.identifier}: prompt of {input_tokens} tokens exceeds the {self.model.context_window} "
                "token context window"
            )
        behaviour = self.model.metadata.get("behaviour", "oracle")
        if behaviour == "judge":
            return _Reply(judge_reply(prompt), None, input_tokens)
        if behaviour == "echo":
            images = f" [{len(last.images)} image(s)]" if last and last.images else ""
            return _Reply(f"Echo: {_FAIL_TAG.sub('', prompt).strip()}{images}", None, input_tokens)
        answer = oracle_answer(prompt)
        return _Reply(answer, _reasoning(self.model, request.config, prompt), input_tokens)

    @classmethod
    def estimate_output_tokens(cls, model: LLMModel, config: LLMConfig, prompt: str) -> int:
        """The output tokens this model bills for a prompt: exact, failures aside (overrides BaseLLM's guess)."""
        behaviour = model.metadata.get("behaviour", "oracle")
        if behaviour == "judge":
            content, reasoning = judge_reply(prompt), None
        elif behaviour == "echo":
            content, reasoning = f"Echo: {_FAIL_TAG.sub('', prompt).strip()}", None
        else:
            content, reasoning = oracle_answer(prompt), _reasoning(model, config, prompt)
        limit = config.max_tokens or model.max_output_tokens or MOCK_MAX_OUTPUT
        _, reasoning_tokens, left = _take(reasoning or "", limit)
        return reasoning_tokens + _take(content, left)[1]

    def _truncate(self, reply: _Reply) -> tuple[str, str | None, TokenUsage, FinishReason]:
        limit = self.config.max_tokens or self.model.max_output_tokens or MOCK_MAX_OUTPUT
        reasoning, reasoning_tokens, left = _take(reply.reasoning or "", limit)
        content, content_tokens, _ = _take(reply.content, left)
        finished = reasoning == (reply.reasoning or "") and content == reply.content
        usage = TokenUsage(input_tokens=reply.input_tokens, output_tokens=reasoning_tokens + content_tokens,
                           reasoning_tokens=reasoning_tokens)
        return content, reasoning or None, usage, "stop" if finished else "length"


def _take(text: str, budget: int) -> tuple[str, int, int]:
    """The longest prefix of text within a token budget: (prefix, its tokens, budget left)."""
    used, out = 0, []
    for piece in split_tokens(text):
        cost = count_tokens(piece)
        if used + cost > budget:
            break
        out.append(piece)
        used += cost
    return "".join(out), used, budget - used


def _pieces(text: str, per_chunk: int = 3) -> list[str]:
    pieces = split_tokens(text)
    return ["".join(pieces[i : i + per_chunk]) for i in range(0, len(pieces), per_chunk)]


def _failure_kind(request: LLMRequest) -> str | None:
    extra = request.config.extra_params
    last = request.last_user_message
    prompt = last.content if last else ""
    tag = _FAIL_TAG.search(prompt)
    if tag:
        return tag.group(1)
    if extra.get("fail"):
        return str(extra["fail"])
    rate = float(extra.get("fail_rate", 0))
    if rate and int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < rate:
        return "server_error"
    return None


_OPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        right = _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ValueError("exponent too large")
        return float(_OPS[type(node.op)](_evaluate(node.left), right))
    raise ValueError("not arithmetic")


def oracle_answer(prompt: str) -> str:
    """Deterministic answers: arithmetic, capitals, else an honest "I don't know"."""
    text = _FAIL_TAG.sub("", prompt)
    expression = re.search(r"[-+*/%().\d\s^]*\d[-+*/%().\d\s^]*", text.replace("×", "*").replace("x", "*"))
    if expression and re.search(r"\d\s*[-+*/%^]\s*[-(\d]", expression.group()):
        try:
            value = _evaluate(ast.parse(expression.group().strip().replace("^", "**"), mode="eval"))
            shown = int(value) if float(value).is_integer() else round(value, 6)
            return f"The answer is {shown}."
        except (ValueError, SyntaxError, ZeroDivisionError, OverflowError):
            pass
    lowered = text.lower()
    if "capital" in lowered:
        for country, capital in CAPITALS.items():
            if country in lowered:
                return f"The capital of {country.title()} is {capital}."
    return "I don't know."


_SECTION = re.compile(r"\[BEGIN ([A-Z ]+)\]\n?(.*?)\n?\[END \1\]", re.DOTALL)


def judge_reply(prompt: str) -> str:
    """MOCK's verdict on a judge prompt (see the module docstring): deterministic, in the asked-for JSON."""
    sections = {m.group(1): m.group(2).strip() for m in _SECTION.finditer(prompt)}
    expected = sections.get("EXPECTED")
    if "ANSWER A" in sections and "ANSWER B" in sections:
        if expected is None:
            return json.dumps({"winner": "tie", "explanation": "No expected answer to tell the two apart."})
        a, b = _mentions(sections["ANSWER A"], expected), _mentions(sections["ANSWER B"], expected)
        winner = "A" if a and not b else "B" if b and not a else "tie"
        who = f"Only {winner}" if winner in "AB" else ("Both" if a else "Neither")
        return json.dumps({"winner": winner, "explanation": f"{who} gives the expected answer."})
    if "ANSWER" not in sections:
        return "I cannot grade this: the prompt has no [BEGIN ANSWER] ... [END ANSWER] section."
    if expected is None:
        return json.dumps({"score": 0.5, "explanation": "No expected answer was given, so correctness is unknown."})
    hit = _mentions(sections["ANSWER"], expected)
    verb = "contains" if hit else "does not contain"
    return json.dumps({"score": int(hit), "explanation": f"The answer {verb} the expected answer {expected!r}."})


def _mentions(answer: str, expected: str) -> bool:
    try:
        wanted = json.loads(expected)
    except ValueError:
        wanted = expected
    options = [str(w) for w in wanted] if isinstance(wanted, list) else [expected]
    return any(o.strip().casefold() in answer.casefold() for o in options if o.strip())


def _reasoning(model: LLMModel, config: LLMConfig, prompt: str) -> str | None:
    control = model.metadata.get("reasoning_control")
    if not control:
        return None
    value = config.extra_params.get(control, model.parameters.get(control, {}).get("default"))
    if value is None or value is False or value == 0:
        return None
    if isinstance(value, bool):
        depth = _DEPTH["medium"]
    elif isinstance(value, int):
        depth = max(1, min(24, value // 512)) if value > 0 else _DEPTH["medium"]
    else:
        depth = _DEPTH.get(str(value), _DEPTH["medium"])
    if not depth:
        return None
    topic = " ".join(prompt.split()[:8])
    steps = [f"Step {i + 1}: consider '{topic}' from angle {i + 1}." for i in range(depth)]
    return f"Thinking ({control}={value}). " + " ".join(steps)


def _mock_model(name: str, behaviour: str, description: str, pricing: tuple[float, float],
                params: dict[str, dict[str, Any]], unsupported: dict[str, str] | None = None,
                control: str | None = None, capabilities: frozenset[str] = frozenset()) -> LLMModel:
    schema = build_schema({**params, "latency_ms": parameter("latency_ms")}, unsupported, title=description)
    if behaviour == "flaky":
        schema["properties"]["fail"] = parameter("fail")
        schema["properties"]["fail_rate"] = parameter("fail_rate")
    return LLMModel(
        name=name, provider=LLMProvider.LLMKIT, runtime=LLMRuntime.MOCK, backend="mock",
        display_name=description, context_window=MOCK_CONTEXT_WINDOW, max_output_tokens=MOCK_MAX_OUTPUT,
        default_config=LLMConfig(max_tokens=2048) if control == "budget_tokens" else LLMConfig(),
        pricing=Pricing.simple(*pricing, source=ILLUSTRATIVE, illustrative=True),
        config_schema=schema, capabilities=capabilities | ({"reasoning"} if control else set()),
        metadata={"behaviour": behaviour, "reasoning_control": control, "description": description},
    )


def mock_models() -> list[LLMModel]:
    sampling = sampling_parameters(max_output_tokens=MOCK_MAX_OUTPUT)
    no_sampling = {k: v for k, v in sampling.items() if k not in ("temperature", "top_p")}
    rejects = {"temperature": "like Claude 4.7+, this model rejects sampling parameters",
               "top_p": "like Claude 4.7+, this model rejects sampling parameters"}
    reasoners: list[tuple[str, str, dict[str, Any], bool]] = [
        ("effort", "reasoning_effort", {"values": ["none", "low", "medium", "high", "xhigh"], "default": "medium"},
         True),
        ("level", "thinking_level", {"values": ["minimal", "low", "medium", "high"], "default": "medium"}, True),
        ("budget", "budget_tokens", {"minimum": 1024, "maximum": 8000}, True),
        ("adaptive", "effort", {"values": ["low", "medium", "high", "xhigh", "max"], "default": "high"}, False),
        ("toggle", "thinking_enabled", {"default": True}, True),
        ("thinking-budget", "thinking_budget", {"minimum": -1, "maximum": 24576, "default": -1}, True),
        ("think", "think", {"default": False}, True),
    ]
    models = [
        _mock_model("echo", "echo", "Echo (MOCK): repeats your message", (0.10, 0.40), sampling,
                    capabilities=frozenset({"vision"})),
        _mock_model("oracle", "oracle", "Oracle (MOCK): arithmetic and capitals", (0.50, 1.50), sampling),
        _mock_model("flaky", "flaky", "Flaky (MOCK): fails on demand", (0.20, 0.80), sampling),
        _mock_model("judge", "judge", "Judge (MOCK): grades answers against the expected one", (0.30, 1.20),
                    sampling),
    ]
    for suffix, control, facts, takes_sampling in reasoners:
        params = dict(sampling if takes_sampling else no_sampling)
        params[control] = reasoning_parameter(control, **facts)
        models.append(
            _mock_model(f"reasoner-{suffix}", "reasoner", f"Reasoner (MOCK) with {control}", (1.00, 4.00),
                        params, None if takes_sampling else rejects, control)
        )
    return models


async def discover_mock_models(host: str | None = None) -> list[LLMModel]:
    """MOCK models exist everywhere; `host` is ignored."""
    return mock_models()
