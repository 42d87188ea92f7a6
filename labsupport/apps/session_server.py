"""A login server that remembers who you are: in its own memory (stateful) or in Redis (stateless).

    group = services.app("labsupport.apps.session_server:app", replicas=3)            # memory
    group = services.app("labsupport.apps.session_server:app", replicas=3,
                         env={"SESSION_STORE": r.url})                               # Redis
    POST /login {"user": "ada"}  -> sets cookie sid; {"user": "ada", "replica_id": 0, "store": "memory"}
    GET  /me                     -> {"user": "ada", "visits": 3, "replica_id": 2}, or 401 when the
                                    replica that got the request does not know the sid

The users who log in and browse are in ``labsupport.drivers.sessions``.
Why sessions are lost, and how affinity and a shared store fix it: book chapter 1.
"""

from __future__ import annotations

import os
import secrets
import threading

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
