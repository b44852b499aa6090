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
import gzip
import hashlib
import html
import json
import re
from functools import cache
from importlib import resources
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
    css = _asset("report.css")
    script = _asset("common.js") + "\n" + _asset(_SCRIPTS[kind])
    csp = (
        "default-src 'none'; "
        f"script-src 'sha256-{_sha256(script)}'; "
        f"style-src 'sha256-{_sha256(css)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    payload = embed_json({"kind": kind, **data})
    encoding = ""
    if len(payload) > GZIP_OVER:
        packed = gzip.compress(payload.encode("utf-8"), compresslevel=6, mtime=0)
        payload = base64.b64encode(packed).decode("ascii")
        encoding = ' data-encoding="gzip+base64"'
    return (
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
        f'<script type="application/json" id="evalkit-data"{encoding}>{payload}</script>\n'
        f"<script>{script}</script>\n</body>\n</html>\n"
    )
