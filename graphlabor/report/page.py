"""The report page: one self-contained HTML file.

Everything is inline (styles, figures as SVG, one small script whose hash the
page's Content-Security-Policy names; no other script may run and nothing may
be fetched). Every value from the data goes through :func:`esc` (HTML text
and attributes) or :func:`script_json` (JSON inside ``<script>``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from typing import Any

#: The only script on the page: sortable tables and a filter for the top users.
SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("gl-data").textContent);
  var n = document.getElementById("gl-top-count");
  if (n) { n.textContent = String(data.top_users.length); }
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v !== null && v !== "" && !isNaN(Number(v))) { return Number(v); }
    return cell.textContent;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute("data-dir") !== "asc";
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (x < y) { return asc ? -1 : 1; }
          if (x > y) { return asc ? 1 : -1; }
          return 0;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        th.setAttribute("data-dir", asc ? "asc" : "desc");
      });
    });
  });
  var filter = document.getElementById("gl-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase();
      document.querySelectorAll("#gl-top tbody tr").forEach(function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
  }
})();
"""

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
header{background:#1f3b4d;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px 0;font-size:1.5em}
header p{margin:2px 0;color:#d8e3ea;font-size:.9em;overflow-wrap:anywhere}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:6px 28px;font-size:.9em;z-index:2}
nav a{margin-right:14px;color:#1f6f8b;text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:8px 28px 40px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:14px 20px;margin:18px 0}
h2{font-size:1.2em;margin:4px 0 10px;color:#1f3b4d}
h3{font-size:1em;margin:14px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px 12px;min-width:150px;background:#fcfcfc}
.card b{display:block;font-size:1.25em}
.card span{font-size:.8em;color:#555}
.row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.row>figure{flex:1 1 380px}
figure{margin:8px 0}
figcaption{font-size:.82em;color:#555;margin-top:2px}
svg.plot{max-width:100%;height:auto;display:block}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.85em;margin:6px 0;max-width:100%}
th,td{border-bottom:1px solid #eee;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f2f5f7;cursor:pointer;white-space:nowrap}
td.t,th.t{text-align:left;max-width:340px;overflow-wrap:anywhere}
.note{font-size:.85em;color:#555}
input{font:inherit;padding:3px 6px;margin:4px 0}
code{background:#f2f2f2;padding:0 3px;border-radius:3px}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute.

    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return str(obj)


def script_json(obj: Any) -> str:
    """JSON safe to embed in a ``<script>`` element: ``<``, ``>``, ``&`` and line separators escaped.

    >>> script_json({"id": "</script><script>alert(1)</script>"})
    '{"id": "\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
    """
    s = json.dumps(_clean(obj), ensure_ascii=False, allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def csp() -> str:
    """The page's Content-Security-Policy: nothing fetched, only :data:`SCRIPT` runs."""
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
            "img-src data:; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'")


def num(v: Any, digits: int = 2) -> str:
    """A number for a table cell (``-`` for missing)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and abs(v) < 0.01:
            return f"{v:.3g}"
        return f"{v:,.{digits}f}"
    return esc(v)


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], *, sortable: bool = True, id: str | None = None,
          text_cols: tuple[str, ...] = (), pct_cols: tuple[str, ...] = ()) -> str:
    """An HTML table; ``columns`` is (key, header). Text columns escaped, numbers formatted."""
    attrs = ' class="sortable"' if sortable else ""
    if id:
        attrs += f' id="{esc(id)}"'
    head = "".join(f'<th class="{"t" if k in text_cols else ""}">{esc(h)}</th>' for k, h in columns)
    body = []
    for r in rows:
        cells = []
        for k, _ in columns:
            v = r.get(k)
            if k in text_cols:
                cells.append(f'<td class="t" title="{esc(v)}">{esc(v if v is not None else "(none)")}</td>')
            elif k in pct_cols:
                fv = float(v) if isinstance(v, (int, float)) else math.nan
                ok = math.isfinite(fv)
                dv = repr(fv) if ok else ""
                txt = f"{100 * fv:.1f}%" if ok else "-"
                cells.append(f'<td data-v="{esc(dv)}">{txt}</td>')
            else:
                dv = repr(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else ""
                cells.append(f'<td data-v="{esc(dv)}">{num(v)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table{attrs}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def figure(svg: str, caption: str, name: str) -> str:
    """A figure: the inline SVG and an escaped caption."""
    return f'<figure class="plot-figure" data-plot="{esc(name)}">{svg}<figcaption>{esc(caption)}</figcaption></figure>'


def page(title: str, subtitle: list[str], sections: list[tuple[str, str, str]], data: dict[str, Any]) -> str:
    """The whole document; ``sections`` is (anchor, heading, inner HTML)."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(h)}</a>' for a, h, _ in sections)
    body = "".join(f'<section id="{esc(a)}"><h2>{esc(h)}</h2>{inner}</section>' for a, h, inner in sections)
    sub = "".join(f"<p>{esc(s)}</p>" for s in subtitle)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>{sub}</header><nav>{nav}</nav><main>{body}</main>"
        f'<script type="application/json" id="gl-data">{script_json(data)}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
