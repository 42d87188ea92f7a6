"""Lab 8.2: offset against cursor pagination on a million rows (labs/08-api-design/02-pagination.ipynb)."""

LAB = "labs/08-api-design/02-pagination.ipynb"


def test_offset_pages_grow_with_depth_and_cursor_pages_do_not(lab_results):
    """Buffer pages per page of 100 from depth 0 to 900,000: offset grows ~1000x, the cursor stays a handful."""
    r = lab_results(LAB)
    off, cur = r["pages_by_depth_offset"], r["pages_by_depth_cursor"]
    assert off["900000"] > 100 * off["10000"] / 2 and off["10000"] > 3 * off["1000"], off
    assert off["900000"] > 5 * off["100000"], off
    assert max(cur.values()) <= 12, cur
    assert r["pages_ratio_deepest"] > 300, r["pages_ratio_deepest"]


def test_deep_offset_page_is_slower_over_http(lab_results):
    """Median latency of the deepest page: offset well above cursor, and above its own shallow pages."""
    r = lab_results(LAB)
    assert r["ms_ratio_deepest"] > 3, r["ms_ratio_deepest"]
    assert r["ms_by_depth_offset"]["900000"] > 3 * r["ms_by_depth_offset"]["1000"], r["ms_by_depth_offset"]


def test_offset_skips_under_deletes_and_repeats_under_inserts_cursor_neither(lab_results):
    """One walk of 5,000 rows, two writes between pages: offset loses or repeats ~one row per write."""
    r = lab_results(LAB)
    skipped, repeated = r["churn_skipped"], r["churn_repeated"]
    assert skipped["deletes behind the reader / offset"] >= 50, skipped
    assert repeated["late inserts behind the reader / offset"] >= 50, repeated
    for scenario in ["deletes behind the reader", "late inserts behind the reader"]:
        assert skipped[f"{scenario} / cursor"] == 0 and repeated[f"{scenario} / cursor"] == 0, (skipped, repeated)


def test_only_the_cursor_as_issued_is_accepted(lab_results):
    status = lab_results(LAB)["cursor_status"]
    assert status == {"as issued": 200, "contents edited": 400, "signed with another key": 400, "garbage": 400}


def test_fastapi_pagination_serves_the_same_items_and_pays_a_full_count_for_total(lab_results):
    """fastapi-pagination's Page (psycopg adapter) on the same table: same items as ours; its total is a
    count(*) over the whole index on every request, so even page 1 costs far more than our page 1."""
    r = lab_results(LAB)
    assert r["library_items_identical"] is True
    assert r["library_page_fields"] == ["items", "page", "pages", "size", "total"] and r["library_total"] == 1_000_000
    pages = r["library_pages_deepest"]
    assert 0.8 < pages["page (LIMIT/OFFSET)"] / pages["ours, offset"] < 1.25, pages   # the same OFFSET query
    assert pages["total (count(*))"] > 100 * pages["ours, cursor"], pages
    assert pages["total (count(*))"] > 0.5 * pages["ours, offset"], pages             # about the whole index
    assert r["library_page1_ms_ratio"] > 5, r["library_ms"]
    ms = r["library_ms"]
    assert ms["library without total, page 9,001"] < ms["library, page 9,001"], ms
    assert r["library_deep_vs_cursor_ms_ratio"] > 10, ms
