#!/usr/bin/env bash
# Traffic benchmark: a generated nginx log with $request_time, read by `wc -l` (the floor),
# goaccess (Debian's package) and `envparity traffic model`, in the same run.
#
# Usage: bench/traffic/run.sh     (LINES=2000000 by default; LINES=20000000 for ~2.5 GB)
#   SKIP_BUILD=1   use the existing target/release/envparity
# The log is written once to $WORK (default /tmp/envparity-bench-traffic) and reused.
set -euo pipefail
cd "$(dirname "$0")/../.."
LINES=${LINES:-2000000}
WORK=${WORK:-/tmp/envparity-bench-traffic}
BIN=$PWD/target/release/envparity
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p envparity
command -v goaccess >/dev/null || { echo "goaccess is not installed (apt-get install goaccess)" >&2; exit 2; }
mkdir -p "$WORK"
LOG=$WORK/access-$LINES.log
if [ ! -f "$LOG" ]; then
    echo "writing $LINES lines…" >&2
    python3 - "$LOG" "$LINES" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
r = random.Random(1)
routes = ["/users/%d", "/users/%d/orders", "/products/%d", "/checkout", "/cart",
          "/search?q=x&page=%d", "/users/me", "/api/v2/items/%d"]
with open(path, "w") as f:
    for i in range(n):
        rt = r.choice(routes)
        path_ = rt % r.randint(1, 100000) if "%d" in rt else rt
        s = i // 100
        f.write(f'10.{i % 250}.{i % 7}.{i % 13} - - [23/Nov/2026:{(s // 3600) % 24:02d}:{(s // 60) % 60:02d}:{s % 60:02d} +0000] '
                f'"GET {path_} HTTP/1.1" 200 {r.randint(100, 9000)} "-" "Mozilla/5.0 (X11; Linux x86_64)" {r.random():.3f}\n')
PY
fi
SIZE=$(stat -c %s "$LOG")
echo "log: $LINES lines, $((SIZE / 1000000)) MB"
cat "$LOG" > /dev/null   # warm the page cache for every reader alike
t() { /usr/bin/time -f "%e s, %U s user, %S s sys, peak %M KB" "$@"; }
echo "== floor: wc -l"
t wc -l "$LOG"
echo "== goaccess $(goaccess --version | head -1 | awk '{print $3}')"
t goaccess "$LOG" --log-format='%h %^ %^ [%d:%t %^] "%r" %s %b "%R" "%u" %T' \
    --date-format=%d/%b/%Y --time-format=%T -o "$WORK/goaccess.json" --no-progress
echo "== envparity traffic model"
t "$BIN" traffic model "$LOG" -o "$WORK/model.json" \
    --log-format '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time'
