"""A login server that remembers who you are: in its own memory (stateful) or in Redis (stateless).

    group = services.app("labsupport.apps.session_server:app", replicas=3)            # memory
    group = services.app("labsupport.apps.session_server:app", replicas=3,
                         env={"SESSION_STORE": r.url})                               # Redis
    POST /login {"user": "ada"}  -> sets cookie sid; {"user": "ada", "replica_id": 0, "store": "memory"}
    GET  /me                     -> {"user": "ada", "visits": 3, "replica_id": 2}, or 401 when the
                                    replica that got the request does not know the sid

The client side, for the labs (each user is an httpx.Client with its own cookie jar, like a browser):

    users = login_users(lb.url, n=25)        # every user logs in once (user.home: the replica that did it)
    res = browse(users, rounds=6)            # each round, every user GETs /me once (seeded order)
    res.lost_fraction, res.users_lost_fraction, res.replica, res.lost, res.latencies_ms
    res = browse(users, 3) + browse(users, 3)   # results add up, e.g. around a kill
    res.plot("round robin", event_at=3, event_label="replica 1 killed")   # who served whom (plot.who_served)
    close_users(users)

Why sessions are lost, and how affinity and a shared store fix it: book chapter 1.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from dataclasses import dataclass, field

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ._common import REPLICA, REPLICA_ID, lab_app

SESSION_STORE = os.environ.get("SESSION_STORE", "")  # empty: this replica's memory; redis://...: Redis
SESSION_TTL_S = 1800
COOKIE = "sid"


class MemoryStore:
    """Sessions in a dict inside this process: gone when it dies, invisible to other replicas."""

    kind = "memory"

    def __init__(self):
        self._sessions: dict[str, dict] = {}
        self._lock = threading.Lock()

    def create(self, sid: str, user: str) -> None:
        with self._lock:
            self._sessions[sid] = {"user": user, "visits": 0}

    def visit(self, sid: str) -> dict | None:
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            session["visits"] += 1
            return dict(session)

    def delete(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)


class RedisStore:
    """Sessions in Redis hashes (``session:<sid>``) with a TTL: every replica sees the same ones."""

    kind = "redis"

    def __init__(self, url: str):
        import redis  # noqa: PLC0415 - only the Redis-backed replicas need it

        self.r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2)

    def create(self, sid: str, user: str) -> None:
        key = f"session:{sid}"
        self.r.pipeline().hset(key, mapping={"user": user, "visits": 0}).expire(key, SESSION_TTL_S).execute()

    def visit(self, sid: str) -> dict | None:
        key = f"session:{sid}"
        user, visits = self.r.pipeline().hget(key, "user").hincrby(key, "visits", 1).execute()
        if user is None:  # HINCRBY just created a stray key: remove it, there was no session
            self.r.delete(key)
            return None
        return {"user": user, "visits": visits}

    def delete(self, sid: str) -> None:
        self.r.delete(f"session:{sid}")


class LearnerStore:
    """A session store written by a learner (the chapter 1 build-it): its source arrives in
    ``SESSION_STORE_CODE`` and defines a class taking a Redis client, with ``create`` and ``visit``."""

    kind = "learner"

    def __init__(self, url: str, code: str, class_name: str):
        import redis  # noqa: PLC0415

        namespace: dict = {}
        exec(code, namespace)  # noqa: S102 - the learner's own code, run in the learner's own lab server
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2) if url else None
        self.impl = namespace[class_name](client)

    def create(self, sid: str, user: str) -> None:
        self.impl.create(sid, user)

    def visit(self, sid: str) -> dict | None:
        return self.impl.visit(sid)

    def delete(self, sid: str) -> None:
        if hasattr(self.impl, "delete"):
            self.impl.delete(sid)


if os.environ.get("SESSION_STORE_CODE"):
    store = LearnerStore(SESSION_STORE, os.environ["SESSION_STORE_CODE"], os.environ["SESSION_STORE_CLASS"])
else:
    store = RedisStore(SESSION_STORE) if SESSION_STORE else MemoryStore()
app = lab_app("session-server")


class Login(BaseModel):
    user: str


def _who() -> dict:
    return {"replica": REPLICA, "replica_id": REPLICA_ID, "store": store.kind}


@app.post("/login")
def login(body: Login):
    sid = secrets.token_urlsafe(16)
    store.create(sid, body.user)
    response = JSONResponse({"user": body.user, **_who()})
    response.set_cookie(COOKIE, sid, httponly=True, max_age=SESSION_TTL_S)
    return response


@app.get("/me")
def me(request: Request):
    sid = request.cookies.get(COOKIE)
    session = store.visit(sid) if sid else None
    if session is None:
        return JSONResponse({"detail": "no session: please log in", **_who()}, status_code=401)
    return {**session, **_who()}


@app.post("/logout")
def logout(request: Request):
    sid = request.cookies.get(COOKIE)
    if sid:
        store.delete(sid)
    response = JSONResponse({"ok": True, **_who()})
    response.delete_cookie(COOKIE)
    return response


# -- the client side: simulated users of the labs ------------------------------------------------
@dataclass
class User:
    """One browser: a name, its own cookie jar (an httpx.Client) and the replica it logged in on."""

    name: str
    client: httpx.Client
    home: int | None = None


def login_users(url: str, n: int, timeout_s: float = 5.0) -> list[User]:
    """``n`` users, each with its own cookie jar, each logged in once through ``url``."""
    transport = httpx.HTTPTransport()  # one connection pool for all (a new Client each would load CA files)
    users = []
    for i in range(n):
        user = User(f"user{i:02d}", httpx.Client(base_url=url, timeout=timeout_s, transport=transport))
        reply = user.client.post("/login", json={"user": user.name})
        reply.raise_for_status()
        user.home = reply.json()["replica_id"]
        users.append(user)
    return users


@dataclass
class BrowseResult:
    """``replica[u][k]``: the replica that answered user u's k-th request (-1: nobody);
    ``lost[u][k]``: True when that request found no session (401) or failed."""

    replica: list[list[int]] = field(default_factory=list)
    lost: list[list[bool]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    home: list[int] = field(default_factory=list)  # where each user logged in

    @property
    def requests(self) -> int:
        return sum(len(row) for row in self.lost)

    @property
    def lost_fraction(self) -> float:
        """Fraction of requests that found no session."""
        return sum(map(sum, self.lost)) / self.requests if self.requests else float("nan")

    @property
    def users_lost_fraction(self) -> float:
        """Fraction of users who lost their session at least once."""
        return sum(any(row) for row in self.lost) / len(self.lost) if self.lost else float("nan")

    def __add__(self, other: "BrowseResult") -> "BrowseResult":
        if not self.lost:
            return other
        if not other.lost:
            return self
        return BrowseResult([a + b for a, b in zip(self.replica, other.replica)],
                            [a + b for a, b in zip(self.lost, other.lost)],
                            self.latencies_ms + other.latencies_ms, self.home)

    def plot(self, title: str = "", event_at: int | None = None, event_label: str = "", ax=None,
             n_replicas: int | None = None):
        """The user x request grid: colour = replica that answered, cross = session lost."""
        from labsupport import plot  # noqa: PLC0415 - matplotlib is not needed inside the server

        return plot.who_served(self.replica, self.lost, first=self.home or None, title=title, ax=ax,
                               event_at=event_at, event_label=event_label, n_replicas=n_replicas,
                               lost_label="session lost")


def browse(users: list[User], rounds: int, seed: int = 42) -> BrowseResult:
    """Each round, every user (in a seeded random order, as real users interleave) GETs /me once."""
    rng = random.Random(seed)
    res = BrowseResult([[] for _ in users], [[] for _ in users], home=[u.home for u in users])
    for _ in range(rounds):
        order = list(range(len(users)))
        rng.shuffle(order)
        for u in order:
            t0 = time.perf_counter()
            try:
                reply = users[u].client.get("/me")
                replica, ok = reply.json().get("replica_id", -1), reply.status_code == 200
            except (httpx.HTTPError, ValueError):
                replica, ok = -1, False
            res.latencies_ms.append((time.perf_counter() - t0) * 1000)
            res.replica[u].append(replica)
            res.lost[u].append(not ok)
    return res


def close_users(users: list[User]) -> None:
    for user in users:
        user.client.close()
