"""Lab 02-04, gRPC and Protocol Buffers: the same model answers the same over gRPC and REST; protobuf
is several times smaller and faster to encode than JSON for long float vectors (but not for small
integers); gRPC serves more calls per second, multiplexes calls on one HTTP/2 connection, streams
replies, and old and new schema versions interoperate."""

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
    """Sequential calls to the same model: gRPC above REST at 32 features, and clearly above at 4096."""
    r = lab_results(LAB)
    assert r["grpc_rps"] > r["rest_rps"]
    assert r["grpc_rps_4096"] > 1.5 * r["rest_rps_4096"]


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
