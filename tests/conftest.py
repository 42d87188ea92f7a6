"""Shared fixtures: the book build, and the measured results of each lab.

A lab test asks ``lab_results("labs/06-caching/03-eviction.ipynb")`` for the values the lab
``record()``ed. In the full suite the book build (test_book.py, run first) has just executed every
lab, so those executed notebooks are read; run alone, a lab test executes its own notebook.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Developers can point the suite at an existing build: BOOK_BUILD_DIR=/tmp/x/_build BOOK_REUSE=1 pytest ...
BUILD = Path(os.environ.get("BOOK_BUILD_DIR") or ROOT / "_build")
REUSE = os.environ.get("BOOK_REUSE") == "1"
SESSION_START = time.time()
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
os.environ.setdefault("LABSUPPORT_BATCH", "1")  # notebooks run unattended: no progress bars
sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config, items):
    """The book build goes first: it executes every lab once for the book and for the lab tests."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("book") else 1)


def execute_notebook(path: Path, timeout: int = 300) -> Path:
    """Run a notebook top to bottom in its own folder (as the book does); return the executed copy."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    out = Path(tempfile.mkdtemp(prefix="executed-")) / path.name
    nbformat.write(nb, out)
    return out


_cache: dict[str, dict] = {}


@pytest.fixture(scope="session")
def lab_results():
    from labsupport.results import read_results

    def get(rel_path: str) -> dict:
        if rel_path in _cache:
            return _cache[rel_path]
        src = ROOT / rel_path
        assert src.exists(), f"{rel_path} does not exist"
        built = BUILD / "jupyter_execute" / rel_path
        fresh = built.exists() and built.stat().st_mtime >= max(SESSION_START, src.stat().st_mtime)
        reuse = REUSE and built.exists()
        executed = built if (fresh or reuse) else execute_notebook(src)
        _cache[rel_path] = read_results(executed)
        assert _cache[rel_path], f"{rel_path} recorded no results (call labsupport.record in the lab)"
        return _cache[rel_path]

    return get


@pytest.fixture(scope="session")
def book_build():
    """Build the whole book once per session (strict: -W -n; a failing lab fails it)."""
    if REUSE and (BUILD / "html" / "index.html").exists():
        return BUILD / "html"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py"), "--out", str(BUILD.parent)],
                          cwd=ROOT,
                          capture_output=True, text=True)
    took = time.perf_counter() - t0
    log = BUILD / "book-build.log"
    BUILD.mkdir(exist_ok=True)
    log.write_text(proc.stdout + proc.stderr)
    print(f"book build: {took:.0f} s, exit {proc.returncode}, log in {log}")
    assert proc.returncode == 0, f"the book build failed; last lines:\n{(proc.stdout + proc.stderr)[-4000:]}"
    return BUILD / "html"
