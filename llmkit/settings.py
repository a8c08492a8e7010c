"""The one place llmkit reads environment variables.

Values are read when they are needed, never copied at import: a notebook that sets `OPENAI_API_KEY` after
`import llmkit` and then creates a client gets the key. Reading is cheap (a dict lookup per variable), so callers
that memoise derived values (a Host's endpoint) key the memo on the values themselves (`snapshot`).

Secrets are read through `llmkit.secrets.get_secret`, which registers them for redaction; this module knows
nothing about secrets, so it can be imported by every other one.

The variables, by who reads them:
- keys and base URLs: each Host's (`llmkit.hosts`), e.g. `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OLLAMA_API_KEY`;
- local runtimes' host lists: `OLLAMA_HOSTS`, `OLLAMA_HOST`, `LMSTUDIO_HOSTS`, `OPENAI_COMPATIBLE_HOSTS`,
  `AUTOBYTEUS_LLM_SERVER_HOSTS` (`llmkit.discovery.hostenv`);
- `AUTOBYTEUS_PROTOCOL_GENERATION`, `AUTOBYTEUS_SSL_CERT_FILE` (the AutoByteus adapter and Host);
- `LLMKIT_DISCOVERY_TIMEOUT`, `LLMKIT_DISCOVERY_CONNECT_TIMEOUT` (`llmkit.discovery.probe`);
- `LLMKIT_CONFIG_DIR` (`config_dir()`: where `models.yaml` lives, `llmkit.modelfile`);
- `LLMKIT_CACHE_DIR` (`llmkit.cache.store`), `LLMKIT_HTTP_BACKEND`, `SSL_CERT_FILE`, `SSL_CERT_DIR`, proxies
  (the HTTP transport);
- `MLFLOW_TRACKING_URI` read, `MLFLOW_DISABLE_TELEMETRY` / `MLFLOW_ALLOW_FILE_STORE` defaulted for MLflow
  (`llmkit.evals.mlflow_export`) — the one place llmkit writes a variable, and only where the user set none.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger("llmkit.settings")

_NONE_VALUES = frozenset({"none", "off", "false", "0"})


def raw(name: str) -> str | None:
    """The variable exactly as set, or None when unset (an empty string is kept: for some lists it means
    "nothing")."""
    return os.environ.get(name)


def value(name: str) -> str | None:
    """The variable with surrounding whitespace removed; None when unset or blank."""
    text = os.environ.get(name)
    if text is None:
        return None
    return text.strip() or None


def set_default(name: str, text: str) -> None:
    """Set a variable for a library llmkit drives (MLflow reads its own), unless the user already set it."""
    os.environ.setdefault(name, text)


def is_off(text: str | None) -> bool:
    """Whether a set variable says "nothing" (`""`, `none`, `off`, `false`, `0`)."""
    return text is not None and (not text.strip() or text.strip().lower() in _NONE_VALUES)


def seconds(name: str, default: float) -> float:
    """A positive number of seconds; the default (with a warning) when the value is not one."""
    text = value(name)
    if text is None:
        return default
    try:
        number = float(text)
    except ValueError:
        logger.warning("%s must be a number of seconds; using %s", name, default)
        return default
    return number if number > 0 else default


def snapshot(names: Iterable[str]) -> tuple[str | None, ...]:
    """The current values of several variables: a cheap key for memos derived from them."""
    return tuple(map(os.environ.get, names))


def names_set(prefixes: tuple[str, ...]) -> list[str]:
    """Names (never values) of the non-empty variables starting with one of the prefixes, sorted."""
    return sorted(k for k, v in os.environ.items() if v and k.startswith(prefixes))


def config_dir() -> Path:
    """llmkit's config directory: `$LLMKIT_CONFIG_DIR`, else the platform's user config directory for llmkit."""
    configured = value("LLMKIT_CONFIG_DIR")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("llmkit"))
