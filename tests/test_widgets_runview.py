"""RunView: summary, filters (model, config, score below/at least, errors only, text), per-prompt answers side
by side, paging, and a run that is still going (Refresh)."""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets as w
import pytest
from evals_helpers import PROMPTS, write_spec

import llmkit.evals as ev
from llmkit.widgets import RunView

FAILING = {"id": "p6", "prompt": "Summarise Hamlet [fail:context_length]", "expected": "revenge"}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    spec = write_spec(tmp_path, models=["echo:mock", "oracle:mock", "reasoner-effort:mock"],
                      prompts=[*PROMPTS, FAILING])
    return ev.run(spec, progress=False).run_dir


def test_no_public_name_shadows_an_ipywidgets_attribute(run_dir: Path) -> None:
    view = RunView(run_dir)
    own = {name for name in [*vars(RunView), *vars(view)] if not name.startswith("_")}
    assert own.isdisjoint(dir(w.DOMWidget)), own & set(dir(w.DOMWidget))


def test_summary_and_every_models_answer_side_by_side(run_dir: Path) -> None:
    view = RunView(run_dir, page_size=3)
    assert "t-" in view.header.value and "72 rows" in view.header.value and "completed" in view.header.value
    # oracle answers 5 of 6 prompts: the failed call counts as a 0, as in the report
    assert "contains (95% CI)" in view.summary.value and "0.83 [" in view.summary.value
    assert view.model.options == ("(all)", "echo:mock", "oracle:mock", "reasoner-effort:mock")
    assert view.scorer.options == ("contains", "numeric")
    page = view.samples.value
    assert page.index("id='prompt-p6'") < page.index("id='prompt-p1'"), "errored prompts first"
    assert "ContextLengthError" in page
    p1 = page[page.index("id='prompt-p1'"):]
    p1 = p1[:p1.index("</details><details") if "</details><details" in p1 else len(p1)]
    for model in ("echo:mock", "oracle:mock", "reasoner-effort:mock"):
        assert f"{model} / default · repeat 0" in p1
    assert "Echo: What is 17 + 25?" in p1 and "The answer is 42." in p1 and "<b>expected:</b> 42" in p1
    assert "<summary>reasoning</summary>" in p1, "reasoning is there, collapsed"
    assert "tokens in" in p1 and "cost $" in p1 and " ms" in p1
    assert "prompts 1–3 of 6" in view.position.value and view.previous.disabled and not view.next.disabled
    view.next.click()
    assert "prompts 4–6 of 6" in view.position.value and view.next.disabled


def test_filters_select_rows(run_dir: Path) -> None:
    view = RunView(run_dir)
    view.model.value = "echo:mock"
    assert set(view.filtered["model"]) == {"echo:mock"} and len(view.filtered) == 24
    view.config.value = "cold"
    assert len(view.filtered) == 12 and "oracle:mock" not in view.samples.value
    view.model.value = view.config.value = "(all)"
    view.scorer.value, view.direction.value, view.threshold.value = "contains", "below", 0.5
    below = view.filtered
    assert len(below) and (below["score_contains"] < 0.5).all() and set(below["model"]) == {"echo:mock"}
    view.direction.value = "at least"
    assert (view.filtered["score_contains"] >= 0.5).all()
    view.direction.value = "any"
    view.errors_only.value = True
    assert set(view.filtered["prompt_id"]) == {"p6"} and view.filtered["error_type"].notna().all()
    view.errors_only.value = False
    view.search.value = "tokyo"
    assert set(view.filtered["prompt_id"]) == {"p4"}
    view.search.value = "nothing like this anywhere"
    assert view.samples.value == "" and "no rows match" in view.position.value


def test_dataframe_source_and_refresh_on_a_growing_run(run_dir: Path) -> None:
    df = ev.load(run_dir)
    from_frame = RunView(df)
    assert from_frame.refresh_button.disabled and "72 rows" in from_frame.header.value
    rows_file = run_dir / "rows.jsonl"
    lines = rows_file.read_text("utf-8").splitlines(keepends=True)
    rows_file.write_text("".join(lines[:10]), "utf-8")  # as if the run had only written 10 rows so far
    manifest = json.loads((run_dir / "run.json").read_text("utf-8"))
    manifest["status"] = "running"
    (run_dir / "run.json").write_text(json.dumps(manifest), "utf-8")
    view = RunView(run_dir)
    assert "10 rows" in view.header.value and "running" in view.header.value
    rows_file.write_text("".join(lines), "utf-8")  # the run went on
    view.refresh_button.click()
    assert "72 rows" in view.header.value and "p6" in view.samples.value
