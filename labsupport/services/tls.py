"""A throwaway certificate authority for the labs (trustme), one per interpreter.

    ca = tls.lab_ca()
    cert, key = tls.server_files("nginx")     # PEM files for 127.0.0.1 / localhost
    httpx.get(url, verify=tls.ca_file())      # a client that trusts the lab CA
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import trustme

from ._process import run_root


@functools.lru_cache(maxsize=1)
def lab_ca() -> trustme.CA:
    return trustme.CA(organization_name="Systems Design Fundamentals lab CA")


@functools.lru_cache(maxsize=1)
def _dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="tls-", dir=run_root()))


def ca_file() -> str:
    path = _dir() / "lab-ca.pem"
    if not path.exists():
        lab_ca().cert_pem.write_to_path(str(path))
    return str(path)


def server_files(name: str = "server") -> tuple[str, str]:
    """(cert_chain.pem, key.pem) for a server reachable as 127.0.0.1 and localhost."""
    cert_path, key_path = _dir() / f"{name}.crt", _dir() / f"{name}.key"
    if not cert_path.exists():
        leaf = lab_ca().issue_cert("127.0.0.1", "localhost")
        leaf.private_key_pem.write_to_path(str(key_path))
        with open(cert_path, "wb") as f:
            for blob in leaf.cert_chain_pems:
                f.write(blob.bytes())
        key_path.chmod(0o644)
    return str(cert_path), str(key_path)
