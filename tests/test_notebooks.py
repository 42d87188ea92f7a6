"""Static checks on the committed notebooks and the table of contents (fast; no kernel)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from toc import toc_files

ROOT = Path(__file__).resolve().parent.parent
LABS = [f for f in toc_files() if f.startswith("labs/")]
NOTEBOOKS = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("*/**/*.ipynb")
                   if not any(part.startswith((".", "_")) for part in p.parts))


def test_every_toc_entry_exists_and_every_notebook_is_in_the_toc():
    """No dangling TOC entry, no orphan lab."""
    for f in toc_files():
        assert any((ROOT / f"{f}{ext}").exists() for ext in (".md", ".ipynb")), f"missing page {f}"
    in_toc = {f + ".ipynb" for f in toc_files()}
    assert not [nb for nb in NOTEBOOKS if nb not in in_toc]


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_notebook_is_committed_clean(nb):
    """No outputs, no execution counts, no machine paths, servers only via labsupport."""
    data = json.loads((ROOT / nb).read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code), "strip outputs"
    text = "".join("".join(c["source"]) for c in data["cells"])
    assert not re.search(r"/(work|home|root|Users)/\w", text), "machine path in notebook"
    assert not re.search(r"^\s*import subprocess|0\.0\.0\.0", text, re.M), "labs use labsupport.services"


@pytest.mark.parametrize("nb", [f + ".ipynb" for f in LABS])
def test_lab_shape(nb):
    """A goal line, set-up that resets, a teardown, recorded results, and a test module of its own."""
    data = json.loads((ROOT / nb).read_text())
    sources = ["".join(c["source"]) for c in data["cells"]]
    assert "**Goal" in "".join(sources[:3]), "a lab opens with a **Goal:** line"
    code = [s for c, s in zip(data["cells"], sources) if c["cell_type"] == "code"]
    assert "stop_all()" in code[-1], "the last code cell is the teardown (services.stop_all())"
    assert "record(" in "".join(code), "a lab records its measured results"
    chapter, lab = re.match(r"labs/(\d\d)-[^/]+/(\d\d)-", nb).groups()
    assert list((ROOT / "tests" / "labs").glob(f"test_{chapter}_{lab}_*.py")), "one test module per lab"


CLEAN_START = "services.stop_all()  # re-running from the top starts clean"
TEARDOWN = 'print("servers stopped:", services.stop_all())'


@pytest.mark.parametrize("nb", [f + ".ipynb" for f in LABS])
def test_lab_first_and_last_cells_have_one_shape(nb):
    """Every lab opens with the same cell: its imports (labsupport's among them), then the clean-start
    line, then its set-up; and closes with the same teardown line (after closing its own clients)."""
    code = ["".join(c["source"]) for c in json.loads((ROOT / nb).read_text())["cells"] if c["cell_type"] == "code"]
    lines = code[0].splitlines()
    n_imports = next((i for i, line in enumerate(lines)
                      if line.strip() and not line.startswith(("import ", "from ", " ", ")"))), len(lines))
    assert any(line.startswith("from labsupport import ") for line in lines[:n_imports]), \
        "the first code cell starts with the imports, `from labsupport import ...` among them"
    assert n_imports < len(lines) and lines[n_imports] == CLEAN_START, \
        f"right after the imports, the first code cell says: {CLEAN_START}"
    assert code[-1].rstrip().splitlines()[-1] == TEARDOWN, f"the last code cell ends with: {TEARDOWN}"


@pytest.mark.parametrize("nb", [f + ".ipynb" for f in LABS])
def test_lab_asks_for_a_prediction_first(nb):
    """Before its main experiment a lab asks for a guess, and afterwards shows it beside the measurement."""
    cells = json.loads((ROOT / nb).read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells]
    asks = [i for i, s in enumerate(sources) if "**Predict first" in s]
    reveals = [i for i, (c, s) in enumerate(zip(cells, sources)) if c["cell_type"] == "code" and "reveal(" in s]
    assert asks, "no **Predict first.** prompt"
    assert reveals and min(reveals) > min(asks), "the prediction is revealed (reveal(...)) after it is asked"


@pytest.mark.parametrize("chapter", sorted({re.match(r"labs/(\d\d)-", f).group(1) for f in LABS}))
def test_every_chapter_has_a_build_it_exercise(chapter):
    """At least one lab per chapter has a build-it cell (tagged build-it) followed by its check() cell."""
    found = []
    for nb in (f + ".ipynb" for f in LABS if f.startswith(f"labs/{chapter}-")):
        cells = json.loads((ROOT / nb).read_text())["cells"]
        for cell, nxt in zip(cells, cells[1:]):
            if "build-it" in cell.get("metadata", {}).get("tags", []):
                assert "NotImplementedError" in "".join(cell["source"]), f"{nb}: the skeleton raises NotImplementedError"
                assert "check(" in "".join(nxt["source"]), f"{nb}: a build-it cell is followed by its check() cell"
                found.append(nb)
    assert found, f"chapter {chapter} has no build-it exercise"
