"""Write a lab notebook from a plain-text source with ``# %%`` cell markers (outputs are never stored).

    python scripts/mknb.py labs/06-caching/03-eviction.py     # -> labs/06-caching/03-eviction.ipynb

``# %% [markdown]`` starts a markdown cell (each line starts with "# "); ``# %%`` starts a code
cell; ``# %% tags=["hide-input"]`` sets cell tags. Authors may keep the .py source out of the repo:
the committed file is the .ipynb.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat


def parse(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    chunks = re.split(r"^# %%(.*)$", text, flags=re.M)
    for header, body in zip(chunks[1::2], chunks[2::2]):
        body = body.strip("\n")
        tags = []
        m = re.search(r"tags=(\[.*?\])", header)
        if m:
            tags = json.loads(m.group(1))
        if "[markdown]" in header:
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body.splitlines()]
            cell = nbformat.v4.new_markdown_cell("\n".join(lines).strip("\n"))
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating a notebook gives no spurious diff
        cell["id"] = f"cell-{i:02d}"
    return nb


def main(paths: list[str]) -> None:
    for p in paths:
        src = Path(p)
        nb = parse(src.read_text())
        nbformat.validator.normalize(nb)
        out = src.with_suffix(".ipynb")
        nbformat.write(nb, out)
        print(f"wrote {out} ({len(nb.cells)} cells)")


if __name__ == "__main__":
    main(sys.argv[1:])
