#!/usr/bin/env bash
# Data-facet benchmark: profiles a 10-million-row PostgreSQL table with a dozen mixed
# columns, and compares in the same run with
#   - the floor: `COPY events TO STDOUT` read to /dev/null (what streaming mode must read),
#   - ydata-profiling (minimal mode) on the same rows, where they fit in memory.
#
# Usage: bench/data/run.sh            (ROWS=10000000 YDATA_ROWS=1000000 by default)
#   SKIP_BUILD=1    use the existing target/release/envparity
#   SKIP_YDATA=1    skip ydata-profiling (it needs `pip install ydata-profiling` in $YDATA_VENV)
# Everything runs on loopback in a throwaway server under $WORK (default /tmp/envparity-bench-data).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ROWS=${ROWS:-10000000}
YDATA_ROWS=${YDATA_ROWS:-1000000}
WORK=${WORK:-/tmp/envparity-bench-data}
YDATA_VENV=${YDATA_VENV:-/work/venv-ydata}
BIN=$ROOT/target/release/envparity

if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -q -p envparity
fi

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir -p "$WORK"
if [ "$(id -u)" = 0 ]; then chown postgres "$WORK"; fi
if [ ! -f "$WORK/pg/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$WORK/pg" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=512MB -c max_parallel_workers_per_gather=2" start >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null' EXIT
PSQL=(psql -X -q -h 127.0.0.1 -p "$PORT" -U bench -d postgres -v ON_ERROR_STOP=1)

have=$("${PSQL[@]}" -tAc "SELECT coalesce((SELECT reltuples::bigint FROM pg_class WHERE relname = 'events'), -1)")
if [ "$have" -lt "$ROWS" ]; then
    echo "creating events: $ROWS rows…" >&2
    "${PSQL[@]}" <<SQL
DROP TABLE IF EXISTS events;
CREATE TABLE events AS
SELECT
    i AS id,
    (i * 7919) % 200000 AS user_id,
    round((exp(random() * 6))::numeric, 2) AS amount,
    (ARRAY['new','paid','shipped','refunded','chargeback'])[1 + (i % 100 >= 60)::int + (i % 100 >= 85)::int + (i % 100 >= 95)::int + (i % 100 >= 99)::int] AS status,
    (ARRAY['GB','DE','FR','US','ES','IT','NL','PL'])[1 + i % 8] AS country,
    'user' || ((i * 7919) % 200000) || '@example.com' AS email,
    CASE WHEN i % 25 = 0 THEN 'Zoë Brontë' ELSE 'Ann ' || chr((65 + i % 26)::int) || 'mith' END AS name,
    timestamptz '2020-01-01' + (i % 157680000) * interval '1 second' AS created_at,
    random() * 100 AS score,
    i % 3 <> 0 AS is_active,
    CASE WHEN random() < 0.37 THEN NULL ELSE 'SPRING' || (i % 5) END AS coupon,
    CASE WHEN i % 4 = 0 THEN '' ELSE 'please leave the parcel at door ' || (i % 50) END AS note
FROM generate_series(1::bigint, $ROWS) AS i;
ANALYZE events;
SQL
fi

cat > "$WORK/envparity.toml" <<TOML
[environments.bench]
database = "postgres://bench@127.0.0.1:$PORT/postgres"
TOML

t() { /usr/bin/time -f "%e s, peak %M KB" "$@"; }

echo "== floor: COPY events TO STDOUT > /dev/null ($ROWS rows)"
t "${PSQL[@]}" -c "COPY events TO STDOUT" > /dev/null
echo "== envparity streaming (COPY, sketches in envparity), all rows"
t "$BIN" --config "$WORK/envparity.toml" data profile bench --data-mode streaming --sample 100 -o "$WORK/streaming.json"
echo "== envparity pushdown (aggregates in PostgreSQL), all rows"
t "$BIN" --config "$WORK/envparity.toml" data profile bench --data-mode pushdown --sample 100 -o "$WORK/pushdown.json"
echo "== envparity pushdown, default sampling (about 1M rows of big tables)"
t "$BIN" --config "$WORK/envparity.toml" data profile bench --data-mode pushdown -o "$WORK/pushdown-sampled.json"

if [ -z "${SKIP_YDATA:-}" ] && [ -x "$YDATA_VENV/bin/python" ]; then
    echo "== same $YDATA_ROWS rows: COPY, envparity streaming, ydata-profiling (minimal)"
    t "${PSQL[@]}" -c "COPY (SELECT * FROM events WHERE id <= $YDATA_ROWS) TO STDOUT" > /dev/null
    "${PSQL[@]}" -c "\\copy (SELECT * FROM events WHERE id <= $YDATA_ROWS) TO '$WORK/events_sample.csv' CSV HEADER"
    cat > "$WORK/ydata.py" <<PY
import sys, time
import pandas as pd
from ydata_profiling import ProfileReport
t0 = time.time()
df = pd.read_csv(sys.argv[1], parse_dates=["created_at"])
t1 = time.time()
report = ProfileReport(df, minimal=True, progress_bar=False)
report.to_json()
t2 = time.time()
print(f"ydata-profiling: read {t1 - t0:.1f} s, profile {t2 - t1:.1f} s, total {t2 - t0:.1f} s")
PY
    t "$YDATA_VENV/bin/python" "$WORK/ydata.py" "$WORK/events_sample.csv"
    cat > "$WORK/envparity-sample.toml" <<TOML
[environments.bench]
database = "$WORK/events_sample.csv"
TOML
    echo "== envparity on the same CSV file (streaming)"
    t "$BIN" --config "$WORK/envparity-sample.toml" data profile bench -o "$WORK/csv.json"
fi
