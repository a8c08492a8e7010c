"""llmkit: compare and evaluate LLMs honestly — one interface over cloud APIs and local runtimes.

    from llmkit import LLMFactory
    llm = LLMFactory.create_llm("oracle:mock")
    print(llm.send_user_message_sync("What is 6 * 7?"))

Nothing heavy is imported here: pandas, matplotlib, ipywidgets and provider SDKs load only where used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; at run time names load on first use (PEP 562)
    from llmkit.base import BaseLLM
    from llmkit.config import LLMConfig, PricingConfig
    from llmkit.errors import (
        AuthenticationError,
        BudgetExceededError,
        ConfigurationError,
        ConfigValidationError,
        ContextLengthError,
        InvalidIdentifierError,
        LLMError,
        LLMTimeoutError,
        ModelNotFoundError,
        PermissionDeniedError,
        ProviderError,
        ProviderUnavailableError,
        QuotaExceededError,
        RateLimitError,
        StreamError,
        UnknownModelError,
    )
    from llmkit.factory import LLMFactory
    from llmkit.messages import ChunkResponse, CompleteResponse, FinishReason, Message, Role, TokenUsage
    from llmkit.models import LLMModel, LLMProvider, LLMRuntime, format_identifier, parse_identifier
    from llmkit.streaming import ResponseStream

_HOME = {
    "BaseLLM": "llmkit.base",
    "LLMConfig": "llmkit.config",
    "PricingConfig": "llmkit.config",
    "LLMFactory": "llmkit.factory",
    "ChunkResponse": "llmkit.messages",
    "CompleteResponse": "llmkit.messages",
    "FinishReason": "llmkit.messages",
    "Message": "llmkit.messages",
    "Role": "llmkit.messages",
    "TokenUsage": "llmkit.messages",
    "LLMModel": "llmkit.models",
    "LLMProvider": "llmkit.models",
    "LLMRuntime": "llmkit.models",
    "format_identifier": "llmkit.models",
    "parse_identifier": "llmkit.models",
    "ResponseStream": "llmkit.streaming",
}
_HOME.update(dict.fromkeys(
    ["AuthenticationError", "BudgetExceededError", "ConfigValidationError", "ConfigurationError", "ContextLengthError",
     "InvalidIdentifierError", "LLMError", "LLMTimeoutError", "ModelNotFoundError", "PermissionDeniedError",
     "ProviderError", "ProviderUnavailableError", "QuotaExceededError", "RateLimitError", "StreamError",
     "UnknownModelError"],
    "llmkit.errors",
))


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'llmkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "BaseLLM",
    "BudgetExceededError",
    "ChunkResponse",
    "CompleteResponse",
    "ConfigValidationError",
    "ConfigurationError",
    "ContextLengthError",
    "FinishReason",
    "InvalidIdentifierError",
    "LLMConfig",
    "LLMError",
    "LLMFactory",
    "LLMModel",
    "LLMProvider",
    "LLMRuntime",
    "LLMTimeoutError",
    "Message",
    "ModelNotFoundError",
    "PermissionDeniedError",
    "PricingConfig",
    "ProviderError",
    "ProviderUnavailableError",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseStream",
    "Role",
    "StreamError",
    "TokenUsage",
    "UnknownModelError",
    "__version__",
    "format_identifier",
    "parse_identifier",
]
