"""The built book, opened offline in headless Chromium: no request leaves the machine, every plot
loads, widgets render, and solutions toggle."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing. Fix: scripts/setup.sh --browser (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, path: Path):
    page = browser.new_page()
    external: list[str] = []

    def guard(route):
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:", "about:")) or "//127.0.0.1" in url or "//localhost" in url:
            route.continue_()
        else:
            external.append(url)
            route.abort()

    page.route("**/*", guard)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, external


def _html_pages(book_build: Path) -> list[Path]:
    return sorted(p for p in book_build.rglob("*.html")
                  if p.parts[-2] not in ("_static", "_sources") and p.name not in ("genindex.html", "search.html"))


@pytest.mark.browser
def test_every_page_offline_with_all_images(browser, book_build):
    """Every page: zero requests beyond file://, and every <img> decoded (naturalWidth > 0)."""
    problems = {}
    for path in _html_pages(book_build):
        page, external = _open(browser, path)
        broken = page.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        if external or broken:
            problems[path.name] = {"external": external[:5], "broken_images": broken[:5]}
        page.close()
    assert not problems


@pytest.mark.browser
def test_widgets_render_from_saved_state(browser, book_build):
    """Pages that saved widget state show real widget views (sliders, dropdowns), drawn by the local manager."""
    pages = [p for p in _html_pages(book_build)
             if "application/vnd.jupyter.widget-state+json" in p.read_text(errors="replace")]
    assert pages, "no page carries widget state; the labs' widgets were not saved"
    for path in pages:
        page, external = _open(browser, path)
        page.wait_for_selector(".widget-slider, .widget-dropdown, .jupyter-widgets", timeout=15000)
        assert page.locator(".jupyter-widgets").count() > 0 and not external
        page.close()


@pytest.mark.browser
def test_solutions_start_hidden_and_toggle_open(browser, book_build):
    """Dropdown solutions are hidden until their title is clicked."""
    pages = [p for p in _html_pages(book_build) if 'class="dropdown admonition' in p.read_text(errors="replace")]
    assert pages, "no page has a toggled solution"
    for path in pages[:6]:
        page, _ = _open(browser, path)
        box = page.locator(".admonition.dropdown").first
        box.wait_for(state="attached")
        assert "toggle-hidden" in (box.get_attribute("class") or "")
        box.locator(".admonition-title").click()
        page.wait_for_function("el => !el.classList.contains('toggle-hidden')", arg=box.element_handle())
        assert box.locator("p, pre, div.highlight").first.is_visible()
        page.close()
