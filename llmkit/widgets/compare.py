"""CompareView: one prompt across several models (and configs) at once, side by side, one card per run.

Runs stream concurrently (`asyncio.gather`); each card shows its own output, latency, TTFT, tokens, cost and
error, so one failing model never hides the others. Each run is an `EvalRow` (the eval runner's row type), so
`.to_dataframe()` has one row per (model, config) with the eval results' column names and dtypes.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ipywidgets as w

from llmkit.config import LLMConfig, config_from_mapping
from llmkit.display import error_html, error_line, stats_line
from llmkit.evals.row import EvalRow, rows_frame
from llmkit.factory import LLMFactory
from llmkit.widgets._run import Progress, progress_line, schedule, stream_reply

DEFAULT_MODELS = ("echo:mock", "oracle:mock", "reasoner-effort:mock")
_PRE = "white-space:pre-wrap;margin:0;font-family:var(--jp-code-font-family, monospace)"
_SMALL = "font-size:85%;line-height:1.35"
#: The columns of `CompareView.to_dataframe()`: those of eval results that a single prompt has.
COMPARE_COLUMNS = ("model", "provider", "runtime", "config_label", "config", "prompt", "output", "reasoning",
                   "finish_reason", "error_type", "error", "latency_s", "ttft_s", "input_tokens", "output_tokens",
                   "reasoning_tokens", "cached_input_tokens", "input_cost_usd", "output_cost_usd", "cost_usd",
                   "cached", "usage_estimated")


@dataclass(slots=True)
class _Card:
    """The widgets of one column."""

    model: str
    label: str
    box: w.VBox
    output: w.HTML
    stats: w.HTML


class CompareView(w.VBox):  # type: ignore[misc]
    """Pick models (SelectMultiple) and configs, type a prompt, Run: one streaming card per model × config.

    `configs` are labelled configs applied to every model; `model_configs` adds per-model settings on top
    (e.g. a budget only one model accepts)."""

    def __init__(self, models: Sequence[str] | None = None,
                 configs: Mapping[str, LLMConfig | Mapping[str, Any]] | None = None,
                 prompt: str = "", model_configs: Mapping[str, LLMConfig | Mapping[str, Any]] | None = None,
                 **kwargs: Any) -> None:
        registered = LLMFactory.list_models()
        all_ids = [m.identifier for m in registered]
        ready = [m.identifier for m in registered if LLMFactory.availability(m.identifier)]
        options = [(i, i) for i in ready] + [(f"{i}  (no key)", i) for i in all_ids if i not in ready]
        chosen = [m for m in (models or DEFAULT_MODELS) if m in all_ids]
        extra = [m for m in (models or ()) if m not in all_ids]
        for missing in extra:  # fail loudly, with suggestions, on a typo
            LLMFactory.get_model(missing)
        self.configs: dict[str, LLMConfig] = {}
        self.model_configs: dict[str, LLMConfig] = {
            k: v if isinstance(v, LLMConfig) else config_from_mapping(v) for k, v in (model_configs or {}).items()
        }
        self.models = w.SelectMultiple(options=options, value=chosen, rows=8, description="Models",
                                       layout=w.Layout(width="360px"))
        self.config_select = w.SelectMultiple(description="Configs", rows=4, layout=w.Layout(width="260px"))
        self.prompt = w.Textarea(value=prompt, placeholder="One prompt for every model…", rows=3,
                                 layout=w.Layout(width="95%"))
        self.run_button = w.Button(description="Run", button_style="primary", icon="play",
                                   tooltip="send the prompt to every selected model × config")
        self.cards = w.HBox(layout=w.Layout(flex_flow="row wrap", align_items="stretch"))
        self.summary = w.HTML()
        self.results: list[EvalRow] = []
        self.pending: asyncio.Future[list[EvalRow]] | None = None
        super().__init__([w.HBox([self.models, self.config_select]), self.prompt, self.run_button, self.cards,
                          self.summary], **kwargs)
        self.add_class("llmkit-compare")
        for label, config in (configs or {"default": LLMConfig()}).items():
            self.add_config(label, config)
        self.run_button.on_click(self._on_run)

    # ----- public ----------------------------------------------------------------------------------------
    def add_config(self, label: str, config: LLMConfig | Mapping[str, Any]) -> None:
        """Add a labelled config (selected); a model whose schema rejects it gets an error card, not a crash."""
        self.configs[label] = config if isinstance(config, LLMConfig) else config_from_mapping(config)
        selected = [*self.config_select.value, label]
        self.config_select.options = list(self.configs)
        self.config_select.value = [s for s in dict.fromkeys(selected) if s in self.configs]
        self.config_select.layout.display = None if len(self.configs) > 1 else "none"

    async def run(self, prompt: str | None = None) -> list[EvalRow]:
        """Send the prompt to every selected model × config concurrently; return one result row per run."""
        text = self.prompt.value if prompt is None else prompt
        runs = [(m, label) for m in self.models.value for label in self.config_select.value]
        self.results = []
        if not text.strip() or not runs:
            self.summary.value = error_html(ValueError("type a prompt and select at least one model"))
            return []
        cards = [self._card(model, label) for model, label in runs]
        self.cards.children = [card.box for card in cards]
        self.summary.value = ""
        self.run_button.disabled = True
        try:
            rows = await asyncio.gather(*(self._run_one(card, text) for card in cards))
        finally:
            self.run_button.disabled = False
        self.results = list(rows)
        failed = sum(1 for r in rows if r.failed)
        total = sum((r.cost_usd or Decimal(0) for r in rows), Decimal(0))
        unknown = any(r.cost_usd is None and not r.failed for r in rows)  # a model without a price
        summary = f"{len(rows)} run(s), {failed} failed · total cost " + ("unknown" if unknown else f"${total:.6f}")
        self.summary.value = f"<div style='{_SMALL}'>{summary}</div>"
        return self.results

    def run_sync(self, prompt: str | None = None) -> list[EvalRow]:
        from llmkit._sync import run_sync

        return run_sync(self.run(prompt))

    async def wait(self) -> list[EvalRow]:
        """Wait for the run started by the Run button (if any) and return its rows."""
        if self.pending is not None:
            await self.pending
        return self.results

    def to_dataframe(self) -> Any:
        """One row per (model, config) of the last run, COMPARE_COLUMNS with eval results' dtypes (needs pandas)."""
        return rows_frame(self.results, columns=COMPARE_COLUMNS)

    # ----- internals -------------------------------------------------------------------------------------
    def _on_run(self, _button: w.Button) -> None:
        result = schedule(self.run())
        self.pending = result if isinstance(result, asyncio.Future) else None

    def _card(self, model: str, label: str) -> _Card:
        title = html.escape(model) + (f" · {html.escape(label)}" if len(self.configs) > 1 else "")
        output, stats = w.HTML(), w.HTML()
        box = w.VBox([w.HTML(f"<b>{title}</b>"), output, stats],
                     layout=w.Layout(flex="1 1 200px", min_width="200px", max_width="480px", border="1px solid #ccc",
                                     padding="6px", margin="4px"))
        box.add_class("llmkit-compare-card")
        return _Card(model, label, box, output, stats)

    async def _run_one(self, card: _Card, prompt: str) -> EvalRow:
        config = self.configs[card.label].merged(self.model_configs.get(card.model))
        row = EvalRow(model=card.model, config_label=card.label, prompt=prompt,
                      config=json.dumps(config.output_params(), sort_keys=True, default=str))

        def show(progress: Progress) -> None:
            card.output.value = self._text_html(progress.content, progress.reasoning)
            card.stats.value = f"<div style='{_SMALL}'>{html.escape(progress_line(progress))}</div>"

        try:
            llm = LLMFactory.create_llm(card.model, config)
            row.provider, row.runtime = llm.model.provider.value, llm.model.runtime.value
            response = await stream_reply(llm, prompt, show)
        except Exception as exc:  # each column shows its own error; the others carry on
            partial = getattr(exc, "partial_content", None) or ""
            card.output.value = self._text_html(partial, "")
            card.stats.value = f"<div style='{_SMALL}'>{error_html(exc)}</div>"
            row.set_error(getattr(exc, "error_type", type(exc).__name__), error_line(exc), partial)
            return row
        card.output.value = self._text_html(response.content, response.reasoning or "")
        card.stats.value = f"<div class='llmkit-stats' style='{_SMALL}'>{html.escape(stats_line(response))}</div>"
        row.set_response(response)
        return row

    @staticmethod
    def _text_html(content: str, reasoning: str) -> str:
        thinking = (f"<details><summary>reasoning</summary><pre style='{_PRE};color:#555'>"
                    f"{html.escape(reasoning)}</pre></details>") if reasoning else ""
        return f"{thinking}<pre class='llmkit-answer' style='{_PRE}'>{html.escape(content)}</pre>"
