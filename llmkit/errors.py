"""Every error llmkit raises, in one tree, so callers can catch as broadly or narrowly as they need.

    LLMError                          base; `.hint` says what to do, `.partial_content` what a stream yielded
    ├── ConfigurationError            the caller asked for something llmkit cannot do
    │   ├── InvalidIdentifierError    a model id that does not parse (also a ValueError)
    │   ├── UnknownModelError         an id that parses but is not registered; suggests close matches
    │   └── ConfigValidationError     an LLMConfig / extra_params value the model's schema rejects
    ├── AuthenticationError           missing or rejected credentials; names the environment variable
    ├── PermissionDeniedError         the key is valid but not allowed (region, model access)
    ├── ProviderUnavailableError      connection refused, DNS, connect/read timeout; names the host
    │   └── LLMTimeoutError           the request took longer than its timeout
    ├── RateLimitError                429 / 529 / overload; `.retry_after` seconds when the server said
    ├── QuotaExceededError            out of credit or quota (402, insufficient_quota); never retried
    ├── ContextLengthError            the prompt does not fit the model's context window
    ├── ProviderError                 any other error answer; `.status_code`, `.provider_message`
    │   ├── ModelNotFoundError        the server does not know the model (e.g. not pulled in Ollama)
    │   └── StreamError               a malformed chunk or an error event in the middle of a stream
    ├── BudgetExceededError           a sweep's cost cap would be exceeded
    ├── RunStoreError                 a run directory that cannot be read or written; `.path`
    │   ├── RunLockedError            another process is writing this run directory; `.holder` says which
    │   └── RunWriteError             a row or the manifest could not be written (disk full, quota); resumable
    ├── ReportError                   a report or comparison cannot be made as asked (no rows, unknown baseline)
    └── ResourceLimitError            this process ran out of a local resource (file descriptors)

Messages never contain API keys: `redact_secrets` scrubs every configured key from any text before it is
put into an exception (see `llmkit.secrets`).
"""

from __future__ import annotations

from collections.abc import Sequence

from llmkit.secrets import redact_secrets  # at import time: an error raised when no file can be opened still works


class LLMError(Exception):
    """Base class of all llmkit errors."""

    def __init__(self, message: str, *, hint: str | None = None, partial_content: str | None = None) -> None:
        self.message = redact_secrets(message)
        self.hint = redact_secrets(hint) if hint else None
        self.partial_content = redact_secrets(partial_content) if partial_content else partial_content
        super().__init__(self.message if not self.hint else f"{self.message} — {self.hint}")

    @property
    def error_type(self) -> str:
        """Short name stored in eval rows (`error_type` column)."""
        return type(self).__name__


class ConfigurationError(LLMError):
    """The caller asked for something that cannot work; fix the call, not the network."""


class InvalidIdentifierError(ConfigurationError, ValueError):
    """A model identifier that does not follow `<model>`, `<model>:<runtime>@<host>:<port>` or `<name>:mock`."""


class UnknownModelError(ConfigurationError, KeyError):
    """An identifier that parses but is not registered."""

    def __init__(self, identifier: str, suggestions: Sequence[str] = (), *, hint: str | None = None) -> None:
        self.identifier = identifier
        self.suggestions = list(suggestions)
        message = f"Unknown model {identifier!r}"
        if self.suggestions:
            message += ". Did you mean: " + ", ".join(repr(s) for s in self.suggestions) + "?"
        super().__init__(
            message,
            hint=hint
            or "list what is available with `python -m llmkit.evals models` or LLMFactory.list_models()",
        )

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return Exception.__str__(self)


class ConfigValidationError(ConfigurationError, ValueError):
    """A config value the model does not accept; names the key, the model and what is allowed."""

    def __init__(self, message: str, *, model: str | None = None, key: str | None = None,
                 hint: str | None = None) -> None:
        self.model = model
        self.key = key
        super().__init__(message, hint=hint)


class AuthenticationError(LLMError):
    """Credentials missing or rejected."""

    def __init__(self, message: str, *, env_var: str | None = None, hint: str | None = None,
                 status_code: int | None = None) -> None:
        self.env_var = env_var
        self.status_code = status_code
        super().__init__(message, hint=hint or (f"set {env_var} in the environment" if env_var else None))


class PermissionDeniedError(LLMError):
    """The credentials are valid but not allowed to do this."""


class ProviderUnavailableError(LLMError):
    """The server could not be reached or did not answer in time."""

    def __init__(self, message: str, *, host: str | None = None, hint: str | None = None,
                 partial_content: str | None = None) -> None:
        self.host = host
        super().__init__(message, hint=hint, partial_content=partial_content)


class LLMTimeoutError(ProviderUnavailableError):
    """The request exceeded its timeout (LLMConfig.timeout)."""


class RateLimitError(LLMError):
    """Too many requests or an overloaded server; retried automatically up to the configured bound."""

    def __init__(self, message: str, *, retry_after: float | None = None, status_code: int = 429,
                 hint: str | None = None, partial_content: str | None = None) -> None:
        self.retry_after = retry_after
        self.status_code = status_code
        super().__init__(message, hint=hint, partial_content=partial_content)


class QuotaExceededError(LLMError):
    """Out of credit or quota; retrying will not help."""

    def __init__(self, message: str, *, status_code: int | None = None, hint: str | None = None) -> None:
        self.status_code = status_code
        super().__init__(message, hint=hint or "check the account's billing or quota")


class ContextLengthError(LLMError):
    """The request does not fit the model's context window."""


class ProviderError(LLMError):
    """An error answer from the provider that no more specific class covers. `.retry_after`: the seconds the
    server asked to wait (a 503's Retry-After), honoured when the answer is retried."""

    def __init__(self, message: str, *, status_code: int | None = None, provider_message: str | None = None,
                 hint: str | None = None, partial_content: str | None = None,
                 retry_after: float | None = None) -> None:
        self.status_code = status_code
        self.retry_after = retry_after
        self.provider_message = redact_secrets(provider_message) if provider_message else None
        super().__init__(message, hint=hint, partial_content=partial_content)


class ModelNotFoundError(ProviderError):
    """The server does not serve this model."""


class StreamError(ProviderError):
    """A stream broke after it started: a malformed chunk or an error event; `.partial_content` holds
    what arrived before it."""


class BudgetExceededError(LLMError):
    """Spending more would exceed the configured cost cap."""


class RunStoreError(LLMError):
    """A run directory (run.json, rows.jsonl) that cannot be read or written."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, hint=hint)


class RunLockedError(RunStoreError):
    """Another process holds the run directory's lock; `.holder` is what it wrote beside the lock."""

    def __init__(self, message: str, *, path: str | None = None, holder: dict[str, object] | None = None,
                 hint: str | None = None) -> None:
        self.holder = holder or {}
        super().__init__(message, path=path, hint=hint)


class RunWriteError(RunStoreError):
    """Writing the run failed (disk full, file too large, quota, I/O error); finished rows are kept and the
    run stays resumable."""


class ReportError(LLMError):
    """A report, comparison or gate that cannot be made as asked: a run without rows, a baseline or scorer the
    run does not have, runs that share nothing to pair."""


class ResourceLimitError(LLMError):
    """The process hit a local limit (e.g. too many open files): nothing the server did; retrying at once will not
    help."""


__all__ = [
    "AuthenticationError",
    "BudgetExceededError",
    "ConfigValidationError",
    "ConfigurationError",
    "ContextLengthError",
    "InvalidIdentifierError",
    "LLMError",
    "LLMTimeoutError",
    "ModelNotFoundError",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderUnavailableError",
    "QuotaExceededError",
    "RateLimitError",
    "ReportError",
    "ResourceLimitError",
    "RunLockedError",
    "RunStoreError",
    "RunWriteError",
    "StreamError",
    "UnknownModelError",
]
