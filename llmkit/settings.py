"""The one place llmkit reads environment variables.

Values are read when they are needed, never copied at import: a notebook that sets `OPENAI_API_KEY` after
`import llmkit` and then creates a client gets the key. A value derived from variables and needed on every call (a
Host's endpoint) is memoised on `generation()`, a number that changes whenever a variable is set or unset: reading
four variables through `os.environ` costs more than a whole request's parsing, and the environment rarely changes.

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
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
    """The current values of several variables (memos use `generation()` instead: reading is not free)."""
    return tuple(map(os.environ.get, names))


# ----- knowing when the environment changes ------------------------------------------------------------------
# `os.environ` raises the audit events "os.putenv" / "os.unsetenv" (documented, Python >= 3.9) on every change,
# just before it stores the new value. A hook notes each variable and the value it is becoming; `generation()` counts
# a change once `os.environ` shows it. No model call raises an audit event, so the hook costs them nothing.
_changing: dict[str, tuple[str | None, int]] = {}  # variable -> (value it is becoming or None, checks so far)
_changing_lock = threading.RLock()  # re-entrant: a signal handler setting a variable may interrupt generation()
_generation = 0
_MAX_CHECKS = 64  # a change os.environ still does not show after this many checks never will (a bare os.putenv)
_WATCH_PROBE = "llmkit.settings.watch"  # an audit event of llmkit's own: is the hook really installed?


def _note_change(event: str, args: tuple[Any, ...]) -> None:
    if event == "os.putenv" or event == "os.unsetenv":
        with _changing_lock:
            _changing[os.fsdecode(args[0])] = (os.fsdecode(args[1]) if event == "os.putenv" else None, 0)
    elif event == _WATCH_PROBE:
        args[0].append(event)


def _watch_environment() -> bool:
    """Install the hook; False when it is not running (`sys.addaudithook` silently adds nothing when a hook the
    application installed refuses it), and then memos never hold: every `generation()` is new."""
    seen: list[str] = []
    try:
        sys.addaudithook(_note_change)
        sys.audit(_WATCH_PROBE, seen)
    except Exception:  # a refusing hook may raise anything; the probe decides
        seen.clear()
    if not seen:
        logger.debug("environment changes cannot be watched; derived values are re-read on every use")
    return bool(seen)


_watching = _watch_environment()


def generation() -> int:
    """A number that changes whenever a variable has been set or unset since the last call, for memos derived from
    variables. While a change is still being stored (by another thread) every call returns a new number, so nothing
    is memoised on a half-made change; a change made with `os.putenv` alone, which `os.environ` never shows, stops
    counting after 64 calls."""
    global _generation
    if _changing or not _watching:
        with _changing_lock:
            _generation += 1
            for name, (value, checks) in list(_changing.items()):
                if os.environ.get(name) == value or checks >= _MAX_CHECKS:  # stored, or never will be
                    del _changing[name]
                else:
                    _changing[name] = (value, checks + 1)
    return _generation


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
