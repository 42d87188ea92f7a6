"""services.grpc_server: a real gRPC ModelService process (labsupport/apps/grpc_model.py), v1 and v2."""

import sys
import threading
import time

import numpy as np
import pytest

from labsupport import services
from labsupport.apps.model_server import predict_rows
from labsupport.proto import model_service_pb2 as pb
from labsupport.proto import model_service_v2_pb2 as pb_v2

import grpc  # noqa: E402, I001 - after labsupport.proto, which turns off gRPC's fork support first


@pytest.fixture(scope="module")
def servers():
    v1, v2 = services.grpc_server(), services.grpc_server(api_version=2)
    yield v1, v2
    v1.cleanup()
    v2.cleanup()


def test_predict_is_the_rest_models_answer(servers):
    """Predict returns what model_server's numpy MLP computes for the same 32 features (float32 precision)."""
    v1, _ = servers
    x = np.random.default_rng(0).random(32, dtype=np.float32)
    reply = v1.stub().Predict(pb.PredictRequest(features=x.tolist()), timeout=5)
    expected = float(predict_rows(np.tile(x.astype(float), (64, 1)))[0])
    assert abs(reply.prediction - expected) < 1e-6
    assert abs(reply.confidence - abs(expected - 0.5) * 2) < 1e-6


def test_generate_streams_tokens_as_they_are_made(servers):
    """Generate(5 tokens, 40 ms each): 5 replies, the first long before the last."""
    v1, _ = servers
    t0, arrivals = time.perf_counter(), []
    for tok in v1.stub().Generate(pb.GenerateRequest(max_tokens=5, token_ms=40), timeout=10):
        arrivals.append(time.perf_counter() - t0)
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] > 0.1


def test_schema_versions_interoperate(servers):
    """Old client -> new server and new client -> old server both answer; added fields default or are kept."""
    v1, v2 = servers
    x = [0.1] * 32
    old_to_new = v2.stub().Predict(pb.PredictRequest(features=x), timeout=5)
    new_to_old = v1.stub(api_version=2).Predict(pb_v2.PredictRequest(features=x, request_id="r-1"), timeout=5)
    new_to_new = v2.stub(api_version=2).Predict(pb_v2.PredictRequest(features=x, request_id="r-1"), timeout=5)
    assert old_to_new.prediction == new_to_old.prediction == new_to_new.prediction
    assert new_to_old.served_by == ""
    assert "r-1" in new_to_new.served_by
    assert "(none sent)" in pb_v2.PredictResponse.FromString(old_to_new.SerializeToString()).served_by


def test_kill_then_restart(servers):
    """A killed server makes calls fail with UNAVAILABLE; after restart() the same stub works again."""
    v1, _ = servers
    stub = v1.stub()
    v1.kill()
    with pytest.raises(grpc.RpcError) as err:
        stub.Predict(pb.PredictRequest(features=[0.0]), timeout=1)
    assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    v1.restart()
    assert stub.Predict(pb.PredictRequest(features=[0.0]), timeout=5).confidence >= 0


def test_fault_proxy_client_is_a_stub(servers):
    """services.fault_proxy(grpc server).client() returns a stub whose calls cross the proxy."""
    v1, _ = servers
    link = services.fault_proxy(v1)
    try:
        link.client().Predict(pb.PredictRequest(features=[0.0]), timeout=5)
        assert link.stats()["connections"] == 1
    finally:
        link.cleanup()


@pytest.mark.timeout(120)
def test_starting_servers_while_grpc_is_busy(servers):
    """Regression: forking new servers while gRPC threads are busy must not hang or abort the child.

    With gRPC's fork support on (its default), the forked child could deadlock before exec; labsupport
    turns it off (GRPC_ENABLE_FORK_SUPPORT=false) before grpc is imported."""
    from labsupport.services._process import ManagedProcess

    class Echo(ManagedProcess):
        def command(self):
            return [sys.executable, "-c", "print('up', flush=True); import time; time.sleep(30)"]

        def probe(self):
            return "up" in self.logs()

    v1, _ = servers
    stub, stop = v1.stub(), threading.Event()

    def traffic():
        while not stop.is_set():
            stub.Predict(pb.PredictRequest(features=[0.0]), timeout=5)

    worker = threading.Thread(target=traffic, daemon=True)
    worker.start()
    started = []
    try:
        for i in range(12):
            started.append(Echo(name=f"echo{i}").start())
        assert all(e.running for e in started)
    finally:
        stop.set()
        worker.join(5)
        for e in started:
            e.cleanup()
