"""labsupport.apps.llm_sim (the stand-in LLM server) and the HTTP load helpers the chapter-5 labs use."""

import time

import pytest
from fastapi.testclient import TestClient

from labsupport import measure, services
from labsupport.apps import llm_sim


@pytest.fixture()
def client():
    llm_sim.clear_prefixes()
    with TestClient(llm_sim.app) as c:
        c.post("/stats/reset")
        yield c


def test_prefix_cache_misses_then_hits(client):
    """The first request with a prefix misses, the second hits; /stats counts both."""
    first = client.post("/generate", json={"tokens": 2}, headers={"X-Prefix": "sys-1"}).json()
    second = client.post("/generate", json={"tokens": 2}, headers={"X-Prefix": "sys-1"}).json()
    assert (first["prefix_hit"], second["prefix_hit"]) == (False, True)
    stats = client.get("/stats").json()
    assert (stats["prefix_hits"], stats["prefix_misses"]) == (1, 1)


def test_prefix_cache_is_lru_bounded(client):
    """After PREFIX_CACHE other prefixes, the first one has been evicted."""
    for i in range(llm_sim.PREFIX_CACHE + 1):
        client.post("/generate", json={"tokens": 1, "prefix": f"p{i}"})
    assert client.post("/generate", json={"tokens": 1, "prefix": "p0"}).json()["prefix_hit"] is False


def test_generation_takes_token_time(client):
    """20 tokens take at least 20 x TOKEN_MS."""
    t0 = time.perf_counter()
    client.post("/generate", json={"tokens": 20})
    assert (time.perf_counter() - t0) * 1000 >= 20 * llm_sim.TOKEN_MS


def test_roles_refuse_the_other_model(monkeypatch, client):
    """A chat replica answers 404 on /api/embed and an embed replica 404 on /api/chat."""
    assert client.post("/api/embed", json={"text": "x"}).status_code == 200
    monkeypatch.setattr(llm_sim, "ROLE", "chat")
    assert client.post("/api/embed", json={"text": "x"}).status_code == 404
    monkeypatch.setattr(llm_sim, "ROLE", "embed")
    assert client.post("/api/chat", json={"tokens": 1}).status_code == 404


def test_real_replicas_per_replica_settings_and_load_helpers():
    """Two real replicas with LANES="4,2": /info differs per replica; http_load and http_latencies work."""
    env = {"LANES": "4,2", "TOKEN_MS": 0.1}
    with services.app("labsupport.apps.llm_sim:app", replicas=2, env=env) as group:
        import httpx

        assert [httpx.get(a.url + "/info").json()["lanes"] for a in group] == [4, 2]
        res = measure.http_load(group[0].url, "/generate", [{"json": {"tokens": 5}}] * 20, concurrency=4)
        assert res.errors == 0 and len(res.latencies_ms) == 20
        assert {r for _, r in res.results} == {group[0].name}
        urls = {"a": group[0].url, "b": group[1].url}
        ms = measure.http_latencies(urls, "/api/embed", rounds=20, body=b"{}")
        assert len(ms["a"]) == len(ms["b"]) == 20
