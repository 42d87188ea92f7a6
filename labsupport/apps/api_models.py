"""A model-registry REST API on PostgreSQL: nouns for resources, HTTP methods for actions.

    GET    /models                         -> 200 [...]
    POST   /models {name, task}            -> 201 + Location | 409 name taken | 422 invalid body
    GET    /models/{id}                    -> 200 | 404
    PUT    /models/{id} {name, task}       -> 200 replaced | 400 body names another model | 404
    DELETE /models/{id}                    -> 204 | 404
    GET    /models/{id}/versions           -> 200 [...] | 404
    POST   /models/{id}/versions {...}     -> 201 (version = previous + 1) | 404 | 422
    every route                            -> 429 + Retry-After past RATE_LIMIT requests/s per X-API-Key

Environment: DATABASE_URL (required), RATE_LIMIT (default 40 requests per second per key).
A bug is planted on purpose in POST /models/{id}/versions (a 500 that a property-based test finds).
Chapter: book/08-api-design.md (lab 08-api-design/01-rest-conventions).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
import time

import psycopg
from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ._common import lab_app

app = lab_app("model-registry")
URL = os.environ.get("DATABASE_URL", "")
RATE = int(os.environ.get("RATE_LIMIT", "40"))
_local = threading.local()
log = logging.getLogger("model-registry")
_windows: dict[str, list] = {}   # api key -> [window start (s), requests in it]

SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
  id serial PRIMARY KEY, name text UNIQUE NOT NULL, task text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS model_versions (
  model_id int NOT NULL REFERENCES models (id) ON DELETE CASCADE, version int NOT NULL,
  precision_ real NOT NULL, recall real NOT NULL, f1 real NOT NULL, artifact text NOT NULL,
  PRIMARY KEY (model_id, version));
"""


def db() -> psycopg.Connection:
    """One autocommit connection per server thread."""
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(URL, autocommit=True)
    return conn


@app.on_event("startup")
def create_schema():
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(8)")
        conn.execute(SCHEMA)
        conn.execute("SELECT pg_advisory_unlock(8)")


@app.middleware("http")
async def rate_limit(request: Request, call_next):
    """A fixed one-second window per X-API-Key (chapter 11 compares better algorithms)."""
    if request.url.path not in ("/healthz", "/stats", "/openapi.json", "/docs"):
        key = request.headers.get("x-api-key", "anonymous")
        now = time.monotonic()
        window = _windows.setdefault(key, [now, 0])
        if now - window[0] >= 1.0:
            window[0], window[1] = now, 0
        window[1] += 1
        if window[1] > RATE:
            retry = max(1, round(1.0 - (now - window[0]) + 0.5))
            return JSONResponse({"detail": f"more than {RATE} requests per second for this API key"},
                                status_code=429, headers={"Retry-After": str(retry)})
    try:
        return await call_next(request)
    except Exception:  # noqa: BLE001 - a bug: log the trace, send the client no stack trace
        request_id = uuid.uuid4().hex[:12]
        log.exception("request %s %s %s failed", request_id, request.method, request.url.path)
        return JSONResponse({"detail": "internal error", "request_id": request_id}, status_code=500)


class ModelIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    task: str = Field(min_length=1, max_length=40)


class Model(ModelIn):
    id: int


class VersionIn(BaseModel):
    precision: float = Field(ge=0, le=1)
    recall: float = Field(ge=0, le=1)
    artifact: str = Field(min_length=1, max_length=200)


class Version(VersionIn):
    model_id: int
    version: int
    f1: float


def _model(model_id: int) -> dict:
    row = db().execute("SELECT id, name, task FROM models WHERE id = %s", (model_id,)).fetchone()
    if row is None:
        raise HTTPException(404, f"no model with id {model_id}")
    return {"id": row[0], "name": row[1], "task": row[2]}


@app.get("/models", response_model=list[Model])
def list_models():
    rows = db().execute("SELECT id, name, task FROM models ORDER BY id").fetchall()
    return [{"id": i, "name": n, "task": t} for i, n, t in rows]


@app.post("/models", status_code=201, response_model=Model,
          responses={409: {"description": "a model with that name exists"}})
def create_model(body: ModelIn, response: Response):
    try:
        (new_id,) = db().execute("INSERT INTO models (name, task) VALUES (%s, %s) RETURNING id",
                                 (body.name, body.task)).fetchone()
    except psycopg.errors.UniqueViolation:
        raise HTTPException(409, f"a model named {body.name!r} exists; PUT /models/{{id}} replaces it") from None
    response.headers["Location"] = f"/models/{new_id}"
    return {"id": new_id, **body.model_dump()}


@app.get("/models/{model_id}", response_model=Model, responses={404: {"description": "no such model"}})
def get_model(model_id: int):
    return _model(model_id)


@app.put("/models/{model_id}", response_model=Model,
         responses={400: {"description": "the body names another model"}, 404: {"description": "no such model"}})
def replace_model(model_id: int, body: ModelIn):
    current = _model(model_id)
    if body.name != current["name"]:
        raise HTTPException(400, f"the body names {body.name!r}, but model {model_id} is {current['name']!r}; "
                                 "a model's name does not change")
    db().execute("UPDATE models SET task = %s WHERE id = %s", (body.task, model_id))
    return {"id": model_id, **body.model_dump()}


@app.delete("/models/{model_id}", status_code=204, responses={404: {"description": "no such model"}})
def delete_model(model_id: int):
    if db().execute("DELETE FROM models WHERE id = %s", (model_id,)).rowcount == 0:
        raise HTTPException(404, f"no model with id {model_id}")
    return Response(status_code=204)


@app.get("/models/{model_id}/versions", response_model=list[Version],
         responses={404: {"description": "no such model"}})
def list_versions(model_id: int):
    _model(model_id)
    rows = db().execute("SELECT model_id, version, precision_, recall, f1, artifact FROM model_versions "
                        "WHERE model_id = %s ORDER BY version", (model_id,)).fetchall()
    return [{"model_id": m, "version": v, "precision": p, "recall": r, "f1": f, "artifact": a}
            for m, v, p, r, f, a in rows]


@app.post("/models/{model_id}/versions", status_code=201, response_model=Version,
          responses={404: {"description": "no such model"}})
def create_version(model_id: int, body: VersionIn, response: Response):
    _model(model_id)
    f1 = 2 * body.precision * body.recall / (body.precision + body.recall)   # planted bug: 0/0 when both are 0
    (version,) = db().execute(
        "INSERT INTO model_versions SELECT %s, coalesce(max(version), 0) + 1, %s, %s, %s, %s "
        "FROM model_versions WHERE model_id = %s RETURNING version",
        (model_id, body.precision, body.recall, f1, body.artifact, model_id)).fetchone()
    response.headers["Location"] = f"/models/{model_id}/versions/{version}"
    return {"model_id": model_id, "version": version, "f1": f1, **body.model_dump()}
