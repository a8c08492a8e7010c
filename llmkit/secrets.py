"""API keys: read from the environment on use, and scrubbed from every text llmkit shows or stores."""

from __future__ import annotations

import re
import threading

from llmkit import settings

_REDACTED = "***"
_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Variables whose values are always treated as secrets, even before llmkit reads them.
SECRET_ENV_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "DEEPSEEK_API_KEY",
    "ZHIPU_API_KEY",
    "ZAI_API_KEY",
    "ZHIPUAI_API_KEY",
    "AUTOBYTEUS_API_KEY",
    "LMSTUDIO_API_KEY",
    "LM_API_TOKEN",
    "OPENAI_COMPATIBLE_API_KEY",
    "OLLAMA_API_KEY",
)
_watched: list[str] = list(SECRET_ENV_VARS)


def watch_secret_variable(env_var: str) -> None:
    """Treat this variable's value as a secret from now on (every Host's key variables are watched)."""
    with _lock:
        if env_var not in _watched:
            _watched.append(env_var)


def register_secret(value: str | None) -> None:
    """Remember a secret so `redact_secrets` removes it from any text."""
    global _pattern
    if not value or len(value) < 4:
        return
    with _lock:
        if value in _known:
            return
        _known.add(value)
        _pattern = re.compile("|".join(re.escape(s) for s in sorted(_known, key=len, reverse=True)))


def get_secret(env_var: str) -> str | None:
    """Read a key from the environment and register it for redaction."""
    value = settings.value(env_var)
    register_secret(value)
    return value


def redact_secrets(text: str) -> str:
    """Replace every known secret (and every value of a watched key variable) in text."""
    for value in settings.snapshot(_watched):
        if value and value.strip() not in _known:
            register_secret(value.strip())
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(_REDACTED, text)
