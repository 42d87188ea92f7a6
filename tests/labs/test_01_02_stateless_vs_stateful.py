"""Lab 01-02, stateless vs stateful: sessions in replica memory get lost behind round robin, survive
with affinity until the pool changes, and survive everything once they live in Redis."""

LAB = "labs/01-client-server/02-stateless-vs-stateful.ipynb"


def test_round_robin_loses_about_two_thirds(lab_results):
    """3 in-memory replicas, round robin: the share of requests that found no session is near 1 - 1/3."""
    assert 0.5 < lab_results(LAB)["lost_fraction_round_robin"] < 0.8


def test_hashing_the_session_cookie_is_all_or_nothing(lab_results):
    """hash $cookie_sid: the login is routed without a cookie; each user loses every request or none."""
    r = lab_results(LAB)
    assert r["lost_fraction_hash_sid"] > 0
    assert r["users_all_or_nothing_hash_sid"] == 1.0


def test_affinity_loses_nothing(lab_results):
    """Affinity with a balancer-issued cookie: no request lost its session."""
    assert lab_results(LAB)["lost_fraction_affinity"] == 0


def test_affinity_breaks_when_the_pool_changes(lab_results):
    """Affinity, then a 4th replica joins or a replica is killed: some users are logged out, not all."""
    r = lab_results(LAB)
    assert 0 < r["lost_fraction_affinity_scale_out"] < 0.6
    assert 0 < r["lost_fraction_affinity_kill"] < 0.6


def test_sessions_in_redis_survive_a_crash(lab_results):
    """Round robin over Redis-backed replicas, one killed and one added mid-run: zero requests lost."""
    assert lab_results(LAB)["lost_fraction_redis_kill"] == 0
