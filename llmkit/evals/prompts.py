"""Prompt sets: inline lists in a spec, or data files (JSONL, JSON, CSV, Parquet) with id, prompt, optional system,
expected, metadata, messages and images.

Columns other than those go into `metadata` (and reach result rows as `meta_<column>`), so a CSV exported from a
spreadsheet works as is. A row without an id gets its 1-based position (`"1"`, `"2"`, ...): stable as long as the
file is not reordered, which matters because `--resume` matches rows by id.
A row may carry `messages` (a list of {role, content}) instead of `prompt`: the conversation so far, ending with
the user turn to answer; its text is the row's `prompt`. `images` (paths or URLs) go with that last user turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.evals.datafiles import PromptFileError, decode_text, read_records

__all__ = ["KNOWN_COLUMNS", "PromptFileError", "PromptRow", "check_unique", "decode_text", "load_prompt_file",
           "prompt_from_mapping", "resolve_prompt_path"]

KNOWN_COLUMNS = ("id", "prompt", "system", "expected", "metadata", "messages", "images")
ROLES = ("user", "assistant")


@dataclass(frozen=True, slots=True)
class PromptRow:
    """One prompt of a sweep. `expected` is a string, a list of acceptable strings, a number or None.
    `messages` is the whole conversation (ending with the user turn whose text is `prompt`), or empty."""

    id: str
    prompt: str
    system: str | None = None
    expected: Any = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    messages: tuple[Mapping[str, str], ...] = ()
    images: tuple[str, ...] = ()

    def record(self) -> dict[str, Any]:
        """The row as one JSON object, as a prompt file holds it (a run directory's prompts.jsonl)."""
        data: dict[str, Any] = {"id": self.id, "prompt": self.prompt, "system": self.system,
                                "expected": self.expected, "metadata": dict(self.metadata)}
        if self.messages:
            data["messages"] = [dict(m) for m in self.messages]
        if self.images:
            data["images"] = list(self.images)
        return data


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


def prompt_from_mapping(data: Mapping[str, Any], position: int, where: str, base: Path | None = None) -> PromptRow:
    """Build a PromptRow from a dict (a JSONL object, a CSV row or an inline spec item); relative image paths are
    taken from `base` (the data file's directory)."""
    problem = _unencodable(data, "")
    if problem:
        raise PromptFileError(f"{where}: {problem}, which cannot be written as UTF-8; fix or remove that text")
    system = data.get("system")
    messages, system = _messages(data.get("messages"), system, where)
    prompt = data.get("prompt")
    if messages:
        last = messages[-1]["content"]
        if prompt not in (None, "", last):
            raise PromptFileError(f"{where}: give either 'prompt' or 'messages' (whose last user turn is the prompt)")
        prompt = last
    if not isinstance(prompt, str) or not prompt.strip():
        raise PromptFileError(f"{where}: each prompt needs a non-empty 'prompt' string or a 'messages' list "
                              f"(columns: {', '.join(KNOWN_COLUMNS)})")
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
    expected = data.get("expected")
    return PromptRow(
        id=str(raw_id) if raw_id not in (None, "") else str(position),
        prompt=prompt,
        system=str(system) if system not in (None, "") else None,
        expected=None if expected == "" else expected,
        metadata={**extra, **metadata},
        messages=messages,
        images=_images(data.get("images"), where, base),
    )


def _messages(value: Any, system: Any, where: str) -> tuple[tuple[Mapping[str, str], ...], Any]:
    """Validated turns (a leading system turn becomes the row's system prompt) and the system prompt."""
    if value in (None, "", []):
        return (), system
    if isinstance(value, str):  # a CSV cell holding JSON
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise PromptFileError(f"{where}: 'messages' must be a list of {{role, content}}; got text that is "
                                  "not JSON") from None
    if not isinstance(value, list):
        raise PromptFileError(f"{where}: 'messages' must be a list of {{role, content}}, got {type(value).__name__}")
    turns: list[Mapping[str, str]] = []
    for i, turn in enumerate(value):
        role = turn.get("role") if isinstance(turn, Mapping) else None
        content = turn.get("content") if isinstance(turn, Mapping) else None
        if role == "system" and i == 0 and isinstance(content, str):
            if system not in (None, "", content):
                raise PromptFileError(f"{where}: a system turn in 'messages' and a 'system' column disagree")
            system = content
            continue
        if role not in ROLES or not isinstance(content, str):
            raise PromptFileError(f"{where}: messages[{i}] must be {{role: user|assistant, content: text}} "
                                  "(a system turn only first)")
        turns.append({"role": role, "content": content})
    if not turns or turns[-1]["role"] != "user":
        raise PromptFileError(f"{where}: 'messages' must end with the user turn to answer")
    return tuple(turns), system


def _images(value: Any, where: str, base: Path | None) -> tuple[str, ...]:
    """Image URLs as they are; paths made absolute (relative to `base`) and checked to exist."""
    if value in (None, "", []):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.lstrip().startswith("[") else [value]
        except json.JSONDecodeError:
            value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PromptFileError(f"{where}: 'images' must be a path or URL, or a list of them")
    out = []
    for item in value:
        if not item.startswith(("http://", "https://", "data:")):
            path = Path(item).expanduser()
            path = path if path.is_absolute() or base is None else base / path
            if not path.is_file():
                raise PromptFileError(f"{where}: image {item!r} is not a file (looked for {path}) nor an http(s) "
                                      "or data: URL")
            item = str(path.resolve())
        out.append(item)
    return tuple(out)


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
    """Read a .jsonl / .json / .csv / .tsv / .parquet prompt file."""
    records = read_records(path)
    rows = [prompt_from_mapping(r.data, i, r.where, path.parent) for i, r in enumerate(records, 1)]
    return check_unique(rows, str(path))


def resolve_prompt_path(value: str, spec_dir: Path | None) -> Path:
    """A data path (file or dataset directory) relative to the spec, else to `data/` next to the spec's parent or
    the working dir."""
    candidate = Path(value).expanduser()
    if candidate.is_absolute():
        return candidate
    bases = []
    if spec_dir is not None:
        bases += [spec_dir, spec_dir / "data", spec_dir.parent / "data"]
    bases += [Path.cwd(), Path.cwd() / "data"]
    for base in bases:
        if (base / candidate).exists():
            return base / candidate
    return (spec_dir or Path.cwd()) / candidate
