"""Lab 02-04, gRPC and Protocol Buffers: the same model answers the same over gRPC and REST; protobuf
is several times smaller and faster to encode than JSON for long float vectors (but not for small
integers); gRPC serves more calls per second, and walking from REST to gRPC one factor at a time
(HTTP server, HTTP/2, protobuf, grpcio) shows the framework factor largest at 32 features, protobuf
paying off at 4096, and HTTP/2 alone not speeding up one client; gRPC multiplexes calls on one HTTP/2
connection, streams replies, and old and new schema versions interoperate."""

import math

LAB = "labs/02-protocols/04-grpc.ipynb"


def test_same_model_same_answer(lab_results):
    """Predict over gRPC (float32) and POST /predict (float64) give the same prediction to ~7 digits."""
    r = lab_results(LAB)
    assert abs(r["prediction_grpc"] - r["prediction_rest"]) < 1e-5


def test_protobuf_is_smaller_for_long_float_vectors(lab_results):
    """Encoded size of 4096 random float32 features: JSON / protobuf is a big factor, even with 9 digits."""
    r = lab_results(LAB)
    assert r["size_ratio_by_len"]["4096"] > 4
    assert r["size_ratio_float32_by_len"]["4096"] > 2.5
    assert r["size_ratio_by_kind"]["random floats"] > 4


def test_json_can_be_smaller_for_small_numbers(lab_results):
    """1024 small integers: JSON text is smaller than protobuf's 4-byte floats; one-hot is close to even."""
    r = lab_results(LAB)
    assert r["size_ratio_by_kind"]["small counts, as ints"] < 1
    assert r["size_ratio_by_kind"]["one-hot, 0.0 or 1.0"] < 2


def test_protobuf_encodes_and_decodes_faster_for_long_vectors(lab_results):
    """CPU time per message at 4096 features: JSON / protobuf ratio well above 1, encode more than decode."""
    r = lab_results(LAB)
    assert r["ser_speed_ratio_by_len"]["4096"] > 5
    assert r["deser_speed_ratio_by_len"]["4096"] > 1.5
    assert r["ser_speed_ratio_by_len"]["4096"] > r["ser_speed_ratio_by_len"]["1"]


def test_grpc_serves_more_calls_per_second(lab_results):
    """One client, same model (from the chain's ends): gRPC above REST at 32 features, clearly above at 4096."""
    r = lab_results(LAB)
    assert r["grpc_rps"] > r["rest_rps"]
    assert r["grpc_rps_4096"] > 1.5 * r["rest_rps_4096"]


def test_each_chain_step_changes_what_it_says(lab_results):
    """The chain's HTTP clients really spoke HTTP/1.1, HTTP/1.1 and HTTP/2; all five configurations agree."""
    r = lab_results(LAB)
    assert r["chain_http_versions"] == {"uvicorn": "HTTP/1.1", "Hypercorn, HTTP/1.1": "HTTP/1.1",
                                        "Hypercorn, HTTP/2": "HTTP/2"}
    assert len(r["chain_predictions"]) == 5 and len(set(r["chain_predictions"])) == 1


def test_factors_multiply_to_the_end_to_end_ratio(lab_results):
    """Bookkeeping: server x transport x encoding x framework = REST/gRPC median latency (an identity)."""
    r = lab_results(LAB)
    for n in (32, 4096):
        product = math.prod(r[f"factor_{k}_{n}"] for k in ("server", "transport", "encoding", "framework"))
        assert math.isclose(product, r[f"end_to_end_ratio_{n}"], rel_tol=1e-6)
        assert math.isclose(r[f"factor_product_{n}"], r[f"end_to_end_ratio_{n}"], rel_tol=1e-6)
        assert r[f"end_to_end_ratio_{n}"] > 1  # gRPC faster end to end


def test_protobuf_bodies_beat_json_at_4096_in_the_same_stack(lab_results):
    """Same Hypercorn app, same HTTP/2 connection: protobuf bodies clearly faster than JSON at 4096 features,
    and by more than HTTP/2 gained over HTTP/1.1."""
    r = lab_results(LAB)
    assert r["factor_encoding_4096"] > 1.1
    assert r["factor_encoding_4096"] > r["factor_transport_4096"]


def test_http2_alone_does_not_speed_up_one_client(lab_results):
    """One sequential client: HTTP/1.1 -> HTTP/2 (pure-Python h2 on both ends) is no real gain at either size."""
    r = lab_results(LAB)
    assert r["factor_transport_32"] < 1.2
    assert r["factor_transport_4096"] < 1.2


def test_framework_is_the_largest_factor_at_32_features(lab_results):
    """Small payloads: grpcio's C core against FastAPI + httpx outweighs server swap, HTTP/2 and protobuf."""
    r = lab_results(LAB)
    others = [r[f"factor_{k}_32"] for k in ("server", "transport", "encoding")]
    assert r["factor_framework_32"] > 1.3
    assert r["factor_framework_32"] > max(others)
    assert r["largest_factor_32"] == "framework"


def test_http2_multiplexes_calls_on_one_connection(lab_results):
    """8 concurrent calls through a counting proxy: gRPC used one TCP connection, REST several."""
    r = lab_results(LAB)
    assert r["grpc_connections_8_concurrent"] <= 2
    assert r["rest_connections_8_concurrent"] >= 4


def test_server_streaming_delivers_the_first_token_early(lab_results):
    """Generate(20 tokens at 30 ms): the first token arrives long before the last."""
    r = lab_results(LAB)
    assert r["grpc_stream_tokens"] == 20
    assert r["grpc_stream_ttft_ms"] < r["grpc_stream_total_ms"] / 4


def test_old_and_new_schema_versions_interoperate(lab_results):
    """v1/v2 clients against v1/v2 servers: all four pairings answer, with the same prediction."""
    r = lab_results(LAB)
    assert set(r["compat_ok"].values()) == {1} and len(r["compat_ok"]) == 4
    assert len(set(r["compat_predictions"])) == 1
