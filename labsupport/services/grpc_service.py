"""A real gRPC server (the model service of labsupport/proto/model_service.proto) in its own process.

    srv = services.grpc_server()                    # ModelService v1 on 127.0.0.1, HTTP/2 over TCP
    stub = srv.stub()                               # generated ModelServiceStub on a fresh channel
    stub.Predict(pb.PredictRequest(features=[...]), timeout=1.0)
    for tok in stub.Generate(pb.GenerateRequest(max_tokens=20)): ...    # server streaming
    new = services.grpc_server(api_version=2)       # a server built from model_service_v2.proto
    srv.stub(api_version=2)                         # a v2 client (sends and reads the added fields)
    srv.address                                     # "127.0.0.1:PORT", what grpc.insecure_channel takes
    services.fault_proxy(srv).client()              # a stub whose calls go through a fault proxy

Readiness is a real Predict RPC with a deadline. Like every service: stop, kill, pause, resume, restart, logs.
Import labsupport before ``grpc``: it turns gRPC's fork support off first (see labsupport/proto/__init__.py).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")  # before grpc loads: see labsupport/proto/__init__.py

import grpc  # noqa: E402

from ._process import ManagedProcess, python_exe  # noqa: E402

SERVICE = "modelserving.ModelService"


class StubV2:
    """What protoc would generate for model_service_v2.proto if it were the next commit of v1:
    the same method path, the v2 message classes."""

    def __init__(self, channel: grpc.Channel):
        from labsupport.proto import model_service_pb2 as pb  # noqa: PLC0415
        from labsupport.proto import model_service_v2_pb2 as v2  # noqa: PLC0415

        self.Predict = channel.unary_unary(
            f"/{SERVICE}/Predict", request_serializer=v2.PredictRequest.SerializeToString,
            response_deserializer=v2.PredictResponse.FromString)
        self.Generate = channel.unary_stream(
            f"/{SERVICE}/Generate", request_serializer=pb.GenerateRequest.SerializeToString,
            response_deserializer=pb.Token.FromString)


class GrpcServer(ManagedProcess):
    kind = "grpc"

    def __init__(self, module: str = "labsupport.apps.grpc_model", name: str | None = None,
                 port: int | None = None, api_version: int = 1, env: dict | None = None, workers: int = 8):
        super().__init__(name or ("grpc_model" if api_version == 1 else f"grpc_model_v{api_version}"), port)
        self.module = module
        self.api_version = api_version
        self.workers = workers
        self._env = {k: str(v) for k, v in (env or {}).items()}
        self._channels: list[grpc.Channel] = []

    def env(self) -> dict[str, str]:
        return {"REPLICA_NAME": self.name, "PYTHONUNBUFFERED": "1", **self._env}

    def command(self) -> list[str]:
        return [python_exe(), "-m", self.module, "--port", str(self.port),
                "--api-version", str(self.api_version), "--workers", str(self.workers)]

    def probe(self) -> bool:
        from labsupport.proto import model_service_pb2 as pb  # noqa: PLC0415
        from labsupport.proto import model_service_pb2_grpc as pb_grpc  # noqa: PLC0415

        with grpc.insecure_channel(self.address) as channel:
            pb_grpc.ModelServiceStub(channel).Predict(pb.PredictRequest(features=[0.0]), timeout=0.5)
        return True

    @property
    def url(self) -> str:
        return f"grpc://{self.address}"

    def channel(self, **options) -> grpc.Channel:
        """A new client channel (one HTTP/2 connection, multiplexing every call made on it)."""
        ch = grpc.insecure_channel(self.address, options=list(options.items()))
        self._channels.append(ch)
        return ch

    def stub(self, api_version: int = 1):
        """A client for this server: the generated v1 stub, or a v2 one for the compatibility demo."""
        channel = self.channel()
        if api_version == 2:
            return StubV2(channel)
        from labsupport.proto import model_service_pb2_grpc as pb_grpc  # noqa: PLC0415

        return pb_grpc.ModelServiceStub(channel)

    def client(self, **kw):
        """Same as ``stub()``; lets ``services.fault_proxy(srv).client()`` return a stub through the proxy."""
        return self.stub(**kw)

    def cleanup(self) -> None:
        for ch in self._channels:
            ch.close()
        self._channels.clear()
        super().cleanup()


def grpc_server(api_version: int = 1, name: str | None = None, port: int | None = None,
                env: dict | None = None, **kw) -> GrpcServer:
    """Start the model service over gRPC (see the module docstring)."""
    return GrpcServer(name=name, port=port, api_version=api_version, env=env, **kw).start()
