"""The sweep spec: YAML validated by pydantic, with errors that name the file, line, field and what is allowed.

    name: quickstart
    models: ["echo:mock", {runtime: ollama}, "reasoner-*:mock"]
    configs: [{label: default}, {label: hot, temperature: 0.9}, {label: think, extra_params: {reasoning_effort: high}}]
    prompts: quickstart.jsonl        # or an inline list of {id, prompt, system, expected, metadata, messages, images}
    #        or {file: qa.csv | hf: NAME, config, split, columns: {id: qid, prompt: question}, template, limit,
    #            shuffle} — see llmkit.evals.datasets
    repeats: 2
    scorers: [contains, {regex: "\\\\bParis\\\\b"}, {python: "mypkg.scoring:judge"},
              {judge: {model: judge:mock, rubric: "Names the right city"}}]   # see llmkit.evals.judge
    concurrency: {default: 8, per_host: 2, per_model: {"gpt-4o": 4}}   # or just: 8
    rate_limits: {per_model: {"gpt-4o": 500}, per_host: {"localhost:11434": 60}}   # requests per minute
    max_cost_usd: 1.00
    skip_unavailable: false          # true: run without explicitly named models that cannot run (recorded)
    cache: false                     # true = default cache dir, a path = that dir
    output: runs                     # run directories go here (relative to the working directory)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from llmkit.config import LLMConfig
from llmkit.errors import ConfigurationError
from llmkit.evals.datasets import DatasetSpec, load_dataset_prompts
from llmkit.evals.prompts import PromptFileError, PromptRow, check_unique, decode_text, prompt_from_mapping
from llmkit.evals.scorers import parse_scorer
from llmkit.evals.yamlmarks import MarkedDict, load_marked, locate
from llmkit.modelfile import ModelEntry
from llmkit.models import LLMProvider, LLMRuntime


class SpecError(ConfigurationError):
    """A spec that cannot run; `str()` is one line: `file:line: field: problem (what is allowed)`."""


_Slots = Annotated[int, Field(ge=1, le=4096)]
_Rpm = Annotated[float, Field(gt=0, allow_inf_nan=False)]
MAX_SPEC_BYTES = 2 << 20  # a spec is settings; prompts in the megabytes belong in a data file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSelector(_Strict):
    """Every registered model matching all given keys. Only available models (key set, server up) are
    included unless `include_unavailable: true`."""

    runtime: LLMRuntime | None = None
    provider: LLMProvider | None = None
    pattern: str | None = Field(default=None, description="glob over identifiers, e.g. 'reasoner-*:mock'")
    include_unavailable: bool = False

    @model_validator(mode="after")
    def _not_empty(self) -> ModelSelector:
        if self.runtime is None and self.provider is None and self.pattern is None:
            raise ValueError("a model selector needs runtime, provider or pattern")
        return self


def _model_kind(value: Any) -> str:
    """A mapping with a `name` defines a model of one's own; any other mapping selects registered models."""
    if isinstance(value, str):
        return "id"
    if isinstance(value, ModelEntry) or (isinstance(value, Mapping) and "name" in value):
        return "entry"
    return "selector"


_ModelItem = Annotated[Annotated[str, Tag("id")] | Annotated[ModelSelector, Tag("selector")]
                       | Annotated[ModelEntry, Tag("entry")], Discriminator(_model_kind)]


class ConfigSpec(_Strict):
    """A labelled LLMConfig override; every other key is an LLMConfig field."""

    label: str = Field(pattern=r"^[A-Za-z0-9_.\-+=]+$")
    config: LLMConfig = Field(default_factory=LLMConfig)

    @model_validator(mode="before")
    @classmethod
    def _split(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "config" not in data:
            rest = {k: v for k, v in data.items() if k != "label"}
            return {"label": data.get("label"), "config": rest}
        return data


class ConcurrencySpec(_Strict):
    """Rows in flight: `default` in total, `per_host` for each host (an int for every host, or a mapping of host
    key -> int with an optional "*"), `per_model` by identifier. Local runtimes default to 2 per host."""

    default: int = Field(default=8, ge=1, le=4096)
    per_host: _Slots | dict[str, _Slots] | None = None
    per_model: dict[str, _Slots] = Field(default_factory=dict)


class RateLimitSpec(_Strict):
    """Requests per minute, per host (int for every host, or a mapping with optional "*") and per model."""

    per_host: _Rpm | dict[str, _Rpm] | None = None
    per_model: _Rpm | dict[str, _Rpm] | None = None


class PromptSpec(_Strict):
    id: str | int | None = None
    prompt: str | None = None
    system: str | None = None
    expected: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    messages: list[dict[str, Any]] | None = None
    images: list[str] | None = None


class EvalSpec(_Strict):
    """A sweep: models × configs × prompts × repeats."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", description="letters, digits, '.', '_' or '-'")
    description: str | None = None
    models: list[_ModelItem] = Field(min_length=1)
    configs: list[ConfigSpec] = Field(default_factory=lambda: [ConfigSpec(label="default")], min_length=1)
    prompts: str | list[PromptSpec] | DatasetSpec
    repeats: int = Field(default=1, ge=1, le=10_000)
    scorers: list[str | dict[str, Any]] = Field(default_factory=list)
    concurrency: _Slots | ConcurrencySpec = 8
    rate_limits: RateLimitSpec | None = None
    max_cost_usd: Decimal | None = Field(default=None, ge=0)
    skip_unavailable: bool = False
    cache: bool | str = False
    output: str = "runs"
    stream: bool = True
    exclude_errors: bool = False  # score means over successful calls only (default: an error row scores 0)

    @field_validator("configs")
    @classmethod
    def _unique_labels(cls, value: list[ConfigSpec]) -> list[ConfigSpec]:
        labels = [c.label for c in value]
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        if dupes:
            raise ValueError(f"config labels must be unique; repeated: {', '.join(dupes)}")
        return value

    @field_validator("scorers")
    @classmethod
    def _scorers_parse(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        base = (info.context or {}).get("base")  # the spec's directory: python scorers are imported from there
        for entry in value:
            parse_scorer(entry, base)
        return value

    @field_validator("models")
    @classmethod
    def _model_strings(cls, value: list[Any]) -> list[Any]:
        from llmkit.models import parse_identifier

        for item in value:
            if isinstance(item, str) and not _is_glob(item):
                parse_identifier(item)  # InvalidIdentifierError is a ValueError: reported with the line
        return value

    @property
    def concurrency_spec(self) -> ConcurrencySpec:
        return self.concurrency if isinstance(self.concurrency, ConcurrencySpec) else ConcurrencySpec(
            default=self.concurrency)


def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


@dataclass
class SpecFile:
    """A validated spec with where it came from, so later problems (an unknown model) can name the line."""

    spec: EvalSpec
    path: Path | None
    raw: Any = None
    prompts: list[PromptRow] = field(default_factory=list)

    def where(self, *loc: Any) -> str:
        line, found = locate(self.raw, loc)
        name = str(self.path) if self.path else "<spec>"
        path = _loc_text(found or list(loc))
        return f"{name}:{line}: {path}" if line else f"{name}: {path}"


def _loc_text(loc: list[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "spec"


_ALLOWED_FIELDS: dict[str, str] = {
    "": ", ".join(EvalSpec.model_fields),
    "configs": "label, " + ", ".join(LLMConfig.model_fields),
    "models": "a model id, a glob like 'reasoner-*:mock', {runtime, provider, pattern, include_unavailable}, or a "
              "model of your own {name, backend, base_url, api_key_env, provider, id, pricing, context_window, "
              "max_output_tokens}",
    "concurrency": "an int, or {default, per_host, per_model}",
    "rate_limits": "per_host, per_model (requests per minute)",
    "prompts": "a file path, {file | hf, config, split, columns, template, limit, shuffle}, or a list of "
               "{id, prompt, system, expected, metadata, messages, images}",
}


def _errors(exc: ValidationError) -> list[Any]:
    """pydantic's errors, with an LLMConfig's own errors (raised from its __init__) at their full location."""
    out: list[Any] = []
    for err in exc.errors():
        cause = getattr(err.get("ctx", {}).get("error"), "__cause__", None)
        if err["type"] == "value_error" and isinstance(cause, ValidationError):
            out += [{**inner, "loc": (*err["loc"], *inner["loc"])} for inner in cause.errors()]
        else:
            out.append(err)
    return out


def _format_error(path: Path | None, raw: Any, exc: ValidationError) -> str:
    errors = _errors(exc)
    err = max(errors, key=lambda e: (len(locate(raw, e["loc"])[1]), not str(e["type"]).endswith("_type")))
    loc = list(err["loc"])
    line, found = locate(raw, loc)
    where = f"{path or '<spec>'}:{line}" if line else str(path or "<spec>")
    message = str(err["msg"]).removeprefix("Value error, ")
    kind = err["type"]
    top = str(found[0]) if found else ""
    if kind == "extra_forbidden":
        key = loc[-1]
        message = f"unknown field {key!r}; allowed: {_ALLOWED_FIELDS.get(top if len(found) > 1 else '', '?')}"
        found = found[:-1] or found
    elif kind == "missing":
        message = f"missing required field {loc[-1]!r}"
        found = [*found, loc[-1]] if loc[-1] not in found else found
    elif kind in ("union_tag_invalid", "model_type", "dict_type", "string_type", "model_attributes_type") \
            and top in _ALLOWED_FIELDS:
        message = f"{message}; allowed: {_ALLOWED_FIELDS[top]}"
    elif kind == "enum":
        message = message.replace("Input should be", "must be")
    return f"{where}: {_loc_text(found)}: {message}"


def parse_spec(data: Any, path: Path | None = None) -> SpecFile:
    """Validate already-parsed spec data (a dict, or MarkedDict from `load_spec`)."""
    if not isinstance(data, Mapping):
        raise SpecError(f"{path or '<spec>'}: a spec is a YAML mapping with name, models, prompts, ... "
                        f"(allowed fields: {_ALLOWED_FIELDS['']})")
    try:
        spec = EvalSpec.model_validate(data, context={"base": path.parent if path else None})
    except ValidationError as exc:
        raise SpecError(_format_error(path, data, exc)) from None
    spec_file = SpecFile(spec, path, data)
    spec_file.prompts = _load_prompts(spec_file)
    return spec_file


def _load_prompts(spec_file: SpecFile) -> list[PromptRow]:
    from llmkit.evals.prompts import load_prompt_file, resolve_prompt_path

    prompts = spec_file.spec.prompts
    base = spec_file.path.parent if spec_file.path else None
    try:
        if isinstance(prompts, str):
            return load_prompt_file(resolve_prompt_path(prompts, base))
        if isinstance(prompts, DatasetSpec):
            return load_dataset_prompts(prompts, base, spec_file.where)
        rows = [prompt_from_mapping(p.model_dump(exclude_none=True), i, spec_file.where("prompts", i - 1), base)
                for i, p in enumerate(prompts, 1)]
        return check_unique(rows, spec_file.where("prompts"))
    except PromptFileError as exc:
        if isinstance(prompts, str):
            raise SpecError(f"{spec_file.where('prompts')}: {exc.message}") from None
        raise SpecError(exc.message) from None


def load_spec(source: str | Path | Mapping[str, Any]) -> SpecFile:
    """Read and validate a spec from a YAML file path (or a dict); raises SpecError with one actionable line."""
    import yaml

    if isinstance(source, Mapping):
        return parse_spec(dict(source), None)
    path = Path(source)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)  # bounded: a device or a huge file cannot fill memory
        if len(data) > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: the spec is larger than {MAX_SPEC_BYTES >> 20} MB; put prompts in a data "
                            "file (prompts: file.jsonl)")
        text = decode_text(data, path)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read spec ({exc.strerror or exc})") from None
    except PromptFileError as exc:
        raise SpecError(exc.message) from None
    try:
        data = load_marked(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}{line}: YAML syntax error: {problem}") from None
    if data is None:
        raise SpecError(f"{path}: the spec is empty; start from evals/quickstart.yaml")
    if isinstance(data, MarkedDict) and "name" not in data:
        data["name"] = re.sub(r"[^A-Za-z0-9_.\-]", "-", path.stem)
    return parse_spec(data, path)
