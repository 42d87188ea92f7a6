"""Temporary folders for embedded engines, removed at interpreter exit."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

_DIRS: list[Path] = []


def workdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"labsupport-{prefix}-"))
    _DIRS.append(path)
    return path


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


@atexit.register
def _cleanup() -> None:
    for path in _DIRS:
        remove(path)
