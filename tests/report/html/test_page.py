"""The page shell: embedded JSON that cannot end its element, a CSP that admits only the page's
own script and style, and no tag or attribute made from data (checked with an independent HTML
parser over the hostile corpus)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from evalkit.report.html.page import GZIP_OVER, MAX_TEXT, embed_json, render_page, shown
from tests.hostile import HOSTILE, assert_terminal_safe


class _Tags(HTMLParser):
    """Every start tag with its attributes, and each script element's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError(f"a comment in the page: {data[:80]!r}")


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def _page(**data: Any) -> str:
    return render_page("run", "t", shown({"title": "t", **data}))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_embedded_json_round_trips_and_cannot_end_its_element(name: str) -> None:
    value = {"out": HOSTILE[name], HOSTILE[name][:40]: [HOSTILE[name]]}
    text = embed_json(shown(value))
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == shown(value)
    text.encode("utf-8")  # lone surrogates were made visible: the file is valid UTF-8


def test_shown_makes_controls_visible_and_cuts_long_text() -> None:
    assert shown("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert shown("lone \ud800") == "lone \\ud800"
    assert shown({"k\u202e": ["x\ty\nz", 1, None, 2.5, float("nan")]}) == {
        "k\\u202e": ["x\ty\nz", 1, None, 2.5, None]
    }
    cut = shown("L" * (MAX_TEXT + 5))
    assert cut.startswith("L" * MAX_TEXT) and cut.endswith("(5 more characters)")
    for text in HOSTILE.values():
        assert_terminal_safe(shown(text, limit=10**6))


def test_page_has_only_its_own_tags_whatever_the_data() -> None:
    page = _page(records=[{"out": t, "id": t[:50]} for t in HOSTILE.values()], texts=[])
    parsed = _parse(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "noscript", "main", "script"}
    assert {tag for tag, _ in parsed.tags} <= allowed
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "evalkit-data"}, {}]
    assert not any("src" in a or "href" in a for _, a in parsed.tags)
    # the data element holds exactly the data, nothing of it leaked into the page's markup
    assert json.loads(parsed.scripts[0])["records"][0]["out"] == shown(HOSTILE["ansi"])


def test_csp_admits_exactly_the_inline_script_and_style() -> None:
    page = _page(records=[], texts=[])
    parsed = _parse(page)
    csp = next(
        a["content"] for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert f"script-src 'sha256-{digest(parsed.scripts[1])}'" in csp
    assert f"style-src 'sha256-{digest(parsed.styles[0])}'" in csp
    assert "default-src 'none'" in csp and "unsafe" not in csp
    # no URL of any kind but the SVG namespace name (an identifier, never fetched)
    assert "http" not in page.replace("http-equiv", "").replace("http://www.w3.org/2000/svg", "")


def test_large_data_is_gzipped_and_unpacks_to_the_same_json() -> None:
    records = [{"out": "x" * 1000, "id": str(i)} for i in range(GZIP_OVER // 900)]
    page = _page(records=records, texts=[])
    parsed = _parse(page)
    data_tag = next(a for t, a in parsed.tags if t == "script" and a.get("id") == "evalkit-data")
    assert data_tag.get("data-encoding") == "gzip+base64"
    unpacked = json.loads(gzip.decompress(base64.b64decode(parsed.scripts[0])))
    assert unpacked["records"] == records and unpacked["kind"] == "run"
    assert len(page) < 200_000  # repetitive text packs small
