"""Clients of the chapter 8 APIs, and the signed cursor both sides use.

    token = encode_cursor(("2026-01-01T00:00:00+00:00", 42), key)   # opaque: base64url(JSON).HMAC
    decode_cursor(token, key)            # -> ["2026-01-01T00:00:00+00:00", 42]; ValueError if altered
    state = registry_state(conn)         # what the registry holds (to compare before/after a call)
    walk(client, "offset", model="m-7")  # every id a client sees paging to the end (offset or cursor)
    churn = Churn(pg.url, "m-7");  walk(..., between_pages=churn.step)   # another client writes meanwhile
    openapi_table(client)                # [(path, METHOD, "200 404 ...")] from /openapi.json
    fuzz(api.url, "/models/{model_id}/versions", "POST", {"model_id": 1})   # schemathesis: cases, 5xx found

The why of each is in book/08-api-design.md. Servers are in labsupport/apps/api_*.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random

import httpx
import psycopg


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(position, key: bytes) -> str:
    """The last row's sort key as an opaque token, signed so a client cannot forge or edit it."""
    body = json.dumps(list(position), separators=(",", ":")).encode()
    sig = hmac.new(key, body, hashlib.sha256).digest()[:16]
    return f"{_b64(body)}.{_b64(sig)}"


def decode_cursor(token: str, key: bytes) -> list:
    """The sort key inside ``token``; ValueError when it is malformed or its signature does not match."""
    try:
        body_text, sig_text = token.split(".")
        body, sig = _unb64(body_text), _unb64(sig_text)
    except (ValueError, TypeError) as exc:
        raise ValueError("malformed cursor") from exc
    if not hmac.compare_digest(sig, hmac.new(key, body, hashlib.sha256).digest()[:16]):
        raise ValueError("cursor signature does not match (altered, or issued by another server)")
    return json.loads(body)


def registry_state(conn: psycopg.Connection) -> tuple:
    """Everything the registry stores, as a comparable value."""
    models = conn.execute("SELECT id, name, task FROM models ORDER BY id").fetchall()
    versions = conn.execute("SELECT model_id, version FROM model_versions ORDER BY 1, 2").fetchall()
    return tuple(models), tuple(versions)


def openapi_table(client: httpx.Client) -> list[tuple[str, str, str]]:
    """(path, method, documented status codes) for every operation in the server's OpenAPI document."""
    doc = client.get("/openapi.json").json()
    return [(path, method.upper(), " ".join(sorted(op.get("responses", {}))))
            for path, ops in doc["paths"].items() for method, op in ops.items()]


def walk(client: httpx.Client, mode: str, limit: int = 100, model: str | None = None,
         between_pages=None) -> list[int]:
    """Page to the end with ``mode`` "offset" or "cursor"; the ids in the order they arrived."""
    seen, offset, cursor = [], 0, None
    while True:
        params = {"limit": limit, **({"model": model} if model else {})}
        if mode == "offset":
            params["offset"] = offset
        elif cursor is not None:
            params["cursor"] = cursor
        page = client.get("/predictions", params=params)
        page.raise_for_status()
        body = page.json()
        seen += [item["id"] for item in body["items"]]
        offset += len(body["items"])
        cursor = body["next_cursor"]
        if len(body["items"]) < limit or (mode == "cursor" and cursor is None):
            return seen
        if between_pages is not None:
            between_pages(seen)


class Churn:
    """Another client that, between two page requests, deletes rows the reader has passed and
    inserts late-arriving rows with old timestamps (the kind of churn a live table has)."""

    def __init__(self, url: str, model: str, deletes: int = 2, inserts: int = 0, seed: int = 8):
        self.conn = psycopg.connect(url, autocommit=True)
        self.model, self.deletes, self.inserts = model, deletes, inserts
        self.rng = random.Random(seed)
        self.deleted: set[int] = set()
        self.inserted: set[int] = set()

    def step(self, seen: list[int]) -> None:
        passed = [i for i in seen[-200:] if i not in self.deleted]
        for victim in self.rng.sample(passed, min(self.deletes, len(passed))):
            self.conn.execute("DELETE FROM predictions WHERE id = %s", (victim,))
            self.deleted.add(victim)
        for _ in range(self.inserts):
            (new_id,) = self.conn.execute(
                "INSERT INTO predictions (id, created_at, model, score) SELECT max(id) + 1, "
                "(SELECT min(created_at) FROM predictions WHERE model = %s) + random() * interval '1 hour', "
                "%s, random() FROM predictions RETURNING id", (self.model, self.model)).fetchone()
            self.inserted.add(new_id)

    def close(self) -> None:
        self.conn.close()


def skipped_and_repeated(seen: list[int], before: set[int], churn: Churn) -> dict:
    """Rows present for the whole walk but never seen, and rows seen more than once."""
    stable = before - churn.deleted
    return {"skipped": len(stable - set(seen)), "repeated": len(seen) - len(set(seen)),
            "stable": len(stable)}


def fuzz(base_url: str, path: str, method: str, path_parameters: dict | None = None,
         max_examples: int = 60, seed: int = 8) -> dict:
    """Property-based test of one operation with schemathesis: bodies generated from the server's own
    OpenAPI schema; returns {"cases": n, "server_errors": [(body, status, response text), ...]}."""
    import schemathesis  # noqa: PLC0415
    from hypothesis import HealthCheck, Phase, given, seed as hseed, settings  # noqa: PLC0415

    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    op = schema[path][method.upper()]
    cases, errors = [], []

    def pin(case):
        if path_parameters:
            case.path_parameters = dict(path_parameters)
        return case

    @hseed(seed)
    @settings(max_examples=max_examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy().map(pin))
    def run(case):
        response = case.call()
        cases.append(case.body)
        if response.status_code >= 500:
            errors.append((case.body, response.status_code, response.text))

    run()
    return {"cases": len(cases), "server_errors": errors}
