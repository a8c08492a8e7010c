"""Qualified ids: `<provider or cloud host>/<model>` reaches a model the catalog does not list, with no network.

A qualifier is a provider with an API of its own (`openai`, `anthropic`, `google`, `mistral`, `deepseek`, `zhipu`;
a provider's backend name, e.g. `gemini`, is accepted too) or a registered cloud Host, i.e. a Host with a base URL
of its own (`groq`, `deepinfra`, `together`, `fireworks`, `openrouter`, `cerebras`, or one registered with
`llmkit.backends.register_backend`). A catalogued model named through its provider (`openai/gpt-4o`) is the
catalog's entry; any other name becomes a model of its family (`llmkit.catalog.families`), whose maker is the
provider or, on a cloud host, inferred from the name as for local models. Whether the provider serves that name is
the provider's to say: an unknown name comes back from the first call as a typed error (NotFoundError).
"""

from __future__ import annotations

from collections.abc import Mapping

from llmkit.models import PROVIDER_BACKENDS, LLMModel, LLMProvider, LLMRuntime, ModelId

_BACKEND_PROVIDERS = {backend: provider for provider, backend in PROVIDER_BACKENDS.items()}


def cloud_hosts() -> list[str]:
    """Names of the registered backends whose Host has a base URL of its own (cloud APIs and clouds)."""
    from llmkit.backends import backends
    from llmkit.hosts import hosts

    registered = hosts()
    return sorted(name for name in backends() if name in registered and registered[name].base_url)


def qualifiers() -> list[str]:
    """Every accepted qualifier: the providers with an API of their own, then the other cloud hosts."""
    return [*PROVIDER_BACKENDS, *(h for h in cloud_hosts() if h not in _BACKEND_PROVIDERS)]


def qualified_model(parsed: ModelId, registered: Mapping[str, LLMModel]) -> LLMModel | None:
    """The model a qualified id names (see the module docstring); None when the qualifier is not known."""
    from llmkit.catalog.families import hosted_model

    qualifier = parsed.qualifier
    if qualifier is None or parsed.runtime is not LLMRuntime.API:
        return None
    provider_name = qualifier if qualifier in PROVIDER_BACKENDS else _BACKEND_PROVIDERS.get(qualifier)
    if provider_name is not None:
        backend = PROVIDER_BACKENDS[provider_name]
        catalogued = registered.get(parsed.name)
        if catalogued is not None and catalogued.backend == backend and catalogued.host_url is None:
            return catalogued
        return hosted_model(parsed.name, LLMProvider(provider_name), backend, alias=f"{provider_name}/{parsed.name}")
    if qualifier not in cloud_hosts():
        return None
    from llmkit.discovery.makers import infer_provider

    return hosted_model(parsed.name, infer_provider(parsed.name), qualifier)
