"""Model outputs are hostile data: one escaper per medium, applied wherever text is shown.

An output, a judge's reasoning, a check's reason (which quotes the output) or a golden-set id
may carry terminal escapes (``ESC[2J``, OSC 8 links, OSC 52 clipboard writes), raw HTML and
``javascript:`` links for a markdown viewer, rich markup (``[/INST]``), characters XML forbids
or lone surrogates no UTF-8 file can hold. The stored record keeps the text exact
(``results.jsonl``); these functions make the *shown* copy inert:

* :func:`terminal`: control characters, bidi overrides and lone surrogates become visible
  ``\\x1b`` / ``\\u202e`` forms; with ``markup=True`` rich markup is escaped too.
* :func:`markdown`: one inline line of literal text (table cell, list item, heading): newlines
  folded, HTML made entities, markdown punctuation backslash-escaped.
* :func:`markdown_code`: a code span that the text cannot close.
* :func:`xml`: only characters XML 1.0 allows (``ElementTree`` escapes ``<&>`` itself).
* :func:`truncate`: cut long text with "… (N more characters)" (before escaping).
"""

from __future__ import annotations

import re

#: C0 controls except tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates,
#: line/paragraph separators and lone surrogates
_TERMINAL_BAD = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: the same, plus tab and newline, for one-line media
_INLINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
#: what XML 1.0's Char production excludes, plus C1 controls (CSI in some terminals showing logs)
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_MD_PUNCT = re.compile(r"([\\`*_\[\]|#!~$])")
_CODE_SPAN = re.compile(r"(`[^`]+`)")
_MD_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_WS = re.compile(r"[ \t\r\n]+")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def terminal(text: str, *, markup: bool = False) -> str:
    """Text safe to print: no control sequence reaches the terminal; newlines and tabs stay.

    ``markup=True`` for text placed in a rich markup string or a rich table cell, where
    ``[bold]`` or ``[/INST]`` would otherwise be parsed (and a stray closing tag crashes).
    """
    safe = _TERMINAL_BAD.sub(_visible, text)
    if markup:
        from rich.markup import escape

        safe = escape(safe)
    return safe


def _inline(text: str) -> str:
    """One line: whitespace runs folded to a space, other controls made visible."""
    return _INLINE_BAD.sub(_visible, _WS.sub(" ", text)).strip()


def markdown(text: str, *, code_spans: bool = False) -> str:
    """Literal inline text for markdown (GitHub-flavoured): renders as exactly these
    characters, never as HTML, a link, an image, a heading, emphasis or a table cell break.

    ``code_spans=True`` leaves backticks alone, for evalkit's own messages that quote names in
    code spans (a code span is inert: no HTML, link or emphasis is parsed inside it).
    """
    line = _inline(text)
    if not code_spans:
        return _md_literal(line)
    parts = _CODE_SPAN.split(line)  # odd positions: `code` spans, kept as they are
    return "".join(p if i % 2 else _md_literal(p) for i, p in enumerate(parts))


def _md_literal(line: str) -> str:
    line = "".join(_MD_HTML.get(ch, ch) for ch in line) if any(c in line for c in "&<>") else line
    return _MD_PUNCT.sub(r"\\\1", line)


def markdown_code(text: str) -> str:
    """``text`` as a markdown code span (backticks included) that it cannot close early.

    ``|`` is escaped as ``\\|`` so the span can sit in a table cell (GitHub removes the
    backslash there).
    """
    line = _inline(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") or not line else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def xml(text: str) -> str:
    """Text that XML 1.0 can hold: forbidden characters become visible ``\\x..`` forms."""
    return _XML_BAD.sub(_visible, text)
