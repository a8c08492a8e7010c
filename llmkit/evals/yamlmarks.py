"""A YAML loader that remembers the line of every key and list item, so spec errors can say where they are.

PyYAML's SafeLoader forgets node positions once it builds Python objects; this subclass builds dict/list
subclasses that keep them. Pydantic validates them like plain dicts and lists.

A spec may come from anyone, so the loader also bounds what a small file can cost: nesting deeper than
`MAX_DEPTH` (PyYAML's composer recurses: 5,000 levels is a RecursionError) and aliases that expand to more than
`MAX_NODES` nodes (a "billion laughs" file of a few hundred bytes expands to gigabytes once validated) are
rejected as `yaml.YAMLError`s with a line, before anything is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


class MarkedDict(dict[Any, Any]):
    """A mapping from YAML with `line` (1-based) of the mapping and `lines[key]` of each key."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[Any, int] = {}


class MarkedList(list[Any]):
    """A sequence from YAML with `line` of the sequence and `lines[i]` of each item."""

    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []


MAX_DEPTH = 100
MAX_NODES = 100_000


class MarkedLoader(yaml.SafeLoader):
    """SafeLoader that builds MarkedDict / MarkedList and refuses documents nested deeper than MAX_DEPTH."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                                  self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)  # type: ignore[return-value]
        finally:
            self._depth -= 1


def _mapping(loader: MarkedLoader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1
    return data


def _sequence(loader: MarkedLoader, node: yaml.SequenceNode) -> MarkedList:
    data = MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    data.line = node.start_mark.line + 1
    data.lines = [child.start_mark.line + 1 for child in node.value]
    return data


MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load_marked(text: str) -> Any:
    """Parse YAML text into MarkedDict/MarkedList/scalars (raises yaml.YAMLError with a mark on bad syntax,
    too deep a nesting or aliases that expand past MAX_NODES)."""
    loader = MarkedLoader(text)  # a SafeLoader subclass: safe
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Count the nodes the document has once every alias is expanded; refuse recursive or explosive aliases."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise yaml.composer.ComposerError(None, None, "an alias refers to its own anchor (a recursive "
                                              "structure)", node.start_mark)
        open_nodes.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand to more than {MAX_NODES:,} values; write the values out or "
                    "use fewer anchors", node.start_mark)
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def locate(data: Any, loc: Sequence[Any]) -> tuple[int | None, list[Any]]:
    """The line of the deepest part of `loc` found in `data`, and the parts of `loc` that exist in the data.

    Parts that are not in the data (pydantic's union tags such as 'str' or 'ModelSelector') are skipped."""
    line: int | None = getattr(data, "line", None) or None
    found: list[Any] = []
    current = data
    for part in loc:
        if isinstance(current, MarkedDict) and part in current:
            line, current = current.lines.get(part, line), current[part]
        elif isinstance(current, MarkedList) and isinstance(part, int) and 0 <= part < len(current):
            line, current = current.lines[part], current[part]
        else:
            continue
        found.append(part)
    return line, found
