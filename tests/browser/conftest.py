"""Headless Debian Chromium for the browser tests (recipe: /work/shared/BROWSER-TESTING.md).

Without chromium the tests skip, unless LLMKIT_REQUIRE_BROWSER=1 makes that a failure (set it in CI).
Screenshots go to test-artifacts/; LLMKIT_UPDATE_SCREENSHOTS=1 also refreshes docs/screenshots/ for the README.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian chromium is not installed (apt-get install -y --no-install-recommends chromium)"
        if os.environ.get("LLMKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def save_screenshot() -> Any:
    """save(page_or_locator, name): to test-artifacts/name, and to docs/screenshots/name when updating."""
    def save(target: Any, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        target.screenshot(path=str(path))
        if os.environ.get("LLMKIT_UPDATE_SCREENSHOTS") == "1":
            (ROOT / "docs" / "screenshots").mkdir(parents=True, exist_ok=True)
            shutil.copy(path, ROOT / "docs" / "screenshots" / name)
        return path

    return save
