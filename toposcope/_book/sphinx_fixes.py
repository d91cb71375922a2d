"""A Sphinx extension for the book's build: one copy of every inline script on a page.

sphinx-thebe and sphinx-togglebutton add their inline configuration scripts twice
under Jupyter Book 1 (``const THEBE_JS_URL`` declared twice is a console error on every
page); this drops the repeats, keeping the first of each.
"""

from __future__ import annotations

from typing import Any


def _dedupe_scripts(app, pagename, templatename, context: dict[str, Any], doctree) -> None:
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # The same script comes once with filename None and once with "" (registry and builder copies).
        key = (getattr(script, "filename", None) or "", repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    if "script_files" in context:
        context["script_files"][:] = kept


def setup(app) -> dict[str, Any]:
    app.connect("html-page-context", _dedupe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
