"""report.html in headless Chromium: a copy alone in an empty directory opens with no request and no console
error, a known prompt shows every model's answer once expanded, and a 10,000-row report opens in under 2 s."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from evals_helpers import PROMPTS, write_spec

import llmkit.evals as ev

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
MODELS = ["echo:mock", "oracle:mock", "reasoner-effort:mock", "flaky:mock"]


def _open(browser: Any, html: Path, tmp_path: Path) -> tuple[Any, Any, list[str], list[str], float]:
    """Open a copy of the report from an empty directory; returns (context, page, errors, requests, seconds)."""
    alone = tmp_path / "alone"
    alone.mkdir()
    copy = alone / "report.html"
    shutil.copy(html, copy)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    requests: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or url == copy.as_uri():
            route.continue_()
        else:
            requests.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    started = time.perf_counter()
    page.goto(copy.as_uri(), wait_until="load")
    return context, page, errors, requests, time.perf_counter() - started


def test_report_opens_alone_and_shows_every_models_answer(browser: Any, tmp_path: Path,
                                                          save_screenshot: Any) -> None:
    prompts = [*PROMPTS, {"id": "p6", "prompt": "Summarise the plot of Hamlet [fail:context_length]",
                          "expected": "revenge"}]
    run = ev.run(write_spec(tmp_path, models=MODELS, prompts=prompts), progress=False)
    report = ev.build_report(run.run_dir, baseline="oracle:mock")
    context, page, errors, requests, _ = _open(browser, report.out_dir / "report.html", tmp_path)
    try:
        body = page.locator("body")
        assert "Cost analysis" in body.inner_text() and page.locator("figure svg").count() == 3
        entry = page.locator("details#prompt-p2")
        assert "The capital of France is Paris." not in entry.inner_text(), "collapsed before the click"
        entry.locator(":scope > summary").click()
        shown = entry.inner_text()
        for model in MODELS:
            assert f"{model} / default" in shown and f"{model} / cold" in shown
        assert "Echo: What is the capital of France?" in shown and "The capital of France is Paris." in shown
        first = page.locator("details.p").first
        assert first.get_attribute("id") == "prompt-p6", "errored prompts come first"
        first.locator(":scope > summary").click()
        assert "ContextLengthError" in first.inner_text()
        page.fill("#filter", "Japan")
        assert page.locator("#shown").inner_text() == "1"
        page.fill("#filter", "")
        page.locator("#summary").scroll_into_view_if_needed()
        save_screenshot(page, "report.png")
    finally:
        context.close()
    assert errors == [] and requests == []


@pytest.mark.slow
def test_ten_thousand_row_report_opens_in_under_two_seconds(browser: Any, tmp_path: Path) -> None:
    prompts = [{"id": f"q{i:04d}", "prompt": f"What is {i} + {i}?", "expected": str(2 * i)} for i in range(500)]
    models = [*MODELS, "reasoner-budget:mock"]
    run = ev.run(write_spec(tmp_path, models=models, prompts=prompts), progress=False)  # 5 × 2 × 500 × 2
    report = ev.build_report(run.run_dir)
    assert int(report.summary["n"].sum()) == 10_000
    context, page, errors, requests, seconds = _open(browser, report.out_dir / "report.html", tmp_path)
    try:
        assert page.locator("details.p").count() == 500
        page.locator("details#prompt-q0007 > summary").click()
        assert "The answer is 14." in page.locator("details#prompt-q0007").inner_text()
    finally:
        context.close()
    print(f"\n10,000-row report: {(report.out_dir / 'report.html').stat().st_size / 1e6:.1f} MB, "
          f"opened in {seconds:.2f} s")
    assert errors == [] and requests == []
    assert seconds < 2.0
