"""labsupport.apps.session_server: sessions in memory are per replica, sessions in Redis are shared;
the client helpers (labsupport.drivers.sessions) count lost sessions correctly."""

import pytest

from labsupport import services
from labsupport.drivers.sessions import BrowseResult, browse, close_users, login_users

APP = "labsupport.apps.session_server:app"


@pytest.fixture(scope="module")
def redis_server():
    r = services.redis()
    yield r
    r.cleanup()


def test_memory_sessions_belong_to_one_replica():
    """Log in on replica 0: replica 0 knows the session (and counts visits), replica 1 answers 401."""
    with services.app(APP, replicas=2, name="memtest") as group:
        alice = group[0].client()
        assert alice.post("/login", json={"user": "alice"}).json()["store"] == "memory"
        assert alice.get("/me").json()["visits"] == 1
        assert alice.get("/me").json()["visits"] == 2
        other = group[1].client(cookies=alice.cookies).get("/me")
        assert other.status_code == 401 and other.json()["replica_id"] == 1
        assert alice.post("/logout").status_code == 200
        assert group[0].client(cookies={"sid": "nope"}).get("/me").status_code == 401


def test_redis_sessions_are_shared(redis_server):
    """SESSION_STORE=redis, log in on replica 0: replica 1 finds the session and shares the visit count."""
    with services.app(APP, replicas=2, name="redistest", env={"SESSION_STORE": redis_server.url}) as group:
        alice = group[0].client()
        assert alice.post("/login", json={"user": "alice"}).json()["store"] == "redis"
        assert alice.get("/me").json()["visits"] == 1
        seen = group[1].client(cookies=alice.cookies).get("/me").json()
        assert seen["user"] == "alice" and seen["visits"] == 2 and seen["replica_id"] == 1
        assert group[1].client(cookies={"sid": "nope"}).get("/me").status_code == 401
        assert not redis_server.client().exists("session:nope")  # a miss leaves no stray key


def test_login_users_and_browse_against_one_replica():
    """Users logged in on the only replica never lose a session; the grid has one column per round."""
    with services.app(APP, name="browsetest") as one:
        users = login_users(one.url, 4)
        res = browse(users, rounds=3)
        close_users(users)
    assert res.home == [0, 0, 0, 0]
    assert [len(row) for row in res.replica] == [3, 3, 3, 3]
    assert res.lost_fraction == 0 and res.users_lost_fraction == 0 and res.requests == 12


def test_browse_result_arithmetic():
    """Fractions count lost requests and affected users; + joins rounds user by user."""
    a = BrowseResult([[0, 1], [1, 1]], [[False, True], [False, False]], [1.0, 2.0, 3.0, 4.0], home=[0, 1])
    b = BrowseResult([[2], [2]], [[True], [False]], [5.0, 6.0])
    both = a + b
    assert both.replica == [[0, 1, 2], [1, 1, 2]] and both.home == [0, 1]
    assert both.lost_fraction == pytest.approx(2 / 6)
    assert both.users_lost_fraction == pytest.approx(1 / 2)
    assert BrowseResult() + a is a
