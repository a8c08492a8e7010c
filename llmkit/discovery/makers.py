"""Who made an open-weight model, inferred from its name or family: a data table, first match wins.

Keys match at the start of a word (after a non-letter), so `phi4` is Microsoft's but `dolphin-mistral` is
Mistral's, not Microsoft's. Order matters only where keys overlap (`gpt-oss` before anything else).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from llmkit.models import LLMProvider

MAKERS: tuple[tuple[str, LLMProvider], ...] = (
    ("gpt-oss", LLMProvider.OPENAI),
    ("openai", LLMProvider.OPENAI),
    ("qwen", LLMProvider.QWEN),
    ("qwq", LLMProvider.QWEN),
    ("codeqwen", LLMProvider.QWEN),
    ("llama", LLMProvider.META),
    ("codellama", LLMProvider.META),
    ("meta", LLMProvider.META),
    ("gemma", LLMProvider.GOOGLE),
    ("codegemma", LLMProvider.GOOGLE),
    ("paligemma", LLMProvider.GOOGLE),
    ("gemini", LLMProvider.GOOGLE),
    ("google", LLMProvider.GOOGLE),
    ("mistral", LLMProvider.MISTRAL),
    ("mixtral", LLMProvider.MISTRAL),
    ("magistral", LLMProvider.MISTRAL),
    ("ministral", LLMProvider.MISTRAL),
    ("devstral", LLMProvider.MISTRAL),
    ("codestral", LLMProvider.MISTRAL),
    ("pixtral", LLMProvider.MISTRAL),
    ("voxtral", LLMProvider.MISTRAL),
    ("mathstral", LLMProvider.MISTRAL),
    ("deepseek", LLMProvider.DEEPSEEK),
    ("phi", LLMProvider.MICROSOFT),
    ("wizardlm", LLMProvider.MICROSOFT),
    ("microsoft", LLMProvider.MICROSOFT),
    ("granite", LLMProvider.IBM),
    ("ibm", LLMProvider.IBM),
    ("command-r", LLMProvider.COHERE),
    ("command-a", LLMProvider.COHERE),
    ("c4ai", LLMProvider.COHERE),
    ("aya", LLMProvider.COHERE),
    ("cohere", LLMProvider.COHERE),
    ("kimi", LLMProvider.MOONSHOT),
    ("moonshot", LLMProvider.MOONSHOT),
    ("glm", LLMProvider.ZHIPU),
    ("chatglm", LLMProvider.ZHIPU),
    ("codegeex", LLMProvider.ZHIPU),
    ("zhipu", LLMProvider.ZHIPU),
    ("zai-org", LLMProvider.ZHIPU),
    ("thudm", LLMProvider.ZHIPU),
    ("nemotron", LLMProvider.NVIDIA),
    ("nvidia", LLMProvider.NVIDIA),
    ("minimax", LLMProvider.MINIMAX),
    ("grok", LLMProvider.XAI),
)



@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], LLMProvider], ...]:
    return tuple((re.compile(rf"(?<![a-z]){re.escape(key)}"), provider) for key, provider in MAKERS)


def infer_provider(name: str, families: Iterable[str] = ()) -> LLMProvider:
    """The maker of a model: the first table key found in its name, else in its reported families, else OTHER."""
    for text in (name, *families):
        lowered = text.lower()
        for pattern, provider in _patterns():
            if pattern.search(lowered):
                return provider
    return LLMProvider.OTHER
