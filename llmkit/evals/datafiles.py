"""Reading the records of a data file (JSONL, JSON, CSV/TSV, Parquet), each with where it came from (`file:line`),
so every later problem (a bad prompt, a template that needs a missing column) can name its line."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit.errors import ConfigurationError

SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")


class PromptFileError(ConfigurationError):
    """A prompt file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Record:
    """One row of a data file: its columns, and `where` it is (`file:line`, or `file[row N]` for Parquet)."""

    where: str
    data: dict[str, Any]


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 text (a BOM is dropped); anything else is a PromptFileError naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PromptFileError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
                              "save the file as UTF-8") from None


def read_records(path: Path) -> list[Record]:
    """Every record of a .jsonl / .json / .csv / .tsv / .parquet file, in file order."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise PromptFileError(f"{path}: unsupported prompt file type {suffix or '(none)'}; use "
                              f"{', '.join(SUFFIXES)} (or hf: for a Hugging Face dataset)")
    try:
        if suffix == ".parquet":
            return _parquet(path)
        text = decode_text(path.read_bytes(), path)
    except OSError as exc:
        raise PromptFileError(f"{path}: cannot read prompt file ({exc.strerror or exc})") from None
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(path, text)
    if suffix == ".json":
        return _json(path, text)
    return _csv(path, text, "\t" if suffix == ".tsv" else ",")


def _jsonl(path: Path, text: str) -> list[Record]:
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptFileError(f"{path}:{number}: invalid JSON ({exc.msg}); one object per line") from None
        except RecursionError:
            raise PromptFileError(f"{path}:{number}: JSON nested too deeply to read") from None
        if not isinstance(data, dict):
            raise PromptFileError(f"{path}:{number}: expected a JSON object with id, prompt, ...")
        records.append(Record(f"{path}:{number}", data))
    return records


def _json(path: Path, text: str) -> list[Record]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PromptFileError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise PromptFileError(f"{path}: JSON nested too deeply to read") from None
    if not isinstance(items, list):
        raise PromptFileError(f"{path}: expected a JSON list of objects with id, prompt, ...")
    return [Record(f"{path}[{i}]", item if isinstance(item, dict) else {}) for i, item in enumerate(items)]


def _csv(path: Path, text: str, delimiter: str) -> list[Record]:
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    if not reader.fieldnames:
        raise PromptFileError(f"{path}:1: the file needs a header line naming its columns")
    records = []
    try:
        for row in reader:
            extra = row.pop(None, None)  # a line with more fields than the header
            if extra:
                raise PromptFileError(f"{path}:{reader.line_num}: {len(extra)} more field(s) than the header's "
                                      f"{len(reader.fieldnames)} columns")
            records.append(Record(f"{path}:{reader.line_num}", dict(row)))
    except csv.Error as exc:  # e.g. a field over csv's 128 KB limit
        raise PromptFileError(f"{path}:{reader.line_num + 1}: cannot read this CSV line ({exc}); long prompts belong "
                              "in JSONL or Parquet") from None
    return records


def _parquet(path: Path) -> list[Record]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise PromptFileError(f"{path}: reading Parquet needs pyarrow: pip install 'llmkit[evals]'") from None
    try:
        rows = pq.read_table(path).to_pylist()
    except OSError:
        raise
    except Exception as exc:  # pyarrow's ArrowInvalid and friends: a damaged or non-Parquet file
        raise PromptFileError(f"{path}: not a readable Parquet file ({exc})") from None
    return [Record(f"{path}[row {i + 1}]", dict(row)) for i, row in enumerate(rows)]
