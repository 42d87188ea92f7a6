"""Graders for chapter 8, API design (labs/08-api-design/01-03).

The reasoning behind each answer is in the lab's dropdown solution. The build-it grader
(``api.build-keyset-page``) runs the learner's page function against a real PostgreSQL it starts."""

from __future__ import annotations


from ..check import Feedback, close_to, grader, one_of, same_set


# -- lab 1: REST conventions -----------------------------------------------------------------------
@grader("api.duplicate-create")
def duplicate_create(answer) -> Feedback:
    """The status code for POST /models with a name another model already has."""
    code = str(answer).strip()
    return one_of(code, "409", {
        "200": "200 says the request succeeded; nothing was created.",
        "201": "201 Created would tell the client a second model exists; the name is unique, so none was made.",
        "400": "400 is for a request the server cannot make sense of; this one is well formed and valid, it "
               "just conflicts with the current state of the resource.",
        "404": "404 says the resource is not there; here the trouble is that it is there already.",
        "409": "Right: 409 Conflict. The request was valid but clashes with the current state; the client can "
               "pick another name or PUT to the existing model.",
        "422": "422 is for a body that fails validation; this body is valid, the name is simply taken.",
        "500": "500 means the server failed; here it worked correctly and refused a conflicting request.",
    })


@grader("api.idempotent-methods")
def idempotent_methods(answer) -> Feedback:
    """Of GET, POST, PUT, DELETE: those whose repeat leaves the server as the first call left it."""
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    got = {str(x).strip().upper() for x in answer}
    if "POST" in got:
        return Feedback(False, "The lab's second POST /models/{id}/versions created a second version: POST is "
                               "not idempotent, which is why a retried POST needs an idempotency key.")
    fb = same_set({g.lower() for g in got}, {"get", "put", "delete"}, name="methods")
    if fb.ok:
        return Feedback(True, "Right: GET, PUT and DELETE. The second DELETE answers 404, but the state is the "
                              "same as after the first; idempotence is about state, not about the status code.")
    if "DELETE" not in got:
        return Feedback(False, "DELETE is idempotent: the second call answers 404, yet the server's state is "
                               "what the first call left. Look at the state, not the status code.")
    return Feedback(False, fb.message)


# -- lab 2: pagination -----------------------------------------------------------------------------
@grader("api.offset-rows-read")
def offset_rows_read(answer) -> Feedback:
    """Rows PostgreSQL reads for ORDER BY created_at, id LIMIT 100 OFFSET 10000 (with an index)."""
    value = float(answer)
    return close_to(value, 10_100, rel=0.002, unit=" rows", hints={
        100: "OFFSET does not jump: the database walks the index past the first 10,000 rows, then returns 100.",
        10_000: "It reads the 10,000 skipped rows and then the 100 it returns.",
    })


_ROWS = 2_000
_LIMIT = 48   # not a multiple of the 5 rows per timestamp: pages end inside a tie


def _table(conn) -> None:
    conn.execute("DROP TABLE IF EXISTS events")
    # 400 distinct timestamps, 5 rows each, and ids that do not follow time order
    conn.execute("CREATE TABLE events AS SELECT g AS id, timestamptz '2026-01-01' + ((g * 37) % 400) * "
                 f"interval '1 second' AS created_at FROM generate_series(1, {_ROWS}) g")
    conn.execute("ALTER TABLE events ADD PRIMARY KEY (id)")
    conn.execute("CREATE INDEX ON events (created_at, id)")


def _walk(conn, next_page, key, between=None, cap=400):
    seen, cursor = [], None
    for _ in range(cap):
        rows, cursor = next_page(conn, cursor, _LIMIT, key)
        rows = list(rows)
        seen += rows
        if not rows or cursor is None:
            return seen
        if between:
            between(seen)
    raise RuntimeError("more pages than rows: the cursor never reached the end")


class _NoConnection:
    def __getattr__(self, name):
        raise LookupError("not a real connection")


@grader("api.build-keyset-page")
def build_keyset_page(next_page) -> Feedback:
    """Runs ``next_page(conn, cursor, limit, key) -> (rows, next_cursor)`` on a real PostgreSQL table
    of 2,000 events (5 per timestamp): a plain walk, a walk while rows are deleted, forged cursors."""
    import os  # noqa: PLC0415

    import psycopg  # noqa: PLC0415

    from .. import services  # noqa: PLC0415

    if not callable(next_page):
        return Feedback(False, "Pass the function itself: check(..., next_page).")
    try:
        next_page(_NoConnection(), None, _LIMIT, b"k")
    except NotImplementedError:
        raise
    except Exception:  # noqa: BLE001 - a written solution fails on the stand-in: expected
        pass
    key, other_key = os.urandom(16), os.urandom(16)
    with services.postgres(name="grader-keyset") as srv, psycopg.connect(srv.url, autocommit=True) as conn:
        _table(conn)
        expected = [tuple(r) for r in conn.execute("SELECT created_at, id FROM events ORDER BY created_at, id")]
        try:
            seen = [tuple(r) for r in _walk(conn, next_page, key)]
        except RuntimeError as exc:
            return Feedback(False, str(exc))
        if len(seen) != len(set(seen)) or len(set(seen)) < len(expected):
            return Feedback(False, f"Paging through {len(expected)} rows returned {len(set(seen))} distinct rows "
                                   f"({len(seen) - len(set(seen))} repeated). Five rows share each created_at: "
                                   "without id as a tiebreaker in both the ORDER BY and the WHERE "
                                   "((created_at, id) > (%s, %s)), rows that tie with a page's last row are "
                                   "skipped or repeated.")
        if seen != expected:
            return Feedback(False, "Every row came back once, but not in (created_at, id) order: ORDER BY "
                                   "created_at, id, and return the rows as (created_at, id) tuples.")
        # a second client deletes rows the reader has already passed, between page requests
        _table(conn)
        before = {r[0] for r in conn.execute("SELECT id FROM events")}
        deleted: set = set()

        def delete_passed(rows):
            for created_at, row_id in rows[-3:]:
                conn.execute("DELETE FROM events WHERE id = %s", (row_id,))
                deleted.add(row_id)

        seen = _walk(conn, next_page, key, between=delete_passed)
        missed = len((before - deleted) - {r[1] for r in seen})
        if missed:
            return Feedback(False, f"While another client deleted rows the reader had already passed, {missed} "
                                   "rows that were never deleted were skipped. That is what OFFSET does (every "
                                   "deletion shifts the rest left); the cursor must hold the last row's "
                                   "(created_at, id), and the next page starts after it.")
        # cursors must be unforgeable: signed with the key, refused under another key or when edited
        _, cursor = next_page(conn, None, _LIMIT, key)
        if not isinstance(cursor, str):
            return Feedback(False, f"The cursor should be an opaque string, got {type(cursor).__name__}.")
        for label, token, k in [("signed with another server's key", cursor, other_key),
                                ("with one character changed", cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), key)]:
            try:
                next_page(conn, token, _LIMIT, k)
            except ValueError:
                continue
            except Exception as exc:  # noqa: BLE001
                return Feedback(False, f"A cursor {label} raised {type(exc).__name__}; raise ValueError "
                                       "(the API turns it into a 400).")
            return Feedback(False, f"A cursor {label} was accepted: the cursor is not signed. Append an "
                                   "HMAC-SHA256 of its contents under `key` and check it (hmac.compare_digest) "
                                   "before trusting what the cursor says; raise ValueError when it does not match.")
    return Feedback(True, f"Right: {len(expected)} rows with ties, each once and in order; nothing skipped while "
                          "rows were deleted; altered and foreign cursors refused.")




# -- lab 3: versioning and errors ------------------------------------------------------------------
@grader("api.sunset-header")
def sunset_header(answer) -> Feedback:
    """The response header that gives the date after which an endpoint stops answering."""
    name = str(answer).strip().rstrip(":").lower()
    return one_of(name, "sunset", {
        "sunset": "Right: Sunset (RFC 8594) carries the HTTP date after which the endpoint may stop answering.",
        "deprecation": "Deprecation (RFC 9745) says since when the endpoint is deprecated; it can be long before "
                       "it is removed. The removal date is in another header.",
        "link": "Link with rel=\"successor-version\" says where to go, not when the old version stops.",
        "expires": "Expires is about caching this one response, not about the endpoint's lifetime.",
        "retry-after": "Retry-After says when to retry after a 429 or 503, not when a version is retired.",
    })


_V2_CHANGES = {
    "a": (False, "a new optional request field: old clients simply omit it"),
    "b": (True, "a new enum value in a response: a client that switches over the values it knows meets one "
                "it does not (the strict-client rule the checker states)"),
    "c": (True, "a response field made optional: clients that read it may not get it"),
    "d": (False, "a new response field: clients ignore fields they do not know"),
    "e": (True, "a lower maxLength on a request field: values old clients send may now be refused"),
    "f": (False, "a removed request field, while unknown fields are ignored: old clients still send it and "
                 "nothing happens"),
}


@grader("api.breaking-changes")
def breaking_changes(answer) -> Feedback:
    """Which of the proposed v2 changes (a-f in lab 8.3) break a client written against v2."""
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    got = {str(x).strip().lower() for x in answer}
    want = {k for k, (b, _) in _V2_CHANGES.items() if b}
    if got == want:
        return Feedback(True, "Right: b, c and e. A request may only accept more, a response may only promise more.")
    wrong = sorted((got - want) | (want - got) & set(_V2_CHANGES))
    notes = [f"({k}) {'breaks' if _V2_CHANGES[k][0] else 'does not break'}: {_V2_CHANGES[k][1]}." for k in wrong
             if k in _V2_CHANGES]
    unknown = sorted(got - set(_V2_CHANGES))
    return Feedback(False, " ".join(notes + ([f"{', '.join(unknown)} is not one of a-f."] if unknown else [])))
