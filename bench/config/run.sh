#!/usr/bin/env bash
# Config-facet benchmark: envparity against `diff -r` (a floor) and Python's deepdiff, on a
# generated estate of ~7,000 files (~50 MB) per environment. A benchmark, not a test.
#
#   bench/config/run.sh            # from anywhere; figures on stdout, progress on stderr
#
# Environment (all optional):
#   BENCH_WORK        work folder (default ${TMPDIR:-/tmp}/envparity-bench): the estate, the venv,
#                     snapshots, reports and results.{json,md} land here; reused between runs
#   BENCH_SEED        generator seed (42)
#   BENCH_K8S_FILES   Kubernetes files per environment (5000)
#   BENCH_OTHER_FILES other config files per environment (2000)
#   DEEPDIFF_BUDGET   seconds deepdiff may run (900); beyond, it runs on a fraction and scales
#   BENCH_TIMEOUT     hard limit in seconds for any one timed command (1800)
#   BENCH_ROUNDS      times each envparity command and `diff -r` run (5); the table shows
#                     the round with the median wall time, and the median CPU seconds
#   SKIP_BUILD=1      use the existing target/release/envparity
#   ENVPARITY_BIN     use this binary instead (no build)
#   SKIP_DEEPDIFF=1   leave deepdiff out
#
# Exit status: 0 when envparity found every planted difference with its class; 1 when it
# missed or misclassified one; 2 when something could not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${BENCH_WORK:-${TMPDIR:-/tmp}/envparity-bench}"
seed="${BENCH_SEED:-42}"
k8s_files="${BENCH_K8S_FILES:-5000}"
other_files="${BENCH_OTHER_FILES:-2000}"
budget="${DEEPDIFF_BUDGET:-900}"
limit="${BENCH_TIMEOUT:-1800}"
bench_rounds="${BENCH_ROUNDS:-5}"
[[ "$bench_rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench: error: BENCH_ROUNDS must be a positive whole number" >&2; exit 2; }
estate="$work/estate"
out="$work/out"

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 2; }

for tool in python3 /usr/bin/time timeout diff cargo; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
mkdir -p "$work" "$out"

# ---- 1. build ---------------------------------------------------------------------------
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="${ENVPARITY_BIN:-$target_dir/release/envparity}"
if [[ "${SKIP_BUILD:-0}" != 1 && -z "${ENVPARITY_BIN:-}" ]]; then
    log "building envparity (release)…"
    (cd "$root" && cargo build --release -q -p envparity) || die "cargo build failed"
fi
[[ -x "$bin" ]] || die "no binary at $bin"

# ---- 2. the estate ----------------------------------------------------------------------
stamp="seed=$seed k8s=$k8s_files other=$other_files gen=$(sha256sum "$here/gen_estate.py" | cut -c1-16)"
if [[ ! -f "$estate/planted.json" || "$(cat "$estate/.stamp" 2>/dev/null)" != "$stamp" ]]; then
    log "generating the estate into $estate ($stamp)…"
    rm -rf "$estate"
    mkdir -p "$estate"
    timeout "$limit" python3 "$here/gen_estate.py" "$estate" --seed "$seed" \
        --k8s-files "$k8s_files" --other-files "$other_files" >/dev/null || die "generator failed"
    echo "$stamp" >"$estate/.stamp"
    rm -rf "$work/deepdiff-json"
else
    log "reusing the estate in $estate"
fi
planted="$(cat "$estate/planted.count")"
bytes_of() { find "$estate/$1" -type f "${@:2}" -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
qa_bytes="$(bytes_of qa)"; prod_bytes="$(bytes_of prod)"
qa_yaml="$(bytes_of qa -name '*.yaml')"; prod_yaml="$(bytes_of prod -name '*.yaml')"
both_bytes=$((qa_bytes + prod_bytes)); both_yaml=$((qa_yaml + prod_yaml))
files_qa="$(find "$estate/qa" -type f | wc -l)"; files_prod="$(find "$estate/prod" -type f | wc -l)"
log "estate: qa $files_qa files $((qa_bytes / 1000000)) MB, prod $files_prod files $((prod_bytes / 1000000)) MB; $planted planted differences"

# Warm the page cache so every tool reads from memory.
find "$estate/qa" "$estate/prod" -type f -exec cat {} + >/dev/null

# ---- timing helper ----------------------------------------------------------------------
# measure NAME INPUT OKCODES CMD…: runs CMD `rounds` times in the estate folder under
# /usr/bin/time -v and a timeout; records the median round's wall seconds, MB/s, peak RSS
# and CPU share, and the median CPU seconds (user + sys). A single run moves by a third on
# a shared virtual machine. INPUT: qa, prod or both (what the command reads, for MB/s).
# OKCODES: exit codes that are success.
results="$out/results.tsv"
printf 'name\tbytes\twall_s\tmb_s\trss_mb\tcpu_pct\tyaml_bytes\tyaml_mb_s\tcpu_s\trounds\n' >"$results"
rounds=1
measure() {
    local name="$1" input="$2" ok="$3"; shift 3
    local bytes yaml
    case "$input" in
        qa) bytes=$qa_bytes; yaml=$qa_yaml ;;
        prod) bytes=$prod_bytes; yaml=$prod_yaml ;;
        *) bytes=$both_bytes; yaml=$both_yaml ;;
    esac
    local tfile="$out/time.$name" round
    : >"$tfile.rounds"
    for ((round = 1; round <= rounds; round++)); do
        local rc=0
        log "running $name (round $round of $rounds)…"
        (cd "$estate" && timeout -k 10 "$limit" /usr/bin/time -v -o "$tfile" "$@") || rc=$?
        if [[ " $ok " != *" $rc "* ]]; then
            [[ $rc == 124 ]] && die "$name did not finish within $limit s"
            die "$name exited with $rc (accepted: $ok)"
        fi
        # One line per round: wall s, peak RSS MB, CPU %, CPU s.
        awk -F': ' '
            /Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; wall=s}
            /Maximum resident set size/ {rss=sprintf("%.0f", $2/1024)}
            /Percent of CPU/ {gsub("%","",$2); cpu=$2}
            /User time \(seconds\)/ {user=$2}
            /System time \(seconds\)/ {sys=$2}
            END {printf "%s %s %s %.2f\n", wall, rss, cpu, user+sys}' "$tfile" >>"$tfile.rounds"
    done
    local median=$(((rounds + 1) / 2)) wall rss cpu cpu_s
    read -r wall rss cpu _ < <(sort -n -k1,1 "$tfile.rounds" | sed -n "${median}p")
    cpu_s="$(sort -n -k4,4 "$tfile.rounds" | sed -n "${median}p" | cut -d' ' -f4)"
    local mbs ymbs
    mbs="$(awk -v b="$bytes" -v w="$wall" 'BEGIN { if (w > 0) printf "%.1f", b/1e6/w; else print "-" }')"
    ymbs="$(awk -v b="$yaml" -v w="$wall" 'BEGIN { if (w > 0) printf "%.1f", b/1e6/w; else print "-" }')"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$bytes" "$wall" "$mbs" "$rss" "$cpu" "$yaml" "$ymbs" "$cpu_s" "$rounds" >>"$results"
    log "  $name: ${wall}s, ${mbs} MB/s (${ymbs} MB/s of YAML), peak RSS ${rss} MB, CPU ${cpu}%, ${cpu_s} CPU-s (median of $rounds)"
}

# ---- 3. envparity -----------------------------------------------------------------------
export ENVPARITY_KEY="envparity-bench-key-not-a-secret"   # so two snapshots compare secrets
export NO_COLOR=1
rm -f "$out"/qa.json "$out"/prod.json "$out"/report*.json
rounds=$bench_rounds
measure envparity-snapshot-qa qa "0" "$bin" -q snapshot qa -o "$out/qa.json"
measure envparity-snapshot-prod prod "0" "$bin" -q snapshot prod -o "$out/prod.json"
measure envparity-diff-snapshots both "0 1" \
    "$bin" -q diff "$out/qa.json" "$out/prod.json" --format json -o "$out/report-snapshots.json"
measure envparity-diff-all-in-one both "0 1" \
    "$bin" -q diff qa prod --format json -o "$out/report.json"
measure envparity-diff-text both "0 1" \
    sh -c "\"$bin\" -q diff qa prod --format text >\"$out/report.txt\""

# ---- 4. diff -r, the floor --------------------------------------------------------------
measure diff-r both "0 1" sh -c 'diff -r qa prod >/dev/null'
rounds=1

# ---- 5. deepdiff ------------------------------------------------------------------------
dd_json=""
if [[ "${SKIP_DEEPDIFF:-0}" != 1 ]]; then
    venv="$work/venv"
    if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import deepdiff, yaml' 2>/dev/null; then
        log "creating the deepdiff venv in $venv…"
        python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
        "$venv/bin/pip" install -q --disable-pip-version-check deepdiff pyyaml || die "pip install deepdiff pyyaml failed"
    fi
    conv="$work/deepdiff-json"
    if [[ ! -f "$conv/prod.json" ]]; then
        measure deepdiff-convert both "0" sh -c \
            "\"$venv/bin/python\" \"$here/deepdiff_bench.py\" convert . \"$conv\" >\"$out/deepdiff-convert.json\""
    else
        log "reusing the converted JSON in $conv"
    fi
    measure deepdiff both "0" sh -c \
        "\"$venv/bin/python\" \"$here/deepdiff_bench.py\" run \"$conv\" --budget $budget >\"$out/deepdiff.json\""
    dd_json="$out/deepdiff.json"
fi

# ---- 6. correctness: every planted difference found? -------------------------------------
check_rc=0
log "checking the all-in-one report against $planted planted differences…"
python3 "$here/check_findings.py" "$out/report.json" "$estate/planted.json" | tee "$out/check.txt" >&2 || check_rc=1
log "checking the snapshot-to-snapshot report…"
python3 "$here/check_findings.py" "$out/report-snapshots.json" "$estate/planted.json" | tee "$out/check-snapshots.txt" >&2 || check_rc=1

# ---- 7. summary -------------------------------------------------------------------------
python3 - "$results" "$out" "$estate" "$dd_json" "$both_bytes" "$both_yaml" "$planted" "$(nproc)" <<'PY'
import json, sys, os, platform, subprocess
results, out, estate, dd_json, both_bytes, yaml_bytes, planted, cores = sys.argv[1:9]
rows = [l.rstrip("\n").split("\t") for l in open(results)][1:]
r = {row[0]: {"bytes": int(row[1]), "wall_s": float(row[2]), "mb_s": row[3], "rss_mb": int(row[4]),
              "cpu_pct": row[5], "yaml_bytes": int(row[6]), "yaml_mb_s": row[7],
              "cpu_s": float(row[8]), "rounds": int(row[9])} for row in rows}
dd = json.load(open(dd_json)) if dd_json else None
conv = json.load(open(os.path.join(out, "deepdiff-convert.json"))) if dd and os.path.exists(os.path.join(out, "deepdiff-convert.json")) else None
check = [json.loads(l.split(" ", 1)[1]) for l in open(os.path.join(out, "check.txt")) if l.startswith("check-json:")][0]
est = json.load(open(os.path.join(estate, "estate.json")))

lines = []
p = lines.append
p(f"# envparity config benchmark")
p("")
p(f"Estate: seed {est['seed']}, {est['sizes']['qa']['files']} + {est['sizes']['prod']['files']} files, "
  f"{int(both_bytes)/1e6:.1f} MB in both environments ({int(yaml_bytes)/1e6:.1f} MB of it YAML), "
  f"{planted} planted differences; {cores} cores. MB/s: all config bytes the run reads / wall time; YAML MB/s: only the YAML bytes of them / wall time; CPU % above 100 means more than one core was busy.")
p("")
p("Wall s, MB/s, peak RSS and CPU % are the round with the median wall time; CPU s (user + sys) is the median over the rounds.")
p("")
p("| run | rounds | input MB | wall s | MB/s | YAML MB/s | peak RSS MB | CPU % | CPU s |")
p("|:--|--:|--:|--:|--:|--:|--:|--:|--:|")
for name, v in r.items():
    p(f"| {name} | {v['rounds']} | {v['bytes']/1e6:.1f} | {v['wall_s']:.2f} | {v['mb_s']} | {v['yaml_mb_s']} | {v['rss_mb']} | {v['cpu_pct']} | {v['cpu_s']:.2f} |")
p("")
snap = r["envparity-snapshot-qa"]["wall_s"] + r["envparity-snapshot-prod"]["wall_s"] + r["envparity-diff-snapshots"]["wall_s"]
aio = r["envparity-diff-all-in-one"]["wall_s"]
p(f"envparity, snapshot qa + snapshot prod + diff of the snapshots: {snap:.2f} s; all-in-one `diff qa prod`: {aio:.2f} s.")
aio_cpu = r["envparity-diff-all-in-one"]["cpu_s"]
per_cpu = int(yaml_bytes) / 1e6 / aio_cpu if aio_cpu > 0 else float("inf")
per_core = int(yaml_bytes) / 1e6 / aio / int(cores)
p(f"Per core (the goal is 50 MB/s of YAML per core): all in one spent {aio_cpu:.2f} CPU-s, **{per_cpu:.1f} MB of YAML per CPU-second**; "
  f"by wall time on {cores} cores, {per_core:.1f} MB/s of YAML per core.")
if dd:
    dds = dd["scaled_seconds"]
    how = (f"measured on {dd['fraction']:.1%} of the files ({dd['seconds']:.1f} s) and scaled linearly to the whole estate"
           if dd["scaled"] else "measured on the whole estate")
    p(f"deepdiff {dd['deepdiff_version']} (ignore_order=True): {dds:.1f} s for DeepDiff() alone, {how}; "
      f"converting the files to one JSON per environment took {conv['seconds'] if conv else '?'} s more "
      f"(PyYAML {'with libyaml' if conv and 'libyaml' in conv.get('loader','') else ''}), not counted; loading that JSON {dd['load_seconds']} s, not counted.")
    p(f"deepdiff reported {dd['changes_total']} changes{' in the sample' if dd['scaled'] else ''}: "
      + ", ".join(f"{k} {v}" for k, v in dd["changes"].items()) + " (every env-token difference and reordered list counts).")
    p(f"Ratio: deepdiff / envparity all-in-one = **{dds/aio:.1f}x** (envparity also parses the files); "
      f"deepdiff / envparity snapshot-to-snapshot diff = {dds/r['envparity-diff-snapshots']['wall_s']:.1f}x.")
p(f"diff -r (floor: bytes, no parsing): {r['diff-r']['wall_s']:.2f} s.")
p("")
p(f"Correctness: envparity found {check['found']} of {check['planted']} planted differences with the right class "
  f"(missed {check['missed']}, misclassified {check['misclassified']}); "
  f"{check['unplanted_actionable']} actionable findings were not planted; report classes: "
  + ", ".join(f"{k} {v}" for k, v in sorted(check["classes"].items())) + ".")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "results.md"), "w").write(text)
json.dump({"runs": r, "deepdiff": dd, "convert": conv, "check": check, "estate": est},
          open(os.path.join(out, "results.json"), "w"), indent=1)
print(text)
PY
log "results: $out/results.md, $out/results.json"
if [[ $check_rc != 0 ]]; then
    log "FAIL: envparity missed or misclassified planted differences (see $out/check.txt)"
    exit 1
fi
