"""The plan of a sweep: which models and configs run (and which are skipped, why), the rows, and what they
should cost, computed without calling any model.

Estimates (also used by the runner's budget cap):
- input tokens: `llmkit.tokens.count_message_tokens` over the system prompt (the prompt row's, else the config's
  system_message) and the prompt — exactly what MOCK bills, within ~10-25% of real tokenizers.
- output tokens: the backend's `BaseLLM.estimate_output_tokens(model, config, prompt)`: exact for MOCK, else
  `min(max_tokens, 256)` for ordinary models and `min(max_tokens, 1024)` for models with the `reasoning`
  capability, where max_tokens is the config's or the model's output cap. A rough guess for real models: treat
  it as an order of magnitude and cap spending with `max_cost_usd`.
- cost: `effective_pricing(model, config)` (LLMConfig.pricing, else the catalog's) applied to those tokens.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from llmkit.backends import get_backend
from llmkit.base import BaseLLM
from llmkit.billing import effective_pricing
from llmkit.config import LLMConfig
from llmkit.errors import ConfigurationError, ConfigValidationError, InvalidIdentifierError, UnknownModelError
from llmkit.evals.judge import JudgeScorer
from llmkit.evals.prompts import PromptRow
from llmkit.evals.row import RowKey
from llmkit.evals.scorers import AnyScorer, parse_scorer, unique_scorers
from llmkit.evals.spec import ModelSelector, SpecError, SpecFile
from llmkit.factory import LLMFactory, ResolvedConfig
from llmkit.modelfile import ModelEntry
from llmkit.models import LLMModel, lifecycle, status_text
from llmkit.tokens import count_message_tokens


@dataclass(frozen=True, slots=True)
class Variant:
    """One model with one resolved config: the unit a sweep runs every prompt through."""

    model: LLMModel
    label: str
    config: LLMConfig
    config_json: str
    host_key: str
    unavailable: str | None = None  # set only in dry-run plans: why this variant cannot run now
    resolved: ResolvedConfig | None = None  # model + config validated once, so the runner's create_llm skips it


@dataclass(frozen=True, slots=True)
class Skipped:
    model: str
    config_label: str
    reason: str
    unavailable: bool = False  # a model that could not run at all (a run with one says `completed with skips`)


@dataclass(frozen=True, slots=True)
class Task:
    """One row to produce."""

    variant: Variant
    prompt: PromptRow
    repeat: int
    estimate_usd: Decimal
    input_tokens: int = 0  # the counted estimate (0 without estimates): the budget learns its ratio to real usage

    @property
    def key(self) -> RowKey:
        return RowKey(self.variant.model.identifier, self.variant.label, self.prompt.id, self.repeat)


@dataclass
class Estimate:
    rows: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)


@dataclass
class Plan:
    spec_file: SpecFile
    models: list[LLMModel]
    variants: list[Variant]
    skipped: list[Skipped]
    prompts: list[PromptRow]
    repeats: int
    notes: list[str] = field(default_factory=list)
    judge_usd: Decimal = Decimal(0)  # dry runs: the judges' estimated cost (pairwise judges not included)
    _costs: dict[tuple[int, int], tuple[int, int, Decimal]] = field(default_factory=dict, repr=False)

    @property
    def total_rows(self) -> int:
        return len(self.variants) * len(self.prompts) * self.repeats

    def estimate_for(self, v: int, p: int) -> tuple[int, int, Decimal]:
        """(input tokens, output tokens, USD) of one call of variant v on prompt p."""
        hit = self._costs.get((v, p))
        if hit is None:
            hit = estimate_call(self.variants[v], self.prompts[p])
            self._costs[(v, p)] = hit
        return hit

    def tasks(self, *, estimates: bool = True) -> Iterator[Task]:
        """Rows in run order: repeat, then prompt, then model×config — so a stopped run has whole prompts
        across all models (usable for paired comparisons) rather than whole models. Without `estimates`
        (no budget cap) every task's estimate is 0, which saves the estimating work."""
        none = (0, 0, Decimal(0))
        for repeat in range(self.repeats):
            for p, prompt in enumerate(self.prompts):
                for v, variant in enumerate(self.variants):
                    tokens_in, _, cost = self.estimate_for(v, p) if estimates else none
                    yield Task(variant, prompt, repeat, cost, tokens_in)

    def estimates(self) -> dict[tuple[str, str], Estimate]:
        """Estimated rows, tokens and cost per (model, config label), in plan order."""
        out: dict[tuple[str, str], Estimate] = {}
        for v, variant in enumerate(self.variants):
            est = out.setdefault((variant.model.identifier, variant.label), Estimate())
            for p in range(len(self.prompts)):
                tokens_in, tokens_out, cost = self.estimate_for(v, p)
                est.rows += self.repeats
                est.input_tokens += tokens_in * self.repeats
                est.output_tokens += tokens_out * self.repeats
                est.cost_usd += cost * self.repeats
        return out

    def total_estimate(self) -> Estimate:
        total = Estimate()
        for est in self.estimates().values():
            total.rows += est.rows
            total.input_tokens += est.input_tokens
            total.output_tokens += est.output_tokens
            total.cost_usd += est.cost_usd
        return total


def estimate_call(variant: Variant, prompt: PromptRow) -> tuple[int, int, Decimal]:
    from llmkit.pricing import estimate_cost

    model, config = variant.model, variant.config
    system = prompt.system or config.system_message
    tokens_in = count_message_tokens([system, prompt.prompt] if system else [prompt.prompt])
    tokens_out = estimate_output_tokens(model, config, prompt.prompt)
    return tokens_in, tokens_out, estimate_cost(effective_pricing(model, config), tokens_in, tokens_out)


def estimate_output_tokens(model: LLMModel, config: LLMConfig, prompt: str) -> int:
    """The backend's estimate (`BaseLLM.estimate_output_tokens`); a backend that cannot load gets the default."""
    try:
        backend = get_backend(model.backend).load_class()
    except ConfigurationError:
        return BaseLLM.estimate_output_tokens(model, config, prompt)
    return int(backend.estimate_output_tokens(model, config, prompt))


def host_key(model: LLMModel) -> str:
    """What a per-host limit applies to: the `host:port` requests go to (the model's Host), or 'mock'."""
    from llmkit.hosts import host_for

    return host_for(model).host_key()


def config_json(label: str, config: LLMConfig) -> str:
    return json.dumps(config.output_params(), sort_keys=True, default=str, ensure_ascii=False)


def _match_selector(selector: ModelSelector, models: Sequence[LLMModel]) -> list[LLMModel]:
    return [m for m in models
            if (selector.runtime is None or m.runtime is selector.runtime)
            and (selector.provider is None or m.provider is selector.provider)
            and (selector.pattern is None or fnmatch.fnmatchcase(m.identifier, selector.pattern))]


SKIP_HINT = "or run the rest with --skip-unavailable (spec: skip_unavailable: true)"


def register_inline_models(spec_file: SpecFile) -> dict[int, LLMModel]:
    """Register the spec's own model entries ({name, base_url, ...}, llmkit.modelfile) so the runner's
    `create_llm(identifier)` finds them; by position in `models:`. A bad entry is a SpecError naming its line."""
    inline: dict[int, LLMModel] = {}
    for index, entry in enumerate(spec_file.spec.models):
        if isinstance(entry, ModelEntry):
            try:
                inline[index] = LLMFactory.register_model(entry.to_model())
            except ConfigurationError as exc:
                raise SpecError(f"{spec_file.where('models', index)}: {exc}") from None
    return inline


@dataclass
class ResolvedModels:
    """The models a spec names, in order; `explicit` maps a model named by its id to where it was named."""

    models: list[LLMModel] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    explicit: dict[str, str] = field(default_factory=dict)
    unknown: list[Skipped] = field(default_factory=list)  # unknown ids, skipped with skip_unavailable


def resolve_models(entries: Sequence[str | ModelSelector | ModelEntry], spec_file: SpecFile, *, from_cli: bool = False,
                   skip_unavailable: bool = False) -> ResolvedModels:
    """Models named by ids, globs, selectors and inline entries, in order, de-duplicated; plus notes about empty
    selectors. An unknown explicit id is a SpecError naming its line (or `--models`), unless `skip_unavailable`."""
    inline = register_inline_models(spec_file)
    registered = LLMFactory.list_models()
    chosen: dict[str, LLMModel] = {}
    out = ResolvedModels()
    notes = out.notes
    for index, entry in enumerate(entries):
        where = f"--models {entry}" if from_cli else spec_file.where("models", index)
        if isinstance(entry, ModelEntry):
            model = inline[index] if not from_cli else LLMFactory.register_model(entry.to_model())
            chosen.setdefault(model.identifier, model)
            out.explicit.setdefault(model.identifier, where)
            continue
        if isinstance(entry, str) and not any(c in entry for c in "*?["):
            try:
                model = LLMFactory.get_model(entry)
            except (UnknownModelError, InvalidIdentifierError) as exc:
                if not skip_unavailable:
                    raise SpecError(f"{where}: {exc}; {SKIP_HINT}") from None
                out.unknown.append(Skipped(entry, "*", f"unavailable: {exc}", unavailable=True))
                continue
            chosen.setdefault(model.identifier, model)
            out.explicit.setdefault(model.identifier, where)
            continue
        selector = entry if isinstance(entry, ModelSelector) else ModelSelector(pattern=entry)
        matched = _match_selector(selector, registered)
        if not selector.include_unavailable:
            matched = [m for m in matched if LLMFactory.availability(m.identifier)]
        if not matched:
            notes.append(f"{where}: matched no available model")
        for model in matched:
            chosen.setdefault(model.identifier, model)
    out.models = list(chosen.values())
    return out


def parse_cli_models(values: Sequence[str]) -> list[str | ModelSelector]:
    """`--models a,b "reasoner-*:mock" runtime=ollama provider=anthropic`."""
    out: list[str | ModelSelector] = []
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            key, sep, rest = item.partition("=")
            if sep and key in ("runtime", "provider", "pattern"):
                try:
                    out.append(ModelSelector.model_validate({key: rest}))
                except ValueError as exc:
                    raise SpecError(f"--models {item}: {str(exc).splitlines()[-1].strip()}") from None
            else:
                out.append(item)
    return out


def build_plan(spec_file: SpecFile, *, models: Sequence[str | ModelSelector | ModelEntry] | None = None,
               model_ids: Sequence[str] | None = None, estimate_unavailable: bool = False,
               skip_unavailable: bool | None = None) -> Plan:
    """Resolve models and configs. `models` overrides the spec's list (CLI --models); `model_ids` pins the
    exact models of an earlier run (resume). A model named by its id that cannot run now (no key, unknown id)
    is a SpecError naming what to set, unless `skip_unavailable` (default: the spec's field): then it is skipped
    with the reason, as a model matched by a selector with `include_unavailable` is. With `estimate_unavailable`
    (dry runs) an unavailable model stays in the plan, marked, so its cost is estimated."""
    spec = spec_file.spec
    skip = spec.skip_unavailable if skip_unavailable is None else skip_unavailable
    if model_ids is not None:
        register_inline_models(spec_file)
        try:
            found = ResolvedModels(models=[LLMFactory.get_model(m) for m in model_ids],
                                   explicit=dict.fromkeys(model_ids, "resume"))
        except (UnknownModelError, InvalidIdentifierError) as exc:
            raise SpecError(f"resume: a model of this run is no longer available: {exc}") from None
    else:
        found = resolve_models(models if models is not None else spec.models, spec_file,
                               from_cli=models is not None, skip_unavailable=skip)
    resolved, notes = found.models, found.notes
    notes += [note for note in map(lifecycle_note, resolved) if note]
    variants: list[Variant] = []
    skipped: list[Skipped] = list(found.unknown)
    for model in resolved:
        available = LLMFactory.availability(model.identifier)
        where = found.explicit.get(model.identifier)
        if not available and where is not None and not (skip or estimate_unavailable):
            raise SpecError(f"{where}: {model.identifier} cannot run: {available.reason}; {SKIP_HINT}")
        for index, entry in enumerate(spec.configs):
            reason = None if available else f"unavailable: {available.reason}"
            if reason:
                skipped.append(Skipped(model.identifier, entry.label, reason, unavailable=True))
                if not estimate_unavailable:
                    continue
            try:
                checked = LLMFactory.resolve(model.identifier, entry.config)
            except ConfigValidationError as exc:
                skipped.append(Skipped(model.identifier, entry.label, exc.message))
                continue
            except Exception as exc:
                raise SpecError(f"{spec_file.where('configs', index)}: {exc}") from None
            config = checked.config
            variants.append(Variant(model, entry.label, config, config_json(entry.label, config), host_key(model),
                                    reason, checked))
    return Plan(spec_file, resolved, variants, skipped, list(spec_file.prompts), spec.repeats, notes)


def lifecycle_note(model: LLMModel) -> str | None:
    """A note for a model that is deprecated or retired by the catalog's dates (None for the others): a sweep's
    numbers are only comparable while its models answer, so the plan says when one will stop or has stopped."""
    status = lifecycle(model)
    if status not in ("deprecated", "retired"):
        return None
    replacement = model.metadata.get("replacement")
    note = f"{model.identifier} is {status_text(model)}"
    if status == "retired":
        note += "; the provider may refuse its calls or answer them with another model"
    return note + (f"; replacement: {replacement}" if replacement else "")


def describe_model(model: LLMModel) -> dict[str, Any]:
    """What run.json records about a model (no secrets: ids, runtime, host, prices)."""
    rates = model.pricing.rates if model.pricing else None
    return {
        "id": model.identifier, "name": model.name, "provider": model.provider.value,
        "runtime": model.runtime.value, "host": model.host, "backend": model.backend,
        "pricing_usd_per_mtok": None if rates is None else {
            "input": str(rates.input), "output": str(rates.output),
            "cached_input": None if rates.cached_input is None else str(rates.cached_input)},
        "pricing_illustrative": bool(model.pricing and model.pricing.illustrative),
    }


def plan_scorers(spec_file: SpecFile) -> list[AnyScorer]:
    """The spec's scorers (python modules looked for in its directory first); a judge model that cannot run
    stops the run before any call, as an explicitly named model does."""
    base = spec_file.path.parent if spec_file.path else None
    scorers = unique_scorers([parse_scorer(s, base) for s in spec_file.spec.scorers])
    for index, scorer in enumerate(scorers):
        if not isinstance(scorer, JudgeScorer):
            continue
        where = spec_file.where("scorers", index)
        try:
            LLMFactory.get_model(scorer.model)
        except (UnknownModelError, InvalidIdentifierError) as exc:
            raise SpecError(f"{where}: judge model: {exc}") from None
        available = LLMFactory.availability(scorer.model)
        if not available:
            raise SpecError(f"{where}: judge model {scorer.model} cannot run: {available.reason}")
        try:
            LLMFactory.resolve(scorer.model, dict(scorer.config) or None)
        except ConfigurationError as exc:
            raise SpecError(f"{where}: judge config: {exc}") from None
    return scorers
