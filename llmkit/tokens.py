"""A documented, dependency-free token estimate, used where no server count exists.

Rule: split text into runs of letters/digits and single punctuation marks; a run costs ceil(len / 4) tokens,
a punctuation mark 1 token, whitespace nothing. A message adds 3 tokens of framing (role and separators).
It tracks BPE tokenizers to within roughly 10-25% on English prose; results that use it are marked
`estimated`. The MOCK runtime bills with exactly this rule, so dry-run estimates of MOCK sweeps are exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from llmkit.messages import Message, TokenUsage

_PIECE = re.compile(r"\w+|[^\w\s]")
MESSAGE_OVERHEAD = 3


def count_tokens(text: str) -> int:
    return sum((len(p) + 3) // 4 if p[0].isalnum() or p[0] == "_" else 1 for p in _PIECE.findall(text))


def split_tokens(text: str) -> list[str]:
    """Split text into pieces that each hold one or more tokens and re-join to the original text."""
    pieces = re.findall(r"\s*(?:\w+|[^\w\s])|\s+$", text)
    return pieces if "".join(pieces) == text else [text]


def count_message_tokens(contents: Iterable[str]) -> int:
    return sum(count_tokens(c) + MESSAGE_OVERHEAD for c in contents)


def estimated_usage(messages: Sequence[Message], content: str, reasoning: str | None) -> TokenUsage:
    """The usage of a call whose server reported none, counted with this rule and marked `estimated`. Every
    backend's "no usage" (a None usage) ends here, unary and streamed alike."""
    thinking = count_tokens(reasoning) if reasoning else 0
    return TokenUsage(input_tokens=count_message_tokens(m.content for m in messages),
                      output_tokens=count_tokens(content) + thinking, reasoning_tokens=thinking, estimated=True)
