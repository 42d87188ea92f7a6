"""The book's pages, read from _toc.yml (shared by the notebook and book tests)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_files(with_root: bool = False) -> list[str]:
    """Every page in _toc.yml, in order (chapters, then their labs); optionally the root page first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] if with_root else []

    def walk(entries):
        for e in entries:
            files.append(e["file"])
            walk(e.get("sections", []))  # a sub-page's labs nest one level deeper

    for part in toc["parts"]:
        walk(part["chapters"])
    return files
