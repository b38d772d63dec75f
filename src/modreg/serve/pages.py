"""The plain HTML pages of `modreg serve`: a search page and a page per entry.

Server-side HTML with a little inline CSS and no script, so it works in any browser and in
text ones; every value from a descriptor is escaped. The search form uses the same query
language as `modreg search` (free text, filters, a `--where` expression).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["entry_page", "error_page", "index_page"]

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h1 small { color: #666; font-weight: normal; }
form { display: flex; flex-wrap: wrap; gap: .5rem; margin: 1rem 0; }
input, select, button { font: inherit; padding: .3rem .5rem; }
input[name=q] { flex: 2 1 16rem; } input[name=where] { flex: 3 1 20rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .6rem; vertical-align: top; }
thead th { border-bottom: 2px solid #ccc; } tbody tr { border-bottom: 1px solid #eee; }
.status-deprecated { color: #a15c00; } .status-archived { color: #888; } .note { color: #666; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .8rem; }
#fields th { width: 16rem; }
"""
_CATEGORIES = ("", "basic", "recurrent", "advanced", "transformer", "specialized", "custom")
_STATUSES = ("", "active", "deprecated", "archived")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{_e(title)}</title>\n'
            f"<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def index_page(registry: str, result: Any, text: str | None) -> str:
    """The search form and the matching entries (every entry, by name, without a search)."""
    query = result.query
    form = (f'<form method="get" action="/" role="search">'
            f'<input name="q" placeholder="search: words, e.g. long horizon mlp" value="{_e(text or "")}" aria-label="search">'
            f'{_select("category", _CATEGORIES, query.categories)}{_select("status", _STATUSES, query.statuses)}'
            f'<input name="where" placeholder="where: performance.mase &lt; 0.9" value="{_e(query.where or "")}" '
            f'aria-label="where">'
            f'<button type="submit">Search</button></form>')
    count = f"{result.total} match{'es' * (result.total != 1)}" + (
        f", showing {len(result.hits)}" if result.total > len(result.hits) else "")
    rows = "".join(_hit_row(hit, scored=bool(query.text.strip())) for hit in result.hits)
    score = "<th>score</th>" if query.text.strip() else ""
    table = (f'<table id="results"><thead><tr><th>name</th><th>version</th><th>category</th><th>status</th>{score}'
             f"<th>summary</th></tr></thead><tbody>{rows}</tbody></table>") if result.hits else '<p class="note">No matches.</p>'
    notes = "".join(f'<p class="note">{_e(note)}</p>' for note in result.notes)
    body = (f"<h1>modreg <small>{_e(registry)}</small></h1>{form}<p class=\"note\" id=\"count\">{_e(count)}</p>"
            f'{notes}{table}<p class="note">JSON: <a href="/api">/api</a></p>')
    return _page(f"modreg: {registry}", body)


def _select(name: str, options: Iterable[str], chosen: Iterable[str]) -> str:
    picked = set(chosen)
    items = "".join(f'<option value="{_e(o)}"{" selected" if o in picked else ""}>{_e(o or name)}</option>' for o in options)
    return f'<select name="{name}" aria-label="{name}">{items}</select>'


def _hit_row(hit: Any, *, scored: bool) -> str:
    score = f"<td>{hit.score:.3g}</td>" if scored and hit.score is not None else ("<td></td>" if scored else "")
    return (f'<tr class="hit"><td><a href="/models/{quote(hit.name)}">{_e(hit.name)}</a></td><td>{_e(hit.version)}</td>'
            f'<td>{_e(hit.category)}</td><td class="status-{_e(hit.status)}">{_e(hit.status)}</td>{score}'
            f"<td>{_e(hit.summary)}</td></tr>")


def entry_page(entry: Any, history: Any) -> str:
    """One entry: heading, prose, its fields and tables, its versions."""
    data: Mapping[str, Any] = entry.data
    heading = (f'<h1 id="name">{_e(entry.name)} <small>{_e(data.get("version"))} · {_e(data.get("category"))} · '
               f'<span class="status-{_e(data.get("status", "active"))}">{_e(data.get("status", "active"))}</span></small></h1>')
    prose = f'<p id="summary"><em>{_e(data.get("summary"))}</em></p>'
    if data.get("description"):
        prose += f'<pre id="description">{_e(str(data["description"]).strip())}</pre>'
    fields = [(key, value) for key, value in _flatten(data) if key not in ("name", "summary", "description")
              and not key.startswith("history")]
    table = "".join(f"<tr><th>{_e(key)}</th><td>{_e(_show(value))}</td></tr>" for key, value in fields)
    versions = "".join(f"<tr><td>{_e(item.version)}</td><td>{_e(item.date)}</td><td>{_e(item.summary)}</td></tr>"
                       for item in history.items)
    body = (f'<p><a href="/">← all entries</a></p>{heading}{prose}<table id="fields"><tbody>{table}</tbody></table>'
            f'<h2>Versions</h2><table id="history"><thead><tr><th>version</th><th>date</th><th>summary</th></tr></thead>'
            f'<tbody>{versions}</tbody></table><p class="note">JSON: <a href="/api/models/{quote(entry.name)}">'
            f"/api/models/{_e(entry.name)}</a> · {_e(entry.path)}</p>")
    return _page(f"{entry.name}: modreg", body)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def error_page(status: int, message: str, hint: str | None) -> str:
    """A short page for 4xx/5xx answers."""
    more = f'<p class="note">{_e(hint)}</p>' if hint else ""
    return _page(f"{status}: modreg", f'<h1>{status}</h1><p id="error">{_e(message)}</p>{more}<p><a href="/">home</a></p>')
