"""Lab 7.6: recommendations and k-hop traversals in ladybug (Cypher) vs PostgreSQL (labs/07-databases/06-graph.ipynb)."""

LAB = "labs/07-databases/06-graph.ipynb"


def test_both_engines_give_the_same_recommendations(lab_results):
    """'Also bought' for 20 products and friends-of-friends for 20 users: identical top-5 lists."""
    r = lab_results(LAB)
    assert r["also_bought_agree"] == 20
    assert r["fof_agree"] == 20


def test_all_four_traversals_count_the_same_users(lab_results):
    """Every-path and each-user-once queries, in both engines, reach the same users at every depth."""
    r = lab_results(LAB)
    assert r["depth_counts_agree"] == 1
    reach = r["reach_counts"]["PostgreSQL, recursive UNION (each user once)"]
    assert [c[0] for c in reach] == sorted(c[0] for c in reach), "reach grows with depth"


def test_deep_traversal_is_faster_in_the_graph_engine(lab_results):
    """Depth 6, each user visited once: ladybug SHORTEST vs PostgreSQL's recursive UNION."""
    r = lab_results(LAB)
    assert r["depth6_pg_over_ladybug"] > 1.5, r["depth_ms"]


def test_traversal_cost_grows_with_depth(lab_results):
    """For every method the deepest query costs more than the 1-hop one."""
    for name, ms in lab_results(LAB)["depth_ms"].items():
        assert ms[-1] > 2 * ms[0], (name, ms)
