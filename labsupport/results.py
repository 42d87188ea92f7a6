"""Measured results that the book quotes and the tests assert.

    record("lost_sessions_round_robin", 0.66)     # in a lab: stores the value in the notebook
    {glue:text}`../labs/01-client-server/02-stateless-vs-stateful.ipynb::lost_sessions_round_robin:.0%`
    read_results("path/to/executed.ipynb")       # in a test: {name: value}

Values are stored with myst-nb's ``glue`` (hidden), so a chapter page can paste a number that was
measured when the book was built, and a test can read the same number back.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

_PREFIX = "application/papermill.record/"  # myst-nb's glue prefix: hidden in the page

def _plain(value):
    """numpy scalars and arrays to plain Python, so the stored repr is readable back."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record(name: str, value) -> None:
    """Store ``value`` under ``name`` in the executed notebook (hidden; the book and tests read it).

    Emits exactly what ``myst_nb.glue(name, value, display=False)`` emits, without importing myst_nb
    (its import chain costs seconds per lab).
    """
    from IPython.display import display  # noqa: PLC0415

    display({_PREFIX + "text/plain": repr(_plain(value))}, raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": _PREFIX}})


def read_results(notebook_path: str | Path) -> dict:
    """Every value a lab recorded, read from an executed notebook.

    The book build moves glued outputs into a ``NAME.glue.json`` beside the executed notebook,
    so both places are read.
    """
    path = Path(notebook_path)
    nb = json.loads(path.read_text())
    outputs = [out for cell in nb.get("cells", []) for out in cell.get("outputs", [])]
    sidecar = path.with_suffix(".glue.json")
    if sidecar.exists():
        outputs += list(json.loads(sidecar.read_text()).values())
    found = {}
    for out in outputs:
        meta = out.get("metadata", {}).get("scrapbook")
        if not meta:
            continue
        data = out.get("data", {})
        text = data.get(meta.get("mime_prefix", "") + "text/plain") or data.get("text/plain") or ""
        if isinstance(text, list):
            text = "".join(text)
        try:
            found[meta["name"]] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            found[meta["name"]] = text
    return found
