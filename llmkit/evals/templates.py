"""Prompt templates: Jinja2's sandbox with StrictUndefined, plus bounds on what one render may cost.

The sandbox stops attribute escapes (`''.__class__...` raises SecurityError), but not work: nested
`range(100000)` loops or `'x' * 10**9` would hang or fill memory. So every render shares a budget of
`MAX_STEPS` range items, `*`/`**` may not build values past `MAX_CHARS`, and the output stops at `MAX_CHARS`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, meta
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

MAX_STEPS = 100_000
MAX_CHARS = 1_000_000


class BoundedSandbox(SandboxedEnvironment):
    """SandboxedEnvironment with the budget of the module docstring."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.steps = 0
        self.globals["range"] = self._range

    def _range(self, *args: int) -> Iterator[int]:
        for value in range(*args):
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise SecurityError(f"the template loops more than {MAX_STEPS:,} times")
            yield value

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64:
            raise SecurityError("the template raises to a power above 64")
        if operator == "*":
            count, item = (left, right) if isinstance(left, int) else (right, left)
            if isinstance(count, int) and hasattr(item, "__len__") and count * len(item) > MAX_CHARS:
                raise SecurityError(f"the template builds a value longer than {MAX_CHARS:,}")
        return super().call_binop(context, operator, left, right)

    def columns_used(self, text: str) -> set[str]:
        """Names the template reads from its context (its columns), parsing it (TemplateSyntaxError if bad)."""
        return set(meta.find_undeclared_variables(self.parse(text))) - set(self.globals)

    def render(self, template: Template, values: Mapping[str, Any]) -> str:
        """The text, within the budget (SecurityError past it)."""
        self.steps = 0
        parts, size = [], 0
        for part in template.generate(values):
            size += len(part)
            if size > MAX_CHARS:
                raise SecurityError(f"the template renders more than {MAX_CHARS:,} characters")
            parts.append(part)
        return "".join(parts)
