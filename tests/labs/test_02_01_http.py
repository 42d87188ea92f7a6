"""Lab 02-01, HTTP: REST verbs get the status codes their meaning calls for; keep-alive reuses one TCP
connection where `Connection: close` opens one per request, and saves a round trip per request."""

LAB = "labs/02-protocols/01-http.ipynb"


def test_each_verb_gets_its_status_code(lab_results):
    """Eleven scripted calls on /models: 200 read, 404 missing, 201 create, 409 duplicate, 422 bad body,
    200 replace, 201 PUT-create, 200 same PUT again, 400 contradictory body, 204 delete, 404 delete again."""
    assert lab_results(LAB)["status_codes"] == [200, 404, 201, 409, 422, 200, 201, 200, 400, 204, 404]


def test_headers_cost_as_much_as_a_small_body(lab_results):
    """A raw GET over a socket: the response headers are larger than the small JSON body they carry."""
    r = lab_results(LAB)
    assert r["get_response_header_bytes"] > r["get_response_body_bytes"] > 0
    assert r["get_request_bytes"] < 100


def test_keepalive_uses_one_connection(lab_results):
    """Connections the server counted: one for all keep-alive requests, one per request with Connection: close."""
    r = lab_results(LAB)
    assert r["connections_keepalive"] <= 2
    assert r["connections_new_each"] == r["requests_per_mode"]


def test_a_new_client_per_call_is_slowest(lab_results):
    """httpx.get() per call (a new client, TLS context and all) costs far more than a new connection."""
    r = lab_results(LAB)
    assert r["new_client_p50_ms"] > 2 * r["new_conn_p50_ms"]
    assert r["tcp_connect_p50_ms"] < r["keepalive_p50_ms"]
