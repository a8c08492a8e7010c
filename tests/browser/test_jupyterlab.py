"""The widgets in a real JupyterLab, driven by headless Chromium (recipe: BROWSER-TESTING.md).

Needs Debian's chromium (`apt-get install -y --no-install-recommends chromium fonts-dejavu-core`) and the Python
packages playwright, jupyterlab, ipywidgets, ipykernel — never `playwright install`. Without chromium the test is
skipped, unless LLMKIT_REQUIRE_BROWSER=1 makes that a failure (set it in CI). Screenshots go to test-artifacts/;
LLMKIT_UPDATE_SCREENSHOTS=1 also refreshes docs/screenshots/playground.png for the README.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02_compare_models.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
KERNEL_READY = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const session = widget && widget.sessionContext && widget.sessionContext.session;
  const kernel = session && session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""
RUN_ALL = """() => Promise.race([
  window.jupyterapp.commands.execute('notebook:run-all-cells'),
  new Promise((_, reject) => setTimeout(() => reject(new Error('run-all did not finish in 45 s')), 45000)),
])"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A fresh JupyterLab on 127.0.0.1 with every directory in tmp_path; yields (base URL, notebook dir)."""
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "PYTHONPATH": str(ROOT)}
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
           "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=", "--allow-root",
           f"--ServerApp.root_dir={notebooks}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
           f"--LabApp.workspaces_dir={tmp_path / 'ws'}"]
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        while True:  # bounded by the test's timeout
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/api/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield base, notebooks
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _loopback_page(browser: Any, base: str, viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    """A page whose every request that is not the lab server, `data:` or `blob:` is aborted and listed."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=viewport)
    blocked: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith((base, "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)
    return context, page, blocked


def test_widgets_render_and_stream_in_jupyterlab(browser: Any, lab: tuple[str, Path]) -> None:
    from playwright.sync_api import expect

    started = time.perf_counter()
    base, notebooks = lab
    shutil.copy(NOTEBOOK, notebooks / "compare.ipynb")
    context, page, blocked = _loopback_page(browser, base, {"width": 1280, "height": 1000})
    try:
        page.goto(f"{base}/lab/tree/compare.ipynb")
        loaded_at = time.perf_counter()
        page.wait_for_function(KERNEL_READY, timeout=60_000)
        kernel_at = time.perf_counter()
        assert page.evaluate(RUN_ALL) is True
        ran_at = time.perf_counter()

        # The form follows the picker (reasoner-toggle:mock): a toggle and sliders, generated from the schema.
        form = page.locator(".jp-OutputArea-output .llmkit-config-form").first
        toggle = form.locator(".llmkit-param-thinking_enabled .widget-toggle-button")
        expect(toggle).to_be_visible()
        was_on = "mod-active" in (toggle.get_attribute("class") or "")
        toggle.click()
        if was_on:
            expect(toggle).not_to_have_class(re.compile(r"\bmod-active\b"))
        else:
            expect(toggle).to_have_class(re.compile(r"\bmod-active\b"))
        latency = form.locator(".llmkit-param-latency_ms .widget-slider")
        readout = latency.locator(".widget-readout")
        expect(readout).to_have_text("0")
        latency.locator(".noUi-handle").focus()
        page.keyboard.press("ArrowRight")
        expect(readout).to_have_text("1")
        expect(form.locator(".llmkit-param-latency_ms input[type=checkbox]")).to_be_checked()

        # The playground: pick a reasoning effort in its dropdown, type a prompt, press Send, watch the answer.
        playground = page.locator(".jp-OutputArea-output .llmkit-playground").first
        expect(playground.locator(".llmkit-answer")).to_contain_text("The capital of France is Paris.")
        playground.locator(".llmkit-param-reasoning_effort select").select_option("high")
        playground.locator("textarea").fill("What is 7 * 8?")
        playground.locator("button.widget-button", has_text="Send").click()
        expect(playground.locator(".llmkit-answer")).to_contain_text("The answer is 56.")
        expect(playground.locator(".llmkit-stats")).to_contain_text("tokens in")
        expect(playground.locator(".llmkit-stats")).to_contain_text("TTFT")
        expect(playground.locator(".widget-dropdown select").first).to_be_visible()
        expect(playground.locator(".widget-slider").first).to_be_visible()

        # The compare view ran in the notebook: four columns, the flaky one showing its error.
        compare = page.locator(".jp-OutputArea-output .llmkit-compare").first
        cards = compare.locator(".llmkit-compare-card")
        expect(cards).to_have_count(4)
        expect(cards.filter(has_text="flaky:mock")).to_contain_text("RateLimitError")
        expect(cards.filter(has_text="oracle:mock")).to_contain_text("The answer is 144.")

        ARTIFACTS.mkdir(exist_ok=True)
        playground.scroll_into_view_if_needed()
        playground.screenshot(path=str(ARTIFACTS / "playground.png"))
        compare.scroll_into_view_if_needed()
        compare.screenshot(path=str(ARTIFACTS / "compare.png"))
        page.screenshot(path=str(ARTIFACTS / "jupyterlab.png"))
        if os.environ.get("LLMKIT_UPDATE_SCREENSHOTS") == "1":
            (ROOT / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
            shutil.copy(ARTIFACTS / "playground.png", ROOT / "docs" / "screenshots" / "playground.png")
    finally:
        context.close()
    assert blocked == [], f"requests left the machine: {blocked}"
    print(f"\nbrowser test (s after the server answered): page {loaded_at - started:.1f}, "
          f"kernel {kernel_at - started:.1f}, run-all {ran_at - started:.1f}, done {time.perf_counter() - started:.1f}")


def test_runview_filters_and_shows_answers_in_jupyterlab(browser: Any, lab: tuple[str, Path],
                                                          save_screenshot: Any) -> None:
    from playwright.sync_api import expect

    base, notebooks = lab
    shutil.copy(ROOT / "notebooks" / "04_cost_report.ipynb", notebooks / "cost.ipynb")
    for folder in ("evals", "data"):  # the notebook finds the quickstart spec and prompts next to it
        shutil.copytree(ROOT / folder, notebooks / folder)
    context, page, blocked = _loopback_page(browser, base, {"width": 1400, "height": 1900})  # room for the widget
    try:
        page.goto(f"{base}/lab/tree/cost.ipynb")
        page.wait_for_function(KERNEL_READY, timeout=60_000)
        assert page.evaluate(RUN_ALL) is True
        view = page.locator(".jp-OutputArea-output .llmkit-runview").first
        expect(view).to_contain_text("contains (95% CI)")
        expect(view).to_contain_text("prompts 1–10 of 10")
        # every model's answer to one prompt, side by side
        search = view.locator(".widget-text input[type=text]")
        search.fill("12 * 12")
        search.press("Enter")
        expect(view).to_contain_text("prompts 1–1 of 1")
        for model in ("echo:mock", "oracle:mock", "reasoner-effort:mock"):
            expect(view.locator(".answer", has_text=f"{model} / default").first).to_be_visible()
        expect(view).to_contain_text("The answer is 144.")
        # the model filter narrows the rows
        view.locator(".widget-dropdown select").first.select_option("echo:mock")
        expect(view.locator(".answer")).to_have_count(2)
        view.locator(".widget-dropdown select").first.select_option("(all)")
        expect(view.locator(".answer", has_text="reasoner-effort:mock").first).to_be_visible()
        expect(view.locator(".widget-dropdown select").nth(2)).to_have_value("contains")
        view.scroll_into_view_if_needed()
        save_screenshot(view, "runview.png")
    finally:
        context.close()
    assert blocked == [], f"requests left the machine: {blocked}"
