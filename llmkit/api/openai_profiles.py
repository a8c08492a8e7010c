"""Per-backend profiles of the OpenAI Chat Completions dialects (protocols.md §1, §4-§6, §8-§10).

Where a server is and how it is authorised is its Host (`llmkit.hosts`); how it speaks is its profile. Every server
that speaks Chat Completions differs in a handful of facts: the name of the output cap, whether
`seed` is called `random_seed`, whether `stream_options` is accepted, where cached tokens are reported, how the
thinking switch is spelled. A profile states those facts as data; `OpenAIChatLLM` reads them and never branches on
a provider name. A new dialect (a local runtime, a gateway) is one `register_openai_profile(...)` call.

Profiles are looked up by `LLMModel.backend` (see `llmkit.backends`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from llmkit.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class WireSwitch:
    """How a boolean control (`thinking_enabled`) is written: the JSON path it sets and the value for on/off.

    `WireSwitch(("thinking", "type"), "enabled", "disabled")` gives `{"thinking": {"type": "enabled"}}`;
    `WireSwitch(("chat_template_kwargs", "enable_thinking"), True, False)` gives the vLLM/llama.cpp form.
    """

    path: tuple[str, ...]
    on: Any = True
    off: Any = False

    def apply(self, body: dict[str, Any], enabled: bool) -> None:
        target = body
        for key in self.path[:-1]:
            target = target.setdefault(key, {})
        target[self.path[-1]] = self.on if enabled else self.off


def _frozen(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class OpenAIProfile:
    """The facts of one Chat Completions dialect. Defaults describe a plain, permissive OpenAI-compatible server."""

    name: str
    label: str  # how errors name the provider: "OpenAI", "Mistral", ...
    chat_path: str = "chat/completions"  # relative to the base URL
    max_tokens_field: str = "max_tokens"  # OpenAI: max_completion_tokens; Mistral rejects that one with 422
    seed_field: str | None = "seed"  # Mistral: random_seed; None: the API has no seed, never send it
    stream_usage_option: bool = True  # send stream_options.include_usage (Mistral answers 422 to it)
    reasoning_system_role: str | None = None  # role of the system prompt for reasoning models ("developer")
    reasoning_fields: tuple[str, ...] = ("reasoning_content", "reasoning")  # message/delta fields with thinking
    cached_token_paths: tuple[tuple[str, ...], ...] = (("prompt_tokens_details", "cached_tokens"),)
    cache_write_token_paths: tuple[tuple[str, ...], ...] = (("prompt_tokens_details", "cache_write_tokens"),)
    reasoning_token_paths: tuple[tuple[str, ...], ...] = (("completion_tokens_details", "reasoning_tokens"),)
    passthrough_params: tuple[str, ...] = ("reasoning_effort",)  # extra_params sent top-level as they are
    thinking_switch: WireSwitch | None = None  # how `thinking_enabled` goes on the wire; None: never sent
    image_url_as_string: bool = False  # Mistral documents `"image_url": "data:..."`; OpenAI an object {url}
    error_codes: Mapping[str, str] = field(default_factory=_frozen)  # provider error code -> llmkit error kind

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_codes", _frozen(self.error_codes))


_PROFILES: dict[str, OpenAIProfile] = {}


def register_openai_profile(profile: OpenAIProfile) -> OpenAIProfile:
    """Add or replace the profile of backend `profile.name`."""
    _PROFILES[profile.name] = profile
    return profile


def openai_profile(name: str) -> OpenAIProfile:
    """The profile for a backend name; ConfigurationError naming the known ones if there is none."""
    try:
        return _PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(_PROFILES))
        raise ConfigurationError(
            f"No OpenAI Chat Completions profile for backend {name!r}; known profiles: {known}",
            hint="register one with llmkit.api.openai_profiles.register_openai_profile",
        ) from None


def openai_profiles() -> dict[str, OpenAIProfile]:
    return dict(_PROFILES)


_THINKING_TYPE = WireSwitch(("thinking", "type"), "enabled", "disabled")

CLOUD_PROFILES = (
    OpenAIProfile(
        "openai", "OpenAI",
        max_tokens_field="max_completion_tokens",
        reasoning_system_role="developer",
    ),
    OpenAIProfile(
        "mistral", "Mistral",
        seed_field="random_seed",
        stream_usage_option=False,
        image_url_as_string=True,
        error_codes={"3051": "context_length"},
    ),
    OpenAIProfile(
        "deepseek", "DeepSeek",
        seed_field=None,
        cached_token_paths=(("prompt_cache_hit_tokens",), ("prompt_tokens_details", "cached_tokens")),
        thinking_switch=_THINKING_TYPE,
    ),
    OpenAIProfile(
        "zhipu", "Z.ai",
        seed_field=None,
        stream_usage_option=False,  # usage always arrives on the last chunk
        thinking_switch=_THINKING_TYPE,
        error_codes={"1261": "context_length", "1211": "not_found", "1113": "quota", "1304": "quota",
                     "1308": "quota", "1310": "quota"},
    ),
)

for _profile in CLOUD_PROFILES:
    register_openai_profile(_profile)

# Local runtimes (protocols.md §8-§10; their Hosts add `/v1` to a bare server URL): `max_tokens`; usage in
# streams only with include_usage (llama-cpp-python sends none: OpenAIChatLLM estimates it); thinking text
# from `reasoning_content` (llama.cpp, SGLang) or `reasoning` (vLLM, LM Studio gpt-oss); the thinking switch
# is the chat-template kwarg llama-server, vLLM and SGLang read (sent only if a model's schema offers
# `thinking_enabled`, which discovery does not claim on its own).
_ENABLE_THINKING = WireSwitch(("chat_template_kwargs", "enable_thinking"), True, False)

LOCAL_PROFILES = (
    OpenAIProfile("lmstudio", "LM Studio"),
    OpenAIProfile("openai-compatible", "OpenAI-compatible server", thinking_switch=_ENABLE_THINKING),
)

for _profile in LOCAL_PROFILES:
    register_openai_profile(_profile)
