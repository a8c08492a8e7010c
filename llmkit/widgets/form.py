"""ConfigForm: a form generated from one model's config_schema, which sends only what the user set.

Every parameter row has a "set" checkbox: unticked means "the model's default" and nothing is sent. Touching a
control ticks it; unticking it returns the parameter to the default. The form validates on every change with
`llmkit.config.validate_config` (the same check `create_llm` makes), so a rejected value or a combination such as
budget_tokens >= max_tokens shows as an inline error line before anything is sent.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import ipywidgets as w
import traitlets

from llmkit.config import SCHEMA_CHECKED_FIELDS, LLMConfig, config_from_mapping, validate_config
from llmkit.errors import ConfigValidationError
from llmkit.factory import LLMFactory
from llmkit.models import LLMModel
from llmkit.schemas import ui_control

_STYLE = {"description_width": "180px"}
_WIDE = w.Layout(width="460px")


def _widget_for(prop: Mapping[str, Any], title: str, initial: Any) -> tuple[w.Widget, str]:
    """The control a schema property renders as, and the control kind actually used."""
    kind = ui_control(prop)
    tooltip = str(prop.get("description") or title)
    low, high = prop.get("minimum"), prop.get("maximum")
    if kind == "dropdown" and "enum" in prop:
        return w.Dropdown(options=list(prop["enum"]), value=initial, description=title, tooltip=tooltip,
                          style=_STYLE, layout=_WIDE), "dropdown"
    if kind == "toggle" and prop.get("type") == "boolean":
        return w.ToggleButton(value=bool(initial), description=title, tooltip=tooltip, icon="lightbulb-o",
                              layout=w.Layout(width="200px")), "toggle"
    if kind == "slider" and low is not None and high is not None:
        if prop.get("type") == "integer":
            step = int(prop.get("multipleOf", 1))
            return w.IntSlider(value=initial, min=low, max=high, step=step, description=title, tooltip=tooltip,
                               style=_STYLE, layout=_WIDE, continuous_update=False), "slider"
        return w.FloatSlider(value=initial, min=low, max=high, step=0.05, description=title, tooltip=tooltip,
                             style=_STYLE, layout=_WIDE, continuous_update=False, readout_format=".2f"), "slider"
    placeholder = "default"
    if prop.get("type") == "array":
        placeholder += " · comma-separated, or a JSON list"
    elif prop.get("type") in ("integer", "number"):
        placeholder += f" · {'whole number' if prop.get('type') == 'integer' else 'number'}"
        if low is not None or high is not None:
            placeholder += f" {low if low is not None else '…'} to {high if high is not None else '…'}"
    return w.Text(value="" if initial is None else _to_text(initial), description=title, tooltip=tooltip,
                  placeholder=placeholder, style=_STYLE, layout=_WIDE, continuous_update=False), "text"


def _to_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _display_default(prop: Mapping[str, Any], model_default: Any) -> Any:
    """What an unset control shows: the schema default, the model's configured default, else a neutral value
    (a text box stays empty, so its placeholder says "default")."""
    for candidate in (prop.get("default"), model_default):
        if candidate is not None:
            return candidate
    if ui_control(prop) == "text":
        return None
    if "enum" in prop:
        return prop["enum"][0]
    kind, low, high = prop.get("type"), prop.get("minimum"), prop.get("maximum")
    if kind == "boolean":
        return False
    if kind == "number" and low is not None and high is not None:
        return min(max(1.0, float(low)), float(high))
    if kind == "integer" and low is not None and high is not None:
        return int(low)
    return None


def _parse_text(prop: Mapping[str, Any], text: str) -> Any:
    """Turn a Text control's content into the schema's type; ValueError with a readable message if it cannot."""
    kind = prop.get("type")
    text = text.strip()
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if kind == "array":
        if text.startswith("["):
            value = json.loads(text)
            if not isinstance(value, list):
                raise ValueError("expected a JSON list")
            return value
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind == "boolean":
        return text.lower() in ("1", "true", "yes", "on")
    return text


class _Row:
    """One parameter: a "set" checkbox, its control, and how to read a value back."""

    def __init__(self, name: str, prop: Mapping[str, Any], model_default: Any, field: bool = False) -> None:
        self.name, self.prop, self.field = name, prop, field
        self.default = _display_default(prop, model_default)
        title = str(prop.get("title") or name)
        self.control, self.kind = _widget_for(prop, title, self.default)
        self.set = w.Checkbox(value=False, indent=False, layout=w.Layout(width="28px"),
                              tooltip=f"send {name}; untick to use the model's default")
        self.box = w.HBox([self.set, self.control])
        self.box.add_class(f"llmkit-param-{name}")
        self._resetting = False
        self.control.observe(self._touched, "value")
        self.set.observe(self._toggled, "value")

    def _touched(self, change: dict[str, Any]) -> None:
        if not self._resetting:
            self.set.value = self.kind != "text" or bool(str(change["new"]).strip())

    def _toggled(self, change: dict[str, Any]) -> None:
        if not change["new"]:
            self._resetting = True
            try:
                self.control.value = ("" if self.default is None else _to_text(self.default)) \
                    if self.kind == "text" else self.default
            finally:
                self._resetting = False

    def assign(self, value: Any) -> None:
        self.control.value = _to_text(value) if self.kind == "text" else value
        self.set.value = True

    def read(self) -> Any:
        """The value to send; ValueError when a text entry does not parse."""
        if self.kind == "text":
            return _parse_text(self.prop, str(self.control.value))
        return self.control.value


class ConfigForm(w.VBox):  # type: ignore[misc]
    """A form for one model's parameters, built only from its config_schema (plus system message and timeout).

    `.config` is the validated LLMConfig of the fields the user set; `.error` the current inline error ("" if
    none), observable like any traitlet. `set_model(model_or_id)` rebuilds it; `bind(picker)` follows a picker.
    """

    error = traitlets.Unicode("", help="the current validation error, '' when the form is valid")
    identifier = traitlets.Unicode(None, allow_none=True, help="identifier of the model the form is for")

    def __init__(self, model: LLMModel | str | None = None, *, system_message: bool = True, timeout: bool = True,
                 **kwargs: Any) -> None:
        self._with_system, self._with_timeout = system_message, timeout
        self._rows: dict[str, _Row] = {}
        self._remembered: dict[str, dict[str, Any]] = {}
        self.model: LLMModel | None = None
        self.title = w.HTML()
        self.rows_box = w.VBox()
        self.error_html = w.HTML()
        self.reset_button = w.Button(description="Reset", icon="undo", tooltip="untick every parameter",
                                     layout=w.Layout(width="90px"))
        self.reset_button.on_click(lambda _b: self.reset())
        super().__init__([w.HBox([self.title, self.reset_button]), self.rows_box, self.error_html], **kwargs)
        self.add_class("llmkit-config-form")
        if model is not None:
            self.set_model(model)

    # ----- building -----------------------------------------------------------------------------------
    def set_model(self, model: LLMModel | str | None) -> None:
        """Rebuild the form for another model, restoring what the user had set for it earlier."""
        if self.model is not None:
            self._remembered[self.model.identifier] = self._raw_values()
        self.model = LLMFactory.get_model(model) if isinstance(model, str) else model
        self._rows = {}
        if self.model is None:
            self.title.value, self.rows_box.children, self.identifier = "<i>choose a model</i>", (), None
            self._validate()
            return
        defaults = self.model.default_config or LLMConfig()
        for name, prop in self.model.parameters.items():
            field = name in SCHEMA_CHECKED_FIELDS
            self._rows[name] = _Row(name, prop, getattr(defaults, name) if field else None, field)
        if self._with_system:
            self._rows["system_message"] = _Row("system_message", {"type": "string", "title": "System message",
                                                "description": "System prompt for a new conversation"},
                                                defaults.system_message, True)
        if self._with_timeout:
            self._rows["timeout"] = _Row("timeout", {"type": "number", "title": "Timeout (s)", "exclusiveMinimum": 0,
                                         "description": "Seconds before a request is abandoned"},
                                         defaults.timeout, True)
        for name, value in self._remembered.get(self.model.identifier, {}).items():
            if name in self._rows:
                self._rows[name].assign(value)
        for row in self._rows.values():
            row.control.observe(self._changed, "value")
            row.set.observe(self._changed, "value")
        self.title.value = f"<b>Parameters of {html.escape(self.model.identifier)}</b> <small>(tick to send)</small>"
        self.rows_box.children = [row.box for row in self._rows.values()]
        self.identifier = self.model.identifier
        self._validate()

    def bind(self, picker: Any) -> ConfigForm:
        """Follow a ModelPicker: rebuild whenever its value changes."""
        picker.observe(lambda change: self.set_model(change["new"]), "value")
        if picker.value != self.identifier:
            self.set_model(picker.value)
        return self

    # ----- reading and writing values ----------------------------------------------------------------
    @property
    def controls(self) -> dict[str, w.Widget]:
        """The control of each parameter, by name (for tests and custom layouts)."""
        return {name: row.control for name, row in self._rows.items()}

    @property
    def set_boxes(self) -> dict[str, w.Checkbox]:
        return {name: row.set for name, row in self._rows.items()}

    def kind_of(self, name: str) -> str:
        """The control kind a parameter rendered as: dropdown, slider, toggle or text."""
        return self._rows[name].kind

    def set_values(self, **values: Any) -> None:
        """Set parameters as a user would (each becomes "set")."""
        for name, value in values.items():
            if name not in self._rows:
                raise ConfigValidationError(f"{self.identifier} has no parameter {name!r}; it has: "
                                            f"{', '.join(self._rows)}", model=self.identifier, key=name)
            self._rows[name].assign(value)

    def reset(self) -> None:
        for row in self._rows.values():
            row.set.value = False

    @property
    def values(self) -> dict[str, Any]:
        """The parameters the user set, parsed (raises ValueError when a text entry does not parse)."""
        return {name: row.read() for name, row in self._rows.items() if row.set.value}

    @property
    def config(self) -> LLMConfig:
        """The validated LLMConfig of only the fields the user set; ConfigValidationError if invalid."""
        if self.model is None:
            raise ConfigValidationError("Choose a model first")
        fields: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for name, row in self._rows.items():
            if not row.set.value:
                continue
            try:
                value = row.read()
            except ValueError as exc:
                raise ConfigValidationError(f"{name}: {exc}", model=self.model.identifier, key=name) from None
            (fields if row.field else extra)[name] = value
        if extra:
            fields["extra_params"] = extra
        config = config_from_mapping(fields)
        validate_config(self.model, self._base_config().merged(config))
        return config

    def _base_config(self) -> LLMConfig:
        assert self.model is not None
        try:
            return LLMFactory.get_model_config(self.model.identifier)
        except LookupError:  # a model object that is not registered
            return self.model.default_config or LLMConfig()

    def _raw_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, row in self._rows.items():
            if row.set.value:
                try:
                    out[name] = row.read()
                except ValueError:
                    continue
        return out

    # ----- validation ------------------------------------------------------------------------------------
    def _changed(self, _change: dict[str, Any]) -> None:
        self._validate()

    def _validate(self) -> None:
        try:
            if self.model is not None:
                _ = self.config
            message = ""
        except ConfigValidationError as exc:
            message = exc.message + (f" — {exc.hint}" if exc.hint else "")
        self.error = message
        self.error_html.value = (
            f"<span class='llmkit-error' style='color:#b00020'>⚠ {html.escape(message)}</span>" if message else ""
        )
