"""labsupport.sim.lb: the seeded simpy load-balancing model (server model, policies)."""

import numpy as np
import pytest

from labsupport.sim import lb
from labsupport.workload import bimodal_tokens, lognormal_tokens


def test_a_lone_request_takes_its_length():
    """One request of 200 tokens at 0.5 ms/token on an idle server takes 100 ms (+ overhead)."""
    r = lb.simulate("round_robin", [200], n_servers=2, token_ms=0.5, overhead_ms=2.0, concurrency=1)
    assert r.latencies_ms[0] == pytest.approx(102.0)


def test_processor_sharing_slows_everyone_beyond_the_lanes():
    """Two equal requests on a 1-lane server finish together at twice the time; on 2 lanes, at once."""
    one_lane = lb.simulate("round_robin", [100, 100], n_servers=1, lanes=1, token_ms=1.0, concurrency=2)
    two_lanes = lb.simulate("round_robin", [100, 100], n_servers=1, lanes=2, token_ms=1.0, concurrency=2)
    assert list(one_lane.latencies_ms) == pytest.approx([200, 200])
    assert list(two_lanes.latencies_ms) == pytest.approx([100, 100])


def test_short_request_overtakes_a_long_one():
    """A 10-token request sharing one lane with a 1000-token one finishes after about 20 ms, not 1010."""
    r = lb.simulate("round_robin", [1000, 10], n_servers=1, lanes=1, token_ms=1.0, concurrency=2)
    assert r.latencies_ms[1] == pytest.approx(20.0)
    assert r.latencies_ms[0] == pytest.approx(1010.0)


def test_round_robin_and_weighted_shares():
    """Round robin splits evenly; smooth weighted round robin follows 2:1:1 exactly."""
    tokens = [10] * 400
    rr = lb.simulate("round_robin", tokens, n_servers=3, concurrency=4)
    w = lb.simulate("weighted", tokens, n_servers=3, weights=[2, 1, 1], concurrency=4)
    assert max(rr.served) - min(rr.served) <= 1
    assert list(w.served) == [200, 100, 100]


def test_hash_is_sticky():
    """The hash policy sends every request with the same key to the same server."""
    keys = np.array([7] * 50 + [8] * 50)
    r = lb.simulate("hash", [10] * 100, n_servers=5, keys=keys, concurrency=2)
    assert sorted(r.served[r.served > 0]) in ([100], [50, 50])


def test_same_seed_same_result():
    """Simulations are reproducible: the same seed gives the same latencies."""
    tokens = lognormal_tokens(500, sigma=1.5, seed=3)
    a = lb.simulate("p2c", tokens, n_servers=10, load=0.8, seed=3)
    b = lb.simulate("p2c", tokens, n_servers=10, load=0.8, seed=3)
    assert np.array_equal(a.latencies_ms, b.latencies_ms)


def test_policy_choice_is_independent_of_the_workload_draw():
    """Regression: with one seed for both, random once sent every long request to one server."""
    tokens = bimodal_tokens(600, long_fraction=0.1, seed=1)
    r = lb.simulate("random", tokens, n_servers=3, lanes=3, concurrency=9, seed=1)
    long_share = r.busy_ms / r.busy_ms.sum()
    assert long_share.max() < 0.6


def test_least_conn_beats_round_robin_on_uneven_work():
    """Heavy-tailed lengths, 90% load, 20 servers: least_conn's p99 well below round robin's and random's."""
    tokens = lognormal_tokens(3000, mean=100, sigma=1.5, seed=5)
    res = lb.compare(["round_robin", "least_conn", "random", "p2c"], tokens, n_servers=20, lanes=1, load=0.9,
                     seed=5)
    p99 = {p: r.p99_ms for p, r in res.items()}
    assert p99["least_conn"] * 1.5 < p99["round_robin"]
    assert p99["p2c"] < p99["random"]
    assert lb.ranking(p99)[0] == "least_conn"


def test_capacity_and_unknown_policy():
    """Capacity counts lanes x speed; an unknown policy name is refused."""
    assert lb.capacity_rps([100], lanes=[4, 2, 2], token_ms=1.0) == pytest.approx(80.0)
    with pytest.raises(ValueError):
        lb.simulate("fastest", [10])
