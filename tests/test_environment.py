"""The two install routes (pip via pyproject.toml, conda via environment.yml) name the same packages and pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _norm(req: str) -> str:
    name, _, pin = req.partition("==")
    name = re.sub(r"\[.*\]", "", name).strip().lower().replace("_", "-")
    return f"{name}=={pin.strip()}"


def test_environment_yml_matches_pyproject():
    """Every pinned package of pyproject.toml (core + extras) is in environment.yml's pip list, same pin."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_pip = {_norm(r) for r in pip if not r.startswith("-e")}
    assert {_norm(r) for r in reqs} == conda_pip
    assert all("==" in r for r in reqs), "every dependency is pinned"


def test_environment_yml_brings_the_servers_pip_cannot():
    """The conda route supplies nginx, redis and postgres (with pgvector) from conda-forge."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = {d.split("=")[0] for d in env["dependencies"] if isinstance(d, str)}
    assert {"nginx", "redis-server", "postgresql", "pgvector", "graphviz"} <= names
