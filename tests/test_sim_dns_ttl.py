"""labsupport.sim.dns_ttl: seeded, and the TTL problem has the shape the chapter describes."""

from dataclasses import replace

import numpy as np
import pytest

from labsupport.sim import dns_ttl
from labsupport.sim.dns_ttl import TTLConfig

FAST = TTLConfig(n_clients=60, rate_per_client_per_s=1.0, check_interval_s=1.0, check_fall=2)


def test_same_seed_same_result_other_seed_differs():
    """Two runs with seed 7 match bin for bin; seed 8 gives a different run."""
    a = dns_ttl.simulate(replace(FAST, ttl_s=20, seed=7))
    b = dns_ttl.simulate(replace(FAST, ttl_s=20, seed=7))
    c = dns_ttl.simulate(replace(FAST, ttl_s=20, seed=8))
    assert np.array_equal(a.failed_per_bin, b.failed_per_bin) and a.time_to_recover_s == b.time_to_recover_s
    assert not np.array_equal(a.failed_per_bin, c.failed_per_bin)


def test_recovery_is_about_detection_plus_ttl():
    """The last failed request comes after the withdrawal and within one TTL of it."""
    for ttl in (5, 20, 60):
        r = dns_ttl.simulate(replace(FAST, ttl_s=ttl))
        assert r.withdrawn_at_s < FAST.check_interval_s * FAST.check_fall
        assert r.withdrawn_at_s < r.time_to_recover_s <= r.withdrawn_at_s + ttl
        assert r.time_to_recover_s > r.withdrawn_at_s + 0.7 * ttl  # 60 clients: someone refreshed late


def test_longer_ttl_more_failures_and_fewer_queries():
    """Failed requests grow and DNS queries shrink as the TTL grows."""
    runs = dns_ttl.sweep(FAST, [5, 20, 60])
    failed = [runs[t].failed_requests for t in (5, 20, 60)]
    queries = [runs[t].dns_queries for t in (5, 20, 60)]
    assert failed == sorted(failed) and failed[0] < failed[-1]
    assert queries == sorted(queries, reverse=True)


def test_about_a_third_of_clients_sit_on_the_dead_backend_at_first():
    """Three backends: the stuck fraction starts near 1/3 and reaches 0 after detection plus TTL."""
    r = dns_ttl.simulate(replace(FAST, ttl_s=30))
    assert 0.15 < r.stuck_fraction[0] < 0.5
    assert r.stuck_fraction[-1] == 0


def test_min_ttl_floor_stretches_recovery():
    """A resolver floor of 120 s on a 10 s TTL: recovery follows the floor, not the TTL."""
    honest = dns_ttl.simulate(replace(FAST, ttl_s=10))
    floored = dns_ttl.simulate(replace(FAST, ttl_s=10, min_ttl_s=120))
    assert floored.time_to_recover_s > 80 > honest.time_to_recover_s


def test_added_backend_gets_its_share_after_a_ttl():
    """'add': little traffic to the new backend at first, about 1/4 at the end, 90% refreshed by ~TTL."""
    r = dns_ttl.simulate(replace(FAST, ttl_s=30, event="add"))
    assert r.new_share[-5:].mean() == pytest.approx(0.25, abs=0.08)
    assert r.new_share[0] < 0.1
    assert 0.6 * 30 < r.time_to_rebalance_s <= 1.2 * 30
    assert r.failed_requests == 0


def test_shared_resolvers_make_the_outcome_coarser():
    """60 clients behind 3 shared resolvers vs one cache each: the share of clients hit varies far more
    from seed to seed, because whole resolvers' worth of clients land on the dead backend together."""
    def spread(per_resolver):
        cfg = replace(FAST, ttl_s=20, clients_per_resolver=per_resolver)
        hit = [dns_ttl.simulate(replace(cfg, seed=s)).clients_affected for s in range(8)]
        return max(hit) - min(hit)

    assert spread(20) > 2 * spread(1)


def test_bad_event_is_refused():
    """Only 'fail' and 'add' are modelled."""
    with pytest.raises(ValueError):
        dns_ttl.simulate(TTLConfig(ttl_s=10, event="drain"))


def test_same_numbers_as_before_the_config_refactor():
    """Seeded outputs recorded with the old ``simulate(ttl_s, **kw)`` API. If this fails after a Python
    upgrade changed ``random.Random``'s streams, re-record; otherwise the model changed."""
    fail = dns_ttl.simulate(replace(FAST, ttl_s=20, seed=7))
    add = dns_ttl.simulate(replace(FAST, ttl_s=20, event="add", seed=7))
    assert (fail.requests, fail.failed_requests, fail.dns_queries) == (1614, 166, 76)
    assert fail.time_to_recover_s == pytest.approx(18.915326362626317, rel=1e-12)
    assert (add.requests, add.dns_queries) == (1614, 76)
    assert add.time_to_rebalance_s == pytest.approx(16.5375, rel=1e-12)
