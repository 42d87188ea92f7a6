"""Graders of chapter 1 (client-server): right answers pass, typical wrong answers get a helpful hint."""

import pytest

from grading import ok, wrong
from labsupport.check import grade


def test_unanswered_is_pending():
    """The placeholder None is reported as not answered, for every chapter-1 exercise."""
    for ex in ("client_server.idle-fraction", "client_server.littles-law", "client_server.in-flight",
               "client_server.bottleneck", "client_server.round-robin-lost", "client_server.users-logged-out",
               "client_server.affinity-key", "client_server.where-state"):
        assert "not answered" in grade(ex, None).message.lower()


def test_idle_fraction():
    """1 - 0.3/6 = 0.95; the busy share and percentages are caught."""
    ok("client_server.idle-fraction", 0.95)
    ok("client_server.idle-fraction", "0.95")
    wrong("client_server.idle-fraction", 0.05, "busy")
    wrong("client_server.idle-fraction", 95, "fraction")
    wrong("client_server.idle-fraction", 0.5, "0.3 ms")


def test_littles_law():
    """40 in flight / 200 per s = 200 ms; seconds, service time and inverted division are caught."""
    ok("client_server.littles-law", 200)
    wrong("client_server.littles-law", 0.2, "milliseconds")
    wrong("client_server.littles-law", 5, "in flight")
    wrong("client_server.littles-law", 8000, "40 / 200")
    wrong("client_server.littles-law", 50, "too low")


def test_in_flight():
    """400 per s x 0.05 s = 20; unit mix-ups are caught."""
    ok("client_server.in-flight", 20)
    wrong("client_server.in-flight", 8, "0.05 s")
    wrong("client_server.in-flight", 20000, "0.05 s")
    wrong("client_server.in-flight", 1, "20 requests per second")


def test_bottleneck():
    """b (the shared CPU cores) is right; every other choice says why not; junk lists the choices."""
    ok("client_server.bottleneck", "b")
    ok("client_server.bottleneck", " B ")
    wrong("client_server.bottleneck", "a", "loopback")
    wrong("client_server.bottleneck", "c", "in flight")
    wrong("client_server.bottleneck", "d", "rate limit")
    wrong("client_server.bottleneck", "cpu", "choose one of")


def test_round_robin_lost():
    """1 - 1/5 = 0.8; the kept share, the 3-replica answer and percentages are caught."""
    ok("client_server.round-robin-lost", 0.8)
    ok("client_server.round-robin-lost", 4 / 5)
    wrong("client_server.round-robin-lost", 0.2, "finds")
    wrong("client_server.round-robin-lost", 2 / 3, "1 - 1/n")
    wrong("client_server.round-robin-lost", 0, "round robin")
    wrong("client_server.round-robin-lost", 80, "fraction")


def test_users_logged_out():
    """1000 / 4 = 250 users; everyone, the survivors, 1000/3 and fractions are caught."""
    ok("client_server.users-logged-out", 250)
    wrong("client_server.users-logged-out", 1000, "crashed replica")
    wrong("client_server.users-logged-out", 750, "survived")
    wrong("client_server.users-logged-out", 333, "1000 / 4")
    wrong("client_server.users-logged-out", 0, "gone")
    wrong("client_server.users-logged-out", 0.25, "number of users")


def test_affinity_key():
    """b (no cookie on the login request) is right; the others are explained."""
    ok("client_server.affinity-key", "b")
    wrong("client_server.affinity-key", "a", "reads cookies")
    wrong("client_server.affinity-key", "c", "deterministic")
    wrong("client_server.affinity-key", "d", "same")


@pytest.mark.parametrize("answer", ["ac", "a, c", "c a", ["a", "c"], {"A", "C"}])
def test_where_state_right(answer):
    """Weights and a cache can stay local, in any spelling of the answer."""
    ok("client_server.where-state", answer)


def test_where_state_wrong():
    """Each wrong letter gets its own reason; a missing safe item is explained; bad letters are named."""
    fb = wrong("client_server.where-state", "abc", "b cannot stay")
    assert "session" in fb.message
    wrong("client_server.where-state", "a", "c is safe")
    wrong("client_server.where-state", "ace", "quota")
    wrong("client_server.where-state", "acd", "chat")
    wrong("client_server.where-state", "acz", "z is not one")


# -- build-it: a session store that survives a replica kill, graded on real replicas behind nginx ----------
RIGHT_STORE = '''
class SessionStore:
    def __init__(self, r):
        self.r = r
    def create(self, sid, user):
        self.r.hset(f"s:{sid}", mapping={"user": user, "visits": 0})
        self.r.expire(f"s:{sid}", 1800)
    def visit(self, sid):
        if not self.r.exists(f"s:{sid}"):
            return None
        return {"user": self.r.hget(f"s:{sid}", "user"), "visits": self.r.hincrby(f"s:{sid}", "visits", 1)}
'''
MEMORY_STORE = '''
class SessionStore:
    def __init__(self, r):
        self.sessions = {}
    def create(self, sid, user):
        self.sessions[sid] = {"user": user, "visits": 0}
    def visit(self, sid):
        s = self.sessions.get(sid)
        if s is None:
            return None
        s["visits"] += 1
        return dict(s)
'''
LOCAL_VISITS_STORE = '''
class SessionStore:
    def __init__(self, r):
        self.r, self.visits = r, {}
    def create(self, sid, user):
        self.r.set(f"s:{sid}", user, ex=1800)
    def visit(self, sid):
        user = self.r.get(f"s:{sid}")
        if user is None:
            return None
        self.visits[sid] = self.visits.get(sid, 0) + 1
        return {"user": user, "visits": self.visits[sid]}
'''
NO_TTL_STORE = RIGHT_STORE.replace('        self.r.expire(f"s:{sid}", 1800)\n', "")


def _store(tmp_path, name, src):
    import importlib.util

    path = tmp_path / f"store_{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SessionStore


def test_build_session_store_grader(tmp_path):
    """Redis-backed store passes; in-memory sessions, per-replica visit counts and keys without TTL fail."""
    ok("client_server.build-session-store", _store(tmp_path, "right", RIGHT_STORE))
    wrong("client_server.build-session-store", _store(tmp_path, "memory", MEMORY_STORE), "round robin", "redis")
    wrong("client_server.build-session-store", _store(tmp_path, "local", LOCAL_VISITS_STORE), "visit", "hincrby")
    wrong("client_server.build-session-store", _store(tmp_path, "nottl", NO_TTL_STORE), "expire")


def test_build_session_store_in_the_notebook():
    """The lab's own check cell grades an injected right and wrong store on real replicas."""
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/01-client-server/02-stateless-vs-stateful.ipynb",
                                "client_server.build-session-store",
                                {"right": RIGHT_STORE, "memory": MEMORY_STORE})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["memory"].ok and "round robin" in verdicts["memory"].message


def test_build_session_store_skeleton_is_not_written_yet():
    """The lab's skeleton (raising NotImplementedError) is reported as not written, with no server started."""
    class SessionStore:
        def __init__(self, r):
            self.r = r

        def create(self, sid, user):
            raise NotImplementedError

        def visit(self, sid):
            raise NotImplementedError

    assert "not written" in grade("client_server.build-session-store", SessionStore).message.lower()
