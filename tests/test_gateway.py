"""labsupport.apps.gateway: the Python API gateway as a real process over Redis and a real backend."""

from __future__ import annotations

import httpx
import pytest

from labsupport import services
from labsupport.apps import gateway
from labsupport.drivers.receipts import Receipts

KEYS = {"key-alice": "free", "key-bob": "pro", "key-carol": "internal"}


def test_rate_parser_and_route_matching():
    """'10r/s' is 100 ms between requests; the longest prefix wins and is stripped."""
    assert gateway._rate("10r/s") == 100 and gateway._rate("600r/m") == 100
    with pytest.raises(ValueError, match="10r/s"):
        gateway._rate("10 per second")
    cfg = gateway.Config({"GATEWAY_ROUTES": '{"/v1/": "http://a", "/v1/beta/": "http://b"}'})
    assert cfg.match("/v1/predict") == ("http://a", "/predict")
    assert cfg.match("/v1/beta/predict") == ("http://b", "/predict")
    assert cfg.match("/v3/predict") is None


def test_receipts_tally_per_key_and_status():
    """The client-side tally files unknown keys under '-' like the gateways do."""
    receipts = Receipts(KEYS)
    for key, status in [("key-alice", 200), ("key-alice", 429), ("nope", 401), (None, 401)]:
        headers = {"X-Api-Key": key} if key else {}
        receipts(httpx.Response(status, request=httpx.Request("GET", "http://x/", headers=headers)))
    assert receipts.counts() == {"key-alice": {"200": 1, "429": 1}, "-": {"401": 2}}


@pytest.fixture(scope="module")
def stack():
    r = services.redis()
    echo = services.app("labsupport.apps.echo:app")
    env = gateway.env(routes={"/v1/": echo}, keys=KEYS, redis=r,
                      tier_limits={"free": ("1r/s", 1), "pro": ("100r/s", 10)}, daily_quota={"pro": 3})
    gw = services.app("labsupport.apps.gateway:app", env=env)
    yield gw, echo, r
    services.stop_all()


def test_auth_routing_headers_and_forwarding(stack):
    """401 without a valid key; with one, the backend sees the stripped path, the tier, no key, X-Forwarded-*."""
    gw, echo, _ = stack
    with httpx.Client(base_url=gw.url) as c:
        assert c.get("/v1/echo").status_code == 401
        assert c.get("/v1/echo", headers={"X-Api-Key": "bad"}).status_code == 401
        reply = c.get("/v1/echo", headers={"X-Api-Key": "key-carol"})
        assert reply.status_code == 200 and reply.headers["X-Upstream"] == echo.address
        seen = reply.json()["headers"]
        assert seen["x-api-tier"] == "internal" and "x-api-key" not in seen
        assert seen["x-forwarded-proto"] == "http" and seen["x-forwarded-for"] == "127.0.0.1"
        assert c.get("/v9/echo", headers={"X-Api-Key": "key-carol"}).status_code == 404
        post = c.post("/v1/echo", json={}, headers={"X-Api-Key": "key-carol"})
        assert post.status_code == 405  # /echo is GET-only: the backend's own answer is passed through


def test_limits_quota_and_usage_ledger(stack):
    """A free key gets its burst then 429s; a pro key stops at its daily quota; /usage counts every outcome."""
    gw, _, r = stack
    r.client().flushdb()
    with httpx.Client(base_url=gw.url) as c:
        alice = [c.get("/v1/echo", headers={"X-Api-Key": "key-alice"}).status_code for _ in range(6)]
        bob = [c.get("/v1/echo", headers={"X-Api-Key": "key-bob"}).status_code for _ in range(5)]
        assert alice[:2] == [200, 200] and alice.count(429) >= 3
        assert bob == [200, 200, 200, 429, 429]
        usage = c.get("/usage").json()
    assert usage["key-alice"] == {"200": alice.count(200), "429": alice.count(429)}
    assert usage["key-bob"] == {"200": 3, "429": 2}
