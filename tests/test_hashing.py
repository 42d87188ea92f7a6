"""labsupport.hashing: the consistent-hash ring and mod-N, checked on their own and against uhashring."""

import numpy as np
import pytest
from uhashring import HashRing

from labsupport import hashing

KEYS = [f"key-{i}" for i in range(20_000)]
H = hashing.hash_keys(KEYS)


def test_hash_is_stable_and_64_bit():
    """The same key always hashes the same (unlike Python's salted hash()), within 64 bits."""
    assert hashing.key_hash("user-42") == hashing.key_hash("user-42")
    assert 0 <= hashing.key_hash("user-42") < 2**64
    assert H.dtype == np.uint64 and len(H) == len(KEYS)


def test_ring_lookup_matches_vectorised_assign():
    """node_for(key) and assign(hashes) agree, key by key."""
    ring = hashing.Ring(["a", "b", "c"], vnodes=50)
    owners = hashing.owners(ring, H[:200])
    assert [ring.node_for(k) for k in KEYS[:200]] == list(owners)


def test_ring_lookup_is_the_next_point_clockwise():
    """A key owned by a node sits just before one of that node's points, wrapping past the top."""
    ring = hashing.Ring(["a", "b"], vnodes=4)
    points = sorted((hashing.key_hash(f"{n}#{v}"), n) for n in ring.nodes for v in range(4))
    for k in KEYS[:100]:
        h = hashing.key_hash(k)
        expected = next((n for p, n in points if p >= h), points[0][1])
        assert ring.node_for(k) == expected


@pytest.mark.parametrize("n", [3, 5, 10])
def test_adding_a_node_moves_about_one_nth(n):
    """Node n joins n-1: about 1/n of keys move, and every moved key moves to the newcomer."""
    before = hashing.Ring([f"s{i}" for i in range(n - 1)], vnodes=160)
    after = before.copy().add(f"s{n - 1}")
    moved = hashing.owners(before, H) != hashing.owners(after, H)
    assert abs(moved.mean() - 1 / n) < 0.3 / n
    assert set(hashing.owners(after, H)[moved]) == {f"s{n - 1}"}


def test_removing_a_node_moves_only_its_keys():
    """When a node leaves, only the keys it owned change owner."""
    ring = hashing.Ring(["a", "b", "c", "d"], vnodes=100)
    before = hashing.owners(ring, H)
    after = hashing.owners(ring.copy().remove("c"), H)
    assert set(before[before != after]) == {"c"}


def test_mod_n_moves_almost_everything():
    """hash % n from 4 to 5 nodes moves about 4/5 of keys."""
    moved = hashing.moved_fraction(hashing.ModN(range(4)), hashing.ModN(range(5)), H)
    assert abs(moved - 0.8) < 0.02


def test_more_virtual_nodes_balance_better():
    """max/mean keys per node shrinks from 1 to 200 virtual nodes (10 nodes)."""
    spread = {v: hashing.load_spread(hashing.Ring(range(10), vnodes=v).assign(H), n_nodes=10)["max_over_mean"]
              for v in (1, 200)}
    assert spread[1] > 1.5 > 1.2 > spread[200]


def test_load_spread_counts_idle_nodes():
    """A node with no keys counts as zero load (n_nodes), so max/mean reflects it."""
    assert hashing.load_spread(np.array([0, 0, 1, 1]), n_nodes=4) == {"max_over_mean": 2.0, "cv": 1.0}
    assert hashing.load_spread({"a": 2, "b": 2})["cv"] == 0.0


def test_same_properties_as_uhashring():
    """Against uhashring on the same keys: both move about 1/5 for a 5th node and balance within 25%."""
    nodes = [f"s{i}" for i in range(4)]
    lib4, lib5 = HashRing(nodes), HashRing(nodes + ["s4"])
    keys = KEYS[:10_000]
    lib_moved = np.mean([lib4.get_node(k) != lib5.get_node(k) for k in keys])
    ours_moved = hashing.moved_fraction(hashing.Ring(nodes, 160), hashing.Ring(nodes + ["s4"], 160), keys)
    assert abs(lib_moved - 0.2) < 0.05 and abs(ours_moved - 0.2) < 0.05
    _, lib_counts = np.unique([lib5.get_node(k) for k in keys], return_counts=True)
    assert lib_counts.max() / lib_counts.mean() < 1.25
    assert hashing.load_spread(hashing.Ring(nodes + ["s4"], 160).assign(keys))["max_over_mean"] < 1.25


def test_bad_use_is_refused():
    """Zero virtual nodes, duplicate nodes and empty rings raise clear errors."""
    with pytest.raises(ValueError):
        hashing.Ring(["a"], vnodes=0)
    with pytest.raises(ValueError):
        hashing.Ring(["a"]).add("a")
    with pytest.raises(ValueError):
        hashing.Ring([]).assign(H)
