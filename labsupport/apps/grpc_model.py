"""The model server of ``model_server.py`` spoken over gRPC: same numpy model, protobuf over HTTP/2.

    python -m labsupport.apps.grpc_model --port PORT [--api-version 2]     # services.grpc_server() runs this
    Predict(PredictRequest) -> PredictResponse     the same computation as POST /predict
    Generate(GenerateRequest) -> stream Token      one token every token_ms (default: env TOKEN_MS, 30)
With ``--api-version 2`` requests and replies are parsed with model_service_v2.proto (one extra field
each way) but served on the same method path, as a server deployed from the next commit would be.
Chapter: book/02-protocols.md (lab 02-protocols/04-grpc).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from concurrent import futures

import grpc

from labsupport.proto import model_service_pb2 as pb
from labsupport.proto import model_service_pb2_grpc as pb_grpc

from .model_server import predict_one  # the same computation as POST /predict
from .token_stream import fake_tokens

REPLICA = os.environ.get("REPLICA_NAME", "grpc_model")
TOKEN_MS = float(os.environ.get("TOKEN_MS", "30"))
SERVICE = "modelserving.ModelService"  # the method path prefix: /modelserving.ModelService/Predict


class ModelService(pb_grpc.ModelServiceServicer):
    def __init__(self, api_version: int = 1):
        self.api_version = api_version
        if api_version == 2:
            from labsupport.proto import model_service_v2_pb2 as v2  # noqa: PLC0415

            self.messages = v2
        else:
            self.messages = pb

    def Predict(self, request, context):  # noqa: N802 - the name comes from the .proto
        p, conf = predict_one(request.features)
        if self.api_version == 2:
            who = f"model v2 on {REPLICA}, request_id={request.request_id or '(none sent)'}"
            return self.messages.PredictResponse(prediction=p, confidence=conf, served_by=who)
        return pb.PredictResponse(prediction=p, confidence=conf)

    def Generate(self, request, context):  # noqa: N802
        token_ms = request.token_ms or TOKEN_MS
        for i, tok in enumerate(fake_tokens(request.max_tokens or 40)):
            time.sleep(token_ms / 1000)
            if not context.is_active():  # the client cancelled or hung up
                return
            yield pb.Token(index=i, text=tok)


def add_to_server(server: grpc.Server, servicer: ModelService) -> None:
    """v1 uses the generated helper; v2 registers the same method paths with the v2 message classes."""
    if servicer.api_version == 1:
        pb_grpc.add_ModelServiceServicer_to_server(servicer, server)
        return
    m = servicer.messages
    handlers = {
        "Predict": grpc.unary_unary_rpc_method_handler(
            servicer.Predict, request_deserializer=m.PredictRequest.FromString,
            response_serializer=m.PredictResponse.SerializeToString),
        "Generate": grpc.unary_stream_rpc_method_handler(
            servicer.Generate, request_deserializer=pb.GenerateRequest.FromString,
            response_serializer=pb.Token.SerializeToString),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


def serve(port: int, api_version: int = 1, workers: int = 8) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    add_to_server(server, ModelService(api_version))
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        sys.exit(f"grpc_model: cannot bind 127.0.0.1:{port}")
    server.start()
    print(f"grpc_model (api v{api_version}) serving on 127.0.0.1:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(grace=1.0))
    server.wait_for_termination()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--api-version", type=int, choices=(1, 2), default=1)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args(argv)
    serve(args.port, args.api_version, args.workers)


if __name__ == "__main__":
    main()
