"""labsupport.sim.staleness: the seeded TTL-staleness simulation against its closed form."""

from dataclasses import replace

import pytest

from labsupport.sim.staleness import StalenessConfig, simulate, stale_fraction_formula


def test_staleness_model_matches_simulation():
    """The closed form and the seeded simulation agree, and staleness grows with the TTL."""
    last = -1.0
    cfg = StalenessConfig(ttl_s=0.05, update_rate_per_s=1.0, read_rate_per_s=10.0, n_keys=30, duration_s=30, seed=1)
    for ttl in (0.05, 0.2, 1.0, 3.0):
        s = simulate(replace(cfg, ttl_s=ttl))
        assert s.stale_fraction == pytest.approx(stale_fraction_formula(ttl, 1.0, 10.0), abs=0.03)
        assert s.stale_fraction > last
        last = s.stale_fraction
    assert stale_fraction_formula(0.0, 1.0, 10.0) == 0.0


def test_same_seed_same_result_and_counts_add_up():
    """Same config, same result; stale reads are hits, hits are reads."""
    cfg = StalenessConfig(ttl_s=0.5, update_rate_per_s=1.0, read_rate_per_s=10.0, n_keys=5, duration_s=10, seed=3)
    a, b = simulate(cfg), simulate(cfg)
    assert a == b
    assert a != simulate(replace(cfg, seed=4))
    assert 0 < a.stale <= a.hits <= a.reads
    assert a.stale_fraction == a.stale / a.reads and a.hit_rate == a.hits / a.reads


def test_same_numbers_as_before_the_config_refactor():
    """Seeded outputs recorded with the old ``cache.ttl_staleness(...)`` dict API."""
    r = simulate(StalenessConfig(ttl_s=0.5, update_rate_per_s=1.0, read_rate_per_s=10.0, n_keys=10, duration_s=20,
                                 seed=3))
    assert (r.reads, r.stale_fraction, r.hit_rate) == (1993, 0.18765679879578526, 0.831409934771701)
