"""Host strings from `*_HOSTS` variables and identifiers, normalised to one `host:port` form."""

from __future__ import annotations

from urllib.parse import urlsplit

from llmkit.errors import ConfigurationError


def normalise_host(value: str, default_port: int | None = None) -> str:
    """`host:port`, `http(s)://host:port`, with or without a trailing `/v1` or `/`, all become `host:port`."""
    text = value.strip().strip("'\"").rstrip("/")
    if text.endswith("/v1"):
        text = text[: -len("/v1")].rstrip("/")
    parts = urlsplit(text if "://" in text else f"http://{text}")
    host = parts.hostname
    if not host:
        raise ConfigurationError(f"Host {value!r} has no host name; expected host:port or http(s)://host:port")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"Host {value!r} has an invalid port") from None
    if port is None:
        port = default_port if default_port is not None else (443 if parts.scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def host_url(value: str, default_port: int | None = None) -> str:
    """The base URL (scheme://host:port) for a host string; http unless https was given."""
    scheme = "https" if value.strip().lower().startswith("https://") else "http"
    return f"{scheme}://{normalise_host(value, default_port)}"
