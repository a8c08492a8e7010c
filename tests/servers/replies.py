"""The deterministic "model": what every loopback server answers, and how many tokens it says that cost.

Rules (identical for every protocol, so tests can predict them):
- answer text = ``"Echo: " + <latest user text>`` with ``[scenario:…]`` tags removed and whitespace collapsed;
- input tokens = whitespace-separated words in every message text plus the system prompt, as sent;
- output tokens = words in the visible answer (after any max-token truncation);
- reasoning tokens = 7 (the words of ``REASONING_TEXT``) whenever the answer carries reasoning;
- cached input tokens = 4 (capped at the input) whenever ``[cached]`` appears anywhere in the prompt;
- cache-write tokens = 3 (capped at the uncached input) whenever ``[cache_write]`` appears (servers whose protocol
  reports writes: OpenAI ``prompt_tokens_details.cache_write_tokens``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SCENARIO_TAG = re.compile(r"\[scenario:([a-z_]+)\]")
REASONING_TEXT = "The user wants me to echo it."
REASONING_TOKENS = 7
CACHED_TOKENS = 4
CACHE_WRITE_TOKENS = 3
SIGNATURE = "c2lnbmF0dXJlLWZyb20tbG9vcGJhY2s="


def count_words(text: str) -> int:
    return len(text.split())


def strip_tags(text: str) -> str:
    return " ".join(SCENARIO_TAG.sub(" ", text).split())


def tag_scenario(text: str) -> str | None:
    """The scenario named by the last ``[scenario:NAME]`` tag in ``text``, if any."""
    found = SCENARIO_TAG.findall(text)
    return found[-1] if found else None


def answer_for(last_user: str) -> str:
    return f"Echo: {strip_tags(last_user)}".rstrip()


def pieces(text: str) -> list[str]:
    """Split text into stream deltas (one word each, leading space kept) whose concatenation is ``text``."""
    parts = re.findall(r"\s*\S+", text)
    return parts or [text]


@dataclass
class Prompt:
    """What a server extracted from a generation request, independent of the wire format."""

    model: str = ""
    texts: list[str] = field(default_factory=list)
    last_user: str = ""

    @property
    def input_tokens(self) -> int:
        return sum(count_words(t) for t in self.texts)

    @property
    def cached(self) -> bool:
        return any("[cached]" in t for t in self.texts)

    @property
    def cache_write(self) -> bool:
        return any("[cache_write]" in t for t in self.texts)


@dataclass
class Reply:
    text: str
    reasoning: str | None
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cached_tokens: int
    truncated: bool
    cache_write_tokens: int = 0

    @property
    def all_output_tokens(self) -> int:
        """Visible plus reasoning tokens: what most protocols bill as output."""
        return self.output_tokens + self.reasoning_tokens


def make_reply(prompt: Prompt, *, reasoning: bool, max_tokens: int | None = None) -> Reply:
    text = answer_for(prompt.last_user)
    words = text.split(" ")
    truncated = max_tokens is not None and 0 <= max_tokens < len(words)
    if truncated:
        text = " ".join(words[: max(max_tokens or 0, 0)])
    cached = min(CACHED_TOKENS, prompt.input_tokens) if prompt.cached else 0
    return Reply(
        text=text,
        reasoning=REASONING_TEXT if reasoning else None,
        input_tokens=prompt.input_tokens,
        output_tokens=count_words(text),
        reasoning_tokens=REASONING_TOKENS if reasoning else 0,
        cached_tokens=cached,
        truncated=truncated,
        cache_write_tokens=min(CACHE_WRITE_TOKENS, prompt.input_tokens - cached) if prompt.cache_write else 0,
    )


def text_of(content: object) -> str:
    """Text of an OpenAI/Anthropic/Ollama-style content value: a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict) and "text" in part)
    return ""
