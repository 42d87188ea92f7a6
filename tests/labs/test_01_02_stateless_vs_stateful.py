"""Lab 01-02, stateless vs stateful: sessions in replica memory get lost behind round robin, survive
with affinity until the pool changes (a hash moves users on scale-out, a server-id cookie does not;
a crash loses that replica's users under both), and survive everything once they live in Redis."""

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


def test_hash_affinity_loses_the_moved_users_on_scale_out(lab_results):
    """Hash affinity, then a 4th replica joins: the keys the hash moves lose their session (some, not all)."""
    assert 0 < lab_results(LAB)["lost_fraction_affinity_scale_out"] < 0.6


def test_server_id_cookie_survives_scale_out(lab_results):
    """A cookie naming the server (ALB / HAProxy style): adding a replica moves nobody."""
    assert lab_results(LAB)["lost_fraction_server_cookie_scale_out"] == 0


def test_a_crash_loses_exactly_that_replicas_users_under_both(lab_results):
    """Replica 1 is killed: under either affinity the requests lost are those of the users pinned to it."""
    r = lab_results(LAB)
    for lost, share in [("lost_fraction_affinity_kill", "users_on_killed_hash"),
                        ("lost_fraction_server_cookie_kill", "users_on_killed_server_cookie")]:
        assert 0 < r[lost] < 0.6
        assert abs(r[lost] - r[share]) < 0.02, (lost, r[lost], r[share])


def test_sessions_in_redis_survive_a_crash(lab_results):
    """Round robin over Redis-backed replicas, one killed and one added mid-run: zero requests lost."""
    assert lab_results(LAB)["lost_fraction_redis_kill"] == 0
