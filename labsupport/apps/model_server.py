"""A model server that does real compute: a small numpy MLP, seeded, so every replica agrees.

    POST /predict {"features": [..32 floats..]}      -> {"prediction": p, "confidence": c, "replica": ...}
    POST /predict_pb  PredictRequest bytes           -> PredictResponse bytes (application/x-protobuf)
    POST /predict_batch {"rows": [[...], ...]}       -> {"predictions": [...]}
    POST /generate {"tokens": 50}                    -> a fake LLM: work proportional to tokens
Set MODEL_HIDDEN (default 512) and MODEL_LAYERS (default 4) to make each request heavier.
"""

from __future__ import annotations

import asyncio
import os

import numpy as np
from fastapi import Body, Response
from pydantic import BaseModel

from labsupport.proto import model_service_pb2 as pb

from ._common import REPLICA, lab_app

N_FEATURES = 32
HIDDEN = int(os.environ.get("MODEL_HIDDEN", "512"))
LAYERS = int(os.environ.get("MODEL_LAYERS", "4"))
TOKEN_MS = float(os.environ.get("TOKEN_MS", "2"))
_rng = np.random.default_rng(42)
_W = [_rng.standard_normal((N_FEATURES, HIDDEN)) / np.sqrt(N_FEATURES)]
_W += [_rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN) for _ in range(LAYERS - 1)]
_OUT = _rng.standard_normal(HIDDEN) / np.sqrt(HIDDEN)


def predict_rows(x: np.ndarray) -> np.ndarray:
    h = x
    for w in _W:
        h = np.tanh(h @ w)
    return 1 / (1 + np.exp(-(h @ _OUT)))


def predict_one(features) -> tuple[float, float]:
    """What every predict endpoint computes: pad or cut to 32 features, one forward pass over 64 copies
    (a real forward pass, repeated to stand in for a bigger model: a few ms of CPU)."""
    x = np.asarray(features, dtype=float)[:N_FEATURES]
    x = np.pad(x, (0, N_FEATURES - len(x)))
    p = float(predict_rows(np.tile(x, (64, 1)))[0])
    return p, abs(p - 0.5) * 2


class PredictRequest(BaseModel):
    features: list[float]
    model_version: str = "v1"


class BatchRequest(BaseModel):
    rows: list[list[float]]


class GenerateRequest(BaseModel):
    tokens: int = 50
    prompt: str = ""


app = lab_app("model-server")
PROTOBUF = "application/x-protobuf"


@app.post("/predict")
def predict(req: PredictRequest):
    p, conf = predict_one(req.features)
    return {"prediction": p, "confidence": conf, "replica": REPLICA, "model_version": req.model_version}


@app.post("/predict_pb")
def predict_pb(body: bytes = Body(media_type=PROTOBUF)):
    """/predict with protobuf bodies (the gRPC messages, without gRPC): same app, same thread hand-off."""
    req = pb.PredictRequest.FromString(body)
    p, conf = predict_one(req.features)
    return Response(pb.PredictResponse(prediction=p, confidence=conf).SerializeToString(), media_type=PROTOBUF)


@app.post("/predict_batch")
def predict_batch(req: BatchRequest):
    x = np.asarray(req.rows, dtype=float)
    return {"predictions": predict_rows(x).tolist(), "replica": REPLICA}


@app.post("/generate")
async def generate(req: GenerateRequest):
    """A stand-in LLM: each token costs TOKEN_MS of waiting (a GPU busy elsewhere), so long answers hold
    a connection for long. Used by the load-balancing labs ("10 tokens or 1000")."""
    await asyncio.sleep(req.tokens * TOKEN_MS / 1000)
    return {"tokens": req.tokens, "replica": REPLICA, "text": " ".join(["tok"] * min(req.tokens, 20))}
