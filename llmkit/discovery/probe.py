"""Probing hosts: short timeouts, every host at once, and no failure ever escaping.

Discovery must not slow start-up: a port with nothing behind it is refused at once, a host that accepts TCP and
never answers is cut off by the read timeout, and every host of a runtime is bounded by one overall deadline.
Each host is first checked with a bare TCP connect (asyncio, connect timeout): when nothing is listening anywhere,
which is the common case, start-up never imports httpx nor builds a client. Hosts that accept the connection are
then asked over the shared executor's pooled httpx client (one per event loop), with per-request timeouts.
Outcomes are logged, never raised: refused connections (nothing running, the normal case) at debug level,
timeouts and unparseable answers as warnings naming the host. Every logged text goes through `redact_secrets`:
a server that echoes the key it was sent (a 401 body quoting the Bearer token) never gets it printed.

Timeouts can be changed with `LLMKIT_DISCOVERY_TIMEOUT` (seconds to wait for an answer; default 2) and
`LLMKIT_DISCOVERY_CONNECT_TIMEOUT` (default 0.25).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from llmkit import settings
from llmkit.discovery.hostenv import HostEntry
from llmkit.hosts import Host, get_host
from llmkit.models import LLMModel
from llmkit.secrets import redact_secrets

logger = logging.getLogger("llmkit.discovery")

CONNECT_TIMEOUT_S = 0.25
READ_TIMEOUT_S = 2.0


class ProbeError(Exception):
    """A host answered, but not usefully (status, body or shape); the message says how."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(redact_secrets(message))


def timeouts() -> tuple[float, float]:
    """(connect, read) seconds for discovery requests."""
    return (settings.seconds("LLMKIT_DISCOVERY_CONNECT_TIMEOUT", CONNECT_TIMEOUT_S),
            settings.seconds("LLMKIT_DISCOVERY_TIMEOUT", READ_TIMEOUT_S))


def entry_host(backend: str, entry: HostEntry) -> Host:
    """The Host of a discovered server: the backend's keys, headers and TLS settings, at the entry's URL."""
    return get_host(backend).at(entry.url)


def host_deadline() -> float:
    """Overall bound for one host (several requests, e.g. Ollama's /api/tags then /api/show per model)."""
    connect, read = timeouts()
    return connect + read + 0.5


class Prober:
    """GETs/POSTs JSON from one host with discovery timeouts, authorised as its Host says (the same headers
    and TLS settings as the model calls); raises ProbeError / httpx errors for `probe_hosts`."""

    def __init__(self, entry: HostEntry, backend: str) -> None:
        import httpx

        from llmkit.api.http import executor

        self.entry = entry
        host = entry_host(backend, entry)
        self.headers = host.auth_headers()
        verify_tls = host.tls()
        connect, read = timeouts()
        self.timeout = httpx.Timeout(read, connect=connect)
        # Plain-http hosts (the usual local case) use the pool's no-TLS-verification client: nothing is verified
        # over http anyway, and it skips loading the CA bundle, which is most of a cold start-up's cost.
        plain = entry.url.startswith("http://")
        self.client = executor().client(False if plain else verify_tls)

    def url(self, path: str) -> str:
        return self.entry.url.rstrip("/") + path

    async def json(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> Any:
        """The parsed JSON answer; None for a 404 when `missing_ok` (an optional endpoint)."""
        response = await self.client.request(method, self.url(path), json=body, headers=self.headers,
                                             timeout=self.timeout)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            snippet = response.text[:200].strip()
            raise ProbeError(f"{method} {path} answered {response.status_code}: {snippet!r}", response.status_code)
        try:
            return json.loads(response.content)
        except ValueError:
            raise ProbeError(f"{method} {path} answered 200 with a body that is not JSON: "
                             f"{response.content[:120]!r}") from None

    async def get(self, path: str, *, missing_ok: bool = False) -> Any:
        return await self.json("GET", path, missing_ok=missing_ok)


def require_list(body: Any, key: str, where: str) -> list[Any]:
    """`body[key]` as a list, or ProbeError describing the wrong shape."""
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, list):
        raise ProbeError(f"{where} is not a JSON object with a {key!r} list: {json.dumps(body)[:120]}")
    return value


HostProbe = Callable[[HostEntry], Awaitable[list[LLMModel]]]


async def probe_hosts(runtime: str, entries: Sequence[HostEntry], probe: HostProbe) -> list[LLMModel]:
    """Run `probe` on every host concurrently, each bounded by `host_deadline()`; a failing host contributes no
    models and a log line."""
    results = await asyncio.gather(*(_probe_one(runtime, e, probe) for e in entries))
    return [model for models in results for model in models]


async def listening(entry: HostEntry) -> bool:
    """Whether anything accepts a TCP connection at the entry's host and port within the connect timeout."""
    parts = urlsplit(entry.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), timeouts()[0])
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _probe_one(runtime: str, entry: HostEntry, probe: HostProbe) -> list[LLMModel]:
    if not await listening(entry):
        logger.debug("%s: nothing listening at %s", runtime, entry.url)
        return []
    import httpx

    deadline = host_deadline()
    quiet = logging.DEBUG if not entry.explicit else logging.WARNING
    try:
        return await asyncio.wait_for(probe(entry), deadline)
    except (httpx.ConnectError, httpx.ConnectTimeout):
        logger.debug("%s: nothing answering at %s", runtime, entry.url)
    except httpx.TimeoutException as exc:
        logger.log(quiet, "%s at %s timed out (%s); skipped", runtime, entry.url, type(exc).__name__)
    except asyncio.TimeoutError:
        logger.log(quiet, "%s at %s did not finish within %.2gs; skipped", runtime, entry.url, deadline)
    except ProbeError as exc:
        logger.log(quiet, "%s at %s: %s; skipped", runtime, entry.url, exc)
    except httpx.HTTPError as exc:
        logger.log(quiet, "%s at %s failed: %s: %s; skipped", runtime, entry.url, type(exc).__name__,
                   redact_secrets(str(exc)))
    except Exception as exc:  # a host answering something unexpected must not break discovery
        logger.log(quiet, "%s at %s answered something unexpected (%s: %s); skipped", runtime, entry.url,
                   type(exc).__name__, redact_secrets(str(exc)))
    return []
