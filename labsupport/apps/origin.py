"""A static-file origin server: the far-away source of truth that a CDN edge caches.

    origin = services.app("labsupport.apps.origin:app")
    GET /assets/{name}?kb=20     -> 20 KB of bytes (an image, a script), Cache-Control: public, max-age=3600
    GET /weights/{name}?mb=4     -> 4 MB of bytes (a stand-in for a model's weights file; mb=0.5 works)
    GET /stats                   -> {"requests": ..}: how many requests actually reached the origin

The bytes depend only on the name, so every copy (origin, edge, browser) is identical.
"""

from __future__ import annotations

import hashlib

from fastapi import Response

from ._common import lab_app

app = lab_app("origin")
CACHEABLE = {"Cache-Control": "public, max-age=3600"}


def _payload(name: str, size: int) -> bytes:
    block = hashlib.sha256(name.encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


@app.get("/assets/{name}")
def asset(name: str, kb: int = 20):
    return Response(_payload(name, kb * 1024), media_type="application/octet-stream", headers=CACHEABLE)


@app.get("/weights/{name}")
def weights(name: str, mb: float = 4):
    return Response(_payload(name, int(mb * 1024 * 1024)), media_type="application/octet-stream",
                    headers=CACHEABLE)
