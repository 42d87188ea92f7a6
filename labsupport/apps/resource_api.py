"""A small REST resource: a registry of models, to see HTTP methods and status codes for real.

    GET    /models                  -> 200 [ {...}, ... ]
    GET    /models/{name}           -> 200 {...}            | 404 no such model
    POST   /models   {name, ...}    -> 201 + Location       | 409 name taken   | 422 malformed body
    PUT    /models/{name} {...}     -> 200 replaced         | 201 created      | 400 body names another model
    DELETE /models/{name}           -> 204 (no body)        | 404 no such model
    GET    /connections             -> {"connections": distinct TCP connections seen since the last reset}
    POST   /connections/reset
Chapter: book/02-protocols.md (lab 02-protocols/01-http).
"""

from __future__ import annotations

from fastapi import HTTPException, Request, Response
from pydantic import BaseModel, Field

from ._common import lab_app

app = lab_app("resource-api")


class Model(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: int = Field(ge=1)
    framework: str = "pytorch"


MODELS: dict[str, Model] = {
    "resnet50": Model(name="resnet50", version=3, framework="pytorch"),
    "bert-base": Model(name="bert-base", version=1, framework="onnx"),
}
_peers: set = set()  # (client address, client port): one entry per TCP connection


@app.middleware("http")
async def count_connections(request: Request, call_next):
    if request.url.path not in ("/healthz", "/connections", "/connections/reset") and request.client:
        _peers.add((request.client.host, request.client.port))
    return await call_next(request)


@app.get("/models")
def list_models():
    return [m.model_dump() for m in MODELS.values()]


@app.get("/models/{name}")
def get_model(name: str):
    if name not in MODELS:
        raise HTTPException(404, f"no model named {name!r}")
    return MODELS[name].model_dump()


@app.post("/models", status_code=201)
def create_model(model: Model, response: Response):
    if model.name in MODELS:
        raise HTTPException(409, f"model {model.name!r} already exists; PUT /models/{model.name} replaces it")
    MODELS[model.name] = model
    response.headers["Location"] = f"/models/{model.name}"
    return model.model_dump()


@app.put("/models/{name}")
def put_model(name: str, model: Model, response: Response):
    if model.name != name:
        raise HTTPException(400, f"the body describes {model.name!r} but the URL names {name!r}")
    response.status_code = 200 if name in MODELS else 201
    MODELS[name] = model
    return model.model_dump()


@app.delete("/models/{name}", status_code=204)
def delete_model(name: str):
    if MODELS.pop(name, None) is None:
        raise HTTPException(404, f"no model named {name!r}")
    return Response(status_code=204)


@app.get("/connections")
def connections():
    return {"connections": len(_peers)}


@app.post("/connections/reset")
def reset_connections():
    _peers.clear()
    return {"ok": True}
