"""Graders of chapter 2 (networking protocols): right answers pass, typical wrong answers get a helpful hint."""

from buildit import defined
from grading import ok, wrong
from labsupport.check import grade
from labsupport.proto import model_service_pb2 as pb

IDS = ("protocols.post-conflict", "protocols.idempotent", "protocols.keepalive-savings",
       "protocols.tls-first-byte", "protocols.tls-visible", "protocols.ttft-http", "protocols.pick-stream",
       "protocols.proto-size", "protocols.safe-changes")


def test_unanswered_is_pending():
    """The placeholder None is reported as not answered, for every chapter-2 exercise."""
    for ex in IDS:
        assert "not answered" in grade(ex, None).message.lower()


def test_post_conflict():
    """409 (as int or str) is right; 201, 400, 422 and an unknown code each get their own explanation."""
    ok("protocols.post-conflict", 409)
    ok("protocols.post-conflict", "409")
    wrong("protocols.post-conflict", 201, "first POST")
    wrong("protocols.post-conflict", 400, "well formed")
    wrong("protocols.post-conflict", 422, "validation")
    wrong("protocols.post-conflict", 500, "choose one of")


def test_idempotent():
    """GET, PUT, DELETE in any case is right; including POST or forgetting PUT is explained."""
    ok("protocols.idempotent", {"GET", "PUT", "DELETE"})
    ok("protocols.idempotent", ["get", "delete", "put"])
    wrong("protocols.idempotent", {"GET", "POST", "PUT", "DELETE"}, "POST is not idempotent")
    wrong("protocols.idempotent", {"GET", "DELETE"}, "PUT also belongs")


def test_keepalive_savings():
    """450 ms is right; the two totals and the 'no handshake at all' answer get specific hints."""
    ok("protocols.keepalive-savings", 450)
    wrong("protocols.keepalive-savings", 1000, "total")
    wrong("protocols.keepalive-savings", 550, "subtract")
    wrong("protocols.keepalive-savings", 500, "one connection")


def test_tls_first_byte():
    """600 ms is right; forgetting TCP, using TLS 1.2, or counting one RTT are each explained."""
    ok("protocols.tls-first-byte", 600)
    wrong("protocols.tls-first-byte", 400, "TCP")
    wrong("protocols.tls-first-byte", 800, "TLS 1.2")
    wrong("protocols.tls-first-byte", 200, "keep-alive")
    wrong("protocols.tls-first-byte", 450, "too low")


def test_tls_visible():
    """{a, c, f} is right (set, list or string); naming encrypted parts or missing SNI gets a hint."""
    ok("protocols.tls-visible", {"a", "c", "f"})
    ok("protocols.tls-visible", "a, c, F")
    wrong("protocols.tls-visible", {"a", "b", "c", "f"}, "encrypted")
    wrong("protocols.tls-visible", {"a", "f"}, "missing")


def test_ttft_http():
    """7580 ms is right; the generation time alone, the streaming TTFT and a doubled RTT are explained."""
    ok("protocols.ttft-http", 7580)
    wrong("protocols.ttft-http", 7500, "round trip")
    wrong("protocols.ttft-http", 105, "streaming")
    wrong("protocols.ttft-http", 7620, "twice")


def test_pick_stream():
    """websocket is right; sse and polling get the reason they fall short."""
    ok("protocols.pick-stream", "WebSocket")
    wrong("protocols.pick-stream", "sse", "cannot send")
    wrong("protocols.pick-stream", "polling", "interval")
    wrong("protocols.pick-stream", "carrier pigeon", "choose one of")


def test_proto_size_matches_the_real_encoding():
    """The expected 407 bytes is what protobuf really produces; 403 (no model_version) and 500 get hints."""
    real = pb.PredictRequest(features=[0.5] * 100, model_version="v1").ByteSize()
    ok("protocols.proto-size", real)
    wrong("protocols.proto-size", 403, "model_version")
    wrong("protocols.proto-size", 400, "tag")
    wrong("protocols.proto-size", 500, "unpacked")
    wrong("protocols.proto-size", 406, "two")


def test_safe_changes():
    """{a, b, e} is right; renumbering and reusing a number are explained, a missing item is reported."""
    ok("protocols.safe-changes", {"a", "b", "e"})
    ok("protocols.safe-changes", "e b a")
    wrong("protocols.safe-changes", {"a", "b", "c", "e"}, "renumbering")
    wrong("protocols.safe-changes", {"a", "b", "e", "f"}, "reserved")
    wrong("protocols.safe-changes", {"a", "c"}, "missing")
    wrong("protocols.safe-changes", {"a"}, "missing")


# -- build-it: a client that reuses its connection, graded against the real resource API ---------------
RIGHT_REUSE = '''
import httpx
def fetch_versions(base_url, names):
    with httpx.Client(base_url=base_url) as client:
        return {n: client.get(f"/models/{n}").json()["version"] for n in names}
'''
WRONG_PER_CALL = '''
import httpx
def fetch_versions(base_url, names):
    return {n: httpx.get(f"{base_url}/models/{n}").json()["version"] for n in names}
'''
WRONG_CLOSE = '''
import httpx
def fetch_versions(base_url, names):
    with httpx.Client(base_url=base_url) as client:
        return {n: client.get(f"/models/{n}", headers={"Connection": "close"}).json()["version"] for n in names}
'''
WRONG_STATUS = '''
import httpx
def fetch_versions(base_url, names):
    with httpx.Client(base_url=base_url) as client:
        return {n: client.get(f"/models/{n}").status_code for n in names}
'''


def _fn(source: str):
    return defined(source, "fetch_versions")


def test_build_reuse_grader():
    """One reused client passes; a new connection per call (two ways) and wrong answers are explained."""
    ok("protocols.build-reuse", _fn(RIGHT_REUSE))
    wrong("protocols.build-reuse", _fn(WRONG_PER_CALL), "24 TCP connections", "reuse")
    wrong("protocols.build-reuse", _fn(WRONG_CLOSE), "connection: close")
    wrong("protocols.build-reuse", _fn(WRONG_STATUS), "version")


def test_build_reuse_in_the_notebook():
    """The lab's own check cell grades an injected right and wrong solution against real servers."""
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/02-protocols/01-http.ipynb", "protocols.build-reuse",
                                {"right": RIGHT_REUSE, "per_call": WRONG_PER_CALL})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["per_call"].ok and "connections" in verdicts["per_call"].message
