"""The escapers, checked against the hostile corpus with independent parsers."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from markdown_it import MarkdownIt
from rich.console import Console
from rich.table import Table
from rich.text import Text

from evalkit.base.escape import markdown, markdown_code, terminal, truncate, xml
from tests.hostile import HOSTILE, assert_markdown_safe, assert_terminal_safe, assert_xml_safe

NAMES = sorted(HOSTILE)


def _unescape(shown: str) -> str:
    """Undo the visible ``\\xNN`` / ``\\uNNNN`` forms."""
    return re.sub(
        r"\\x([0-9a-f]{2})|\\u([0-9a-f]{4})",
        lambda m: chr(int(m.group(1) or m.group(2), 16)),
        shown,
    )


def _rendered_text(md: str) -> str:
    """The plain text a markdown renderer shows for ``md`` (entities and escapes resolved)."""
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parseInline(md)
    out = []
    for token in tokens[0].children or []:
        assert token.type in ("text", "softbreak", "code_inline"), token.type
        out.append(token.content)
    return "".join(out)


@pytest.mark.parametrize("name", NAMES)
def test_terminal_keeps_newlines_and_makes_controls_visible(name: str) -> None:
    text = HOSTILE[name]
    shown = terminal(text)
    assert_terminal_safe(shown, name)
    assert shown.count("\n") == text.count("\n")
    assert _unescape(shown) == text  # visible and reversible: nothing dropped


@pytest.mark.parametrize("name", NAMES)
def test_terminal_markup_shows_rich_markup_literally(name: str) -> None:
    text = HOSTILE[name]
    safe = terminal(text, markup=True)
    plain = Text.from_markup(safe).plain
    # no tag is interpreted; rich doubles a trailing backslash so it cannot escape what follows
    assert plain == terminal(text) or (text.endswith("\\") and plain == terminal(text) + "\\")
    table = Table("case", "why")
    table.add_row(safe, safe)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(table)  # a stray closing tag used to raise MarkupError here
    assert_terminal_safe(console.file.getvalue(), name)  # type: ignore[attr-defined]


def test_rich_closing_tag_crashes_unescaped() -> None:
    """The failure the escaper prevents: ``[/INST]`` is a markup error in rich."""
    from rich.errors import MarkupError

    with pytest.raises(MarkupError):
        Text.from_markup(HOSTILE["rich-markup"])


@pytest.mark.parametrize("name", NAMES)
def test_markdown_renders_as_the_literal_text(name: str) -> None:
    text = HOSTILE[name][:500]
    md = markdown(text)
    assert "\n" not in md
    assert_markdown_safe(f"| a |\n|---|\n| {md} |\n", name)
    assert _unescape(_rendered_text(md)) == re.sub(r"[ \t\r\n]+", " ", text).strip(" ")


def test_markdown_keeps_evalkits_own_code_spans() -> None:
    md = markdown("re-judge with `evalkit judge run_1` <b>_x_</b>", code_spans=True)
    assert md == "re-judge with `evalkit judge run_1` &lt;b&gt;\\_x\\_&lt;/b&gt;"


@pytest.mark.parametrize("text", ["plain", "a`b", "``x``", "`", "a|b", "<script>", ""])
def test_markdown_code_is_one_code_span_holding_the_text(text: str) -> None:
    span = markdown_code(text)
    tokens = MarkdownIt("commonmark").parseInline(span)[0].children or []
    if text:
        assert [t.type for t in tokens] == ["code_inline"]
        assert tokens[0].content == text.replace("|", "\\|")


@pytest.mark.parametrize("name", NAMES)
def test_xml_text_and_attributes_parse(name: str) -> None:
    root = ET.Element("r", {"a": xml(HOSTILE[name])})
    root.text = xml(HOSTILE[name])
    data = ET.tostring(root, encoding="utf-8")
    parsed = assert_xml_safe(data, name)
    assert parsed.text is not None and len(parsed.text) >= len(HOSTILE[name])


def test_xml_without_escaping_is_invalid() -> None:
    """The failure the escaper prevents: ElementTree writes what no parser reads back."""
    root = ET.Element("r")
    root.text = HOSTILE["controls"]
    with pytest.raises(ET.ParseError):
        ET.fromstring(ET.tostring(root, encoding="utf-8"))


def test_truncate_says_how_much_was_cut() -> None:
    assert truncate("abcdef", 10) == "abcdef"
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdef", 2) == "ab… (4 more characters)"
    long = truncate(HOSTILE["long"], 100)
    assert long.endswith(f"… ({len(HOSTILE['long']) - 100} more characters)")
