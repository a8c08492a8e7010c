"""Datasets as they come: `prompts: {file | hf, columns, template, limit, shuffle}` in a spec.

    prompts:
      file: data/qa.csv              # .jsonl .json .csv .tsv .parquet; or  hf: gsm8k  config: main  split: test
      columns: {id: qid, prompt: question, expected: answer}
      template: "Question: {{ question }}\\nAnswer with a number."
      limit: 200
      shuffle: 7

- `columns` maps llmkit's names (id, prompt, expected, system, messages, images) to the dataset's; every other
  column goes into the row's metadata and so into result rows as `meta_<column>`.
- `template` is Jinja2 in its sandbox (StrictUndefined, bounded: llmkit.evals.templates): any column by its own
  name; its text is the row's prompt.
  A template naming a column the data lacks is a spec error at the template's line, listing the columns there are.
- Ids default to the 1-based position in the file, taken before shuffling, so a row keeps its id whatever the
  seed or limit. `shuffle: SEED` permutes rows with `random.Random(SEED)`; `limit` then keeps the first N. A
  larger limit with the same seed keeps every row a smaller one chose.
- `hf:` is a Hugging Face hub name (the optional `datasets` package) or a directory saved with `save_to_disk`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmkit.evals.datafiles import PromptFileError, Record, read_records
from llmkit.evals.prompts import PromptRow, check_unique, prompt_from_mapping, resolve_prompt_path

Where = Callable[..., str]  # SpecFile.where: the spec's `file:line: field` for a location
ColumnRole = Literal["id", "prompt", "expected", "system", "messages", "images"]


class DatasetSpec(BaseModel):
    """The mapping form of `prompts:` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = None
    hf: str | None = None
    config: str | None = None
    split: str | None = None
    columns: dict[ColumnRole, str] = Field(default_factory=dict)
    template: str | None = None
    limit: int | None = Field(default=None, ge=1)
    shuffle: int | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSpec:
        if (self.file is None) == (self.hf is None):
            raise ValueError("give exactly one of file: (a data file) or hf: (a Hugging Face dataset)")
        if self.file is not None and (self.config or self.split):
            raise ValueError("config and split belong to hf: datasets")
        return self


class _Source:
    """Rows of a file (a list of Records) or of a Hugging Face Dataset, read one at a time."""

    def __init__(self, records: Sequence[Record] | None = None, dataset: Any = None, name: str = "") -> None:
        self.records, self.dataset, self.name = records, dataset, name

    def __len__(self) -> int:
        return len(self.records) if self.records is not None else len(self.dataset)

    def columns(self) -> list[str]:
        if self.dataset is not None:
            return list(self.dataset.column_names)
        return list(dict.fromkeys(k for r in (self.records or [])[:100] for k in r.data))

    def __getitem__(self, index: int) -> Record:
        if self.records is not None:
            return self.records[index]
        return Record(f"{self.name}[row {index + 1}]", dict(self.dataset[index]))


def load_dataset_prompts(spec: DatasetSpec, spec_dir: Path | None, where: Where) -> list[PromptRow]:
    """The spec's prompt rows, in sweep order (raises PromptFileError with a `file:line` message)."""
    source, base = _open_source(spec, spec_dir, where)
    order = list(range(len(source)))
    if spec.shuffle is not None:
        random.Random(spec.shuffle).shuffle(order)
    if spec.limit is not None:
        order = order[:spec.limit]
    available = source.columns()
    for role, column in spec.columns.items():
        if available and column not in available:
            raise PromptFileError(f"{where('prompts', 'columns', role)}: column {column!r} is not in the data; "
                                  f"available: {', '.join(available)}")
    render = _template(spec.template, available, where) if spec.template is not None else None
    rows = []
    for index in order:
        record = source[index]
        data = _mapped(record.data, spec.columns)
        if render is not None:
            data["prompt"] = render(record)
        rows.append(prompt_from_mapping(data, index + 1, record.where, base))
    return check_unique(rows, where("prompts"))


def _mapped(data: dict[str, Any], columns: dict[ColumnRole, str]) -> dict[str, Any]:
    """llmkit's names for the mapped columns; every other column kept under its own name (metadata)."""
    taken = set(columns.values())
    out = {name: value for name, value in data.items() if name not in taken}
    out.update({role: data.get(column) for role, column in columns.items()})
    return out


def _template(text: str, available: list[str], where: Where) -> Callable[[Record], str]:
    """A sandboxed Jinja2 template (llmkit.evals.templates), checked against the data's columns before any row."""
    try:
        from jinja2 import TemplateError

        from llmkit.evals.templates import BoundedSandbox
    except ImportError:
        raise PromptFileError(f"{where('prompts', 'template')}: templates need Jinja2: "
                              "pip install 'llmkit[evals]'") from None
    env = BoundedSandbox()
    try:
        unknown = sorted(env.columns_used(text) - set(available))
        template = env.from_string(text)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise PromptFileError(f"{where('prompts', 'template')}: template syntax error"
                              f"{f' on its line {line}' if line else ''}: {exc}") from None
    if unknown and available:
        raise PromptFileError(f"{where('prompts', 'template')}: the template uses column {unknown[0]!r}, which the "
                              f"data does not have; available: {', '.join(available)}")

    def render(record: Record) -> str:
        try:
            return env.render(template, record.data)
        except Exception as exc:  # UndefinedError, the sandbox's SecurityError, a TypeError inside an expression
            raise PromptFileError(f"{where('prompts', 'template')}: cannot render {record.where} "
                                  f"({type(exc).__name__}: {exc}); columns there: {', '.join(record.data)}") from None

    return render


def _open_source(spec: DatasetSpec, spec_dir: Path | None, where: Where) -> tuple[_Source, Path | None]:
    if spec.file is not None:
        path = resolve_prompt_path(spec.file, spec_dir)
        return _Source(records=read_records(path)), path.parent
    assert spec.hf is not None
    local = resolve_prompt_path(spec.hf, spec_dir)
    try:
        import datasets
    except ImportError:
        raise PromptFileError(f"{where('prompts', 'hf')}: Hugging Face datasets need the optional package: "
                              "pip install 'llmkit[datasets]'") from None
    try:
        if local.is_dir():
            loaded = datasets.load_from_disk(str(local))
            name, base = str(local), local
        else:
            loaded = datasets.load_dataset(spec.hf, spec.config, split=spec.split)
            name, base = spec.hf, None
    except Exception as exc:  # the hub or the directory said no: name it, with the library's reason
        raise PromptFileError(f"{where('prompts', 'hf')}: cannot load {spec.hf!r} "
                              f"({type(exc).__name__}: {exc})") from None
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded)
        chosen = spec.split or (splits[0] if len(splits) == 1 else None)
        if chosen not in loaded:
            raise PromptFileError(f"{where('prompts', 'split' if spec.split else 'hf')}: choose a split with "
                                  f"split:; {name} has {', '.join(splits)}")
        loaded = loaded[chosen]
    return _Source(dataset=loaded, name=name), base
