"""Self-contained HTML reports: tables and plots in one file that opens offline.

Plots are embedded, not linked: SVG files inline as markup, PNG files as base64 data
URIs, so the page can be mailed or archived alone. No scripts, fonts or style sheets
are fetched. Tables come from the Markdown tables the text reports already print, so
the HTML and the terminal show the same cells.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from netlistgen.core.files import write_atomic

_STYLE = ("body{font-family:sans-serif;max-width:75em;margin:2em auto;padding:0 1em;color:#222}"
          "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #aaa;padding:3px 8px;"
          "text-align:right}td:first-child,th:first-child{text-align:left}th{background:#eee}"
          "td.pass{background:#d9f2d9}td.fail,td.error{background:#f8d0d0}"
          "figure{margin:1em 0}figure img,figure svg{max-width:100%;height:auto}"
          "figcaption{color:#555;font-size:small}p.note{color:#555;font-size:small}")


def heading(text: str, level: int = 2) -> str:
    return f"<h{level}>{html.escape(text)}</h{level}>"


def paragraph(text: str, css: str = "") -> str:
    cls = f" class='{css}'" if css else ""
    return f"<p{cls}>{html.escape(text)}</p>"


def _cell(text: str, tag: str) -> str:
    status = text.split(" ", 1)[0].lower()
    cls = f" class='{status}'" if tag == "td" and status in ("pass", "fail", "error") else ""
    return f"<{tag}{cls}>{html.escape(text)}</{tag}>"


def markdown_table(md: str) -> str:
    """An HTML table from a Markdown pipe table (header, rule, rows); PASS/FAIL cells coloured."""
    lines = [ln.strip() for ln in md.strip().splitlines() if ln.strip().startswith("|")]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    body = [r for r in rows[1:] if not all(re.fullmatch(r":?-{3,}:?", c) for c in r)]
    out = ["<table><tr>" + "".join(_cell(c, "th") for c in rows[0]) + "</tr>"] if rows else ["<table>"]
    out += ["<tr>" + "".join(_cell(c, "td") for c in r) + "</tr>" for r in body]
    return "\n".join(out) + "</table>"


def figure(path: str | Path, caption: str = "") -> str:
    """A plot file embedded in the page (SVG inline, PNG/JPEG as a data URI)."""
    p = Path(path)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    if p.suffix.lower() == ".svg":
        svg = p.read_text(encoding="utf-8")
        svg = svg[svg.find("<svg"):]  # drop the XML declaration and doctype
        return f"<figure>{svg}{cap}</figure>"
    mime = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(p.suffix.lower())
    if mime is None:  # e.g. a PDF plot: browsers cannot show it inline
        return paragraph(f"plot {p.name} (not embeddable: open it beside this page)", "note")
    data = base64.b64encode(p.read_bytes()).decode("ascii")
    return f"<figure><img alt='{html.escape(caption or p.stem)}' src='data:{mime};base64,{data}'>{cap}</figure>"


def page(title: str, parts: list[str]) -> str:
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + heading(title, 1) + "\n" + "\n".join(parts) + "\n</body></html>\n")


def write_page(path: str | Path, title: str, parts: list[str]) -> Path:
    """Write the page atomically; returns its path."""
    path = Path(path)
    write_atomic(path, page(title, parts))
    return path
