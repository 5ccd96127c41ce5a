#!/usr/bin/env python3
"""Checks an envparity JSON report against the planted differences of a generated estate.

    python3 check_findings.py REPORT.json PLANTED.json

Prints how many planted differences were found with the right class, which were missed or
misclassified, and the actionable findings that were not planted (false positives),
grouped by class and key shape. Exits 1 if any planted difference is missed or
misclassified, else 0. Unplanted findings are reported but do not fail the check.
"""

import json
import re
import sys
from collections import Counter

ACTIONABLE = {"drift", "missing", "extra", "shared-secret", "unreadable"}


def shape(key):
    """A key with file, object and list identities generalized, to group findings."""
    key = re.sub(r"^[^:]*?/([^/:]+)\.(yaml|json|toml|ini|properties)", r"…/*.\2", key)
    key = re.sub(r"^services/[^/]+/", "services/*/", key)
    key = re.sub(r"/shop-\{env\}/[^:]+", "/shop-{env}/*", key)
    key = re.sub(r"\[name=[^\]]+\]", "[name=*]", key)
    key = re.sub(r"\[id=[^\]]+\]", "[id=*]", key)
    return key


def main():
    report_path, planted_path = sys.argv[1], sys.argv[2]
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    with open(planted_path, encoding="utf-8") as f:
        planted = json.load(f)

    found = {}
    for finding in report["findings"]:
        found.setdefault(finding["key"], []).append(finding["class"])
    planted_keys = {p["key"]: p for p in planted["planted"]}

    ok, missed, wrong = 0, [], []
    for p in planted["planted"]:
        classes = found.get(p["key"])
        if not classes:
            missed.append(p)
        elif p["class"] in classes:
            ok += 1
        else:
            wrong.append((p, classes))

    unplanted = Counter()
    for finding in report["findings"]:
        if finding["class"] in ACTIONABLE and finding["key"] not in planted_keys:
            unplanted[(finding["class"], shape(finding["key"]))] += 1
    counts = Counter(f["class"] for f in report["findings"])

    print(f"check: planted {planted['count']}, found with the right class {ok}, "
          f"missed {len(missed)}, misclassified {len(wrong)}")
    print("check: report classes: " + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())))
    for p in missed[:20]:
        print(f"check:   MISSED {p['class']:<13} {p['key']}")
    for p, classes in wrong[:20]:
        print(f"check:   WRONG  {p['class']:<13} {p['key']} (reported as {', '.join(classes)})")
    if unplanted:
        total = sum(unplanted.values())
        print(f"check: {total} actionable findings were not planted (false positives), by shape:")
        for (cls, key_shape), n in unplanted.most_common(10):
            print(f"check:   {n:>6} {cls:<13} {key_shape}")
    summary = {"planted": planted["count"], "found": ok, "missed": len(missed),
               "misclassified": len(wrong), "unplanted_actionable": sum(unplanted.values()),
               "classes": dict(counts)}
    print("check-json: " + json.dumps(summary))
    return 1 if missed or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
