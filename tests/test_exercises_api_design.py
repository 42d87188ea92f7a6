"""Graders of chapter 8 (labsupport/exercises/api_design.py): right answers pass, typical wrong ones get
feedback that says what went wrong; the build-it grader runs right and broken keyset pagers on a real
PostgreSQL."""

from buildit import defined
from grading import ok, wrong
from labsupport.check import get


def test_every_grader_is_registered():
    for ex in ["duplicate-create", "idempotent-methods", "offset-rows-read", "build-keyset-page", "sunset-header", "breaking-changes"]:
        assert callable(get(f"api.{ex}"))


def test_duplicate_create():
    ok("api.duplicate-create", 409)
    wrong("api.duplicate-create", 422, "valid")
    wrong("api.duplicate-create", 400, "conflicts")
    wrong("api.duplicate-create", 201, "unique")


def test_idempotent_methods():
    ok("api.idempotent-methods", ["GET", "PUT", "DELETE"])
    ok("api.idempotent-methods", "get, put, delete")
    wrong("api.idempotent-methods", ["GET", "PUT", "DELETE", "POST"], "idempotency key")
    wrong("api.idempotent-methods", ["GET", "PUT"], "404")


def test_offset_rows_read():
    ok("api.offset-rows-read", 10_100)
    wrong("api.offset-rows-read", 100, "walks")
    wrong("api.offset-rows-read", 10_000, "100")


def test_sunset_header():
    ok("api.sunset-header", "Sunset")
    ok("api.sunset-header", "sunset:")
    wrong("api.sunset-header", "Deprecation", "since when")
    wrong("api.sunset-header", "Retry-After", "429")


HEADER = '''
import base64, hashlib, hmac, json

def _sign(body, key):
    return base64.urlsafe_b64encode(body).decode() + "." + hmac.new(key, body, hashlib.sha256).hexdigest()

def _open(cursor, key):
    try:
        b64, sig = cursor.split(".")
        body = base64.urlsafe_b64decode(b64)
    except Exception as exc:
        raise ValueError("malformed cursor") from exc
    if not hmac.compare_digest(sig, hmac.new(key, body, hashlib.sha256).hexdigest()):
        raise ValueError("bad signature")
    return json.loads(body)
'''

RIGHT = HEADER + '''
def next_page(conn, cursor, limit, key):
    if cursor is None:
        rows = conn.execute("SELECT created_at, id FROM events ORDER BY created_at, id LIMIT %s", (limit,)).fetchall()
    else:
        ts, last_id = _open(cursor, key)
        rows = conn.execute("SELECT created_at, id FROM events WHERE (created_at, id) > (%s::timestamptz, %s) "
                            "ORDER BY created_at, id LIMIT %s", (ts, last_id, limit)).fetchall()
    nxt = _sign(json.dumps([rows[-1][0].isoformat(), rows[-1][1]]).encode(), key) if len(rows) == limit else None
    return rows, nxt
'''

OFFSET = HEADER + '''
def next_page(conn, cursor, limit, key):
    offset = 0 if cursor is None else _open(cursor, key)
    rows = conn.execute("SELECT created_at, id FROM events ORDER BY created_at, id LIMIT %s OFFSET %s",
                        (limit, offset)).fetchall()
    return rows, (_sign(json.dumps(offset + len(rows)).encode(), key) if len(rows) == limit else None)
'''

NO_TIEBREAKER = HEADER + '''
def next_page(conn, cursor, limit, key):
    if cursor is None:
        rows = conn.execute("SELECT created_at, id FROM events ORDER BY created_at LIMIT %s", (limit,)).fetchall()
    else:
        ts = _open(cursor, key)
        rows = conn.execute("SELECT created_at, id FROM events WHERE created_at > %s::timestamptz "
                            "ORDER BY created_at LIMIT %s", (ts, limit)).fetchall()
    return rows, (_sign(json.dumps(rows[-1][0].isoformat()).encode(), key) if len(rows) == limit else None)
'''

UNSIGNED = RIGHT.replace("def next_page", '''
def _sign(body, key):
    return base64.urlsafe_b64encode(body).decode()

def _open(cursor, key):
    try:
        return json.loads(base64.urlsafe_b64decode(cursor))
    except Exception:
        return json.loads(base64.urlsafe_b64decode(cursor[:-1] + "=="))

def next_page''')


def _pager(source):
    return defined(source, "next_page")


def test_keyset_with_signed_cursor_is_right():
    ok("api.build-keyset-page", _pager(RIGHT))


def test_offset_cursor_skips_rows_under_deletes():
    wrong("api.build-keyset-page", _pager(OFFSET), "skipped", "offset")


def test_sort_without_tiebreaker_loses_ties():
    wrong("api.build-keyset-page", _pager(NO_TIEBREAKER), "tiebreaker")


def test_unsigned_cursor_is_refused():
    wrong("api.build-keyset-page", _pager(UNSIGNED), "not signed")


def test_skeleton_is_not_written_yet():
    def next_page(conn, cursor, limit, key):
        raise NotImplementedError
    wrong("api.build-keyset-page", next_page, "not written yet")


def test_keyset_graded_inside_the_real_notebook():
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/08-api-design/02-pagination.ipynb", "api.build-keyset-page",
                                {"right": RIGHT, "offset": OFFSET})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["offset"].ok and "skipped" in verdicts["offset"].message


def test_breaking_changes():
    ok("api.breaking-changes", ["b", "c", "e"])
    ok("api.breaking-changes", "B, c, e")
    wrong("api.breaking-changes", ["c", "e"], "strict-client")          # missed the response enum
    wrong("api.breaking-changes", ["b", "c", "e", "f"], "unknown fields are ignored")
    wrong("api.breaking-changes", ["a", "b", "c", "e"], "omit")
    wrong("api.breaking-changes", ["b", "c", "e", "z"], "not one of")
