"""One prediction service, two API versions side by side, and two shapes of error.

    POST /v1/predict {"user_age": 31, "tenure_months": 12, "plan": "pro"}
         -> 200 {"churn_probability": 0.23}  + Deprecation, Sunset, Link: </v2/predict>; rel="successor-version"
         -> 400 {"error": {"code": "INVALID_INPUT", "message": ..., "details": {"field": ..., "value": ...}}}
    POST /v2/predict {"features": {...}, "request_tag": "..."}
         -> 200 {"prediction": {"churn_probability": 0.23}, "model_version": "churn-2"}
         -> 422 application/problem+json (RFC 9457): type, title, status, detail, instance, errors[], request_id
    any unhandled error -> 500 with a request id and no stack trace (the trace goes to the log)
    GET /usage -> {"v1": n, "v2": n}   requests per version (when can v1 go?)
    GET /openapi.json                  both versions' contracts, for labsupport.openapi_diff

    library_app: the same /v2/predict with its errors left to a library, fastapi-problem-details
    (RFC 9457): 422 and 500 as application/problem+json, configured as its documentation shows.

A bug is planted: tenure_months = 0 divides by zero. Environment: SUNSET (an HTTP date for v1).
Chapter: book/08-api-design.md (lab 08-api-design/03-versioning-errors).
"""

from __future__ import annotations

import logging
import math
import os
import time
import uuid
from email.utils import formatdate

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_problem_details import init_app as problem_details_from_library
from pydantic import BaseModel, Field

from ._common import lab_app

app = lab_app("predict-api")
log = logging.getLogger("predict-api")
DEPRECATED_AT = int(time.time()) - 86_400                                       # yesterday
SUNSET = os.environ.get("SUNSET") or formatdate(time.time() + 90 * 86_400, usegmt=True)   # in 90 days
USAGE = {"v1": 0, "v2": 0}


class Features(BaseModel):
    user_age: int = Field(ge=13, le=120)
    tenure_months: int = Field(ge=0, le=600)
    plan: str = Field(pattern=r"^(free|pro|team)$")


class PredictV2(BaseModel):
    features: Features
    request_tag: str | None = Field(None, max_length=64)


class PredictionV1(BaseModel):
    churn_probability: float


class Prediction(BaseModel):
    churn_probability: float


class PredictionV2(BaseModel):
    prediction: Prediction
    model_version: str


def score(f: Features) -> float:
    logit = 1.5 - 0.02 * f.user_age - 0.4 * math.log(f.tenure_months) + (0.8 if f.plan == "free" else 0.0)
    return round(1 / (1 + math.exp(-logit)), 4)   # planted bug: log(0) when tenure_months = 0


def _field(loc) -> str:
    return ".".join(str(p) for p in loc if p != "body")


@app.exception_handler(RequestValidationError)
async def invalid(request: Request, exc: RequestValidationError):
    errs = [{"field": _field(e["loc"]), "value": e.get("input"), "message": e["msg"]} for e in exc.errors()]
    if request.url.path.startswith("/v1/"):
        first = errs[0]
        return JSONResponse({"error": {"code": "INVALID_INPUT", "message": f"{first['field']}: {first['message']}",
                                       "details": {"field": first["field"], "value": first["value"]}}},
                            status_code=400, headers=_v1_headers())
    return JSONResponse({"type": "https://example.com/problems/invalid-features", "title": "Invalid features",
                         "status": 422, "detail": f"{len(errs)} field(s) failed validation",
                         "instance": request.url.path, "errors": errs, "request_id": uuid.uuid4().hex[:12]},
                        status_code=422, media_type="application/problem+json")


@app.middleware("http")
async def no_stack_traces(request: Request, call_next):
    try:
        return await call_next(request)
    except Exception:  # noqa: BLE001 - a bug: the trace to the log, an id to the client
        rid = uuid.uuid4().hex[:12]
        log.exception("request %s %s %s failed", rid, request.method, request.url.path)
        if request.url.path.startswith("/v1/"):
            return JSONResponse({"error": {"code": "INTERNAL", "message": "internal error", "details": {"request_id": rid}}},
                                status_code=500, headers=_v1_headers())
        return JSONResponse({"type": "about:blank", "title": "Internal Server Error", "status": 500,
                             "detail": "the server failed; quote the request id", "request_id": rid},
                            status_code=500, media_type="application/problem+json")


def _v1_headers() -> dict:
    return {"Deprecation": f"@{DEPRECATED_AT}", "Sunset": SUNSET,
            "Link": '</v2/predict>; rel="successor-version"'}


@app.post("/v1/predict", response_model=PredictionV1)
def predict_v1(features: Features):
    USAGE["v1"] += 1
    return JSONResponse({"churn_probability": score(features)}, headers=_v1_headers())


@app.post("/v2/predict", response_model=PredictionV2)
def predict_v2(body: PredictV2):
    USAGE["v2"] += 1
    return {"prediction": {"churn_probability": score(body.features)}, "model_version": "churn-2"}


library_app = problem_details_from_library(lab_app("predict-api-problem-library"))


@library_app.post("/v2/predict", response_model=PredictionV2)
def predict_v2_library(body: PredictV2):
    return {"prediction": {"churn_probability": score(body.features)}, "model_version": "churn-2"}


@app.get("/usage")
def usage():
    return USAGE
