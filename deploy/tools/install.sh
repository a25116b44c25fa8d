#!/usr/bin/env bash
# The chart's validation tools, offline after their first install; prints the bin directory.
#
#   bin=$(deploy/tools/install.sh)     # $bin/helm, $bin/kubeconform; schemas in $bin/../schemas
#
# helm and kubeconform are built from their Go modules (`go install` through the Go module
# proxy: no prebuilt binary download). kubeconform normally fetches the Kubernetes JSON schemas
# from GitHub at run time; here they come from the `kubernetes-validate` wheel on PyPI, which
# ships them for every Kubernetes release: the versions in K8S_VERSIONS are unpacked to
# schemas/v<version>-standalone-strict/<kind>-<group>-<version>.json, with their references
# rewritten to the local _definitions.json so that no validation reaches the network.
#
# Everything lands in one directory per tool set in the user's cache, marked complete only at
# the end: a second run prints the same path at once; an interrupted one starts over.
set -euo pipefail

HELM_VERSION=v3.22.1
KUBECONFORM_VERSION=v0.8.0
KUBERNETES_VALIDATE_VERSION=1.37.0
# The oldest Kubernetes the chart supports and the newest the schemas know.
K8S_VERSIONS="1.30.0 1.37.0"

cache=${FLASHPOINT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flashpoint}
key=$(echo "$HELM_VERSION $KUBECONFORM_VERSION $KUBERNETES_VALIDATE_VERSION $K8S_VERSIONS" | sha256sum | cut -c1-12)
root="$cache/tools/$key"
if [ -f "$root/.ready" ]; then
  echo "$root/bin"
  exit 0
fi

command -v go >/dev/null || { echo "deploy/tools/install.sh needs Go (go install) on PATH" >&2; exit 1; }
python=${PYTHON:-python3}
echo "building helm $HELM_VERSION and kubeconform $KUBECONFORM_VERSION into $root (first run: a few minutes)" >&2
rm -rf "$root" && mkdir -p "$root/bin"
GOBIN="$root/bin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
GOBIN="$root/bin" GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
  go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" >&2

wheels="$root/wheels"
"$python" -m pip download -q --disable-pip-version-check --no-deps -d "$wheels" \
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
"$python" - "$wheels"/kubernetes_validate-*.whl "$root/schemas" $K8S_VERSIONS <<'PY'
import json, re, sys, zipfile
from pathlib import Path

wheel, out, versions = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
# "$ref": "/api/_definitions.json#/$defs/X" is absolute against the schema's https $id.
absolute = re.compile(r"^/api/_definitions\.json(?=#)")

def localise(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        return {k: absolute.sub("_definitions.json", v) if k == "$ref" and isinstance(v, str)
                else localise(v) for k, v in node.items()}
    if isinstance(node, list):
        return [localise(item) for item in node]
    return node

with zipfile.ZipFile(wheel) as archive:
    for version in versions:
        source = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
        target = out / f"v{version}-standalone-strict"
        target.mkdir(parents=True)
        names = [n for n in archive.namelist() if n.startswith(source) and n.endswith(".json")]
        if not names:
            sys.exit(f"kubernetes-validate has no schemas for Kubernetes {version}")
        for name in names:
            schema = localise(json.loads(archive.read(name)))
            (target / name.removeprefix(source)).write_text(json.dumps(schema))
PY
rm -rf "$wheels"
touch "$root/.ready"
echo "$root/bin"
