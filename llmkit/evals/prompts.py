"""Prompt sets: inline lists in a spec, or JSONL / CSV files (id, prompt, optional system, expected, metadata).

Columns other than those five go into `metadata`, so a CSV exported from a spreadsheet works as is.
A row without an id gets its 1-based position (`"1"`, `"2"`, ...): stable as long as the file is not reordered,
which matters because `--resume` matches rows by id.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.errors import ConfigurationError

KNOWN_COLUMNS = ("id", "prompt", "system", "expected", "metadata")


class PromptFileError(ConfigurationError):
    """A prompt file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class PromptRow:
    """One prompt of a sweep. `expected` is a string, a list of acceptable strings, a number or None."""

    id: str
    prompt: str
    system: str | None = None
    expected: Any = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 text (a BOM is dropped); anything else is a PromptFileError naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PromptFileError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
                              "save the file as UTF-8") from None


def _unencodable(value: Any, name: str) -> str | None:
    """The field holding a string that UTF-8 cannot encode (a lone surrogate such as JSON's "\\ud800"), if any."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{name!r} holds a lone surrogate (U+{ord(value[exc.start]):04X}) at character {exc.start + 1}"
        return None
    children: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, Mapping):
        children = value.items()
    elif isinstance(value, (list, tuple)):
        children = enumerate(value)
    for key, child in children:
        child_name = f"{name}.{key}" if name else str(key)
        found = _unencodable(key, child_name) or _unencodable(child, child_name)
        if found:
            return found
    return None


def prompt_from_mapping(data: Mapping[str, Any], position: int, where: str) -> PromptRow:
    """Build a PromptRow from a dict (a JSONL object, a CSV row or an inline spec item)."""
    problem = _unencodable(data, "")
    if problem:
        raise PromptFileError(f"{where}: {problem}, which cannot be written as UTF-8; fix or remove that text")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise PromptFileError(f"{where}: each prompt needs a non-empty 'prompt' string (columns: "
                              f"{', '.join(KNOWN_COLUMNS)})")
    metadata = data.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            metadata = {"metadata": metadata}
    if not isinstance(metadata, Mapping):
        raise PromptFileError(f"{where}: 'metadata' must be an object, got {type(metadata).__name__}")
    extra = {k: v for k, v in data.items() if k not in KNOWN_COLUMNS and v not in (None, "")}
    raw_id = data.get("id")
    system = data.get("system")
    expected = data.get("expected")
    return PromptRow(
        id=str(raw_id) if raw_id not in (None, "") else str(position),
        prompt=prompt,
        system=str(system) if system not in (None, "") else None,
        expected=None if expected == "" else expected,
        metadata={**extra, **metadata},
    )


def check_unique(rows: Iterable[PromptRow], where: str) -> list[PromptRow]:
    seen: set[str] = set()
    out = []
    for row in rows:
        if row.id in seen:
            raise PromptFileError(f"{where}: prompt id {row.id!r} appears twice; ids must be unique (resume uses them)")
        seen.add(row.id)
        out.append(row)
    if not out:
        raise PromptFileError(f"{where}: no prompts")
    return out


def load_prompt_file(path: Path) -> list[PromptRow]:
    """Read a .jsonl / .json / .csv prompt file."""
    suffix = path.suffix.lower()
    try:
        text = decode_text(path.read_bytes(), path)
    except OSError as exc:
        raise PromptFileError(f"{path}: cannot read prompt file ({exc.strerror})") from None
    rows: list[PromptRow] = []
    if suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PromptFileError(f"{path}:{number}: invalid JSON ({exc.msg}); one object per line") from None
            if not isinstance(data, dict):
                raise PromptFileError(f"{path}:{number}: expected a JSON object with id, prompt, ...")
            rows.append(prompt_from_mapping(data, len(rows) + 1, f"{path}:{number}"))
    elif suffix == ".json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PromptFileError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(items, list):
            raise PromptFileError(f"{path}: expected a JSON list of objects with id, prompt, ...")
        rows = [prompt_from_mapping(d if isinstance(d, dict) else {}, i, f"{path}[{i - 1}]")
                for i, d in enumerate(items, 1)]
    elif suffix in (".csv", ".tsv"):
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        if not reader.fieldnames or "prompt" not in reader.fieldnames:
            raise PromptFileError(f"{path}:1: the header needs a 'prompt' column (columns: {', '.join(KNOWN_COLUMNS)})")
        for number, record in enumerate(reader, 2):
            rows.append(prompt_from_mapping(dict(record), len(rows) + 1, f"{path}:{number}"))
    else:
        raise PromptFileError(f"{path}: unsupported prompt file type {suffix or '(none)'}; use .jsonl, .json or .csv")
    return check_unique(rows, str(path))


def resolve_prompt_path(value: str, spec_dir: Path | None) -> Path:
    """A prompt file path relative to the spec, else to `data/` next to the spec's parent or the working dir."""
    candidate = Path(value).expanduser()
    if candidate.is_absolute():
        return candidate
    bases = []
    if spec_dir is not None:
        bases += [spec_dir, spec_dir / "data", spec_dir.parent / "data"]
    bases += [Path.cwd(), Path.cwd() / "data"]
    for base in bases:
        if (base / candidate).is_file():
            return base / candidate
    return (spec_dir or Path.cwd()) / candidate
