"""One headless Chromium (Debian's, driven by Playwright) per test module, and a page opener that
records every request, dialog and script error a page makes.

Per module, not per session: Playwright's sync API keeps an event loop running in the main
thread while it is open, and every later test that calls ``asyncio.run`` (the run loop) would
fail. So the browser tests sit in two modules and close their browser when they end."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from evalkit.model.trajectory import ToolCallRecord, Trajectory, TurnRecord
from evalkit.report.html import headless

CHROMIUM = os.environ.get("EVALKIT_CHROMIUM", headless.CHROMIUM)


@dataclass
class Opened:
    page: Any
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - CI installs it (the dev extra)
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed: pip install -e '.[dev]'")
    if not shutil.which(CHROMIUM):  # pragma: no cover - .ci/run installs it
        if os.environ.get("CI"):
            raise AssertionError(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        b = headless.launch(p, CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Opened]]:
    """Open a file in a fresh context; any request but the file itself is recorded and
    aborted, every dialog recorded and dismissed."""
    contexts: list[Any] = []

    def open_(path: Path, *, width: int = 1280, hash: str = "") -> Opened:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        url = path.resolve().as_uri()

        def route(r: Any) -> None:
            opened.requests.append(r.request.url)
            if r.request.url == url:
                r.continue_()
            else:
                r.abort()

        context.route("**/*", route)
        page.on("request", lambda req: opened.requests.append(req.url))
        page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: opened.errors.append(str(e)))
        page.goto(url + hash)
        page.wait_for_selector("body[data-ready]", timeout=10_000)
        return opened

    yield open_
    for c in contexts:
        c.close()


def only_the_file(opened: Opened, path: Path) -> None:
    """No request but the page itself, no dialog, no script error."""
    url = path.resolve().as_uri()
    assert set(opened.requests) <= {url}, opened.requests
    assert opened.dialogs == [] and opened.errors == [], (opened.dialogs, opened.errors)


def conversation(name: str, arg: str, result: str, *, reached: bool = False) -> Trajectory:
    """Two turns: a call answered by the case's rule 0, a runner error; then the answer."""
    return Trajectory(
        turns=[
            TurnRecord(
                text="let me look",
                tool_calls=[
                    ToolCallRecord(
                        id="t1",
                        name=name,
                        arguments={"q": arg},
                        result={"found": result},
                        source="case",
                        rule=0,
                    ),
                    ToolCallRecord(
                        name="refund",
                        arguments="{not json",
                        result=result,
                        is_error=True,
                        source="error",
                    ),
                ],
                input_tokens=12,
                output_tokens=3,
                finish_reason="tool_use",
            ),
            TurnRecord(text="done: " + result, input_tokens=20, output_tokens=4),
        ],
        final="done: " + result,
        max_turns=4,
        max_turns_reached=reached,
    )
