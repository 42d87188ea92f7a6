"""The book builds strictly (-W -n, every lab executed against real servers) and renders offline."""

from __future__ import annotations

import re

import pytest
from toc import toc_files

CDN = re.compile(r"""(src|href)=["']https?://(?!127\.0\.0\.1|localhost)[^"']+\.(js|css|woff2?)["']""")


@pytest.mark.book
def test_book_builds_strict(book_build):
    """jupyter-book build -W -n --keep-going exits 0 with every lab executed."""
    assert (book_build / "index.html").exists()


@pytest.mark.book
def test_every_page_rendered_and_every_lab_plots(book_build):
    """Each TOC page has HTML; each lab page shows at least one plot image."""
    for page in toc_files(with_root=True):
        html = (book_build / f"{page}.html").read_text()
        if page.startswith("labs/"):
            assert re.search(r'<img[^>]+src="[^"]*_images/[^"]+\.png"', html), f"{page} has no plot"


@pytest.mark.book
def test_no_asset_is_loaded_from_a_cdn(book_build):
    """Scripts, styles and fonts are all local (the widget manager, require.js and MathJax are vendored)."""
    offenders = {}
    for html in book_build.rglob("*.html"):
        hits = CDN.findall(html.read_text(errors="replace"))
        if hits:
            offenders[str(html.relative_to(book_build))] = hits[:3]
    assert not offenders
