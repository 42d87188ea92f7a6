"""Two ways to page through a big PostgreSQL table over HTTP: offset, and a signed keyset cursor.

    GET /predictions?limit=100&offset=500000      -> {"items": [...], "next_cursor": "..."}
    GET /predictions?limit=100&cursor=<opaque>    -> the page after the cursor's row (keyset)
    GET /predictions?model=m-7&...                -> the same, one model's rows only
    a cursor that was altered or signed with another key -> 400
    GET /library/predictions?page=9001&size=100           -> fastapi-pagination's Page: items, total, page, size, pages
    GET /library/predictions-no-total?page=9001&size=100  -> the same Page without total (no COUNT(*))

Items are ordered by (created_at, id): created_at has ties, so id breaks them. A cursor is the last
row's (created_at, id), as JSON, base64url-encoded and signed with HMAC-SHA256 under CURSOR_KEY
(random per run, from the environment). Environment: DATABASE_URL, CURSOR_KEY (hex).
The /library/ routes are fastapi-pagination 0.16 over psycopg (its ext.psycopg offset paginator: it
appends LIMIT/OFFSET to the query and, for total, runs SELECT count(*) FROM (query)). Its cursor
mode needs SQLAlchemy and sqlakeyset, so the lab compares its offset pages with ours.
Chapter: book/08-api-design.md (lab 08-api-design/02-pagination).
"""

from __future__ import annotations

import os
import threading

from datetime import datetime

import psycopg
from fastapi import Depends, HTTPException, Query
from fastapi_pagination import Page, Params, add_pagination
from fastapi_pagination.customization import CustomizedPage, UseIncludeTotal
from fastapi_pagination.ext.psycopg import paginate
from psycopg.rows import dict_row
from pydantic import BaseModel

from ..drivers.api_clients import decode_cursor, encode_cursor
from ._common import lab_app

app = lab_app("paged-api")
URL = os.environ.get("DATABASE_URL", "")
KEY = bytes.fromhex(os.environ.get("CURSOR_KEY", os.urandom(16).hex()))
_local = threading.local()
COLUMNS = "id, created_at, model, score"


def db() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(URL, autocommit=True)
    return conn


@app.get("/predictions")
def list_predictions(limit: int = Query(100, ge=1, le=1000), offset: int | None = Query(None, ge=0),
                     cursor: str | None = None, model: str | None = None):
    where, params = [], []
    if model is not None:
        where.append("model = %s")
        params.append(model)
    if cursor is not None:
        try:
            created_at, last_id = decode_cursor(cursor, KEY)
        except ValueError as exc:
            raise HTTPException(400, f"invalid cursor: {exc}") from None
        where.append("(created_at, id) > (%s::timestamptz, %s)")
        params += [created_at, last_id]
    sql = (f"SELECT {COLUMNS} FROM predictions {'WHERE ' + ' AND '.join(where) if where else ''} "
           f"ORDER BY created_at, id LIMIT %s")
    params.append(limit)
    if offset is not None and cursor is None:
        sql += " OFFSET %s"
        params.append(offset)
    rows = db().execute(sql, params).fetchall()
    items = [{"id": i, "created_at": c.isoformat(), "model": m, "score": s} for i, c, m, s in rows]
    nxt = encode_cursor((items[-1]["created_at"], items[-1]["id"]), KEY) if len(items) == limit else None
    return {"items": items, "next_cursor": nxt}


class Item(BaseModel):
    id: int
    created_at: datetime
    model: str
    score: float


LIBRARY_SQL = f"SELECT {COLUMNS} FROM predictions ORDER BY created_at, id"
PageWithoutTotal = CustomizedPage[Page[Item], UseIncludeTotal(False)]


@app.get("/library/predictions", response_model=Page[Item])
def library_page(params: Params = Depends()):
    return paginate(db().cursor(row_factory=dict_row), LIBRARY_SQL, params=params)


@app.get("/library/predictions-no-total", response_model=PageWithoutTotal)
def library_page_without_total(params: PageWithoutTotal.__params_type__ = Depends()):
    return paginate(db().cursor(row_factory=dict_row), LIBRARY_SQL, params=params)


add_pagination(app)
