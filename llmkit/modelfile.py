"""Your own models as data: entries of `models.yaml` in the llmkit config directory and inline eval-spec entries.

An entry defines a gateway model (or any model the catalog lacks) without code:

    models:
    - name: llama-3.3-70b              # the id the server expects
      backend: openai                  # openai | anthropic | gemini | ollama (any registered backend); default openai
      base_url: https://gw.example.com/v1
      api_key_env: GATEWAY_KEY         # the variable holding its key (default: the backend's own variables)
      provider: meta                   # who made the weights; default inferred from the name
      id: gw-llama                     # optional alias: the identifier (default <name>:api@<host>:<port>)
      pricing: {input_usd_per_mtok: 0.6, output_usd_per_mtok: 0.8, cached_input_usd_per_mtok: 0.3}
      context_window: 131072
      max_output_tokens: 8192

Two entries with one name on two base URLs are two models (identifier, cache key and per-host limit differ: see
`llmkit.hosts`). Without a price an entry is priced like any API model (genai-prices, else unknown, never $0).
The file is read by `LLMFactory` when it registers the packaged models (no network); a bad entry raises
ConfigurationError naming the file, line and entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llmkit import settings
from llmkit.config import PricingConfig
from llmkit.errors import ConfigurationError
from llmkit.models import PROVIDER_BACKENDS, LLMModel, LLMProvider, LLMRuntime

MODELS_FILE = "models.yaml"
_LOCAL_BACKENDS = {r.value: r for r in LLMRuntime if r.is_local}
_API_PROVIDER = {backend: provider for provider, backend in PROVIDER_BACKENDS.items()}


class ModelEntry(BaseModel):
    """One user-defined model (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^\S+$")
    backend: str = "openai"
    base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    provider: LLMProvider | None = None
    id: str | None = Field(default=None, min_length=1, pattern=r"^\S+$")
    pricing: PricingConfig | None = None
    context_window: Annotated[int, Field(gt=0)] | None = None
    max_output_tokens: Annotated[int, Field(gt=0)] | None = None

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from llmkit.backends import backends

        known = backends()
        if value not in known or value == "mock":
            raise ValueError(f"backend {value!r} is not one of {', '.join(sorted(set(known) - {'mock'}))}")
        return value

    def to_model(self) -> LLMModel:
        """The LLMModel this entry describes (schema from the model family, see llmkit.catalog.families)."""
        from llmkit.catalog.families import hosted_model
        from llmkit.discovery.makers import infer_provider
        from llmkit.hosts import normalise_host

        runtime = _LOCAL_BACKENDS.get(self.backend, LLMRuntime.API)
        if runtime is not LLMRuntime.API and not self.base_url:
            raise ConfigurationError(f"model {self.name!r}: a {self.backend} model needs its server's base_url")
        provider = self.provider or infer_provider(self.name)
        if provider is LLMProvider.OTHER and self.backend in _API_PROVIDER:
            provider = LLMProvider(_API_PROVIDER[self.backend])
        host = normalise_host(self.base_url) if self.base_url else None
        pricing = self.pricing.to_pricing() if self.pricing else None
        return hosted_model(
            self.name, provider, self.backend, alias=self.id, host_url=self.base_url, host=host,
            api_key_env=self.api_key_env, pricing=pricing, context_window=self.context_window,
            max_output_tokens=self.max_output_tokens, runtime=runtime, metadata={"defined_in": "models entry"})


def models_file() -> Path:
    """`$LLMKIT_CONFIG_DIR/models.yaml`, else `models.yaml` in the platform's user config directory for llmkit."""
    return settings.config_dir() / MODELS_FILE


def load_models_file(path: Path | None = None) -> list[LLMModel]:
    """The models a models file defines ([] when there is none); ConfigurationError naming file, line and entry."""
    path = path or models_file()
    try:
        present = path.is_file()
    except OSError:  # a config directory this user may not enter (another account's): no models file
        present = False
    if not present:
        return []
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot read the models file: {exc}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return []
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list) or set(data) != {"models"}:
        raise ConfigurationError(f"{path}: a models file is a mapping with one key, `models:`, holding a list",
                                 hint="see llmkit.modelfile for an example entry")
    lines = _entry_lines(root)
    return models_from_entries(entries, lambda i: f"{path}:{lines[i] if i < len(lines) else '?'}: models[{i}]")


def models_from_entries(entries: list[Any], where: Any) -> list[LLMModel]:
    """Validate entries into models; `where(i)` names entry i in errors. Two entries with one identifier (one
    name at two URLs of one host:port) are an error asking for an `id`."""
    models: list[LLMModel] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(entries):
        label = f"{where(index)}" + (f" ({raw.get('name')})" if isinstance(raw, dict) and raw.get("name") else "")
        try:
            model = ModelEntry.model_validate(raw).to_model()
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
            raise ConfigurationError(f"{label}: {problems}",
                                     hint="fields: " + ", ".join(ModelEntry.model_fields)) from None
        except ConfigurationError as exc:
            raise ConfigurationError(f"{label}: {exc.message}") from None
        if model.identifier in seen:
            raise ConfigurationError(f"{label}: identifier {model.identifier!r} is already defined by "
                                     f"{where(seen[model.identifier])}; give one of them an `id`")
        seen[model.identifier] = index
        models.append(model)
    return models


def _entry_lines(root: yaml.Node | None) -> list[int]:
    """1-based line of each item of the top-level `models:` list."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "models" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []
