#!/usr/bin/env bash
# Access benchmark: a large estate's RBAC manifests and role/grant SQL, audited and
# compared. The anchors (rbac-tool, kubectl-who-can, rakkess, pgdsat) are Go binaries or
# need a live cluster: none installs from Debian's packages or crates here, so this
# script measures envparity alone and says so.
#
# Usage: bench/access/run.sh   (NS=2000 namespaces, GRANTS=50000 by default)
#   SKIP_BUILD=1   use the existing target/release/envparity
set -euo pipefail
cd "$(dirname "$0")/../.."
NS=${NS:-2000}
GRANTS=${GRANTS:-50000}
WORK=${WORK:-/tmp/envparity-bench-access}
BIN=$PWD/target/release/envparity
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p envparity
rm -rf "$WORK" && mkdir -p "$WORK"
python3 - "$WORK" "$NS" "$GRANTS" <<'PY'
import os, sys
work, ns, grants = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for env in ("qa", "prod"):
    os.makedirs(f"{work}/{env}", exist_ok=True)
    os.makedirs(f"{work}/db/{env}", exist_ok=True)
    with open(f"{work}/{env}/rbac.yaml", "w") as f:
        for i in range(ns):
            n = f"team{i}-{env}"
            verbs = '["*"]' if env == "prod" and i % 97 == 0 else '["get", "list", "watch"]'
            f.write(f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: {n}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: {n}
rules:
  - apiGroups: [""]
    resources: ["configmaps", "secrets", "pods"]
    verbs: {verbs}
  - apiGroups: ["apps"]
    resources: ["deployments"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
  namespace: {n}
subjects:
  - kind: ServiceAccount
    name: app
    namespace: {n}
roleRef:
  kind: Role
  name: reader
---
""")
    with open(f"{work}/db/{env}/roles.sql", "w") as f:
        roles = max(1, grants // 50)
        for r in range(roles):
            su = "SUPERUSER" if env == "prod" and r == 0 else "NOSUPERUSER"
            f.write(f"CREATE ROLE app{r}_{env};\nALTER ROLE app{r}_{env} WITH {su} INHERIT LOGIN PASSWORD 'SCRAM-SHA-256$4096:x';\n")
        for g in range(grants):
            f.write(f"GRANT SELECT, INSERT ON TABLE public.t{g % 5000} TO app{g % roles}_{env};\n")
with open(f"{work}/envparity.toml", "w") as f:
    f.write('[environments.qa]\nconfig = ["qa/**"]\naccess = ["db/qa/*.sql"]\n\n'
            '[environments.prod]\nconfig = ["prod/**"]\naccess = ["db/prod/*.sql"]\nproduction = true\n\n'
            '[rules]\nenv_tokens = { qa = ["qa"], prod = ["prod"] }\n')
PY
du -sh "$WORK"/qa "$WORK"/db/qa | sed 's/^/input per environment: /'
t() { /usr/bin/time -f "%e s, %U s user, %S s sys, peak %M KB" "$@"; }
echo "== envparity access audit prod"
t "$BIN" --config "$WORK/envparity.toml" access audit prod --format json -o "$WORK/audit.json" || true
echo "== envparity access diff qa prod"
t "$BIN" --config "$WORK/envparity.toml" access diff qa prod --format json -o "$WORK/diff.json" || true
python3 -c "
import json; r=json.load(open('$WORK/diff.json'))
from collections import Counter; print('diff findings:', dict(Counter(f['class'] for f in r['findings'])))"
for tool in rbac-tool kubectl-who-can rakkess pgdsat; do
  command -v $tool >/dev/null && echo "$tool: installed (add it here)" || echo "$tool: not installable here (no Debian package or crate)"
done
