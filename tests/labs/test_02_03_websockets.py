"""Lab 02-03, streaming: time to first token is one token's time for SSE and WebSocket but the whole
answer for plain HTTP, while totals match; over a WebSocket the client steers the stream mid-answer."""

LAB = "labs/02-protocols/03-websockets.ipynb"


def test_streams_show_the_first_token_early(lab_results):
    """TTFT of 40 tokens at 30 ms: WebSocket and SSE far below plain HTTP, which waits for every token."""
    r = lab_results(LAB)
    assert r["ttft_ws_ms"] < 0.2 * r["ttft_http_ms"]
    assert r["ttft_sse_ms"] < 0.2 * r["ttft_http_ms"]
    assert r["ttft_http_ms"] > 0.9 * r["tokens_per_answer"] * r["token_ms"]


def test_totals_are_set_by_the_model_not_the_protocol(lab_results):
    """Total time for the whole answer: the three protocols within about a quarter of each other."""
    r = lab_results(LAB)
    for total in (r["total_ws_ms"], r["total_sse_ms"]):
        assert 0.75 < total / r["total_http_ms"] < 1.33, (total, r["total_http_ms"])


def test_client_changes_the_pace_mid_stream(lab_results):
    """Median gap between tokens before and after the client sent "faster": it roughly halves."""
    r = lab_results(LAB)
    assert r["gap_after_faster_ms"] < 0.7 * r["gap_before_faster_ms"]


def test_client_stops_the_stream(lab_results):
    """After "stop" at token 25 of 100, the server ended the stream early, for that reason."""
    r = lab_results(LAB)
    assert r["stop_reason"] == 1
    assert r["tokens_received"] < r["tokens_requested"] / 2
