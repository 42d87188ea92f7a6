"""Graders for chapter 1, client-server architecture (labs/01-client-server)."""

from __future__ import annotations

from labsupport.check import Feedback, close_to, grader, one_of


# -- lab 1: request-response ------------------------------------------------------------------
@grader("client_server.idle-fraction")
def idle_fraction(answer) -> Feedback:
    """0.3 ms of client CPU in a 6 ms round trip: idle 1 - 0.3/6 = 0.95."""
    value = float(answer)
    if value > 1:
        return Feedback(False, "Give a fraction between 0 and 1 (0.5 means half the time), not a percentage.")
    return close_to(value, 0.95, rel=0.01, hints={
        0.05: "0.05 is the fraction of the time the client is BUSY (0.3 / 6). Idle is the rest.",
        0.5: "The client is not idle half the time: it only works for 0.3 ms of every 6 ms.",
    })


@grader("client_server.littles-law")
def littles_law(answer) -> Feedback:
    """40 requests in flight at 200 rps: latency = 40 / 200 s = 200 ms (Little's law)."""
    value = float(answer)
    return close_to(value, 200, rel=0.05, unit=" ms", hints={
        0.2: "0.2 is right in seconds; the question asks for milliseconds.",
        5: "5 ms is the time the server spends per request (1/200 s). With 40 requests queued, each one "
           "also waits for the others: latency = requests in flight / throughput.",
        8000: "Dividing the other way round: latency = requests in flight / throughput = 40 / 200 s.",
        8: "Latency = requests in flight / throughput = 40 / (200 per second); then convert to ms.",
    })


@grader("client_server.in-flight")
def in_flight(answer) -> Feedback:
    """50 ms per request, 400 rps wanted: 400 x 0.05 = 20 requests in flight."""
    value = float(answer)
    return close_to(value, 20, rel=0.05, unit=" requests", hints={
        8: "400 / 50 mixes units: 50 is in milliseconds. Requests in flight = throughput x latency "
           "= 400 per second x 0.05 s.",
        20000: "50 ms is 0.05 s, not 50 s: in flight = 400 per second x 0.05 s.",
        1: "One client waiting 50 ms per request can only send 20 requests per second.",
    })


@grader("client_server.bottleneck")
def bottleneck(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "Not the network: every byte stays on loopback (127.0.0.1), which moves gigabytes per second, "
             "and /generate pushed more requests per second through the very same loopback.",
        "b": "Right: /predict does real matrix multiplications, and the client, the server and the model "
             "share this machine's CPU cores. Once they are all busy, more clients only make a queue: "
             "throughput stays flat and latency grows.",
        "c": "uvicorn accepted every connection; the server's /stats shows many requests in flight at once. "
             "Something else is full.",
        "d": "httpx sends requests as fast as the threads ask for them; it has no rate limit.",
    })


# -- lab 2: stateless vs stateful -------------------------------------------------------------
@grader("client_server.round-robin-lost")
def round_robin_lost(answer) -> Feedback:
    """N = 5 replicas, round robin, sessions in memory: a request finds its session with probability
    1/5, so 1 - 1/5 = 0.8 of the requests after login lose it."""
    value = float(answer)
    if value > 1:
        return Feedback(False, "Give a fraction between 0 and 1 (0.5 means half the requests).")
    return close_to(value, 0.8, rel=0.02, hints={
        0.2: "0.2 = 1/5 is the fraction that FINDS the session (they land on the replica where the user "
             "logged in). The rest lose it.",
        2 / 3: "2/3 is the answer for the 3 replicas of the lab. With N replicas it is 1 - 1/N.",
        0.0: "Round robin does not know about sessions: each request goes to the next replica in turn.",
        1.0: "One request in N still lands on the replica that holds the session.",
    })


@grader("client_server.users-logged-out")
def users_logged_out(answer) -> Feedback:
    """1000 users pinned evenly to 4 replicas; one crashes: its 250 users lose their session."""
    value = float(answer)
    if 0 < value <= 1:
        return Feedback(False, "Give a number of users (out of 1000), not a fraction.")
    return close_to(value, 250, rel=0.05, unit=" users", hints={
        1000: "Only the sessions held by the crashed replica vanish; the other three replicas keep theirs.",
        750: "750 users are on the three replicas that survived: their sessions are fine.",
        0: "The sessions live in the crashed replica's memory, which is gone. Its users must log in again.",
        333: "The balancer moves the crashed replica's users to the 3 survivors, but the number who lose "
             "their session is the number that was on the crashed replica: 1000 / 4.",
    })


@grader("client_server.affinity-key")
def affinity_key(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "nginx reads cookies fine: after login, each user's requests did go to one replica every time.",
        "b": "Right: the login request is routed before the session exists, so it carries no sid cookie "
             "(nginx falls back to round robin for an empty key). The sid that comes back then hashes to "
             "some replica, which is the one that created it only by luck (1 time in 3).",
        "c": "Consistent hashing is deterministic: the same key always goes to the same replica. "
             "The problem is which key the login request had.",
        "d": "The cookie stays the same for every request after login; that is why each user's requests "
             "were all lost or all kept.",
    })


# Things a model service keeps, and whether one replica's memory is a fine home for them.
STATE_ITEMS = {
    "a": (True, "the model weights are read-only and identical on every replica: each loads its own copy"),
    "b": (False, "a login session must be found by whichever replica gets the user's next request"),
    "c": (True, "a cache of recent predictions only saves work: a miss on another replica recomputes the "
                "same answer (a shared cache hits more often, but a local one is still correct)"),
    "d": (False, "a chat's history is needed by the next turn, which may reach another replica"),
    "e": (False, "a per-customer daily quota counted on each replica lets a customer use N times the "
                 "quota with N replicas: the count must be shared"),
}


@grader("client_server.where-state")
def where_state(answer) -> Feedback:
    """Which of a-e can live in one replica's memory only? a (weights) and c (a cache)."""
    if isinstance(answer, str):  # "ac", "a, c" and "a c" all mean {"a", "c"}
        answer = answer.replace(",", " ").split() if any(c in answer for c in ", ") else list(answer)
    got = {str(x).strip().lower() for x in answer}
    unknown = got - set(STATE_ITEMS)
    if unknown:
        return Feedback(False, f"Use the letters a to e; {', '.join(sorted(unknown))} is not one of them.")
    wrong_in = sorted(k for k in got if not STATE_ITEMS[k][0])
    missing = sorted(k for k, (ok, _) in STATE_ITEMS.items() if ok and k not in got)
    if not wrong_in and not missing:
        return Feedback(True, "Right: a and c can stay local; b, d and e must live where every replica "
                              "can see them (a database or Redis).")
    parts = [f"{k} cannot stay on one replica: {STATE_ITEMS[k][1]}" for k in wrong_in]
    parts += [f"{k} is safe on each replica: {STATE_ITEMS[k][1]}" for k in missing]
    return Feedback(False, "Not quite. " + "; ".join(parts) + ".")


# -- build-it (lab 2): a session store that survives a replica kill ----------------------------------
def _class_source(cls) -> str:
    """The source of a learner's class; in a notebook, rebuilt from its methods (whose source IPython keeps)."""
    import inspect  # noqa: PLC0415
    import textwrap  # noqa: PLC0415

    try:
        return textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        parts = [f"class {cls.__name__}:"]
        for value in vars(cls).values():
            if inspect.isfunction(value):
                parts.append(textwrap.indent(textwrap.dedent(inspect.getsource(value)), "    "))
        return "\n".join(parts) + "\n"


@grader("client_server.build-session-store")
def build_session_store(store_class) -> Feedback:
    """Three replicas run the learner's store behind round-robin nginx; 12 users log in and browse,
    replica 1 is SIGKILLed halfway. Every request must find its session, visits must count across
    replicas, and every key must expire."""
    import httpx  # noqa: PLC0415

    from labsupport import services  # noqa: PLC0415
    from labsupport.drivers.sessions import browse, close_users, login_users  # noqa: PLC0415

    if not isinstance(store_class, type):
        return Feedback(False, "Pass the class itself (check(..., SessionStore)), not an instance.")
    for method, args in (("create", ("probe", "probe")), ("visit", ("probe",))):
        try:  # a skeleton still raises NotImplementedError: "not written yet", before any server starts
            getattr(store_class.__new__(store_class), method)(*args)
        except NotImplementedError:
            raise
        except Exception:  # noqa: BLE001 - a real body needs self.r; the replicas will run it for real
            pass
    src = _class_source(store_class)
    with services.redis() as r:
        env = {"SESSION_STORE": r.url, "SESSION_STORE_CODE": src, "SESSION_STORE_CLASS": store_class.__name__}
        with services.app("labsupport.apps.session_server:app", replicas=3, name="grader-sessions", env=env) as group:
            with services.nginx(upstream=list(group)) as lb:
                try:
                    users = login_users(lb.url, 12)
                except httpx.HTTPStatusError as exc:
                    return Feedback(False, f"POST /login answered {exc.response.status_code}: your create() raised "
                                           "an error inside the replica (its log is in the replica's workdir). "
                                           "Test create() and visit() on the lab's Redis client first.")
                before = browse(users, 2)
                group[1].kill()
                after = browse(users, 2)
                last = [u.client.get("/me") for u in users]
                close_users(users)
            client = r.client()
            keys = client.keys("*")
            no_ttl = [k for k in keys if client.ttl(k) < 0]
    lost_before, lost_after = before.lost_fraction, after.lost_fraction
    if lost_before > 0:
        return Feedback(False, f"{lost_before:.0%} of requests found no session before anything broke: with round "
                               "robin, each request reaches another replica, so a session kept in one process "
                               "(a dict on self) is invisible to the others. Write it to Redis (r.hset) and read "
                               "it back from Redis on every visit.")
    if lost_after > 0:
        return Feedback(False, f"After replica 1 was killed, {lost_after:.0%} of requests found no session: some "
                               "state still lived in the dead process. Keep nothing in the replica's memory.")
    visits = [reply.json().get("visits") for reply in last if reply.status_code == 200]
    if len(visits) != len(users) or any(v != 5 for v in visits):
        return Feedback(False, f"Every user made 5 visits, but the sessions counted {sorted(set(map(str, visits)))}. "
                               "The visit count is state too: increment it in Redis (HINCRBY is one atomic "
                               "step), not in a replica's memory, and return the new value.")
    if not keys:
        return Feedback(False, "No keys in Redis: the sessions were not stored there.")
    if no_ttl:
        return Feedback(False, f"{len(no_ttl)} of {len(keys)} Redis keys never expire: abandoned sessions would "
                               "fill Redis forever. Give each session a TTL (EXPIRE) when it is created.")
    return Feedback(True, "Right: 12 users, round robin over 3 replicas, one killed mid-run, and no request lost "
                          "its session; visits counted across replicas; every key expires. The replicas are stateless.")
