"""How evalkit's own tooling opens its pages in a real browser (the browser tests, the benchmark,
the README's screenshots): Debian's Chromium, headless, driven by Playwright for Python, whose
own browser download is not used. Playwright is a development dependency, passed in."""

from __future__ import annotations

from typing import Any

#: Debian's chromium package
CHROMIUM = "/usr/bin/chromium"
#: headless, and nothing that would reach the network on its own
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def launch(playwright: Any, executable: str = CHROMIUM) -> Any:
    """A Chromium browser from a started ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=executable, args=list(ARGS))
