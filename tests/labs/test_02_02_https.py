"""Lab 02-02, HTTPS: an untrusted client is refused during the handshake; the handshake dominates a new
connection's cost on one machine and costs one round trip (TLS 1.3) or two (TLS 1.2) on a long link;
keep-alive amortises it."""

LAB = "labs/02-protocols/02-https.ipynb"


def test_untrusted_and_misnamed_certificates_are_refused(lab_results):
    """OpenSSL verify codes: 20 (no trusted issuer) without the lab CA, 62 (hostname mismatch) for a
    wrong name; the client that trusts the lab CA gets 200."""
    r = lab_results(LAB)
    assert r["untrusted_verify_code"] == 20
    assert r["wrong_name_verify_code"] == 62
    assert r["trusted_status"] == 200


def test_handshake_dwarfs_tcp_connect(lab_results):
    """On loopback: the TLS handshake takes many times longer than the TCP connect."""
    r = lab_results(LAB)
    assert r["tls_handshake_ms"] > 5 * r["tcp_connect_ms"]


def test_new_tls_connection_is_clearly_slower(lab_results):
    """Per request with a new connection each time: HTTPS / HTTP median cost well above 1."""
    assert lab_results(LAB)["tls_new_conn_ratio"] > 1.5


def test_keepalive_amortises_the_handshake(lab_results):
    """With 100 requests per connection the HTTPS / HTTP ratio is smaller than with a new connection each."""
    r = lab_results(LAB)
    assert r["tls_keepalive_ratio"] < r["tls_new_conn_ratio"]
    assert r["tls_keepalive_ratio"] < 2.5


def test_handshake_round_trips(lab_results):
    """Through a proxy adding a fixed RTT: TLS 1.3 handshake about 1 RTT, TLS 1.2 about 2, request about 1."""
    r = lab_results(LAB)
    assert 0.7 < r["handshake_rtts_tls13"] < 1.7
    assert 1.7 < r["handshake_rtts_tls12"] < 2.9
    assert 0.6 < r["handshake_rtts_tls12"] - r["handshake_rtts_tls13"] < 1.5
    assert 0.8 < r["request_rtts_plain"] < 1.8
    assert r["keepalive_rtts_tls13"] < r["handshake_rtts_tls13"] + r["request_rtts_plain"]
