"""A corpus of hostile model outputs and the checks that a rendering of them is inert.

Reusable by any test that shows outputs: ``HOSTILE`` maps a short name to a text a model (or a
judge) might return; ``assert_terminal_safe``, ``assert_markdown_safe`` and ``assert_xml_safe``
check one rendering independently of :mod:`evalkit.base.escape` (markdown through markdown-it-py,
XML through ElementTree).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markdown_it import MarkdownIt

#: long enough that every output point must cut it
LONG_LEN = 200_000

HOSTILE: dict[str, str] = {
    "ansi": "\x1b[2J\x1b[1;31mRED\x1b[0m cleared your screen",
    "osc8-link": "\x1b]8;;javascript:alert(1)\x1b\\click me\x1b]8;;\x1b\\",
    "osc52-clipboard": "\x1b]52;c;cm0gLXJmIH4K\x07 wrote your clipboard",
    "script": "<script>alert('PWN')</script>",
    "close-script": "</script><img src=x onerror=alert('PWN')>",
    "html": '<a href="javascript:alert(3)">PWN</a> <b>bold</b> <!-- c --> <details open>',
    "js-links": "[PWN](javascript:alert(1)) <javascript:alert(2)> [x]: javascript:alert(4)",
    "markdown": (
        "| PWN | cell |\n# PWN heading\n```\nfence\n``` `tick` ![PWN](http://evil.example/x.png)"
        " **bold** _em_ [PWN link](http://evil.example) ~~strike~~ $x^2$"
    ),
    "rich-markup": "[/INST] [bold]PWN[/bold] [/] [link=http://evil.example]x[/link] [red]",
    "controls": "nul\x00 bell\x07 bs\x08 cr\r vt\x0b ff\x0c del\x7f csi\x9b31m nel\x85",
    "surrogate": "lone \ud800 surrogate \udfff",
    "bidi": "amount: \u202e0001$\u202c and \u2066isolate\u2069",
    "long": "L" * LONG_LEN,
}

#: characters no rendering for a terminal may contain (newline and tab are fine)
_TERMINAL_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: characters XML 1.0 does not allow
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: raw HTML evalkit itself writes in markdown (folded sections); anything else came from data
_OWN_HTML = re.compile(r"^\s*</?(details|summary)>\s*(<summary>[^<]*</summary>)?\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def assert_terminal_safe(text: str, where: str = "") -> None:
    """No control sequence, bidi override or lone surrogate; no traceback."""
    bad = _TERMINAL_BAD.search(text)
    if bad is not None:
        around = text[max(0, bad.start() - 40) : bad.start() + 40]
        raise AssertionError(f"{where}: raw {bad.group()!r} at {bad.start()}: {around!r}")
    assert "Traceback" not in text, f"{where}: {text[-2000:]}"


def assert_not_whole(text: str, where: str = "") -> None:
    """The long output is never shown whole."""
    assert "L" * LONG_LEN not in text, f"{where}: a {LONG_LEN}-character output shown whole"


def assert_markdown_safe(md: str, where: str = "") -> None:
    """Rendered by an independent parser: no HTML but evalkit's own folds, no link or image,
    no heading and no table cell made from data, and terminal-safe as a file. (``<script>``
    may appear inside a code span, where it is shown as text.)"""
    assert_terminal_safe(md, where)
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(md)
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            content = tokens[i + 1].content
            assert "PWN" not in content, f"{where}: heading made from data: {content!r}"
        for t in [token, *(token.children or [])]:
            if t.type in ("html_inline", "html_block"):
                assert _OWN_HTML.match(t.content), f"{where}: raw HTML from data: {t.content!r}"
            assert t.type not in ("link_open", "image"), f"{where}: {t.type} {t.content!r}"
    lines = md.splitlines()
    for i, line in enumerate(lines):  # every row of a table has the header's cell count
        if line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-:| ]+\|$", lines[i + 1]):
            width = len(_CELL_SPLIT.split(line))
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                got = len(_CELL_SPLIT.split(lines[j]))
                assert got == width, f"{where}: row {lines[j][:200]!r} has {got - 2} cells"
                j += 1


def assert_xml_safe(data: bytes, where: str = "") -> ET.Element:
    """Parses with ElementTree and holds no character XML forbids; returns the root."""
    text = data.decode("utf-8")
    bad = _XML_BAD.search(text)
    assert bad is None, f"{where}: {bad.group()!r} in XML"
    assert "\x1b" not in text and "<script" not in text, where
    return ET.fromstring(data)
