"""Graders for chapter 2, "Networking protocols" (book/02-protocols.md and labs/02-protocols/).

    check("protocols.post-conflict", 409)                 # lab 01-http
    check("protocols.idempotent", {"GET", "PUT", "DELETE"})
    check("protocols.keepalive-savings", 450)
    check("protocols.tls-first-byte", 600)                 # lab 02-https
    check("protocols.tls-visible", {"a", "c", "f"})
    check("protocols.ttft-http", 7580)                     # lab 03-websockets
    check("protocols.pick-stream", "websocket")
    check("protocols.proto-size", 407)                     # lab 04-grpc
    check("protocols.safe-changes", {"a", "b", "e"})
"""

from __future__ import annotations

from labsupport.check import Feedback, close_to, grader, one_of, same_set


def _letters(answer) -> set[str]:
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    return {str(x).strip().lower() for x in answer}


# -- lab 01-http ---------------------------------------------------------------------------------
@grader("protocols.post-conflict")
def post_conflict(answer) -> Feedback:
    return one_of(answer, "409", {
        "200": "200 says 'done, here is the result', but nothing was created: the name was already taken.",
        "201": "201 Created is what the first POST got. The second one created nothing.",
        "204": "204 means success with no body; the second POST did not succeed.",
        "400": "400 is the generic 'your request is malformed'. This body was well formed; it clashed "
               "with the current state of the resource, which has its own code.",
        "404": "404 means the URL names nothing. /models exists; the clash is with one model in it.",
        "409": "Right: 409 Conflict. The request was valid but clashes with the resource's current state "
               "(a model with that name exists). The error body tells the client how to fix it (PUT).",
        "422": "422 is FastAPI's answer to a body that fails validation (a missing field, a wrong type). "
               "This body was valid.",
    })


@grader("protocols.idempotent")
def idempotent(answer) -> Feedback:
    got = {str(x).strip().upper() for x in answer}
    want = {"GET", "PUT", "DELETE"}
    if got == want:
        return Feedback(True, "Right: repeating GET, PUT or DELETE leaves the server in the same state as "
                              "sending it once (the status code may differ: DELETE twice gives 204 then 404). "
                              "That is what makes them safe to retry after a timeout.")
    if "POST" in got:
        return Feedback(False, "POST is not idempotent: each POST /models asks for a NEW resource. In the lab "
                               "the second identical POST got 409; on an API that makes ids, it would have "
                               "made a duplicate. Retrying a POST blindly is how orders get placed twice.")
    missing = sorted(want - got)
    verb = "belongs" if len(missing) == 1 else "belong"
    return Feedback(False, f"Not quite: {', '.join(missing)} also {verb}. Ask of each method: if the network "
                           "drops the reply and the client sends the same request again, does the server end "
                           "up in a different state?")


@grader("protocols.keepalive-savings")
def keepalive_savings(answer) -> Feedback:
    return close_to(answer, 450, rel=0.02, unit=" ms", hints={
        1000: "1000 ms is the total WITH a new connection per request (10 x 2 round trips). The question asks "
              "how much keep-alive saves.",
        550: "550 ms is the keep-alive total (one handshake, then 10 requests). Subtract it from the "
             "new-connection total.",
        500: "Close, but keep-alive still opens one connection: its first request pays one handshake "
             "round trip too. Savings = 10 x 100 - (50 + 10 x 50).",
        400: "That counts the handshake twice for keep-alive. It pays one handshake (50 ms) in total.",
    })


# -- lab 02-https --------------------------------------------------------------------------------
@grader("protocols.tls-first-byte")
def tls_first_byte(answer) -> Feedback:
    return close_to(answer, 600, rel=0.02, unit=" ms", hints={
        400: "You counted the TLS handshake and the request, but a new connection first needs the TCP "
             "handshake: one more round trip (200 ms).",
        800: "800 ms is what TLS 1.2 costs: its handshake takes two round trips. TLS 1.3 needs one.",
        200: "200 ms is one round trip: what a request costs on a connection that is already open "
             "(keep-alive). A new connection pays for two handshakes first.",
        1000: "Too many round trips. Count them: TCP handshake (1), TLS 1.3 handshake (1), request and "
              "first byte of the response (1).",
    })


@grader("protocols.tls-visible")
def tls_visible(answer) -> Feedback:
    got = _letters(answer)
    want = {"a", "c", "f"}
    if got == want:
        return Feedback(True, "Right: TLS hides the whole HTTP message (path, headers, body) but not who you "
                              "talk to (IP, port, and the hostname in the ClientHello's SNI, unless Encrypted "
                              "Client Hello is used) nor how much and when you talk.")
    wrong = got - want
    if wrong & {"b", "d", "e"}:
        return Feedback(False, f"{', '.join(sorted(wrong & {'b', 'd', 'e'}))}: inside TLS. The request line, "
                               "every header (Authorization included) and the body travel encrypted.")
    return Feedback(False, f"Not quite: {len(want - got)} visible item(s) missing. Think about what routers "
                           "need to deliver packets, and what the client sends before any key exists.")


# -- lab 03-websockets ---------------------------------------------------------------------------
@grader("protocols.ttft-http")
def ttft_http(answer) -> Feedback:
    return close_to(answer, 7580, rel=0.003, unit=" ms", hints={
        7500: "That is the generation time. The reply still has to travel: add one round trip (80 ms).",
        105: "105 ms is the streaming answer: one token plus a round trip. The plain HTTP endpoint sends "
             "nothing until the last token exists.",
        25: "25 ms is one token's generation time; the plain endpoint waits for all 300.",
        7620: "You counted the network twice: one round trip (80 ms) covers the request going out and the "
              "reply coming back.",
    })


@grader("protocols.pick-stream")
def pick_stream(answer) -> Feedback:
    return one_of(answer, "websocket", {
        "http": "One request, one whole response: the user would hear nothing until the answer is done, and "
                "could not interrupt it on the same connection.",
        "sse": "Server-Sent Events stream well from server to client, but the client cannot send anything "
               "on that response: the microphone audio and the interruptions need a channel going up, too.",
        "websocket": "Right: audio goes up while tokens and audio come down, on one open connection, and an "
                     "interruption is just another message. (gRPC bidirectional streaming would also fit "
                     "between services; browsers cannot speak it directly.)",
        "polling": "Polling asks 'anything new?' on a timer: each answer is late by up to one interval, and "
                   "every poll pays a full request. Fine for a dashboard that refreshes every minute.",
    })


# -- lab 04-grpc ---------------------------------------------------------------------------------
@grader("protocols.proto-size")
def proto_size(answer) -> Feedback:
    return close_to(answer, 407, abs_tol=0.5, rel=0.0, unit=" bytes", hints={
        400: "400 bytes is only the float data. Each field also has a tag byte, and a packed field a length.",
        403: "Right for the features field (1 tag + 2 length bytes + 400). You left out model_version: "
             "a tag, a length and the 2 bytes of 'v1'.",
        405: "The length 400 does not fit in one varint byte (one byte holds 0-127), so it takes two.",
        406: "The length 400 takes two varint bytes, not one: 1 + 2 + 400 for features, 1 + 1 + 2 for "
             "model_version.",
        500: "500 would be the old unpacked encoding (a tag before every value). proto3 packs repeated "
             "numbers: one tag and one length for the whole list.",
        902: "That is about what JSON would need with short numbers; protobuf uses 4 bytes per float32.",
    })


@grader("protocols.safe-changes")
def safe_changes(answer) -> Feedback:
    got = _letters(answer)
    want = {"a", "b", "e"}
    why = {
        "c": "c (renumbering) breaks every old peer: the number IS the field's identity on the wire.",
        "d": "d (float -> string) changes the wire type; old readers misparse or drop the value.",
        "f": "f (reusing a deleted number) makes old clients read new data as the old, deleted field: "
             "that is what `reserved` prevents.",
    }
    if got == want:
        return Feedback(True, "Right: add fields with new numbers, rename freely (names are not sent in the "
                              "binary format, though JSON mappings and code that uses the name will notice), "
                              "and retire numbers with `reserved` so nobody reuses them.")
    wrong, missing = sorted(got - want), want - got
    if wrong and all(w in why for w in wrong):
        more = f" And {len(missing)} safe change(s) are missing." if missing else ""
        return Feedback(False, " ".join(why[w] for w in wrong) + more)
    return same_set(got, want, name="safe changes")


# -- build-it (lab 01-http): a client that reuses its connection ---------------------------------
@grader("protocols.build-reuse")
def build_reuse(fetch_versions) -> Feedback:
    """``fetch_versions(base_url, names) -> {name: version}`` against the real resource API; the API
    counts the distinct TCP connections it saw. Keep-alive means a handful, not one per request."""
    from labsupport import services  # noqa: PLC0415 - starts real servers only when graded

    names = ["resnet50", "bert-base"] * 12  # 24 requests
    with services.app("labsupport.apps.resource_api:app", name="grader-api") as api:
        with api.client() as admin:
            want = {m["name"]: m["version"] for m in admin.get("/models").json()}
            want = {n: want[n] for n in names}
            admin.post("/connections/reset")
            got = fetch_versions(api.url, list(names))
            conns = admin.get("/connections").json()["connections"]
    if not isinstance(got, dict) or {str(k): v for k, v in got.items()} != want:
        return Feedback(False, f"The answers are wrong: expected {want}, got {got!r}. Read the JSON body of each "
                               "GET /models/{name} and keep its 'version'.")
    if conns > 3:
        return Feedback(False, f"{len(names)} requests opened {conns} TCP connections: a new connection (and a "
                               "new handshake, a full round trip on a real network) for almost every request. "
                               "Make one httpx.Client and reuse it for all the requests, so keep-alive carries "
                               "them on one connection; do not send 'Connection: close'.")
    return Feedback(True, f"Right: {len(names)} requests on {conns} TCP connection(s). Keep-alive paid the "
                          "handshake once.")
