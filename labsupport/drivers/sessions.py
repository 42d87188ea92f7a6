"""Simulated browser users of ``labsupport.apps.session_server``: each one logs in, then keeps asking /me.

    users = login_users(lb.url, n=25)        # every user logs in once (user.home: the replica that did it)
    res = browse(users, rounds=6)            # each round, every user GETs /me once (seeded order)
    res.lost_fraction, res.users_lost_fraction, res.replica, res.lost, res.latencies_ms
    res = browse(users, 3) + browse(users, 3)   # results add up, e.g. around a kill
    res.plot("round robin", event_at=3, event_label="replica 1 killed")   # who served whom (plot.who_served)
    close_users(users)

Each user is an httpx.Client with its own cookie jar, as a browser is.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import httpx


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
