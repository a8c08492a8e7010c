"""RunView: look at every sample of a run in the notebook — the summary, filters, and per prompt the answers of
every model × config side by side (output, reasoning collapsed, expected, scores, judge explanation, latency,
tokens, cost, error with its type).

    from llmkit.widgets import RunView
    RunView("runs/quickstart-20261128-...")      # a run directory (finished or still running: press Refresh)
    RunView(df)                                    # or the rows DataFrame from llmkit.evals.load

Filters select rows; a prompt is listed when any of its rows passes and shows the rows that pass, prompts with
errors first, then the worst-scoring, a page at a time.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w

from llmkit.evals.columns import score_columns
from llmkit.evals.html_report import group_prompts, prompt_block, summary_table
from llmkit.evals.report import summarize

ALL = "(all)"
PAGE_SIZE = 10
# The report's look, scoped to the widget so the notebook around it keeps its own.
STYLE = """<style>
.llmkit-rv{line-height:1.35;overflow-x:auto}
.llmkit-rv table{border-collapse:collapse;font-size:12px;margin:.3em 0}
.llmkit-rv td,.llmkit-rv th{border:1px solid #d6d6d6;padding:2px 6px;text-align:right;vertical-align:top;
white-space:nowrap}
.llmkit-rv th{background:#f3f3f3}.llmkit-rv td.t,.llmkit-rv th.t{text-align:left}
.llmkit-rv .unknown{color:#a15c00}.llmkit-rv .err{color:#b00020}
.llmkit-rv details.p{border:1px solid #ddd;border-radius:4px;margin:4px 0;padding:2px 8px}
.llmkit-rv details.p>summary{cursor:pointer;padding:3px 0}
.llmkit-rv .answers{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:8px;margin:6px 0}
.llmkit-rv .answer{border:1px solid #e2e2e2;border-radius:4px;padding:6px;background:#fafafa}
.llmkit-rv .answer.bad{border-color:#e8a0a0}.llmkit-rv .answer h4{margin:0 0 4px;font-size:13px}
.llmkit-rv pre{white-space:pre-wrap;word-break:break-word;margin:4px 0;font-size:12px;background:none;border:0}
.llmkit-rv .stats{font-size:12px;color:#555}
</style>"""


class RunView(w.VBox):  # type: ignore[misc]
    """Summary, filters and paged per-prompt answers of one run (a run directory or a rows DataFrame)."""

    def __init__(self, run: str | Path | Any, page_size: int = PAGE_SIZE, **kwargs: Any) -> None:
        self.run_dir: Path | None = None if hasattr(run, "columns") else Path(run)
        self.page_size = page_size
        self.page = 0
        self.df: Any = run if self.run_dir is None else None
        self.manifest: dict[str, Any] = {}
        self.header = w.HTML()
        self.summary = w.HTML()
        self.model = w.Dropdown(description="Model", layout=w.Layout(width="290px"))
        self.config = w.Dropdown(description="Config", layout=w.Layout(width="220px"))
        self.scorer = w.Dropdown(description="Score", layout=w.Layout(width="210px"))
        self.direction = w.Dropdown(options=["any", "below", "at least"], value="any", layout=w.Layout(width="95px"))
        self.threshold = w.BoundedFloatText(value=1.0, min=-1e9, max=1e9, step=0.1, layout=w.Layout(width="80px"))
        self.errors_only = w.Checkbox(value=False, description="errors only", indent=False,
                                      layout=w.Layout(width="110px"))
        self.search = w.Text(placeholder="text in the prompt, output, reasoning or error", description="Search",
                             continuous_update=False, layout=w.Layout(width="420px"))
        self.refresh_button = w.Button(description="Refresh", icon="refresh",
                                       tooltip="re-read the run directory (a run still in progress grows)",
                                       disabled=self.run_dir is None)
        self.previous = w.Button(description="◀", layout=w.Layout(width="44px"), tooltip="previous page")
        self.next = w.Button(description="▶", layout=w.Layout(width="44px"), tooltip="next page")
        self.position = w.HTML()
        self.samples = w.HTML()
        filters = w.VBox([w.HBox([self.model, self.config, self.scorer, self.direction, self.threshold]),
                          w.HBox([self.search, self.errors_only, self.refresh_button])])
        pager = w.HBox([self.previous, self.next, self.position])
        super().__init__([w.HTML(STYLE), self.header, self.summary, filters, pager, self.samples], **kwargs)
        self.add_class("llmkit-runview")
        for control in (self.model, self.config, self.scorer, self.direction, self.threshold, self.errors_only,
                        self.search):
            control.observe(self._on_filter, names="value")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.previous.on_click(lambda _: self.show_page(self.page - 1))
        self.next.on_click(lambda _: self.show_page(self.page + 1))
        self.refresh()

    # ----- data -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """(Re)load the rows — from the run directory when there is one — and redraw everything."""
        if self.run_dir is not None:
            from llmkit.evals.store import load, read_manifest

            self.manifest = read_manifest(self.run_dir)
            self.df = load(self.run_dir)
        df = self.df
        status = self.manifest.get("status", "")
        run_id = self.manifest.get("run_id") or (str(df["run_id"].iloc[0]) if len(df) and "run_id" in df else "")
        self.header.value = (f"<b>{html.escape(str(run_id))}</b> · {len(df)} rows"
                             + (f" · {html.escape(str(status))}" if status else ""))
        rule = bool((self.manifest.get("spec") or {}).get("exclude_errors", False))  # the run's own rule
        table = summary_table(summarize(df, self.manifest, exclude_errors=rule)) if len(df) else ""
        self.summary.value = (f"<div class='llmkit-rv'>{table}</div>"
                              if len(df) else "<i>no rows yet — press Refresh while the run is going</i>")
        self._set_options(self.model, df["model"] if len(df) else [])
        self._set_options(self.config, df["config_label"] if len(df) else [])
        scorers = [c.removeprefix("score_") for c in score_columns(df)]
        keep = self.scorer.value
        self.scorer.options = scorers or ["(none)"]
        self.scorer.value = keep if keep in scorers else (scorers or ["(none)"])[0]
        self.direction.disabled = self.threshold.disabled = self.scorer.disabled = not scorers
        self.show_page(self.page)

    @staticmethod
    def _set_options(dropdown: w.Dropdown, values: Any) -> None:
        keep = dropdown.value
        options = [ALL, *dict.fromkeys(str(v) for v in values)]
        dropdown.options = options
        dropdown.value = keep if keep in options else ALL

    @property
    def filtered(self) -> Any:
        """The rows that pass the current filters."""
        df = self.df
        if df is None or not len(df):
            return df
        keep = df["model"].notna()
        if self.model.value != ALL:
            keep &= df["model"] == self.model.value
        if self.config.value != ALL:
            keep &= df["config_label"] == self.config.value
        column = f"score_{self.scorer.value}"
        if self.direction.value != "any" and column in df.columns:
            scores = df[column].astype("float64")
            keep &= scores < self.threshold.value if self.direction.value == "below" else (
                scores >= self.threshold.value)
        if self.errors_only.value:
            keep &= df["error_type"].notna()
        text = self.search.value.strip().lower()
        if text:
            hay = df["prompt"].fillna("").astype(str)
            for name in ("output", "reasoning", "error", "expected", "prompt_id"):
                if name in df.columns:
                    hay = hay + "\n" + df[name].fillna("").astype(str)
            keep &= hay.str.lower().str.contains(text, regex=False)
        return df[keep.fillna(False).astype(bool)]

    # ----- drawing -------------------------------------------------------------------------------------
    def _on_filter(self, _: Any) -> None:
        self.show_page(0)

    def show_page(self, page: int) -> None:
        rows = self.filtered
        if rows is None or not len(rows):
            self.page = 0
            self.position.value = "no rows match the filters" if self.df is not None and len(self.df) else ""
            self.samples.value = ""
            self.previous.disabled = self.next.disabled = True
            return
        groups = group_prompts(rows)
        pages = max(1, -(-len(groups) // self.page_size))
        self.page = min(max(page, 0), pages - 1)
        start = self.page * self.page_size
        shown = groups[start:start + self.page_size]
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
        self.position.value = (f"prompts {start + 1}–{start + len(shown)} of {len(groups)} "
                               f"({len(rows)} of {len(self.df)} rows) · page {self.page + 1}/{pages}")
        scorers = score_columns(rows)
        meta = [c for c in rows.columns if c.startswith("meta_")]
        self.samples.value = "<div class='llmkit-rv'>" + "".join(
            prompt_block(prompt_id, prompt_rows, scorers, meta, opened=True) for prompt_id, prompt_rows in shown
        ) + "</div>"
