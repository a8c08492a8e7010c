"""ModelPicker: choose a model by runtime, provider and name, seeing whether it can be called and what it costs.

`.value` is the chosen identifier, a traitlet: `picker.observe(callback, "value")` or `picker.value = "gpt-4o"`.
It starts on a MOCK model so a notebook works on a machine with no keys and no local server. On a running event
loop (Jupyter) it never blocks the kernel for discovery: it shows what is registered at once and adds local
models when `LLMFactory.ainitialize()` is done; Refresh reloads in the background too (`await picker.wait()`).
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

import ipywidgets as w
import traitlets

from llmkit._sync import in_running_loop, run_sync
from llmkit.display import price_text, status_text
from llmkit.factory import LLMFactory
from llmkit.models import LLMModel, LLMRuntime
from llmkit.widgets._run import schedule

ANY = "(any)"
DEFAULT_MODELS = ("echo:mock", "oracle:mock")


def _runtime_options() -> list[str]:
    """Runtimes that have models now, plus every discoverable one (so a local server started later can be found)."""
    from llmkit.discovery import discoverable_runtimes

    present = {m.runtime for m in LLMFactory.list_models()} | set(discoverable_runtimes())
    return [r.value for r in LLMRuntime if r in present]


class ModelPicker(w.VBox):  # type: ignore[misc]
    """Runtime → provider → model dropdowns with a text filter, availability, price, status and a refresh button."""

    value = traitlets.Unicode(None, allow_none=True, help="identifier of the chosen model")

    def __init__(self, value: str | None = None, **kwargs: Any) -> None:
        self.pending: asyncio.Future[Any] | None = None  # discovery or a reload running on the kernel's loop
        discover_later = in_running_loop()
        if not discover_later:
            LLMFactory.ensure_initialized()
        self._syncing = False
        style = {"description_width": "70px"}
        self.runtime = w.Dropdown(description="Runtime", options=_runtime_options(), style=style,
                                  layout=w.Layout(width="220px"))
        self.provider = w.Dropdown(description="Provider", style=style, layout=w.Layout(width="220px"))
        self.filter = w.Text(placeholder="filter models…", continuous_update=True, layout=w.Layout(width="160px"),
                             tooltip="show only models whose identifier or name contains this text")
        self.model = w.Dropdown(description="Model", style=style, layout=w.Layout(width="420px"))
        self.refresh = w.Button(description="Refresh", icon="refresh", layout=w.Layout(width="100px"),
                                tooltip="re-discover this runtime's models (LLMFactory.reload_models)")
        self.info = w.HTML()
        super().__init__([w.HBox([self.runtime, self.provider, self.filter]), w.HBox([self.model, self.refresh]),
                          self.info], **kwargs)
        self.add_class("llmkit-picker")
        self.runtime.observe(self._on_runtime, "value")
        self.provider.observe(self._on_provider, "value")
        self.filter.observe(self._on_provider, "value")
        self.model.observe(self._on_model, "value")
        self.refresh.on_click(self._on_refresh)
        self.value = value or next((m for m in DEFAULT_MODELS if _exists(m)), None) or self._first_model()
        if discover_later:
            self.pending = asyncio.ensure_future(self._discover())

    # ----- public ---------------------------------------------------------------------------------------
    @property
    def selected_model(self) -> LLMModel | None:
        return LLMFactory.get_model(self.value) if self.value else None

    def reload(self) -> int:
        """Re-discover the chosen runtime (clear-then-discover); returns how many models it has now."""
        return int(run_sync(self.areload()))

    async def areload(self) -> int:
        """`reload` for async code and the Refresh button on a running loop."""
        runtime = LLMRuntime(self.runtime.value)
        if not runtime.is_local:
            self.info.value = self._info_html(self.selected_model, f"{runtime.value} models are fixed; nothing to do")
            return len(LLMFactory.list_models(runtime=runtime))
        count = await LLMFactory.areload_models(runtime)
        self._refill(runtime.value, f"reloaded {runtime.value}: {count} model(s)")
        return count

    async def wait(self) -> Any:
        """Wait for the discovery or reload running in the background, if any; returns its result."""
        pending, self.pending = self.pending, None
        return None if pending is None else await pending

    async def _discover(self) -> None:
        await LLMFactory.ainitialize()
        self._refill(self.runtime.value, None)

    def _refill(self, runtime: str, note: str | None) -> None:
        """Rebuild the dropdowns from the registry, keeping the choice where it still exists."""
        self._syncing = True
        try:
            self.runtime.options = sorted({*_runtime_options(), runtime}, key=_runtime_order)
            self.runtime.value = runtime
            self._fill_providers(runtime)
            self._fill_models()
        finally:
            self._syncing = False
        self._set_value(self.model.value)
        self.info.value = self._info_html(self.selected_model, note)

    # ----- value -> dropdowns -------------------------------------------------------------------------
    @traitlets.observe("value")
    def _on_value(self, change: dict[str, Any]) -> None:
        if self._syncing or not change["new"]:
            self.info.value = self._info_html(self.selected_model)
            return
        model = LLMFactory.get_model(change["new"])  # unknown ids fail loudly here, with suggestions
        self._syncing = True
        try:
            if model.runtime.value not in self.runtime.options:
                self.runtime.options = [*self.runtime.options, model.runtime.value]
            self.runtime.value = model.runtime.value
            self._fill_providers(model.runtime.value)
            if model.provider.value in self.provider.options:
                self.provider.value = model.provider.value
            self.filter.value = ""
            self._fill_models()
            self.model.value = model.identifier
        finally:
            self._syncing = False
        self.info.value = self._info_html(model)
        self._update_controls()

    # ----- dropdowns -> value -------------------------------------------------------------------------
    def _on_runtime(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self._fill_providers(change["new"])
            self._fill_models()
        finally:
            self._syncing = False
        self._set_value(self.model.value)

    def _on_provider(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self._fill_models()
        finally:
            self._syncing = False
        self._set_value(self.model.value)

    def _on_model(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._set_value(change["new"])

    def _set_value(self, identifier: str | None) -> None:
        self._syncing = True
        try:
            self.value = identifier
        finally:
            self._syncing = False
        self.info.value = self._info_html(self.selected_model)
        self._update_controls()

    def _on_refresh(self, _button: w.Button) -> None:
        result = schedule(self.areload())  # on a running loop a task: the kernel stays responsive
        if isinstance(result, asyncio.Future):
            self.pending = result

    # ----- helpers ----------------------------------------------------------------------------------------
    def _fill_providers(self, runtime: str) -> None:
        providers = sorted({m.provider.value for m in LLMFactory.list_models(runtime=runtime)})
        keep = self.provider.value if self.provider.value in providers else ANY
        self.provider.options = [ANY, *providers]
        self.provider.value = keep

    def _fill_models(self) -> None:
        provider = None if self.provider.value in (None, ANY) else self.provider.value
        needle = (self.filter.value or "").strip().lower()
        models = [
            m for m in LLMFactory.list_models(provider=provider, runtime=self.runtime.value)
            if not needle or needle in m.identifier.lower() or needle in (m.display_name or "").lower()
        ]
        current = self.model.value
        self.model.options = [(_label(m), m.identifier) for m in models]
        ids = [m.identifier for m in models]
        self.model.value = current if current in ids else (ids[0] if ids else None)

    def _update_controls(self) -> None:
        runtime = self.runtime.value
        self.refresh.disabled = runtime is None or not LLMRuntime(runtime).is_local

    def _first_model(self) -> str | None:
        models = LLMFactory.list_models()
        return models[0].identifier if models else None

    @staticmethod
    def _info_html(model: LLMModel | None, note: str | None = None) -> str:
        if model is None:
            text = "<i>no model matches</i>"
        else:
            availability = LLMFactory.availability(model.identifier)
            ready = ("<span style='color:#1b7f3b'>available</span>" if availability
                     else f"<span style='color:#b00020'>unavailable: {html.escape(availability.reason or '')}</span>")
            status = status_text(model)
            status_html = html.escape(status) if status == "active" else f"<b>{html.escape(status)}</b>"
            text = f"{ready} · {html.escape(price_text(model))} · {status_html}"
        if note:
            text += f" · <i>{html.escape(note)}</i>"
        return f"<small class='llmkit-picker-info'>{text}</small>"


def _runtime_order(value: str) -> int:
    return [r.value for r in LLMRuntime].index(value)


def _label(model: LLMModel) -> str:
    marks = []
    if not LLMFactory.availability(model.identifier):
        marks.append("no key")
    if model.status != "active":
        marks.append(model.status)
    return model.identifier + (f"  ({', '.join(marks)})" if marks else "")


def _exists(identifier: str) -> bool:
    return any(m.identifier == identifier for m in LLMFactory.list_models())
