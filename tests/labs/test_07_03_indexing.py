"""Lab 7.3: indexes on a real PostgreSQL (labs/07-databases/03-indexing.ipynb)."""

LAB = "labs/07-databases/03-indexing.ipynb"


def test_scan_pages_grow_with_the_table_and_btree_pages_do_not(lab_results):
    """Pages per lookup from 10^3 to 10^6 rows: a scan's grow ~1000x, a B-tree's stay a handful."""
    r = lab_results(LAB)
    seq, tree = r["seq_pages_by_rows"], r["btree_pages_by_rows"]
    assert seq["1000000"] > 300 * seq["1000"], seq
    assert max(tree.values()) <= 8, tree
    assert 2 <= r["levels_by_rows"]["1000000"] <= 4, r["levels_by_rows"]


def test_btree_lookup_beats_a_scan_at_a_million_rows(lab_results):
    """Median lookup latency, scan over B-tree, at 10^6 rows."""
    assert lab_results(LAB)["seq_over_btree_at_1e6"] > 10


def test_hash_index_cannot_serve_a_range(lab_results):
    """The range query's plan: a scan with only a hash index, an index with a B-tree."""
    r = lab_results(LAB)
    assert r["hash_range_uses_index"] is False and r["btree_range_uses_index"] is True
    assert r["range_pages"]["hash"] > 10 * r["range_pages"]["btree"], r["range_pages"]


def test_skip_scan_uses_the_composite_index_without_its_leading_column(lab_results):
    """City alone on (country, city) with 20 countries: one descent per country, far fewer pages than a scan."""
    r = lab_results(LAB)
    assert r["skip_scan_uses_index_few_leading"] is True
    assert 15 <= r["skip_scan_index_searches_few_leading"] <= 60, r["skip_scan_index_searches_few_leading"]
    assert r["skip_scan_pages_few_leading"] < r["seq_pages_city_alone"] / 5


def test_many_leading_values_leave_nothing_to_skip(lab_results):
    """With 50,000 tenants leading the index, city alone reads about the whole index, not a few pages."""
    r = lab_results(LAB)
    assert r["city_alone_pages_many_leading"] > 3 * r["skip_scan_pages_few_leading"]
    assert r["city_alone_pages_many_leading"] > 0.7 * r["tenant_index_pages"]


def test_each_index_slows_inserts(lab_results):
    """Rows inserted per second with 0 and with 5 indexes."""
    rate = lab_results(LAB)["insert_rows_per_s_by_indexes"]
    assert rate["5"] < 0.6 * rate["0"], rate


def test_index_size_follows_key_width(lab_results):
    """Index size as % of the table: a 32-character text key's index is larger than an int key's."""
    pct = lab_results(LAB)["index_size_pct"]
    assert pct["text (32 chars)"] > pct["int"] > 5, pct


def test_dashboard_index_removes_scan_and_sort(lab_results):
    """Experiment-tracking query with and without an index on (experiment_id, metric_name, step)."""
    r = lab_results(LAB)
    assert r["dashboard_p50_ms"]["index"] < r["dashboard_p50_ms"]["no index"] / 3, r["dashboard_p50_ms"]
    assert r["dashboard_sorts_without_index"] is True and r["dashboard_sorts_with_index"] is False
