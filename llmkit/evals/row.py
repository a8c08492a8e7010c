"""The eval row: one typed record per (model, config, prompt, repeat), and everything derived from it — the
rows.jsonl object (`to_json` / `from_json`), the DataFrame's columns and dtypes (`COLUMNS`, `rows_frame`), the
identity resume and de-duplication use (`RowKey`), and the compare view's rows.

The fixed columns and their dtypes come from the field annotations, so adding a field adds a column. Two parts
are dynamic: `scores` (`score_<name>` columns, float64) and the prompt row's `metadata` (`meta_<key>` columns,
dtype inferred). Costs are Decimal in Python, Decimal strings on disk and float64 in the DataFrame; an unknown
price is None on disk and NaN in the DataFrame, never 0.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from llmkit.messages import CompleteResponse

SCORE_PREFIX = "score_"
META_PREFIX = "meta_"


class RowKey(NamedTuple):
    """The identity of a row: the last line per key wins on load, and resume skips keys already finished."""

    model: str
    config_label: str
    prompt_id: str
    repeat: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> RowKey:
        """The key of a rows.jsonl object; KeyError / TypeError / ValueError when it has none (not a row)."""
        repeat = row["repeat"]
        if isinstance(repeat, bool) or not isinstance(repeat, int):
            raise TypeError(f"repeat must be an integer, got {type(repeat).__name__}")
        return cls(_text(row["model"]), _text(row["config_label"]), _text(row["prompt_id"]), repeat)


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return str(value)


@dataclass(slots=True, kw_only=True)
class EvalRow:
    """One call of a sweep (or one card of the compare view) and what came back; an error is a row too."""

    run_id: str = ""
    model: str
    provider: str = ""
    runtime: str = ""
    host: str = ""
    config_label: str
    config: str = "{}"
    prompt_id: str = ""
    prompt: str = ""
    expected: str | None = None
    repeat: int = 0
    output: str | None = None
    reasoning: str | None = None
    finish_reason: str | None = None  # normalised: stop, length, content_filter, tool_calls, error, unknown
    finish_reason_raw: str | None = None  # the provider's own word
    served_model: str | None = None  # the model the server says answered (CompleteResponse.served_model)
    error_type: str | None = None
    error: str | None = None
    latency_s: float | None = None
    ttft_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    input_cost_usd: Decimal | None = None
    output_cost_usd: Decimal | None = None
    cost_usd: Decimal | None = None
    saved_cost_usd: Decimal | None = None
    cached: bool = False
    usage_estimated: bool = False
    started_at: datetime | None = None
    judge_explanation: str | None = None  # model-graded scorers: why (`name: ...` per judge when several)
    judge_input_tokens: int | None = None  # the judges' own calls, summed over a row's judges
    judge_output_tokens: int | None = None
    judge_cost_usd: Decimal | None = None  # None: no judge, or a judge without a known price
    scores: dict[str, float | None] = field(default_factory=dict)  # scorer name -> value (`score_<name>`)
    score_error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # prompt metadata key -> value (`meta_<key>`)

    @property
    def key(self) -> RowKey:
        return RowKey(self.model, self.config_label, self.prompt_id, self.repeat)

    @property
    def failed(self) -> bool:
        return self.error_type is not None

    def set_response(self, response: CompleteResponse) -> None:
        """Fill in what a finished call reports; a cache hit counts with its original latency and TTFT."""
        usage = response.usage
        cached = bool(response.cached)
        self.output, self.reasoning, self.finish_reason = response.content, response.reasoning, response.finish_reason
        self.finish_reason_raw, self.served_model = response.finish_reason_raw, response.served_model
        latency = response.original_latency_s if cached and response.original_latency_s is not None \
            else response.latency_s
        if latency is not None:  # else keep the latency the caller measured
            self.latency_s = finite_or_none(latency)
        self.ttft_s = finite_or_none(response.metadata.get("original_ttft_s") if cached else response.ttft_s)
        self.input_tokens, self.output_tokens = usage.input_tokens, usage.output_tokens
        self.reasoning_tokens, self.cached_input_tokens = usage.reasoning_tokens, usage.cached_input_tokens
        self.input_cost_usd, self.output_cost_usd = usage.input_cost, usage.output_cost
        self.cost_usd, self.saved_cost_usd = usage.total_cost, usage.saved_cost
        self.cached, self.usage_estimated = cached, bool(usage.estimated)

    def set_error(self, error_type: str, message: str, partial_output: str | None) -> None:
        """An error row: nothing billed, no usage, no scores (`output` keeps what a stream yielded first)."""
        self.error_type, self.error, self.output = error_type, message, partial_output or None
        self.input_cost_usd = self.output_cost_usd = self.cost_usd = self.saved_cost_usd = Decimal(0)

    # ----- rows.jsonl -----------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The rows.jsonl object: fixed columns, then `score_<name>`, `score_error`, `meta_<key>`."""
        out = {name: getattr(self, name) for name in _PLAIN}
        for name in _DECIMAL:
            value = getattr(self, name)
            out[name] = None if value is None else format(value, "f")
        out["started_at"] = None if self.started_at is None else self.started_at.isoformat()
        for name, score in self.scores.items():
            out[SCORE_PREFIX + name] = finite_or_none(score)
        out["score_error"] = self.score_error
        for name, value in self.metadata.items():
            out[META_PREFIX + name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EvalRow:
        """A row read back from rows.jsonl, also one written by an older llmkit (missing fields get defaults,
        unknown ones are ignored); ValueError / TypeError / KeyError when it is not a row at all."""
        fields_: dict[str, Any] = dict(zip(RowKey._fields, RowKey.of(data), strict=True))
        scores: dict[str, float | None] = {}
        metadata: dict[str, Any] = {}
        for name, value in data.items():
            convert = _READERS.get(name)
            if convert is not None:
                if value is not None and name not in fields_:
                    fields_[name] = value if type(value) is str and convert is str else convert(value)
            elif name.startswith(SCORE_PREFIX):  # a scorer that gave no value still has its column
                scores[name[len(SCORE_PREFIX):]] = finite_or_none(value)
            elif name.startswith(META_PREFIX):
                metadata[name[len(META_PREFIX):]] = value
        return cls(**fields_, scores=scores, metadata=metadata)


def finite_or_none(value: Any) -> float | None:
    """A number for a float column: NaN (a scorer with nothing to score) becomes None."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value):
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


# ----- columns and dtypes, derived from the annotations ------------------------------------------------------
_DTYPES: dict[Any, str] = {
    str: "string", str | None: "string", int: "int64", int | None: "Int64", float | None: "float64",
    Decimal | None: "float64", bool: "bool", datetime | None: "datetime64[ns, UTC]",
}
_READER_BY_TYPE: dict[Any, Any] = {
    str: str, str | None: str, int: _int, int | None: _int, float | None: finite_or_none, Decimal | None: _decimal,
    bool: bool, datetime | None: datetime.fromisoformat,
}
_DYNAMIC = ("scores", "score_error", "metadata")  # placed after the fixed columns, in this order
_HINTS = typing.get_type_hints(EvalRow)
_FIXED = [f.name for f in fields(EvalRow) if f.name not in _DYNAMIC]
_DECIMAL = tuple(name for name in _FIXED if _HINTS[name] == Decimal | None)
_PLAIN = tuple(name for name in _FIXED if name not in _DECIMAL and name != "started_at")
_READERS: dict[str, Any] = {name: _READER_BY_TYPE[_HINTS[name]] for name in _FIXED}
_READERS["score_error"] = str

#: The DataFrame's fixed columns and dtypes, in order; `score_<name>` columns, `score_error` and `meta_<key>`
#: columns follow.
COLUMNS: dict[str, str] = {name: _DTYPES[_HINTS[name]] for name in _FIXED}


def frame_columns(score_names: Iterable[str] = (), meta_names: Iterable[str] = ()) -> list[str]:
    """Every column of a results DataFrame, in order."""
    return [*COLUMNS, *(SCORE_PREFIX + n for n in score_names), "score_error", *(META_PREFIX + n for n in meta_names)]


def rows_frame(rows: Sequence[EvalRow], score_names: Iterable[str] = (), columns: Sequence[str] | None = None) -> Any:
    """The rows as a pandas DataFrame with the documented dtypes: every fixed column, the given scores plus any
    a row has, `score_error`, then every `meta_<key>`; `columns` picks a subset (in that order)."""
    import pandas as pd

    scores = list(dict.fromkeys([*score_names, *(n for r in rows for n in r.scores)]))
    metas = list(dict.fromkeys(n for r in rows for n in r.metadata))
    names = list(columns) if columns is not None else frame_columns(scores, metas)
    frame = pd.DataFrame.from_records([r.to_json() for r in rows], columns=names)
    for name in names:
        if name in COLUMNS:
            frame[name] = _as_dtype(frame[name], COLUMNS[name])
        elif name.startswith(SCORE_PREFIX) and name != "score_error":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif name == "score_error":
            frame[name] = frame[name].astype("string")
        else:
            key = name[len(META_PREFIX):]
            dtype = _meta_dtype({type(r.metadata[key]) for r in rows if r.metadata.get(key) is not None})
            if dtype is not None:
                frame[name] = _as_dtype(frame[name], dtype)
    return frame


def _as_dtype(series: Any, dtype: str) -> Any:
    import pandas as pd

    if dtype in ("float64", "Int64"):
        return pd.to_numeric(series, errors="coerce").astype(dtype)
    if dtype == "int64":
        return pd.to_numeric(series, errors="coerce").fillna(0).astype("int64")
    if dtype == "bool":
        return series.fillna(False).astype("bool")
    if dtype == "boolean":
        return series.astype("boolean")
    if dtype.startswith("datetime64"):
        return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601").astype(dtype)
    return series.astype("string")


def _meta_dtype(kinds: set[type]) -> str | None:
    """Dataset columns keep their kind: text → string, whole numbers → Int64, numbers → float64, flags →
    boolean; mixed or nested values stay objects (None)."""
    if kinds <= {str}:
        return "string"
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        return "Int64"
    if kinds <= {int, float}:
        return "float64"
    return None
