"""Scorers: each turns a row's output into a number in a `score_<name>` column.

Built in (`scorers:` entries in a spec):
- `exact` — 1.0 when the output, stripped, equals `expected` (case-insensitive); NaN when there is no expected.
- `contains` — 1.0 when `expected` (or any item of an expected list) occurs in the output, case-insensitive.
- `regex` / `{regex: "pattern"}` — 1.0 when the pattern matches the output (re.search); without a pattern it uses
  `expected` as the pattern.
- `numeric` / `{numeric: {tolerance: 0.01}}` — 1.0 when the last number in the output is within `tolerance`
  (absolute, default 1e-6) of `expected`; 0.0 when it is not or there is no number; NaN when `expected`
  holds no number.
- `json_valid` — 1.0 when the output (or a fenced ```json block in it) parses as JSON.
- `{python: "module:function"}` — your function, called as `function(output, expected, row)` (it may accept
  fewer positional parameters); it returns a number or bool (None means "not applicable": NaN). The module is
  imported from the spec's directory first, then from the usual `sys.path`.
- `{judge: {model: MODEL_ID, rubric: "..."}}` — a model grades each answer (`score_judge`, `judge_explanation`,
  the judge's tokens and cost); `pairwise: true` compares with a baseline model. See `llmkit.evals.judge`.
Any entry may add `name:` to choose the column name. A scorer that raises gives NaN and the error text in the
row's `score_error` column; the sweep goes on. Error rows (the model call failed) are not scored.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from llmkit.evals.judge import JudgeScorer, parse_judge

NAN = float("nan")
BUILTIN = ("exact", "contains", "regex", "numeric", "json_valid", "python", "judge")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)

ScoreFn = Callable[[str, Any, Mapping[str, Any]], float]


@dataclass(frozen=True, slots=True)
class Scorer:
    """A named scoring function; `column` is the DataFrame column it fills."""

    name: str
    fn: ScoreFn

    @property
    def column(self) -> str:
        return f"score_{self.name}"

    def renamed(self, name: str) -> Scorer:
        return replace(self, name=name)


AnyScorer = Scorer | JudgeScorer  # plain scorers are sync and fast; a judge awaits a model call


def _expected_list(expected: Any) -> list[str] | None:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return None
    if isinstance(expected, (list, tuple)):
        return [str(e) for e in expected]
    return [str(expected)]


def _exact(output: str, expected: Any, row: Mapping[str, Any]) -> float:
    wanted = _expected_list(expected)
    if wanted is None:
        return NAN
    return float(output.strip().casefold() in {w.strip().casefold() for w in wanted})


def _contains(output: str, expected: Any, row: Mapping[str, Any]) -> float:
    wanted = _expected_list(expected)
    if wanted is None:
        return NAN
    text = output.casefold()
    return float(any(w.casefold() in text for w in wanted))


def _regex(pattern: str | None) -> ScoreFn:
    compiled = re.compile(pattern) if pattern else None

    def score(output: str, expected: Any, row: Mapping[str, Any]) -> float:
        if compiled is not None:
            return float(compiled.search(output) is not None)
        wanted = _expected_list(expected)
        if wanted is None:
            return NAN
        return float(any(re.search(w, output) for w in wanted))

    return score


def last_number(text: str) -> float | None:
    """The last number written in text ("1,234.5" counts as 1234.5), or None."""
    found = _NUMBER.findall(text)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def _numeric(tolerance: float) -> ScoreFn:
    def score(output: str, expected: Any, row: Mapping[str, Any]) -> float:
        wanted = _expected_list(expected)
        if wanted is None:
            return NAN
        targets = [t for t in (last_number(str(w)) for w in wanted) if t is not None]
        if not targets:
            return NAN  # a non-numeric expected answer: not applicable
        got = last_number(output)
        if got is None:
            return 0.0
        return float(any(abs(got - t) <= tolerance for t in targets))

    return score


def _json_valid(output: str, expected: Any, row: Mapping[str, Any]) -> float:
    candidates = [output.strip(), *(m.strip() for m in _FENCE.findall(output))]
    for text in candidates:
        try:
            json.loads(text)
            return 1.0
        except (json.JSONDecodeError, ValueError):
            continue
    return 0.0


def _import(module_name: str, base: Path | None) -> Any:
    """The module, from `base` (the spec's directory) when it is there, else from the usual sys.path. A single
    file there (`scoring.py`) is loaded under a private name keyed by its path, so two studies may each have a
    `scoring.py` and neither shadows a module of the same name that other code uses."""
    top = module_name.split(".")[0]
    if base is not None and "." not in module_name and (base / f"{top}.py").is_file():
        return _load_file((base / f"{top}.py").resolve())
    if base is None or not (base / top / "__init__.py").is_file():
        return importlib.import_module(module_name)
    root = str(base.resolve())  # a package in the spec's directory: imported by its own name
    cached = sys.modules.get(top)
    where = str(getattr(cached, "__file__", "") or "") if cached is not None else root
    if not where.startswith(root):  # never swap a module other code already uses
        raise ImportError(f"a module named {top!r} is already imported from {where or 'a built-in'}; rename "
                          f"{base / top}")
    sys.path.insert(0, root)
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.remove(root)


def _load_file(path: Path) -> Any:
    name = f"_llmkit_scorer_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}_{path.stem}"
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _python(target: str, base: Path | None = None) -> tuple[str, ScoreFn]:
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"python scorer {target!r} must be 'module:function'")
    try:
        fn = getattr(_import(module_name, base), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"python scorer {target!r} cannot be imported ({exc})") from None
    if not callable(fn):
        raise ValueError(f"python scorer {target!r} is not callable")
    arity = _positional_arity(fn)

    def score(output: str, expected: Any, row: Mapping[str, Any]) -> float:
        value = fn(*(output, expected, row)[:arity])
        return NAN if value is None else float(value)

    return attr, score


def _positional_arity(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 3
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 3
    return min(3, sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))) or 1


def parse_scorer(entry: Any, base: Path | None = None) -> AnyScorer:
    """Build a scorer from a spec entry (a name or a one-key mapping plus optional `name`); ValueError if bad.
    `base` is the spec's directory, where `{python: ...}` modules are looked for first."""
    allowed = "exact, contains, regex, numeric, json_valid, {regex: PATTERN}, {numeric: {tolerance: X}}, " \
              "{python: 'module:function'}, {judge: {model: MODEL_ID, rubric: '...'}}"
    if isinstance(entry, str):
        kind, arg, name = entry, None, None
    elif isinstance(entry, Mapping):
        options = dict(entry)
        name = options.pop("name", None)
        if len(options) != 1:
            raise ValueError(f"a scorer mapping needs exactly one kind key; allowed: {allowed}")
        kind, arg = next(iter(options.items()))
    else:
        raise ValueError(f"a scorer is a name or a mapping; allowed: {allowed}")
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_]+", str(name)):
        raise ValueError(f"scorer name {name!r} must be letters, digits or _")
    if kind == "exact":
        return Scorer(name or "exact", _exact)
    if kind == "contains":
        return Scorer(name or "contains", _contains)
    if kind == "json_valid":
        return Scorer(name or "json_valid", _json_valid)
    if kind == "regex":
        try:
            return Scorer(name or "regex", _regex(str(arg) if arg is not None else None))
        except re.error as exc:
            raise ValueError(f"regex scorer pattern {arg!r} is invalid: {exc}") from None
    if kind == "numeric":
        tolerance = 1e-6
        if isinstance(arg, Mapping):
            tolerance = float(arg.get("tolerance", tolerance))
        elif arg is not None:
            tolerance = float(arg)
        return Scorer(name or "numeric", _numeric(tolerance))
    if kind == "python":
        attr, fn = _python(str(arg), base)
        return Scorer(str(name or attr), fn)
    if kind == "judge":
        return parse_judge(arg, name)
    raise ValueError(f"unknown scorer {kind!r}; allowed: {allowed}")


def unique_scorers(scorers: list[AnyScorer]) -> list[AnyScorer]:
    """Rename duplicates (regex, regex_2, ...) so every scorer has its own column."""
    seen: dict[str, int] = {}
    out: list[AnyScorer] = []
    for scorer in scorers:
        count = seen.get(scorer.name, 0) + 1
        seen[scorer.name] = count
        out.append(scorer if count == 1 else scorer.renamed(f"{scorer.name}_{count}"))
    return out


def score_row(scorers: list[Scorer], output: str, expected: Any, row: Mapping[str, Any]) -> tuple[dict[str, float],
                                                                                                      str | None]:
    """All scores of one row, and the joined error text of scorers that raised (their score is NaN)."""
    scores: dict[str, float] = {}
    errors: list[str] = []
    for scorer in scorers:
        try:
            scores[scorer.column] = scorer.fn(output, expected, row)
        except Exception as exc:  # a scorer's bug must not stop the sweep
            scores[scorer.column] = NAN
            errors.append(f"{scorer.name}: {type(exc).__name__}: {exc}")
    return scores, "; ".join(errors) or None
