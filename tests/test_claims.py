"""The claims ledger (book/claims.md): complete, current, and every number measured.

Its source list is book/claims/outline.yml; each written chapter's rows are book/claims/NN-topic.yml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import claims  # noqa: E402

OUTLINE = claims.outline()
WRITTEN = [(ch, slug) for ch, slug in OUTLINE["chapters"].items() if claims.written(ch)]


def all_rows():
    return [(ch, r) for ch, slug in WRITTEN for r in claims.rows(ch, slug) if r.get("status") != claims.COMING_NEXT]


def test_the_page_is_generated_from_the_current_sources():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "claims.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "book/claims" in (ROOT / "_toc.yml").read_text()


def test_glue_roles_name_path_key_and_format():
    """myst-nb reads a glue role as path::key:format, splitting at the last colon, so the format part is
    always there (empty means str(value)); otherwise the key would be read as a format."""
    role = claims.to_glue("{a:.1f} and {b} and {labs/x/y.ipynb::c}", "labs/06-caching/01-cache-aside.ipynb")
    assert role == ("{glue:text}`../labs/06-caching/01-cache-aside.ipynb::a:.1f` and "
                    "{glue:text}`../labs/06-caching/01-cache-aside.ipynb::b:` and {glue:text}`../labs/x/y.ipynb::c:`")


def test_claim_ids_are_unique_and_chapters_known():
    ids = [c["id"] for c in OUTLINE["claims"]]
    assert len(ids) == len(set(ids))
    assert {c["chapter"] for c in OUTLINE["claims"]} <= set(OUTLINE["chapters"])


@pytest.mark.parametrize("chapter,slug", WRITTEN, ids=[s for _, s in WRITTEN])
def test_every_claim_of_a_written_chapter_has_one_row(chapter, slug):
    path = claims.rows_file(chapter, slug)
    assert path.exists(), f"chapter {chapter} is written but has no {path.relative_to(ROOT)}"
    rows = claims.rows(chapter, slug)  # NN-slug.yml and any sub-page NN-slug-*.yml
    ids = {c["id"] for c in OUTLINE["claims"] if c["chapter"] == chapter}
    named = [r["claim"] for r in rows]
    assert sorted(set(named)) == sorted(named), f"a claim has two rows in {path.name}"
    assert ids - set(named) == set(), f"claims with no row in {path.name}: {sorted(ids - set(named))}"
    assert set(named) - ids == set(), f"rows for claims not in outline.yml: {sorted(set(named) - ids)}"
    for r in rows:
        if r.get("status") == claims.COMING_NEXT:
            assert r.get("why") and "verdict" not in r, f"{r['claim']}: a coming-next row says why, and has no verdict"
            continue
        assert r["verdict"] in claims.VERDICTS, f"{r['claim']}: verdict {r['verdict']!r}"
        assert (ROOT / r["lab"]).exists(), f"{r['claim']}: {r['lab']} does not exist"


def test_every_row_whose_lab_exists_quotes_a_measured_value():
    for _, r in all_rows():
        if r["verdict"] == "not-checkable":
            assert r.get("why"), f"{r['claim']}: a claim that cannot be checked says why"
            continue
        assert claims.placeholders(r["measured"], r["lab"]), \
            f"{r['claim']}: the measured text names no recorded value (numbers are never typed by hand)"


@pytest.mark.book  # it reads every executed lab: with the book build, not in a quick unit run
def test_every_quoted_value_is_recorded_by_its_lab(lab_results):
    """Reads the executed labs (the book build's, or runs them): each {key} a row names was record()ed."""
    missing = []
    for _, r in all_rows():
        for lab, key, _fmt in claims.placeholders(r["measured"], r["lab"]):
            if key not in lab_results(lab):
                missing.append(f"{r['claim']}: {lab}::{key}")
    assert not missing, f"values the ledger quotes that no lab records: {missing}"
