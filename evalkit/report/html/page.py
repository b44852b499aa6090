"""One self-contained HTML file: inline CSS and JavaScript, the data embedded as JSON.

The page draws itself from the data, so nothing from a model ever reaches the HTML parser: every
string is made visible-safe once here (:func:`evalkit.base.escape.terminal`: control characters,
bidi overrides and lone surrogates become ``\\x1b`` / ``\\u202e`` forms, the same as in the
terminal) and the JSON is written so that no sequence in it can end the ``<script>`` element
(``<``, ``>``, ``&``, U+2028/9 are ``\\u`` escapes). Past :data:`GZIP_OVER` characters the JSON is
gzipped and base64-encoded instead (the browser's own DecompressionStream unpacks it), which keeps
a 10,000-case run far below 15 MB. The page's own script only ever sets ``textContent``. A
Content-Security-Policy meta tag admits exactly the page's one script and one style block (by
hash) and nothing else: no request of any kind leaves the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import chain
from typing import Any

from evalkit.base.escape import terminal, truncate
from evalkit.base.gc import gc_paused as gc_paused  # re-exported for the pages

#: longest text shown in a page; the rest is counted, the exact text stays in results.jsonl
MAX_TEXT = 100_000
#: embedded JSON longer than this is gzipped (base64 is inert in a script element as well)
GZIP_OVER = 1_000_000
_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")
_SCRIPTS = {"run": "run.js", "compare": "compare.js", "history": "history.js"}


def shown(value: Any, limit: int = MAX_TEXT) -> Any:
    """``value`` with every string (dict keys too) cut to ``limit`` and made visible-safe."""
    kind = type(value)
    if kind is str or isinstance(value, str):
        if len(value) <= limit and value.isprintable():  # fast path: nothing to escape or cut
            return value
        return terminal(truncate(value, limit))
    if kind is dict:
        return {shown(str(k), limit): shown(v, limit) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [shown(v, limit) for v in value]
    if kind is float and value != value:  # NaN is not JSON
        return None
    return value


def embed_json(data: Any) -> str:
    """JSON that is inert inside ``<script type="application/json">``: it cannot close the
    element, open a comment, or break a line in an older JavaScript parser."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@cache
def _asset(name: str) -> str:
    return resources.files("evalkit.report.html").joinpath("assets", name).read_text("utf-8")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def render_page(kind: str, title: str, data: dict[str, Any]) -> str:
    """The whole HTML file for one page ``kind`` (run, compare, history). ``data`` must already
    have passed through :func:`shown`."""
    return "".join(page_chunks(kind, title, data))


@dataclass
class Streamed:
    """A list member of a page's data produced item by item (a run's records), and members
    known only once it is exhausted (``tail``: the text table the records refer to)."""

    key: str
    items: Iterable[Any]
    tail: Callable[[], dict[str, Any]] = dict


def page_chunks(
    kind: str, title: str, data: dict[str, Any], streamed: Streamed | None = None
) -> Iterator[str]:
    """:func:`render_page` piece by piece, for a page too large to hold as one string: the
    embedded JSON is produced item by item and, once past :data:`GZIP_OVER` characters,
    gzipped and base64-encoded as it goes. Items and tail must already be :func:`shown`."""
    css = _asset("report.css")
    script = _asset("common.js") + "\n" + _asset(_SCRIPTS[kind])
    csp = (
        "default-src 'none'; "
        f"script-src 'sha256-{_sha256(script)}'; "
        f"style-src 'sha256-{_sha256(css)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    head = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(terminal(title))}</title>\n"
        f"<style>{css}</style>\n</head>\n<body>\n"
        "<noscript>This report is drawn by its inline script; the same figures are in "
        "report.md and summary.json.</noscript>\n"
        '<main id="app"></main>\n'
        '<script type="application/json" id="evalkit-data"'
    )
    end = f"</script>\n<script>{script}</script>\n</body>\n</html>\n"
    parts = _payload_parts({"kind": kind, **data}, streamed)
    buffered: list[str] = []
    size = 0
    for part in parts:  # up to GZIP_OVER characters decide whether it is gzipped
        buffered.append(part)
        size += len(part)
        if size > GZIP_OVER:
            break
    else:
        yield head + ">" + "".join(buffered) + end
        return
    yield head + ' data-encoding="gzip+base64">'
    yield from _gzip_base64(chain(buffered, parts))
    yield end


def _payload_parts(data: dict[str, Any], streamed: Streamed | None) -> Iterator[str]:
    """The embedded JSON in pieces: ``data``, then the streamed list, then its tail."""
    text = embed_json(data)
    if streamed is None:
        yield text
        return
    yield text[:-1] + "," + embed_json(streamed.key) + ":["
    sep = ""
    for item in streamed.items:
        yield sep + embed_json(item)
        sep = ","
    tail = embed_json(streamed.tail())
    yield "]" + ("," + tail[1:] if tail != "{}" else "}")


def _gzip_base64(parts: Iterable[str]) -> Iterator[str]:
    """gzip (level 6, no timestamp, as :func:`gzip.compress` with ``mtime=0``) then base64,
    streamed: base64 is emitted in whole 3-byte groups, the rest carried over."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    carry = b""
    for part in parts:
        carry += packer.compress(part.encode("utf-8", "backslashreplace"))
        if len(carry) >= 1 << 16:
            whole = len(carry) - len(carry) % 3
            yield base64.b64encode(carry[:whole]).decode("ascii")
            carry = carry[whole:]
    carry += packer.flush()
    yield base64.b64encode(carry).decode("ascii")
