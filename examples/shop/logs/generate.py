#!/usr/bin/env python3
"""Writes the example's access logs: a day of Production traffic (prod/access.log.gz) and
QA's last load test (qa/access.log.gz), nginx format with $request_time. Deterministic.

Planted: QA's load test browses (products, search, cart, account) but never adds to the
cart nor checks out, and its peak (about 40 req/s) is far below Production's lunchtime
spike (hundreds of requests in one second).
"""
import gzip
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FMT = '{ip} - - [{t}] "{m} {path} HTTP/1.1" {status} {size} "-" "{ua}" {rt:.3f}\n'


def stamp(day, second):
    h, m, s = second // 3600, (second // 60) % 60, second % 60
    return f"{day}/Nov/2026:{h:02d}:{m:02d}:{s:02d} +0000"


def prod(rng):
    routes = [
        (40, "GET", lambda: f"/products/{rng.randint(1, 5000)}"),
        (15, "GET", lambda: "/products?page=" + str(rng.randint(1, 40))),
        (10, "GET", lambda: "/search?q=" + rng.choice(["shoes", "red+dress", "gift"])),
        (10, "GET", lambda: "/cart"),
        (8, "POST", lambda: "/cart/items"),
        (7, "POST", lambda: "/checkout"),
        (5, "GET", lambda: "/users/me"),
        (5, "GET", lambda: f"/orders/{rng.randint(100000, 999999)}"),
    ]
    weights = [r[0] for r in routes]
    lines = []
    for _ in range(20000):
        # More traffic in the day than at night.
        second = int(rng.triangular(0, 86399, 13 * 3600))
        _, method, path = rng.choices(routes, weights)[0]
        status = 200 if rng.random() > 0.01 else 502
        lines.append((second, method, path(), status))
    for _ in range(300):  # the lunchtime flash sale: 300 requests in one second
        lines.append((12 * 3600, "GET", f"/products/{rng.randint(1, 50)}", 200))
    lines.sort(key=lambda l: l[0])
    return [
        FMT.format(ip=f"203.0.113.{rng.randint(1, 254)}", t=stamp(23, s), m=m, path=p,
                   status=st, size=rng.randint(200, 9000), ua="Mozilla/5.0",
                   rt=rng.uniform(0.02, 0.4) if m == "GET" else rng.uniform(0.1, 1.2))
        for s, m, p, st in lines
    ]


def qa(rng):
    routes = [
        (50, "GET", lambda: f"/products/{rng.randint(1, 200)}"),
        (20, "GET", lambda: "/products?page=1"),
        (15, "GET", lambda: "/search?q=test"),
        (10, "GET", lambda: "/cart"),
        (5, "GET", lambda: "/users/me"),
    ]
    weights = [r[0] for r in routes]
    out = []
    for second in range(600):  # a 10-minute k6 run ramping to 40 req/s
        rate = min(40, 1 + second // 10)
        for _ in range(rate):
            _, method, path = rng.choices(routes, weights)[0]
            out.append(FMT.format(ip="10.20.0.5", t=stamp(20, 9 * 3600 + second), m=method,
                                  path=path(), status=200, size=rng.randint(200, 9000),
                                  ua="k6/0.50", rt=rng.uniform(0.01, 0.08)))
    return out


os.makedirs(os.path.join(HERE, "prod"), exist_ok=True)
os.makedirs(os.path.join(HERE, "qa"), exist_ok=True)
with gzip.GzipFile(os.path.join(HERE, "prod", "access.log.gz"), "wb", mtime=0) as f:
    f.write("".join(prod(random.Random(11))).encode())
with gzip.GzipFile(os.path.join(HERE, "qa", "access.log.gz"), "wb", mtime=0) as f:
    f.write("".join(qa(random.Random(5))).encode())
print("wrote logs/prod/access.log.gz and logs/qa/access.log.gz")
