"""labsupport.services.nginx: the gateway features render to configs nginx accepts, and behave live."""

from __future__ import annotations

import shutil

import httpx
import pytest

from labsupport import services
from labsupport.services import NginxConfig, Route, Upstream
from labsupport.services.nginx import NginxServer
from labsupport.services.nginx_config import apply_changes, config_excerpt

BACKENDS = [Upstream("v1", ["127.0.0.1:9001"]), Upstream("v2", ["127.0.0.1:9002"])]
KEYS = {"key-alice": "free", "key-bob": "pro", "key-carol": "internal"}


def rendered(config: NginxConfig) -> str:
    """Render, then let `nginx -t` judge it (prepare() runs it and raises on rejection)."""
    server = NginxServer(config)
    server.port = 18080
    try:
        server.prepare()
        return server.render()
    finally:
        shutil.rmtree(server.workdir, ignore_errors=True)


def gateway_config(**kw) -> NginxConfig:
    routes = [Route("/v1/", "v1", auth=True, strip_prefix=True), Route("/v2/", "v2", auth=True, strip_prefix=True)]
    return NginxConfig(upstreams=BACKENDS, routes=routes, api_keys=KEYS,
                       tier_limits={"free": ("2r/s", 2), "pro": "50r/s"}, **kw)


def test_gateway_config_renders_maps_zones_and_401():
    """Keys map to tiers, each limited tier gets a zone keyed by the key, auth routes refuse an empty tier."""
    text = rendered(gateway_config(usage_log=True))
    assert 'map $http_x_api_key $api_tier {' in text and '"key-alice" free;' in text
    assert "map $api_tier $tier_key_free { free $http_x_api_key; default \"\"; }" in text
    assert "limit_req_zone $tier_key_free zone=tier_free:10m rate=2r/s;" in text
    assert "limit_req zone=tier_free burst=2 nodelay;" in text and "limit_req zone=tier_pro;" in text
    assert text.count('if ($api_tier = "") { return 401') == 2
    assert "proxy_pass http://v1/;" in text  # strip_prefix: the trailing slash replaces the location prefix
    assert 'proxy_set_header X-Api-Key "";' in text  # the secret never reaches a backend
    assert "limit_req_status 429;" in text and "access_log" in text and "log_format usage" in text


def test_plain_configs_are_unchanged_by_the_gateway_fields():
    """Without api_keys/usage_log nothing gateway-related is rendered (backwards compatible)."""
    text = rendered(NginxConfig(upstreams=[BACKENDS[0]], routes=[Route("/", "v1")]))
    assert "map " not in text and "log_format" not in text and "proxy_pass http://v1;" in text


def test_custom_key_header_and_usage_log_without_keys():
    """A different header name becomes the map's variable; a usage log works without keys."""
    text = rendered(gateway_config(api_key_header="Authorization-Key"))
    assert "map $http_authorization_key $api_tier" in text
    text = rendered(NginxConfig(upstreams=[BACKENDS[0]], routes=[Route("/", "v1")], usage_log=True))
    assert "log_format usage '$msec - - $request_method $request_uri $status';" in text


@pytest.mark.parametrize("config, words", [
    (NginxConfig(upstreams=BACKENDS, routes=[Route("/v1/", "v1", auth=True)]), "no api_keys"),
    (NginxConfig(upstreams=BACKENDS, routes=[Route("/v1/", "v1", auth=True)], api_keys=KEYS,
                 tier_limits={"gold": "5r/s"}), "no API key has"),
    (NginxConfig(upstreams=BACKENDS, routes=[Route("/v1/", "v1", auth=True)], api_keys={'bad"key': "free"}),
     "may not contain"),
    (NginxConfig(upstreams=BACKENDS, routes=[Route("/v1/", "v1", auth=True)], api_keys={"k": "free tier"}),
     "tier names"),
])
def test_mistakes_are_refused_with_a_clear_message(config, words):
    """Configs that would break nginx (or silently do nothing) raise before nginx sees them."""
    with pytest.raises(ValueError, match=words):
        rendered(config)


def test_rate_limit_burst_option_and_reload_fields():
    """rate_limit= with burst=, and the new fields are accepted by reload-style changes."""
    base = NginxConfig(upstreams=[BACKENDS[0]], routes=[Route("/", "v1")])
    text = rendered(apply_changes(base, rate_limit="10r/s", burst=10))
    assert "limit_req zone=perclient burst=10 nodelay;" in text
    changed = apply_changes(base, api_keys=KEYS, auth=True, usage_log=True)
    assert changed.routes[0].auth and changed.usage_log and changed.api_keys == KEYS
    with pytest.raises(TypeError, match="unknown nginx option"):
        apply_changes(base, bursts=3)


def test_show_config_excerpt_keeps_blocks_around_matches():
    """show_config(words) shows matching lines inside their blocks; a matching block header brings the block."""
    text = rendered(NginxConfig(upstreams=[BACKENDS[0]], routes=[Route("/", "v1", cache=True)], gzip=True))
    excerpt = config_excerpt(text, ["upstream v1", "proxy_cache labcache"])
    assert "upstream v1 {" in excerpt and "server 127.0.0.1:9001" in excerpt and "keepalive 32;" in excerpt
    assert "location / {" in excerpt and "proxy_cache labcache;" in excerpt
    assert "gzip on;" not in excerpt and "# ..." in excerpt


def test_live_gateway_refuses_limits_routes_and_meters():
    """A real nginx gateway over a real echo backend: 401s, a 429 past the burst, prefix stripped, usage()."""
    echo = services.app("labsupport.apps.echo:app")
    try:
        gw = services.nginx(config=NginxConfig(
            upstreams=[Upstream("echo", [echo])], routes=[Route("/v1/", "echo", auth=True, strip_prefix=True)],
            api_keys=KEYS, tier_limits={"free": ("1r/s", 1)}, usage_log=True))
        with httpx.Client(base_url=gw.url) as c:
            assert c.get("/v1/echo").status_code == 401
            assert c.get("/v1/echo", headers={"X-Api-Key": "nope"}).status_code == 401
            seen = c.get("/v1/echo", headers={"X-Api-Key": "key-alice"})
            assert seen.status_code == 200 and seen.headers["X-Api-Tier"] == "free"
            assert "x-api-key" not in seen.json()["headers"] and seen.json()["headers"]["x-api-tier"] == "free"
            codes = [c.get("/v1/echo", headers={"X-Api-Key": "key-alice"}).status_code for _ in range(5)]
            assert codes.count(429) >= 3
            assert {c.get("/v1/echo", headers={"X-Api-Key": "key-carol"}).status_code for _ in range(5)} == {200}
        usage = gw.usage()
        assert usage["-"] == {"401": 2}
        assert sum(usage["key-alice"].values()) == 6 and usage["key-alice"]["429"] == codes.count(429)
        assert usage["key-carol"] == {"200": 5}
        assert {row["path"] for row in gw.usage_rows()} == {"/v1/echo"}
    finally:
        services.stop_all()
