"""Protobuf vs JSON for one PredictRequest: bytes on the wire and CPU time (chapter 2, "gRPC").

    encoding_sizes(features)        # {"protobuf": .., "json": .., "json_float32": ..} in bytes
    encoding_times(features)        # {"protobuf_encode_us": .., "json_encode_us": .., ..._decode_us}

Times are this thread's CPU microseconds per call (best of 3), so other programs do not inflate them.
"""

from __future__ import annotations

import json
import time
import timeit


def _json_bytes(features, model_version: str = "v1", digits: int | None = None) -> bytes:
    if digits is not None:
        features = [float(f"{x:.{digits}g}") for x in features]
    return json.dumps({"features": features, "model_version": model_version}).encode()


def encoding_sizes(features, model_version: str = "v1") -> dict[str, int]:
    """Bytes of one PredictRequest: protobuf, JSON, and JSON with 9 significant digits (exact for float32)."""
    from labsupport.proto import model_service_pb2 as pb  # noqa: PLC0415

    proto = pb.PredictRequest(features=features, model_version=model_version).SerializeToString()
    return {"protobuf": len(proto), "json": len(_json_bytes(features, model_version)),
            "json_float32": len(_json_bytes(features, model_version, digits=9))}


def _best_us(fn, min_time_s: float = 0.005, repeat: int = 3) -> float:
    """Microseconds of CPU per call: best of ``repeat`` runs, each looping long enough to be timed.

    The clock is this thread's CPU time, so other programs competing for the cores do not inflate it.
    """
    timer, number = timeit.Timer(fn, timer=time.thread_time), 1
    while timer.timeit(number) < min_time_s:
        number *= 4
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def encoding_times(features, model_version: str = "v1", min_time_s: float = 0.005) -> dict[str, float]:
    """Microseconds to encode (a Python list -> bytes) and decode (bytes -> a Python list), each format."""
    from labsupport.proto import model_service_pb2 as pb  # noqa: PLC0415

    msg_cls = pb.PredictRequest
    proto = msg_cls(features=features, model_version=model_version).SerializeToString()
    js = _json_bytes(features, model_version)
    return {
        "protobuf_encode_us": _best_us(lambda: msg_cls(features=features, model_version=model_version)
                                       .SerializeToString(), min_time_s),
        "json_encode_us": _best_us(lambda: _json_bytes(features, model_version), min_time_s),
        "protobuf_decode_us": _best_us(lambda: list(msg_cls.FromString(proto).features), min_time_s),
        "json_decode_us": _best_us(lambda: json.loads(js)["features"], min_time_s),
    }
