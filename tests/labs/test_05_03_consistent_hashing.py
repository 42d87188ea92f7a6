"""Lab 5.3: keys moved by a new server (ring vs mod-N), virtual nodes, and prefix-cache routing on nginx."""

LAB = "labs/05-load-balancing/03-consistent-hashing.ipynb"


def test_ring_moves_about_one_nth_of_the_keys(lab_results):
    """100k keys, server n joins n-1 (n = 2..12): the ring moves about 1/n each time."""
    r = lab_results(LAB)
    for n, moved in zip(r["ns"], r["moved_fraction_ring_by_n"]):
        assert abs(moved - 1 / n) < 0.3 / n, (n, moved)


def test_mod_n_moves_almost_everything(lab_results):
    """Same keys with hash % n: about (n-1)/n move; adding the 5th server moves about 80%."""
    r = lab_results(LAB)
    for n, moved in zip(r["ns"], r["moved_fraction_modn_by_n"]):
        assert abs(moved - (n - 1) / n) < 0.02, (n, moved)
    assert r["moved_fraction_modn_n5"] / r["moved_fraction_ring_n5"] > 3


def test_our_ring_and_uhashring_share_the_properties(lab_results):
    """Both rings move about 1/5 of the keys for a 5th server and keep the busiest server near the mean."""
    for name, row in lab_results(LAB)["ring_vs_uhashring"].items():
        assert abs(row["keys moved by the 5th server"] - 0.2) < 0.05, name
        assert row["max/mean keys per server (5 servers)"] < 1.25, name


def test_virtual_nodes_even_out_the_load(lab_results):
    """10 servers: max/mean keys is over 2 with 1 virtual node and within 15% of even with 500."""
    spread = lab_results(LAB)["max_over_mean_by_vnodes"]
    assert spread["1"] > 2.0
    assert spread["500"] < 1.15
    assert spread["100"] < spread["10"] < spread["1"]


def test_hashing_on_the_prompt_multiplies_the_prefix_hit_rate(lab_results):
    """240 requests, 24 prompts, 3 replicas caching 12 each: hash on X-Prefix far above round robin."""
    r = lab_results(LAB)
    assert r["prefix_errors"] == 0
    assert r["prefix_hit_rate_hash"] > 0.8
    assert r["prefix_hit_rate_hash"] - r["prefix_hit_rate_rr"] > 0.3
