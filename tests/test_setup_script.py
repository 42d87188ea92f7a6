"""scripts/setup.sh, step 2: a failed pip install stops set-up with pip's own message, and the install
stamp notices a change of Python. Runs the real script against a stand-in .venv/bin/python."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKE_PYTHON = """#!/usr/bin/env bash
# Stand-in for the venv's python: logs pip calls, fails them when FAKE_PIP_FAIL=1.
if [ "$1" = "--version" ]; then echo "Python $FAKE_VERSION"; exit 0; fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  echo "pip $*" >> "$FAKE_LOG"
  if [ "${FAKE_PIP_FAIL:-0}" = 1 ]; then
    echo "ERROR: No matching distribution found for make-believe==1.0" >&2; exit 1
  fi
  exit 0
fi
if [ "$1" = "-c" ]; then
  case "$2" in *sys.version*) echo "$FAKE_VERSION";; esac
  exit 0
fi
exit 0
"""


@pytest.fixture
def project(tmp_path):
    for tool in ("nginx", "dot", "npm"):
        if not shutil.which(tool) and not Path("/usr/sbin", tool).exists():
            pytest.skip(f"{tool} is not installed, so step 1 of set-up would stop first")
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    (tmp_path / "scripts" / "vendor_assets.sh").write_text("#!/usr/bin/env bash\nexit 0\n")
    (tmp_path / "scripts" / "vendor_assets.sh").chmod(0o755)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text(FAKE_PYTHON)
    (venv / "python").chmod(0o755)
    (tmp_path / "py").write_text(FAKE_PYTHON)  # $PYTHON: the same version, so the venv is kept
    (tmp_path / "py").chmod(0o755)
    return tmp_path


def run(project: Path, version: str, fail: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "FAKE_VERSION": version, "FAKE_PIP_FAIL": "1" if fail else "0",
           "FAKE_LOG": str(project / "pip.log"), "PYTHON": str(project / "py")}
    return subprocess.run(["bash", "scripts/setup.sh"], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)


def stamps(project: Path) -> list[str]:
    return sorted(p.name for p in (project / ".venv").glob(".installed-*"))


def test_failed_pip_install_stops_with_pips_message(project):
    out = run(project, "3.11.7", fail=True)
    assert out.returncode != 0
    assert "No matching distribution found for make-believe" in out.stderr
    assert "pip" in out.stdout and "failed" in out.stdout
    assert stamps(project) == []


def test_a_new_python_reinstalls(project):
    assert run(project, "3.11.7", fail=False).returncode == 0
    first = stamps(project)
    calls = (project / "pip.log").read_text().count("install -q -e")
    assert run(project, "3.11.7", fail=False).returncode == 0  # nothing changed: no reinstall
    assert (project / "pip.log").read_text().count("install -q -e") == calls
    assert run(project, "3.12.1", fail=False).returncode == 0
    assert (project / "pip.log").read_text().count("install -q -e") == calls + 1
    assert stamps(project) != first and len(stamps(project)) == 1
