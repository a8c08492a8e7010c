"""Loopback HTTP servers that speak each LLM provider's wire protocol (see README.md)."""

from .anthropic_messages import AnthropicServer
from .autobyteus import AutoByteusServer
from .base import SCENARIO_HEADER, SCENARIOS, LoopbackServer, ModelSpec, RecordedRequest
from .garbage import GarbageServer, HungServer
from .gemini import GeminiServer
from .ollama import OllamaServer
from .openai_chat import FLAVORS, OpenAIChatServer
from .replies import CACHED_TOKENS, REASONING_TEXT, REASONING_TOKENS, answer_for, count_words

__all__ = [
    "CACHED_TOKENS",
    "FLAVORS",
    "REASONING_TEXT",
    "REASONING_TOKENS",
    "SCENARIOS",
    "SCENARIO_HEADER",
    "AnthropicServer",
    "AutoByteusServer",
    "GarbageServer",
    "GeminiServer",
    "HungServer",
    "LoopbackServer",
    "ModelSpec",
    "OllamaServer",
    "OpenAIChatServer",
    "RecordedRequest",
    "answer_for",
    "count_words",
]
