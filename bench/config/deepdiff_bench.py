#!/usr/bin/env python3
"""The deepdiff side of the config benchmark. Runs in the bench venv (deepdiff, PyYAML).

    deepdiff_bench.py convert ESTATE OUTDIR
        Parses every file of ESTATE/qa and ESTATE/prod (YAML multi-document, JSON, TOML,
        INI, .env, properties) into one JSON document per environment, {relative path:
        content}: OUTDIR/qa.json, OUTDIR/prod.json. Prints the conversion time as JSON.

    deepdiff_bench.py run OUTDIR [--budget SECONDS] [--fraction F]
        DeepDiff(qa, prod, ignore_order=True) on the converted documents; only the DeepDiff
        call is timed (loading the JSON is reported apart). With --budget (default 900 s) it
        first times a small calibration sample (0.5 % of the files); if the whole estate
        would take longer than the budget, it runs on the largest fraction of files that
        fits and scales the time linearly to the whole estate, and says so. The fraction is
        a deterministic sample of files (by a hash of their path), the same for qa and prod.
        Prints one JSON object: seconds, fraction, scaled seconds, change counts.

ignore_order=True because envparity treats reordering as no difference; deepdiff has no
notion of environment tokens or secrets, so it reports every env-token difference too.
"""

import argparse
import configparser
import hashlib
import json
import os
import sys
import time
import tomllib

import yaml

try:
    from yaml import CSafeLoader as Loader
    LOADER = "libyaml (CSafeLoader)"
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader
    LOADER = "pure Python (SafeLoader)"


def parse_flat(text, seps):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!;":
            continue
        cut = min((i for i in (line.find(s) for s in seps) if i >= 0), default=-1)
        if cut < 0:
            out[line] = ""
            continue
        key, value = line[:cut].strip(), line[cut + 1:].strip()
        if key.startswith("export "):
            key = key[7:].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key] = value
    return out


def parse_file(path, text):
    name = os.path.basename(path).lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return parse_flat(text, "=")
    ext = name.rsplit(".", 1)[-1]
    if ext in ("yaml", "yml"):
        return [d for d in yaml.load_all(text, Loader=Loader) if d is not None]
    if ext == "json":
        return json.loads(text)
    if ext == "toml":
        return tomllib.loads(text)
    if ext in ("ini", "cfg"):
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        cp.optionxform = str
        cp.read_string(text)
        return {s: dict(cp.items(s)) for s in cp.sections()}
    if ext == "properties":
        return parse_flat(text, "=:")
    return None


def convert_env(root):
    doc, size = {}, 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in sorted(filenames):
            path = os.path.join(dirpath, fn)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            size += len(text.encode())
            content = parse_file(path, text)
            if content is not None:
                doc[os.path.relpath(path, root)] = content
    return doc, size


def json_default(o):
    return str(o)  # dates from YAML/TOML


def cmd_convert(args):
    os.makedirs(args.outdir, exist_ok=True)
    result = {"loader": LOADER}
    for env in ("qa", "prod"):
        t0 = time.perf_counter()
        doc, size = convert_env(os.path.join(args.estate, env))
        parsed = time.perf_counter() - t0
        with open(os.path.join(args.outdir, f"{env}.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, default=json_default, separators=(",", ":"))
        result[env] = {"files": len(doc), "input_bytes": size, "parse_seconds": round(parsed, 3),
                       "total_seconds": round(time.perf_counter() - t0, 3)}
        print(f"deepdiff: converted {env}: {len(doc)} files in {parsed:.1f} s", file=sys.stderr)
    result["seconds"] = round(result["qa"]["total_seconds"] + result["prod"]["total_seconds"], 3)
    print(json.dumps(result))


def in_sample(path, fraction):
    if fraction >= 1:
        return True
    h = int.from_bytes(hashlib.sha256(path.encode()).digest()[:8], "big")
    return h / 2**64 < fraction


def subset(doc, fraction):
    return {k: v for k, v in doc.items() if in_sample(k, fraction)}


def timed_diff(qa, prod, fraction):
    from deepdiff import DeepDiff
    a, b = subset(qa, fraction), subset(prod, fraction)
    t0 = time.perf_counter()
    diff = DeepDiff(a, b, ignore_order=True)
    seconds = time.perf_counter() - t0
    counts = {k: len(v) for k, v in diff.items()}
    return seconds, len(set(a) | set(b)), counts


def cmd_run(args):
    import deepdiff
    t0 = time.perf_counter()
    docs = {}
    for env in ("qa", "prod"):
        with open(os.path.join(args.outdir, f"{env}.json"), encoding="utf-8") as f:
            docs[env] = json.load(f)
    load_seconds = time.perf_counter() - t0
    total_files = len(set(docs["qa"]) | set(docs["prod"]))
    result = {"deepdiff_version": deepdiff.__version__, "load_seconds": round(load_seconds, 3),
              "files": total_files, "ignore_order": True}
    fraction = args.fraction
    if fraction is None:
        calib = max(0.005, 20 / max(total_files, 1))
        cs, cfiles, _ = timed_diff(docs["qa"], docs["prod"], calib)
        estimate = cs * total_files / max(cfiles, 1)
        result["calibration"] = {"fraction": calib, "files": cfiles, "seconds": round(cs, 3),
                                 "estimated_full_seconds": round(estimate, 1)}
        print(f"deepdiff: calibration on {cfiles} files took {cs:.1f} s; whole estate ≈ {estimate:.0f} s",
              file=sys.stderr)
        fraction = 1.0 if estimate <= args.budget else max(calib, 0.9 * args.budget / estimate)
    print(f"deepdiff: running on {fraction:.1%} of the files (ignore_order=True)…", file=sys.stderr)
    seconds, files, counts = timed_diff(docs["qa"], docs["prod"], fraction)
    share = files / max(total_files, 1)
    result.update({
        "fraction": round(share, 4),
        "sample_files": files,
        "seconds": round(seconds, 3),
        "scaled_seconds": round(seconds / share, 3) if share else None,
        "scaled": share < 1,
        "changes": counts,
        "changes_total": sum(counts.values()),
    })
    print(json.dumps(result))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("estate")
    c.add_argument("outdir")
    r = sub.add_parser("run")
    r.add_argument("outdir")
    r.add_argument("--budget", type=float, default=900)
    r.add_argument("--fraction", type=float)
    args = ap.parse_args()
    {"convert": cmd_convert, "run": cmd_run}[args.cmd](args)


if __name__ == "__main__":
    main()
