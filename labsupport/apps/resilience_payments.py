"""A payments API on PostgreSQL, with and without idempotency keys (chapter 11, lab 5).

    pay = services.app("labsupport.apps.resilience_payments:app", env={"PG_URL": pg.url})
    POST /payments {"user": "u1", "amount_cents": 500}            -> 201 {"charge_id": 17, ...}  (a new charge every time)
    POST /payments + header Idempotency-Key: k1                    -> the first answer for k1, stored; never a second charge
    PUT  /accounts/{user}/plan {"plan": "pro"}                     -> 200: sets the plan (repeating it changes nothing)
    GET  /healthz

With a key, the charge and the key row are inserted in one transaction; the key is the primary key of
``idempotency_keys``, so a second request with the same key waits on the first one's row lock and then
finds the stored response. A key reused with a different body is refused with 422.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading

import psycopg
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (id bigserial PRIMARY KEY, user_id text NOT NULL, amount_cents int NOT NULL,
                                    idempotency_key text, created_at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS idempotency_keys (key text PRIMARY KEY, request_hash text NOT NULL,
                                             status int, response jsonb, created_at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS accounts (user_id text PRIMARY KEY, plan text NOT NULL, writes int NOT NULL DEFAULT 0);
"""

app = FastAPI(title="payments")
_local = threading.local()


def db() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["PG_URL"], autocommit=True)
    return conn


with psycopg.connect(os.environ["PG_URL"], autocommit=True) as _c:
    _c.execute("SELECT pg_advisory_lock(11)")  # replicas starting together create the tables once
    _c.execute(SCHEMA)
    _c.execute("SELECT pg_advisory_unlock(11)")


class Payment(BaseModel):
    user: str
    amount_cents: int


class Plan(BaseModel):
    plan: str


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.post("/payments", status_code=201)
def pay(p: Payment, idempotency_key: str | None = Header(None)):
    conn = db()
    if idempotency_key is None:
        cid = conn.execute("INSERT INTO charges (user_id, amount_cents) VALUES (%s, %s) RETURNING id",
                           (p.user, p.amount_cents)).fetchone()[0]
        return {"charge_id": cid, "user": p.user, "amount_cents": p.amount_cents}
    digest = hashlib.sha256(p.model_dump_json().encode()).hexdigest()
    with conn.transaction():
        # The key row is claimed first: a concurrent request with the same key blocks here until this
        # transaction ends, then inserts nothing.
        claimed = conn.execute("INSERT INTO idempotency_keys (key, request_hash) VALUES (%s, %s) "
                               "ON CONFLICT (key) DO NOTHING RETURNING key", (idempotency_key, digest)).fetchone()
        if claimed:
            cid = conn.execute("INSERT INTO charges (user_id, amount_cents, idempotency_key) VALUES (%s, %s, %s) "
                               "RETURNING id", (p.user, p.amount_cents, idempotency_key)).fetchone()[0]
            body = {"charge_id": cid, "user": p.user, "amount_cents": p.amount_cents}
            conn.execute("UPDATE idempotency_keys SET status = 201, response = %s WHERE key = %s",
                         (json.dumps(body), idempotency_key))
            return body
        h, status, body = conn.execute("SELECT request_hash, status, response FROM idempotency_keys WHERE key = %s",
                                       (idempotency_key,)).fetchone()
    if h != digest:
        return JSONResponse({"error": "this Idempotency-Key was used with a different request"}, status_code=422)
    return JSONResponse(body, status_code=status, headers={"Idempotent-Replayed": "true"})


@app.put("/accounts/{user}/plan")
def set_plan(user: str, p: Plan):
    db().execute("INSERT INTO accounts (user_id, plan, writes) VALUES (%s, %s, 1) ON CONFLICT (user_id) "
                 "DO UPDATE SET plan = EXCLUDED.plan, writes = accounts.writes + 1", (user, p.plan))
    return {"user": user, "plan": p.plan}
