"""The chapter-2 FastAPI apps in-process (TestClient): resource_api's status codes and connection
counter, token_stream's three endpoints. Fast; the labs run them as real servers."""

import importlib
import json

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api():
    import labsupport.apps.resource_api as mod

    importlib.reload(mod)  # fresh registry for each test
    return TestClient(mod.app)


def test_crud_status_codes(api):
    """POST 201 + Location, duplicate 409, bad body 422, PUT 200/201/400, DELETE 204 then 404."""
    r = api.post("/models", json={"name": "clip", "version": 1})
    assert r.status_code == 201 and r.headers["location"] == "/models/clip"
    assert api.post("/models", json={"name": "clip", "version": 1}).status_code == 409
    assert api.post("/models", json={"name": "clip"}).status_code == 422
    assert api.put("/models/clip", json={"name": "clip", "version": 2}).status_code == 200
    assert api.put("/models/new", json={"name": "new", "version": 1}).status_code == 201
    assert api.put("/models/new", json={"name": "other", "version": 1}).status_code == 400
    assert api.get("/models/clip").json()["version"] == 2
    assert api.delete("/models/clip").status_code == 204
    assert api.delete("/models/clip").status_code == 404
    assert api.get("/models/clip").status_code == 404


def test_connection_counter(api):
    """/connections counts distinct client (host, port) pairs and resets; internal paths do not count."""
    api.post("/connections/reset")
    for _ in range(3):
        api.get("/models")
    assert api.get("/connections").json() == {"connections": 1}  # TestClient: one fixed client address
    api.post("/connections/reset")
    assert api.get("/connections").json() == {"connections": 0}


@pytest.fixture
def gen(monkeypatch):
    monkeypatch.setenv("TOKEN_MS", "1")
    import labsupport.apps.token_stream as mod

    importlib.reload(mod)
    return TestClient(mod.app)


def test_generate_and_stream(gen):
    """POST /generate returns all tokens; GET /stream sends one SSE data line per token, then [DONE]."""
    assert len(gen.post("/generate", json={"tokens": 7}).json()["tokens"]) == 7
    lines = [ln for ln in gen.get("/stream", params={"tokens": 5}).text.splitlines() if ln.startswith("data: ")]
    assert len(lines) == 6 and lines[-1] == "data: [DONE]"
    assert json.loads(lines[0][6:]) == {"i": 0, "token": "A"}


def test_websocket_tokens_and_commands(gen):
    """WS /ws streams the requested tokens, then a done message with reason "length"; "stop" ends it."""
    with gen.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"tokens": 4}))
        msgs = [json.loads(ws.receive_text()) for _ in range(5)]
    assert [m.get("i") for m in msgs[:4]] == [0, 1, 2, 3]
    assert msgs[4] == {"done": True, "tokens": 4, "reason": "length"}
    with gen.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"tokens": 1000}))
        ws.receive_text()
        ws.send_text(json.dumps({"cmd": "stop"}))
        seen = []
        while not (msg := json.loads(ws.receive_text())).get("done"):
            seen.append(msg)
    assert msg["reason"] == "stop" and msg["tokens"] < 1000
    assert {"ack": "stop", "token_ms": 1.0} in seen
