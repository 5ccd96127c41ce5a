#!/usr/bin/env bash
# Load benchmark: envparity against wrk and oha, on nginx (Debian) on loopback, in one run.
# A benchmark, not a test.
#
#   bench/load/run.sh            # ~6 min; figures on stdout (Markdown), progress on stderr
#
# 1. Closed loop, same connection count: wrk and envparity with one thread each in
#    interleaved rounds (goal: envparity >= wrk), then wrk with 2 threads, oha, envparity
#    with 2 threads. envparity is asked for far more than it can send, so it sends as fast
#    as its connections allow.
# 2. Open model at fractions of envparity's maximum, measured again just before each:
#    the achieved rate against the target (goal: within 1 % up to 90 % of the maximum),
#    sends the generator left late (`behind`) apart from those that waited for a busy
#    connection, p50/p99 and CPU per request; oha at the same rate (`-q`, with its latency
#    correction) beside it.
# 3. TLS and HTTP/2 closed loop: wrk and envparity over https/1.1; oha and envparity over
#    h2 (8 connections × 16 streams).
#
# Environment (all optional):
#   BENCH_SECONDS      seconds per run (10)
#   BENCH_CONNECTIONS  connections for every tool (64)
#   BENCH_ROUNDS       interleaved rounds of wrk and envparity in the closed loop (3)
#   SKIP_BUILD=1       use the existing target/release/envparity
#   ENVPARITY_BIN      use this binary instead (no build)
#
# Needs nginx and wrk (apt-get install nginx-light wrk; installed here if missing, as root)
# and oha (cargo install --locked oha; installed here if missing, which takes minutes).
# Exit status 2 when something could not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${BENCH_SECONDS:-10}"
conns="${BENCH_CONNECTIONS:-64}"
work="$(mktemp -d "${TMPDIR:-/tmp}/envparity-load-bench.XXXXXX")"

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 2; }

nginx_pid=""
cleanup() {
    if [[ -n "$nginx_pid" ]]; then kill "$nginx_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# ---- tools ------------------------------------------------------------------------------
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing nginx-light and wrk…"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null \
            || die "apt-get install nginx-light wrk failed"
    else
        die "needs nginx and wrk: apt-get install nginx-light wrk"
    fi
fi
if ! command -v oha >/dev/null; then
    log "installing oha (cargo install --locked oha; a few minutes)…"
    cargo install --locked oha >/dev/null 2>&1 || log "oha could not be installed: its rows are left out"
fi
command -v /usr/bin/time >/dev/null || die "needs /usr/bin/time (apt-get install time)"
bin="${ENVPARITY_BIN:-$root/target/release/envparity}"
if [[ "${SKIP_BUILD:-0}" != 1 && -z "${ENVPARITY_BIN:-}" ]]; then
    log "building envparity (release)…"
    (cd "$root" && cargo build --release -q -p envparity) || die "cargo build failed"
fi
[[ -x "$bin" ]] || die "no binary at $bin"

# ---- nginx on loopback ------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tls_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" \
    -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 || die "openssl could not make a certificate"
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:$tls_port ssl http2;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        http2_max_concurrent_streams 128;
        location / { return 200 "ok\n"; }
    }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$port/" >/dev/null || die "nginx did not start"
url="http://127.0.0.1:$port/"
log "nginx $(nginx -v 2>&1 | sed 's/.*\///') on $url, 1 worker; $seconds s per run, $conns connections"

# CPU seconds (user+sys) of a command, written to $work/cpu.
timed() { /usr/bin/time -f "%U %S" -o "$work/cpu" "$@"; }
cpu() { awk '{ printf "%.2f", $1 + $2 }' "$work/cpu"; }

rows=()
row() { rows+=("$1"); }

# ---- 1. closed loop ---------------------------------------------------------------------
# This virtual machine's speed moves by 10-20 % within a minute, so the headline pair (wrk
# and envparity, one thread each) runs in interleaved rounds and is read round by round.
rounds="${BENCH_ROUNDS:-3}"
ep_closed() { # threads, output file → sends per second over the sending window
    timed "$bin" load "$url" --rate 1000000 --max-rate 1000000 --duration "${seconds}s" \
        --connections "$conns" --threads "$1" -o "$2" >/dev/null 2>"$work/ep-max.err" || true
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["achieved_rate"])' "$2"
}
pairs=()
ratios=()
for round in $(seq "$rounds"); do
    log "closed loop, round $round of $rounds: wrk, 1 thread…"
    timed wrk -t1 -c"$conns" -d"${seconds}s" "$url" >"$work/wrk1.txt"
    wrk1=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk1.txt")
    wrk1_cpu=$(cpu)
    log "closed loop, round $round of $rounds: envparity, 1 thread (asked for 1,000,000 req/s: it sends as fast as its connections allow)…"
    ep1=$(ep_closed 1 "$work/ep-max-1.json")
    ratio=$(python3 -c "print(f'{$ep1 / $wrk1:.2f}')")
    ratios+=("$ratio")
    pairs+=("| $round | $(printf '%.0f' "$wrk1") ($wrk1_cpu CPU s) | $(printf '%.0f' "$ep1") ($(cpu) CPU s) | ${ratio}× |")
done
log "closed loop: wrk, 2 threads…"
timed wrk -t2 -c"$conns" -d"${seconds}s" "$url" >"$work/wrk2.txt"
wrk2=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk2.txt")
row "| wrk 4.1, 2 threads, closed loop | $conns | $(printf '%.0f' "$wrk2") | $(awk '/Latency/ { print $2 }' "$work/wrk2.txt") (avg, from its own sends) | $(cpu) |"
have_oha=0
if command -v oha >/dev/null; then
    have_oha=1
    log "closed loop: oha…"
    timed oha -c "$conns" -z "${seconds}s" --no-tui --output-format json "$url" >"$work/oha.json"
    read -r oha_rps oha_p50 oha_p99 < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["latencyPercentiles"]
print(d["summary"]["requestsPerSec"], p["p50"], p["p99"])' "$work/oha.json")
    row "| oha $(oha --version | awk '{print $2}'), closed loop | $conns | $(printf '%.0f' "$oha_rps") | p50 $(python3 -c "print(f'{$oha_p50*1e3:.2f} ms')"), p99 $(python3 -c "print(f'{$oha_p99*1e3:.2f} ms')") | $(cpu) |"
fi
log "closed loop: envparity, 2 threads…"
ep2=$(ep_closed 2 "$work/ep-max-2.json")
ep2_p50=$(python3 -c 'import json, sys; p50 = json.load(open(sys.argv[1]))["service_time"]["p50"]; print(f"{p50*1e3:.2f} ms")' "$work/ep-max-2.json")
row "| envparity, 2 threads, as fast as it can | $conns | $(printf '%.0f' "$ep2") | service p50 $ep2_p50 | $(cpu) |"
echo "## Closed loop: nginx on loopback, $conns connections, ${seconds} s each"
echo
echo "wrk and envparity with one thread each, in interleaved rounds:"
echo
echo "| round | wrk 4.1, 1 thread, req/s | envparity, 1 thread, req/s | envparity / wrk |"
echo "|--:|--:|--:|--:|"
printf '%s\n' "${pairs[@]}"
echo
echo "Median envparity / wrk: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')×"
echo
echo "| tool | connections | req/s | latency | CPU s |"
echo "|:--|--:|--:|:--|--:|"
printf '%s\n' "${rows[@]}"
echo

# ---- 2. open model at fractions of the maximum ------------------------------------------
# The maximum is measured again right before each fraction (envparity, closed loop, one
# thread): against a maximum taken minutes earlier, a slower minute of this machine reads
# as the generator falling short. `behind` counts sends more than 50 ms late with a
# connection free (the generator's lag); `waited`, those late because every connection
# was busy (the target's queue).
echo "## Open model: fractions of the closed-loop maximum, measured just before each"
echo
echo "| tool | maximum just before | target req/s | achieved req/s | off by | late > 1 ms | behind (generator) | waited (target busy) | p50 | p99 | CPU s | CPU µs per request |"
echo "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for fraction in 0.25 0.5 0.75 0.9; do
    log "open model: envparity's maximum before the $fraction run…"
    max=$(ep_closed 1 "$work/ep-max-before-$fraction.json")
    rate=$(python3 -c "print(int($max * $fraction))")
    log "open model: envparity at $rate req/s…"
    timed "$bin" load "$url" --rate "$rate" --max-rate 1000000 --duration "${seconds}s" \
        --connections "$conns" --threads 1 -o "$work/ep-$fraction.json" >/dev/null 2>&1 || true
    python3 - "$work/ep-$fraction.json" "$rate" "$(cpu)" "$max" "$fraction" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); rate = float(sys.argv[2]); cpu = float(sys.argv[3])
top = float(sys.argv[4]); fraction = float(sys.argv[5])
off = (d["achieved_rate"] - rate) / rate * 100
ms = lambda s: f"{s*1e3:.2f} ms"
print(f"| envparity, 1 thread | {top:,.0f} | {rate:,.0f} ({fraction:.0%}) | {d['achieved_rate']:,.1f} | {off:+.2f} % | {d['late']:,} | {d['behind']:,} | {d['waited']:,} | {ms(d['latency']['p50'])} | {ms(d['latency']['p99'])} | {cpu:.2f} | {cpu/max(d['sent'],1)*1e6:.1f} |")
EOF
    if [[ $have_oha == 1 ]]; then
        log "open model: oha at $rate req/s…"
        timed oha -c "$conns" -q "$rate" --latency-correction -z "${seconds}s" --no-tui \
            --output-format json "$url" >"$work/oha-$fraction.json" || true
        python3 - "$work/oha-$fraction.json" "$rate" "$(cpu)" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); rate = float(sys.argv[2]); cpu = float(sys.argv[3])
s = d["summary"]; p = d["latencyPercentiles"]
got = s["requestsPerSec"]; n = got * s["total"]
off = (got - rate) / rate * 100
ms = lambda x: f"{x*1e3:.2f} ms"
print(f"| oha -q (latency correction) | | {rate:,.0f} | {got:,.1f} | {off:+.2f} % | | | | {ms(p['p50'])} | {ms(p['p99'])} | {cpu:.2f} | {cpu/max(n,1)*1e6:.1f} |")
EOF
    fi
done
echo

# ---- 3. TLS and HTTP/2, closed loop -------------------------------------------------------
tls_url="https://127.0.0.1:$tls_port/"
tls_rows=()
log "TLS: wrk over https/1.1…"
timed wrk -t1 -c"$conns" -d"${seconds}s" "$tls_url" >"$work/wrk-tls.txt"
tls_rows+=("| wrk, 1 thread | https/1.1, $conns connections | $(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$work/wrk-tls.txt") | $(cpu) |")
log "TLS: envparity over https/1.1…"
timed "$bin" load "$tls_url" --rate 1000000 --max-rate 1000000 --duration "${seconds}s" \
    --connections "$conns" --threads 1 --insecure -o "$work/ep-tls.json" >/dev/null 2>&1 || true
tls_rows+=("| envparity, 1 thread | https/1.1, $conns connections | $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["achieved_rate"]))' "$work/ep-tls.json") | $(cpu) |")
if [[ $have_oha == 1 ]]; then
    log "HTTP/2: oha…"
    timed oha --http2 --insecure -c 8 -p 16 -z "${seconds}s" --no-tui --output-format json "$tls_url" >"$work/oha-h2.json"
    tls_rows+=("| oha | https/h2, 8 connections × 16 streams | $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["summary"]["requestsPerSec"]))' "$work/oha-h2.json") | $(cpu) |")
fi
log "HTTP/2: envparity…"
timed "$bin" load "$tls_url" --rate 1000000 --max-rate 1000000 --duration "${seconds}s" \
    --http2 --connections 8 --streams 16 --threads 1 --insecure -o "$work/ep-h2.json" >/dev/null 2>&1 || true
tls_rows+=("| envparity, 1 thread | https/h2, 8 connections × 16 streams | $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["achieved_rate"]))' "$work/ep-h2.json") | $(cpu) |")
echo "## TLS and HTTP/2, closed loop (nginx, self-signed certificate, ${seconds} s each)"
echo
echo "| tool | protocol | req/s | CPU s |"
echo "|:--|:--|--:|--:|"
printf '%s\n' "${tls_rows[@]}"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo); nginx, the tool and this script share them."
