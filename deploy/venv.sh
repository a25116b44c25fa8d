#!/usr/bin/env bash
# Ensure the project's virtualenv exists and is current; print its path on stdout.
#
# The virtualenv lives outside the clone, in the user's cache, keyed by a hash of the
# dependency files, so a fresh clone with the same dependencies reuses it (torch alone is
# ~3 GB with its CUDA packages). The project itself is re-installed (editable, no deps) on
# every call so the console script points at this clone.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${FLASHPOINT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flashpoint}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
  || { echo "flashpoint needs Python 3.11 (found: $("$python" --version 2>&1))" >&2; exit 1; }
key=$(cat "$root/pyproject.toml" | sha256sum | cut -c1-16)
venv="$cache/venv-$key"
if [ ! -f "$venv/.ready" ]; then
  # No marker means no venv or an interrupted one: build it from scratch.
  echo "creating virtualenv $venv (first run: downloads torch and friends, a few minutes)" >&2
  rm -rf "$venv" && mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check uv >&2
  # The dependency set from pyproject.toml (runtime + train + dev extras), without the project.
  "$venv/bin/python" - "$root/pyproject.toml" > "$venv/requirements.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
deps = list(project["dependencies"])
for extra in ("train", "dev"):
    deps += [d for d in project["optional-dependencies"][extra] if not d.startswith("flashpoint")]
print("\n".join(deps))
PY
  # --system-certs: behind a proxy with its own CA (corporate networks), trust the system store.
  "$venv/bin/uv" pip install -q --system-certs -p "$venv/bin/python" -r "$venv/requirements.txt" >&2
  touch "$venv/.ready"
fi
"$venv/bin/uv" pip install -q --system-certs -p "$venv/bin/python" --no-deps -e "$root" >&2
echo "$venv"
