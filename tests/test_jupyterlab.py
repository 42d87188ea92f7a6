"""Labs look in JupyterLab (with jupyterlab-myst) as they do in the book: solutions start collapsed,
diagrams are pictures, and no directive or role shows as raw text.

The static test reads every lab's Markdown for syntax that only Sphinx understands (jupyterlab-myst
prints an unknown role's content as plain text, so only the source can catch it). The browser test
starts a real JupyterLab, opens a sample of labs (every chapter, every feature) in headless Chromium and looks at what a learner sees.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from labsupport.services import free_port

from test_browser import ARGS, CHROMIUM
from toc import toc_files

ROOT = Path(__file__).resolve().parent.parent
# What jupyterlab-myst renders (measured with 2.7.0); everything else in a lab is Sphinx-only.
JUPYTERLAB_DIRECTIVES = {"admonition", "note", "tip", "warning", "important", "caution", "danger", "hint",
                         "attention", "seealso", "dropdown", "math", "code", "code-block", "figure", "image",
                         "list-table", "table", "tab-set", "tab-item", "card", "grid", "grid-item-card"}
JUPYTERLAB_ROLES = {"math", "sub", "sup", "abbr", "kbd", "term", "u", "del"}
RAW_MARKERS = ["```", ":::", "{admonition}", "{note}", "{graphviz}", "{glue", ":class:", "digraph ",
               "Unknown Directive", "Unknown Role"]


def markdown_cells(nb: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown"]


def lab_paths() -> list[Path]:
    return [ROOT / f"{f}.ipynb" for f in toc_files() if f.startswith("labs/")]


def features(nb: Path) -> set[str]:
    """What a lab's Markdown asks JupyterLab to render: directive names, roles, images, solutions."""
    text = "\n".join(markdown_cells(nb))
    found = {f"directive:{d}" for d in re.findall(r"[`:]{3,}\{([\w-]+)\}", text)}
    found |= {f"role:{r}" for r in re.findall(r"(?:^|[\s(])\{([\w-]+)\}`", text, re.M)}
    if "![" in text:
        found.add("image")
    if ":class: dropdown" in text:
        found.add("solution")
    return found


def live_sample() -> list[Path]:
    """Labs the browser opens: every chapter's richest lab, then more until every feature any lab uses
    is covered (the static test above reads every lab). LABSUPPORT_JUPYTERLAB_ALL=1 opens them all."""
    labs = lab_paths()
    if os.environ.get("LABSUPPORT_JUPYTERLAB_ALL") == "1":
        return labs
    chosen: list[Path] = []
    for chapter in dict.fromkeys(nb.parent for nb in labs):
        chosen.append(max((nb for nb in labs if nb.parent == chapter), key=lambda nb: len(features(nb))))
    wanted = set().union(*map(features, labs))
    while missing := wanted - set().union(*map(features, chosen)):
        chosen.append(max(labs, key=lambda nb: len(features(nb) & missing)))
    return [nb for nb in labs if nb in chosen]


@pytest.mark.parametrize("nb", lab_paths(), ids=lambda p: p.stem)
def test_labs_use_only_what_jupyterlab_renders(nb):
    """No Sphinx-only directive or role in a lab: diagrams are images, numbers are printed by code."""
    bad = []
    for text in markdown_cells(nb):
        bad += [f"directive {{{d}}}" for d in re.findall(r"(?:```|:::)\{([\w:-]+)\}", text)
                if d not in JUPYTERLAB_DIRECTIVES]
        bad += [f"role {{{r}}}" for r in re.findall(r"(?<![\w/$])\{([\w:-]+)\}`", text) if r not in JUPYTERLAB_ROLES]
        for img in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text):
            if not img.startswith(("http:", "https:", "data:")) and not (nb.parent / img).is_file():
                bad.append(f"image {img} does not exist")
    assert not bad, f"{nb.relative_to(ROOT)}: {bad}. Labs are opened in JupyterLab too: draw diagrams with " \
                    "labs/NN-topic/diagrams/*.dot (scripts/diagrams.py) and print numbers from code."


@pytest.fixture(scope="module")
def jupyterlab():
    """A real JupyterLab on 127.0.0.1 with a random token, every cell rendered (windowingMode none)."""
    tmp = Path(tempfile.mkdtemp(prefix="jlab-"))
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    announce = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    announce.mkdir(parents=True)
    (announce / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"), "JUPYTER_RUNTIME_DIR": str(tmp / "rt"),
           "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "ws")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'labs'}",
           "--ServerApp.open_browser=False"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/status", params={"token": token}, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("JupyterLab did not start:\n" + (tmp / "jupyterlab.log").read_text()[-2000:])
        time.sleep(0.2)
    yield base, token
    os.killpg(proc.pid, 15)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)


@pytest.fixture(scope="module")
def lab_page(jupyterlab):
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing. Fix: scripts/setup.sh --browser (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    base, token = jupyterlab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})

        def open_lab(nb: Path, workspace: str):
            rel = nb.relative_to(ROOT / "labs").as_posix()
            page.goto(f"{base}/lab/workspaces/{workspace}/tree/{rel}?reset&token={token}")
            want = len(markdown_cells(nb))
            deadline = time.monotonic() + 60
            while page.locator(".jp-MarkdownCell .myst").count() < want:
                assert time.monotonic() < deadline, f"{rel}: JupyterLab rendered " \
                    f"{page.locator('.jp-MarkdownCell .myst').count()} of {want} Markdown cells with MyST"
                page.wait_for_timeout(250)
            return page

        yield open_lab
        browser.close()


def test_live_sample_covers_every_chapter_and_feature():
    sample, labs = live_sample(), lab_paths()
    assert {nb.parent for nb in sample} == {nb.parent for nb in labs}
    assert set().union(*map(features, sample)) == set().union(*map(features, labs))
    assert {"image", "solution", "directive:admonition"} <= set().union(*map(features, labs))


@pytest.mark.browser
@pytest.mark.parametrize("nb", live_sample(), ids=lambda p: p.stem)
def test_lab_renders_in_jupyterlab(lab_page, nb):
    """Rendered cells: no raw directive text, every diagram a decoded image, solutions collapsed until clicked."""
    page = lab_page(nb, f"t-{nb.stem}")
    text = page.evaluate("() => [...document.querySelectorAll('.jp-MarkdownCell .myst')].map(e => e.innerText)"
                         ".join('\\n')")
    raw = [m for m in RAW_MARKERS if m in text]
    assert not raw, f"{nb.name}: raw MyST shows in JupyterLab: {raw}"

    want_images = sum(len(re.findall(r"!\[", t)) for t in markdown_cells(nb))
    widths = page.evaluate("""async () => Promise.all([...document.querySelectorAll('.jp-MarkdownCell .myst img')]
        .map(async i => { try { await i.decode(); } catch (e) {} return i.naturalWidth; }))""")
    assert len(widths) == want_images, f"{nb.name}: {len(widths)} images shown, {want_images} in the source"
    assert all(w > 0 for w in widths), f"{nb.name}: an image did not decode ({widths})"

    n_solutions = sum("{admonition} Solution" in t and ":class: dropdown" in t for t in markdown_cells(nb))
    dropdowns = page.locator(".jp-MarkdownCell .myst details")
    assert dropdowns.count() == n_solutions, f"{nb.name}: {dropdowns.count()} dropdowns for {n_solutions} solutions"
    if n_solutions:
        first = dropdowns.first
        body = first.locator(".myst-admonition-body")
        assert first.get_attribute("open") is None and not body.is_visible(), f"{nb.name}: a solution starts open"
        first.locator("summary").click()
        body.wait_for(state="visible", timeout=5000)
