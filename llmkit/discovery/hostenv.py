"""Which hosts each local runtime is probed on, read from the environment.

Every entry becomes a `HostEntry`: the `host:port` that goes into identifiers (`llmkit.hosts.normalise_host`,
so `http://127.0.0.1:8080/v1` and `127.0.0.1:8080` are the same host) and the base URL requests go to.

Variables (comma-separated lists; entries `host:port` or `http(s)://host:port[/path]`, `/v1` suffix ignored):
- `OLLAMA_HOSTS`, plus `OLLAMA_HOST` parsed with Ollama's own rules (`parse_ollama_host`); default
  `localhost:11434` when neither is set.
- `LMSTUDIO_HOSTS`; default `localhost:1234`.
- `OPENAI_COMPATIBLE_HOSTS`; when unset, the usual llama-server / llama-cpp-python / vLLM ports on localhost
  (`DEFAULT_OPENAI_COMPATIBLE_HOSTS`) are probed quietly; set it to an empty string or `none` to probe nothing.
- `AUTOBYTEUS_LLM_SERVER_HOSTS`; probed only when set (https unless a scheme is given).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from llmkit import settings
from llmkit.errors import ConfigurationError
from llmkit.hosts import normalise_host
from llmkit.models import LLMRuntime

logger = logging.getLogger("llmkit.discovery")

OLLAMA_DEFAULT_PORT = 11434
LMSTUDIO_DEFAULT_PORT = 1234
# llama-server (8080 through mid-2026, 9931 announced), llama-cpp-python and vLLM (8000).
DEFAULT_OPENAI_COMPATIBLE_HOSTS = ("localhost:8080", "localhost:9931", "localhost:8000")


@dataclass(frozen=True, slots=True)
class HostEntry:
    """One server to probe: `host` is the identifier part (`host:port`), `url` the base URL without `/v1`.
    `explicit` is False for defaults the user did not ask for, whose failures are only logged at debug level."""

    host: str
    url: str
    explicit: bool = True


def parse_ollama_host(value: str) -> str:
    """The base URL an Ollama client derives from `OLLAMA_HOST` (protocols.md §7, Ollama's envconfig.Host):
    spaces and quotes trimmed; no scheme -> http with port 11434; `http://h` -> port 80, `https://h` -> 443;
    a path is kept; bare `ollama.com` -> https on 443; a bad port falls back to the default; an empty host and the
    wildcard addresses 0.0.0.0 / :: (a server bind setting) become loopback, as Ollama's clients do."""
    text = value.strip().strip("'\"").strip()
    scheme, sep, hostport = text.partition("://")
    default_port = str(OLLAMA_DEFAULT_PORT)
    if not sep:
        scheme, hostport = "http", text
        if text == "ollama.com":
            scheme, hostport = "https", "ollama.com:443"
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport, _, path = hostport.partition("/")
    host, port = _split_host_port(hostport)
    if port is None:
        host, port = "127.0.0.1", default_port
        bare = hostport.strip("[]")
        if _is_ip(bare):
            host = str(ipaddress.ip_address(bare))
        elif hostport:
            host = hostport
    if not port.isdigit() or int(port) > 65535:
        logger.warning("OLLAMA_HOST %r has an invalid port %r; using %s", value, port, default_port)
        port = default_port
    host = _client_host(host)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{int(port)}" + (f"/{path}" if path else "")


def _split_host_port(hostport: str) -> tuple[str, str | None]:
    """Go's net.SplitHostPort: `h:p`, `[v6]:p`, `:p`; anything else (no port, bare IPv6) has no port."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end > 0 and hostport[end + 1 : end + 2] == ":":
            return hostport[1:end], hostport[end + 2 :]
        return hostport, None
    if hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
        return host, port
    return hostport, None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _client_host(host: str) -> str:
    """What a client connects to for a bind address: wildcards and the empty host mean this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _base_url(value: str, default_port: int | None, default_scheme: str = "http") -> tuple[str, str]:
    """(host:port, base URL) for one list entry; the URL keeps a path prefix but not a trailing `/v1`."""
    text = value.strip().strip("'\"").rstrip("/")
    if text.endswith("/v1"):
        text = text[: -len("/v1")].rstrip("/")
    if "://" not in text:
        text = f"{default_scheme}://{text}"
    host = normalise_host(text, default_port)
    parts = urlsplit(text)
    path = parts.path.rstrip("/")
    return host, f"{parts.scheme.lower()}://{host}{path}"


def _split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _entries(values: Iterable[str], *, default_port: int | None,
             variable: str, default_scheme: str = "http", explicit: bool = True) -> list[HostEntry]:
    entries: list[HostEntry] = []
    for value in values:
        try:
            host, url = _base_url(value, default_port, default_scheme)
        except ConfigurationError as exc:
            logger.warning("ignoring %s entry %r: %s", variable, value, exc.message)
            continue
        if all(e.host != host for e in entries):
            entries.append(HostEntry(host, url, explicit))
    return entries


def ollama_hosts() -> list[HostEntry]:
    """`OLLAMA_HOSTS` entries, then `OLLAMA_HOST`; `localhost:11434` when neither is set."""
    listed = [parse_ollama_host(v) for v in _split_list(settings.raw("OLLAMA_HOSTS") or "")]
    single = settings.value("OLLAMA_HOST")
    if single:
        listed.append(parse_ollama_host(single))
    if not listed:
        return _entries([f"localhost:{OLLAMA_DEFAULT_PORT}"], default_port=OLLAMA_DEFAULT_PORT,
                        variable="OLLAMA_HOSTS", explicit=False)
    return _entries(listed, default_port=OLLAMA_DEFAULT_PORT, variable="OLLAMA_HOSTS")


def lmstudio_hosts() -> list[HostEntry]:
    raw = settings.value("LMSTUDIO_HOSTS")
    if raw is None:
        return _entries([f"localhost:{LMSTUDIO_DEFAULT_PORT}"], default_port=LMSTUDIO_DEFAULT_PORT,
                        variable="LMSTUDIO_HOSTS", explicit=False)
    if settings.is_off(raw):
        return []
    return _entries(_split_list(raw), default_port=LMSTUDIO_DEFAULT_PORT, variable="LMSTUDIO_HOSTS")


def openai_compatible_hosts() -> list[HostEntry]:
    """Configured base URLs, or (variable unset) the usual local ports, minus hosts another runtime owns."""
    raw = settings.raw("OPENAI_COMPATIBLE_HOSTS")
    if raw is not None:
        if settings.is_off(raw):
            return []
        return _entries(_split_list(raw), default_port=None, variable="OPENAI_COMPATIBLE_HOSTS")
    taken = {e.host for e in ollama_hosts() + lmstudio_hosts()}
    defaults = _entries(DEFAULT_OPENAI_COMPATIBLE_HOSTS, default_port=None, variable="OPENAI_COMPATIBLE_HOSTS",
                        explicit=False)
    return [e for e in defaults if e.host not in taken]


def autobyteus_hosts() -> list[HostEntry]:
    """`AUTOBYTEUS_LLM_SERVER_HOSTS` only; https unless a scheme is given; a path prefix is discarded, as the
    AutoByteus clients do (they `urljoin` absolute paths)."""
    entries = _entries(_split_list(settings.raw("AUTOBYTEUS_LLM_SERVER_HOSTS") or ""), default_port=None,
                       variable="AUTOBYTEUS_LLM_SERVER_HOSTS", default_scheme="https")
    return [HostEntry(e.host, e.url.split("://")[0] + "://" + e.host, e.explicit) for e in entries]


_HOSTS = {
    LLMRuntime.OLLAMA: ollama_hosts,
    LLMRuntime.LMSTUDIO: lmstudio_hosts,
    LLMRuntime.OPENAI_COMPATIBLE: openai_compatible_hosts,
    LLMRuntime.AUTOBYTEUS: autobyteus_hosts,
}


def configured_hosts(runtime: LLMRuntime) -> list[HostEntry]:
    """Every host configured (or defaulted) for a local runtime."""
    lister = _HOSTS.get(runtime)
    return lister() if lister else []


def hosts_to_probe(runtime: LLMRuntime, host: str | None) -> list[HostEntry]:
    """All hosts of the runtime (`host=None`), or just the one named: its configured entry if there is one
    (keeping its scheme and path), else plain http on that `host:port` — so `reload_models(runtime, host)` also
    finds a server that was never listed in the environment."""
    entries = configured_hosts(runtime)
    if host is None:
        return entries
    wanted = normalise_host(host)
    match = [e for e in entries if e.host == wanted]
    scheme = "https" if runtime is LLMRuntime.AUTOBYTEUS else "http"
    return match or [HostEntry(wanted, f"{scheme}://{wanted}")]
