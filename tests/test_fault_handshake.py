"""The fault proxy's handshake option: `latency(ms, handshake=True)` makes every new connection wait one
round trip before its first byte is relayed (what TCP's SYN / SYN-ACK costs on a real link)."""

from labsupport import services
from labsupport.drivers import raw_http


def test_new_connections_pay_one_more_round_trip():
    """80 ms link: a request on a fresh connection takes ~2 RTT with handshake=True, ~1 RTT without,
    and requests on a kept-alive connection ~1 RTT; the option is undone when the block ends."""
    api = services.app("labsupport.apps.resource_api:app", name="handshake-api")
    link = services.fault_proxy(api)
    try:
        with link.latency(ms=80):
            plain = raw_http.time_connections(link, 2)["per_request_ms"]
        with link.latency(ms=80, handshake=True):
            assert link.stats()["connect_ms"] == 80
            fresh = raw_http.time_connections(link, 2)["per_request_ms"]
            kept = raw_http.time_connections(link, 1, requests_per_connection=4)["request_ms"][1:]
        assert link.stats()["connect_ms"] == 0
        assert all(70 < ms < 140 for ms in plain), plain
        assert all(150 < ms < 230 for ms in fresh), fresh
        assert all(70 < ms < 140 for ms in kept), kept
    finally:
        link.cleanup()
        api.cleanup()
