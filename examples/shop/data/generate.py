#!/usr/bin/env python3
"""Writes the example's QA and Production SQLite databases (qa.db, prod.db).

Deterministic: the same script writes the same rows. The differences planted here are
what `envparity diff qa prod` reports under the schema and data facets:

schema: prod has an index on orders(customer_id) that qa lacks; orders.total is
NUMERIC(10,2) in prod and INTEGER in qa; customers.email is NOT NULL in prod only;
prod has a `refunds` table; the migration marker (user_version) is 42 vs 41.

data: prod customers.name is ~4 % non-ASCII, qa 0 %; prod orders.coupon is ~37 % NULL,
qa never; prod order totals are long-tailed, qa's uniform; prod orders has 10,000 rows,
qa 80; prod has `refunded` and `chargeback` orders, qa never; some prod cities carry
stray whitespace.
"""
import os
import random
import sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))

FIRST = ["Ana", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jack",
         "Kate", "Liam", "Mia", "Noah", "Olivia", "Paul", "Quinn", "Ruby", "Sam", "Tara"]
LAST = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas", "Roberts",
        "Walker", "Wright", "Green", "Hall", "Wood", "Clarke", "Hughes"]
NON_ASCII = ["José Núñez", "Zoë Brontë", "Łukasz Wójcik", "Søren Kierkegård", "Chloé Dubois",
             "李雷", "Ольга Петрова", "Ümit Yılmaz", "Siobhán Ó Briain", "Ana Müller"]
CITIES = ["London", "Leeds", "Bristol", "Manchester", "York", "Bath", "Cardiff", "Glasgow"]
NOTES = ["please leave the parcel with the neighbour at number twelve",
         "call before delivery, the doorbell does not work at all",
         "gift wrap this order and do not include the invoice please",
         ""]


def schema(db, prod):
    total = "NUMERIC(10,2)" if prod else "INTEGER"
    email = "TEXT NOT NULL" if prod else "TEXT"
    db.executescript(f"""
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email {email},
            city TEXT,
            notes TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'refunded', 'chargeback')),
            total {total} NOT NULL,
            coupon TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX orders_created_at_idx ON orders(created_at);
        CREATE VIEW open_orders AS SELECT id, customer_id, total FROM orders WHERE status IN ('new', 'paid');
    """)
    if prod:
        db.executescript("""
            CREATE INDEX orders_customer_idx ON orders(customer_id);
            CREATE TABLE refunds (
                id INTEGER PRIMARY KEY,
                order_id INTEGER NOT NULL REFERENCES orders(id),
                amount NUMERIC(10,2) NOT NULL,
                reason TEXT
            );
        """)
    db.execute(f"PRAGMA user_version = {42 if prod else 41}")


def fill(db, prod, rng):
    customers = 3000 if prod else 60
    orders = 10000 if prod else 80
    for i in range(1, customers + 1):
        if prod and rng.random() < 0.04:
            name = rng.choice(NON_ASCII)
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        city = rng.choice(CITIES)
        if prod and rng.random() < 0.03:
            city = " " + city if rng.random() < 0.5 else city + " "
        email = f"{name.split()[0].lower()}.{i}@example.com" if prod or rng.random() < 0.9 else None
        db.execute(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
            (i, name, email, city, rng.choice(NOTES) if prod else "",
             f"20{rng.randint(19, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"),
        )
    statuses = ["new", "paid", "shipped", "refunded", "chargeback"] if prod else ["new", "paid", "shipped"]
    weights = [10, 20, 60, 8, 2] if prod else [30, 30, 40]
    for i in range(1, orders + 1):
        if prod:
            total = round(min(rng.lognormvariate(3.5, 1.0), 5000), 2)
            coupon = None if rng.random() < 0.37 else rng.choice(["SPRING10", "WELCOME5", "VIP20"])
        else:
            total = rng.randint(10, 60)
            coupon = "TEST10"
        db.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            (i, rng.randint(1, customers), rng.choices(statuses, weights)[0], total, coupon,
             f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"),
        )
    if prod:
        for i in range(1, 301):
            db.execute("INSERT INTO refunds VALUES (?, ?, ?, ?)",
                       (i, rng.randint(1, orders), round(rng.uniform(5, 200), 2), rng.choice(NOTES)))


for env, prod in (("qa", False), ("prod", True)):
    path = os.path.join(HERE, f"{env}.db")
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    schema(db, prod)
    fill(db, prod, random.Random(7 if prod else 3))
    db.commit()
    db.execute("VACUUM")
    db.close()
    print(f"wrote {path}")
