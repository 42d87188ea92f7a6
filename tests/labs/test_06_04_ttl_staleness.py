"""Lab 6.4: TTL and staleness with a changing source (labs/06-caching/04-ttl-staleness.ipynb)."""

LAB = "labs/06-caching/04-ttl-staleness.ipynb"


def _by_ttl(values: dict) -> list[float]:
    return [values[k] for k in sorted(values, key=int)]


def test_staleness_grows_with_ttl(lab_results):
    """Fraction of stale reads for TTLs from 25 ms to 2 s (about one update per key per second)."""
    stale = _by_ttl(lab_results(LAB)["stale_fraction_by_ttl"])
    assert stale[-1] > stale[0] + 0.2, stale
    assert stale[-1] > 5 * max(stale[0], 0.01), stale
    # monotone-ish: each TTL at least as stale as half the TTL before it (noise allowed)
    assert all(b >= a - 0.03 for a, b in zip(stale, stale[1:])), stale


def test_hit_rate_grows_with_ttl(lab_results):
    """Hit rate for the same TTLs: the price of freshness."""
    hits = _by_ttl(lab_results(LAB)["hit_rate_by_ttl"])
    assert hits[-1] > hits[0] + 0.3, hits


def test_measurement_follows_the_poisson_model(lab_results):
    """Measured stale fraction vs the closed-form model at the measured rates."""
    r = lab_results(LAB)
    for ttl, measured in r["stale_fraction_by_ttl"].items():
        assert abs(measured - r["stale_fraction_model_by_ttl"][ttl]) < 0.1, (ttl, measured)


def test_invalidate_on_write_removes_most_staleness(lab_results):
    """Stale reads with a 2 s TTL plus invalidate-on-write vs the plain 2 s TTL."""
    r = lab_results(LAB)
    assert r["stale_fraction_invalidate"] < r["stale_fraction_by_ttl"]["2000"] / 5
