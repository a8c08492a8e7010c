"""Hosts: one immutable object per endpoint (a cloud API, a gateway, a local server), as data.

A Host says where requests go and how they are authorised: its base URL (a default, an `*_BASE_URL` override, or
the model's own `host_url`), the variables that may hold its key and the header each key travels in, fixed and
optional headers, TLS settings, and the two names other parts of llmkit file things under:
- `canonical_url()`: `scheme://host:port[/path]`, lower-case, explicit port, no trailing slash, no credentials,
  with the Host's API path applied (`http://h:8080` and `http://h:8080/v1/` are the same OpenAI-compatible server):
  the response cache keys answers by it, so two endpoints never share answers;
- `host_key()`: `host:port` of that URL (or the Host's name when it has no URL, e.g. `mock`): per-host concurrency
  and rate limits apply to it, since they protect a server.

Hosts are registered by name; a model's Host is the one named by its `backend`, moved to the model's `host_url`
when it has one (`host_for`). A named OpenAI-compatible cloud (Groq, Together, ...) is data: a Host with its base URL,
`*_BASE_URL` and key variable, registered with a backend of the same name (`llmkit.backends.register_backend`). The
packaged Hosts (cloud providers and local runtimes) are in `llmkit.backends`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from llmkit import settings
from llmkit.errors import AuthenticationError, ConfigurationError
from llmkit.secrets import get_secret, watch_secret_variable

if TYPE_CHECKING:
    from llmkit.models import LLMModel


# ----- host strings ------------------------------------------------------------------------------------------
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


@functools.lru_cache(maxsize=1024)
def canonical_url(url: str) -> str:
    """`scheme://host:port[/path]`: scheme and host lower-case, the port explicit, the path without a trailing
    slash; user info, query and fragment dropped (credentials in a URL must not reach cache keys or logs)."""
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"http://{text}")
    scheme = (parts.scheme or "http").lower()
    default_port = 443 if scheme == "https" else 80
    netloc = parts.netloc.rpartition("@")[2]
    return f"{scheme}://{normalise_host(f'{scheme}://{netloc}', default_port)}" + parts.path.rstrip("/")


# ----- the Host ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and how to reach one backend: base URL, auth headers, and how errors should name it."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    provider: str = "provider"
    api_key_env: str | None = None
    verify_tls: bool | str = True  # True, False, or the path of a CA bundle (PEM) to verify against
    json_headers: Mapping[str, str] = field(init=False, repr=False, compare=False)  # `headers` + a JSON body's

    def __post_init__(self) -> None:
        # worked out once per endpoint (it lives until a variable changes), not once per request
        merged = dict(self.headers)
        merged.setdefault("content-type", "application/json")
        object.__setattr__(self, "json_headers", merged)  # a dict: what aiohttp copies fastest

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def host(self) -> str:
        """`host:port` as errors name it (no credentials)."""
        parts = urlsplit(self.base_url)
        name = parts.hostname or ""
        name = f"[{name}]" if ":" in name else name
        return f"{name}:{parts.port}" if parts.port else name

    def __repr__(self) -> str:  # headers carry secrets: never show them
        return f"Endpoint({self.base_url!r}, provider={self.provider!r})"



@dataclass(frozen=True, slots=True)
class KeyVar:
    """An environment variable that may hold the key, and how that key travels: `header: prefix + key`."""

    env: str
    header: str = "Authorization"
    prefix: str = "Bearer "


def bearer(*env: str) -> tuple[KeyVar, ...]:
    """Key variables sent as `Authorization: Bearer <key>` (OpenAI and every server copying it)."""
    return tuple(KeyVar(name) for name in env)


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Host:
    """One endpoint; see the module docstring. Every field is data: no subclass hooks."""

    name: str  # registry name (a backend name by default); the host key of a Host without a URL
    label: str  # how errors name it: "OpenAI", "Ollama", "OpenAI-compatible server"
    base_url: str | None = None  # default base URL; None: each model brings its own (local servers, gateways)
    base_url_env: str | None = None  # variable that overrides base_url (OPENAI_BASE_URL); not for a host_url
    keys: tuple[KeyVar, ...] = ()  # the first variable that is set wins
    key_required: bool = False
    headers: Mapping[str, str] = field(default_factory=_frozen)  # always sent (anthropic-version)
    env_headers: Mapping[str, str] = field(default_factory=_frozen)  # header -> variable, sent when set
    api_path: str = ""  # appended to a base URL that lacks it (local OpenAI-compatible servers: "/v1")
    strip_path: str = ""  # removed from a base URL that has it (Anthropic's "/v1" is part of its request paths)
    verify_tls: bool | str = True  # True, False, or a CA bundle (PEM) path
    ca_bundle_env: str | None = None  # a variable naming a CA bundle; when set, TLS is verified against it
    _memo: dict[int, Endpoint] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _frozen(self.headers))
        object.__setattr__(self, "env_headers", _frozen(self.env_headers))

    def at(self, url: str) -> Host:
        """This Host moved to a model's own base URL (a local server, a gateway): same keys and headers."""
        return replace(self, base_url=url, base_url_env=None)

    # ----- where ---------------------------------------------------------------------------------------
    def configured_url(self) -> str | None:
        """The base URL as configured: the override variable when set, else the default."""
        override = settings.value(self.base_url_env) if self.base_url_env else None
        return override or self.base_url

    def url(self) -> str | None:
        """The base URL requests are sent under: no trailing slash, the API path applied; None when unset."""
        configured = self.configured_url()
        if not configured:
            return None
        url = configured.strip().rstrip("/")
        if "://" not in url:  # `host:port`, as `*_HOSTS` entries may be written
            url = f"http://{url}"
        if self.strip_path and url.endswith(self.strip_path):
            url = url[: -len(self.strip_path)].rstrip("/")
        if self.api_path and not url.endswith(self.api_path):
            url += self.api_path
        return url

    def canonical_url(self) -> str | None:
        """The endpoint's one spelling (see the module docstring); None when it has no URL."""
        url = self.url()
        return canonical_url(url) if url else None

    def host_key(self) -> str:
        """`host:port` of the base URL (what per-host limits apply to), else the Host's name."""
        url = self.url()
        return normalise_host(canonical_url(url)) if url else self.name

    # ----- who -----------------------------------------------------------------------------------------
    def api_key(self) -> tuple[KeyVar, str] | None:
        """The first key variable that is set and its value (registered for redaction)."""
        for var in self.keys:
            key = get_secret(var.env)
            if key:
                return var, key
        return None

    def missing_key(self) -> str | None:
        """The variable to set when a key is required and none is set, else None."""
        if not self.key_required or not self.keys or self.api_key() is not None:
            return None
        return self.keys[0].env

    def auth_headers(self) -> dict[str, str]:
        """Fixed headers, the key in its variable's header, and the optional headers whose variables are set."""
        headers = dict(self.headers)
        found = self.api_key()
        if found is not None:
            var, key = found
            headers[var.header] = var.prefix + key
        for header, env in self.env_headers.items():
            extra = get_secret(env)
            if extra:
                headers[header] = extra
        return headers

    def tls(self) -> bool | str:
        """True, False or a CA bundle path: the bundle named by `ca_bundle_env` when set, else `verify_tls`."""
        bundle = settings.value(self.ca_bundle_env) if self.ca_bundle_env else None
        return bundle or self.verify_tls

    # ----- the executor's view -------------------------------------------------------------------------------
    def endpoint(self, who: str | None = None) -> Endpoint:
        """The executor's Endpoint, as the environment is now; AuthenticationError naming the variable when a
        required key is missing (`who` names the model in that message). Memoised until a variable changes
        (`settings.generation()`), so a key set (or changed) later is picked up and an unchanged environment is not
        read again."""
        generation = settings.generation()
        endpoint = self._memo.get(generation)
        if endpoint is None:
            endpoint = self._build_endpoint(who)
            self._memo.clear()  # keep only the current environment's endpoint
            self._memo[generation] = endpoint
        return endpoint

    def _build_endpoint(self, who: str | None) -> Endpoint:
        missing = self.missing_key()
        if missing:
            raise AuthenticationError(f"No API key for {who or self.label}: {missing} is not set", env_var=missing)
        url = self.url()
        if not url:
            raise AuthenticationError(f"No base URL for {who or self.label}", env_var=self.base_url_env)
        found = self.api_key()  # a rejected key's hint names the variable it came from
        key_env = found[0].env if found else (self.keys[0].env if self.keys else None)
        return Endpoint(base_url=url, headers=self.auth_headers(), provider=self.label, api_key_env=key_env,
                        verify_tls=self.tls())


# ----- the registry ------------------------------------------------------------------------------------------
_HOSTS: dict[str, Host] = {}


def register_host(host: Host) -> Host:
    """Add or replace a Host; its key variables are treated as secrets from now on."""
    for var in host.keys:
        watch_secret_variable(var.env)
    _HOSTS[host.name] = host
    _bound.cache_clear()
    return host


def get_host(name: str) -> Host:
    """The registered Host of this name; ConfigurationError listing the known ones if there is none."""
    try:
        return _HOSTS[name]
    except KeyError:
        known = ", ".join(sorted(_HOSTS))
        raise ConfigurationError(f"No host named {name!r}; registered hosts: {known}",
                                 hint="register one with llmkit.hosts.register_host") from None


def hosts() -> dict[str, Host]:
    return dict(_HOSTS)


@functools.lru_cache(maxsize=4096)
def _bound(name: str, url: str | None, key_env: str | None = None) -> Host:
    host = get_host(name)
    if key_env:  # the model names its own key variable: sent as the backend's first key would be, and required
        first = host.keys[0] if host.keys else KeyVar(key_env)
        watch_secret_variable(key_env)
        host = replace(host, keys=(KeyVar(key_env, first.header, first.prefix),), key_required=True)
    return host.at(url) if url else host


def host_for(model: LLMModel | Any) -> Host:
    """The Host a model's requests go to: its backend's Host, at the model's `host_url` when it has one (a local
    model with only a `host:port` is reached over plain http there). The same Host object is returned for the same
    (backend, URL), so its endpoint memo is shared by every client of that endpoint. A MOCK-runtime backend without
    a Host of its own (a test double, a scripted model) gets the in-process `mock` Host. A model's `api_key_env`
    replaces the backend's key variables (a gateway's own key)."""
    url = model.host_url or (f"http://{model.host}" if model.host else None)
    name = model.backend
    if name not in _HOSTS and model.runtime == "mock":  # an in-process backend of one's own: no endpoint
        name = "mock"
    return _bound(name, url, getattr(model, "api_key_env", None))
