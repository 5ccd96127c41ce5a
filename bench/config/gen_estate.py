#!/usr/bin/env python3
"""Generates a large, deterministic QA/Production configuration estate for benchmarking.

    python3 gen_estate.py OUT [--seed 42] [--k8s-files 5000] [--other-files 2000]

Writes OUT/envparity.toml, OUT/qa/**, OUT/prod/**, and beside them (never under qa/ or prod/):

- OUT/planted.json   every difference planted between qa and prod that envparity must report
                     as actionable: {"count", "by_class", "by_kind", "planted": [{key, class, kind}]}
- OUT/planted.count  the number alone
- OUT/estate.json    sizes, file counts, what else differs (env tokens, reorderings)

Per environment (defaults): 5,000 Kubernetes files under k8s/<team>/<service>.yaml, each a
multi-document file with a Deployment, a Service and a ConfigMap (some also a
HorizontalPodAutoscaler), and 2,000 other files under services/<app>/ (app.yaml,
features.json, config.toml, .env, application.properties) and legacy/<job>.ini: about
50 MB per environment.

Besides the planted differences, prod differs from qa in ways that are NOT drift:
- environment tokens everywhere (namespace shop-qa/shop-prod, qa-db-3.internal vs
  prod-db-3.internal, buckets, SPRING_PROFILES_ACTIVE): envparity's `env-equivalent`;
- secrets with different values (expected);
- reordering: map keys, env vars, ports, volumes, features, [[upstreams]], .env/properties
  lines, INI sections, set-like lists; comments and quoting styles.

Everything is derived from the seed: the same arguments give byte-identical output.
Standard library only.
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sys

ENV_MARK = "@ENV@"  # replaced by the environment's token when a file is rendered
NAMESPACE = "shop-" + ENV_MARK

TEAMS = ["checkout", "catalog", "payments", "search", "identity", "fulfilment",
         "pricing", "reviews", "loyalty", "messaging", "media", "analytics"]
WORDS = ["cart", "order", "invoice", "ledger", "stock", "basket", "coupon", "voucher",
         "shipment", "parcel", "label", "refund", "wallet", "session", "profile", "avatar",
         "review", "rating", "banner", "promo", "feed", "index", "crawler", "mailer",
         "notifier", "gateway", "router", "scheduler", "exporter", "importer", "ingest",
         "resizer", "thumbnail", "tax", "fraud", "risk", "quote", "bundle", "wishlist",
         "audit", "billing", "payout", "returns", "warehouse", "picker", "tracker"]
SUFFIXES = ["api", "worker", "svc", "sync", "cron", "consumer", "web", "backend"]
ENV_VARS_PLAIN = {  # name -> plausible values (all numbers written as strings)
    "HTTP_TIMEOUT_MS": ["500", "1000", "2000", "5000"], "RETRY_MAX": ["1", "2", "3", "5"],
    "RETRY_BACKOFF_MS": ["50", "100", "250", "500"], "CACHE_TTL_SECONDS": ["30", "60", "300", "600"],
    "MAX_BATCH": ["50", "100", "500", "1000"], "QUEUE_PREFETCH": ["10", "20", "50"],
    "GRPC_KEEPALIVE_S": ["10", "30", "60"], "FEATURE_REFRESH_S": ["15", "30", "60"],
    "CIRCUIT_BREAKER_THRESHOLD": ["5", "10", "20"], "RATE_LIMIT_RPS": ["50", "100", "500", "1000"],
    "SHUTDOWN_GRACE_S": ["10", "20", "30"], "WORKER_THREADS": ["2", "4", "8", "16"],
    "DB_POOL_MIN": ["1", "2", "4"], "DB_POOL_MAX": ["10", "20", "30", "50"],
    "MAX_UPLOAD_MB": ["5", "10", "25"], "SESSION_IDLE_MIN": ["15", "30", "60"],
    "OUTBOX_POLL_MS": ["100", "250", "1000"], "IDEMPOTENCY_TTL_H": ["24", "48", "72"],
    "OTEL_SAMPLER_ARG": ["0.01", "0.05", "0.1"], "METRICS_PORT": ["9090"],
}
ENV_VARS_FIXED = [("LOG_FORMAT", "json"), ("TZ", "UTC"), ("LANG", "C.UTF-8"),
                  ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")]


class Literal(str):
    """A multi-line string emitted as a YAML block scalar."""


def fill(value, env):
    """Replaces the environment mark in every string of a tree."""
    if isinstance(value, Literal):
        return Literal(value.replace(ENV_MARK, env))
    if isinstance(value, str):
        return value.replace(ENV_MARK, env)
    if isinstance(value, dict):
        return {k: fill(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, env) for v in value]
    return value


# ---------------------------------------------------------------- YAML emitter

_PLAIN_OK = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:@=,+\-]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def yaml_scalar(v, quote='"'):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    plain = (_PLAIN_OK.match(s) and s.lower() not in _RESERVED and ": " not in s
             and not s.endswith(":"))
    if plain:
        return s
    if quote == "'" and "'" not in s and "\\" not in s:
        return "'" + s + "'"
    return json.dumps(s)


def yaml_lines(node, indent, out, styles):
    pad = " " * indent
    if isinstance(node, dict):
        if not node:
            out.append(pad + "{}")
            return
        for k, v in node.items():
            key = k if _PLAIN_OK.match(k) else json.dumps(k)
            if isinstance(v, Literal):
                out.append(f"{pad}{key}: |")
                for line in v.rstrip("\n").split("\n"):
                    out.append(pad + "  " + line if line else "")
            elif isinstance(v, dict) and v:
                out.append(f"{pad}{key}:")
                yaml_lines(v, indent + 2, out, styles)
            elif isinstance(v, list) and v:
                out.append(f"{pad}{key}:")
                yaml_list(v, indent, out, styles)
            elif isinstance(v, list):
                out.append(f"{pad}{key}: []")
            elif isinstance(v, dict):
                out.append(f"{pad}{key}: {{}}")
            else:
                out.append(f"{pad}{key}: {yaml_scalar(v, styles)}")
    else:
        out.append(pad + yaml_scalar(node, styles))


def yaml_list(items, indent, out, styles):
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            sub = []
            yaml_lines(item, indent + 2, sub, styles)
            sub[0] = pad + "- " + sub[0][indent + 2:]
            out.extend(sub)
        elif isinstance(item, list):
            out.append(pad + "- " + json.dumps(item))
        else:
            out.append(pad + "- " + yaml_scalar(item, styles))


def to_yaml(doc, quote='"'):
    """Block-style YAML; strings that need quotes get `quote` (`"` or `'`)."""
    out = []
    yaml_lines(doc, 0, out, quote)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- other emitters

def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)


def to_toml(doc, header):
    out = [header]
    for k, v in doc.items():
        if not isinstance(v, (dict, list)) or (isinstance(v, list) and v and not isinstance(v[0], dict)):
            out.append(f"{k} = {toml_value(v)}")
    for k, v in doc.items():
        if isinstance(v, dict):
            out.append("")
            out.append(f"[{k}]")
            for kk, vv in v.items():
                out.append(f"{kk} = {toml_value(vv)}")
    for k, v in doc.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                out.append("")
                out.append(f"[[{k}]]")
                for kk, vv in item.items():
                    out.append(f"{kk} = {toml_value(vv)}")
    return "\n".join(out) + "\n"


def to_flat(pairs, header, sep):
    return header + "".join(f"{k}{sep}{v}\n" for k, v in pairs)


def to_ini(sections, header):
    out = [header]
    for name, pairs in sections:
        out.append(f"[{name}]")
        out.extend(f"{k} = {v}" for k, v in pairs)
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- the estate model

class Estate:
    def __init__(self, seed, k8s_files, other_files):
        self.seed = seed
        self.k8s_files = k8s_files
        self.other_files = other_files
        self.rng = random.Random(seed)
        self.services = self._names(k8s_files, "svc")
        self.apps = self._names((other_files + 5) // 6, "app")
        self.planted = []
        self.reordered_files = 0
        self.env_token_values = 0

    def _names(self, n, salt):
        rng = random.Random(f"{self.seed}/{salt}")
        seen, names = set(), []
        while len(names) < n:
            first, second = rng.sample(WORDS, 2)
            name = f"{first}-{second}-{rng.choice(SUFFIXES)}"
            if name in seen:
                name = f"{name}-{len(names)}"
            seen.add(name)
            names.append(name)
        return names

    def plant(self, key, cls, kind):
        self.planted.append({"key": key, "class": cls, "kind": kind})

    # ---- Kubernetes

    def k8s_model(self, i):
        rng = random.Random(f"{self.seed}/k8s/{i}")
        svc = self.services[i]
        team = TEAMS[i % len(TEAMS)]
        version = f"{rng.randint(1, 4)}.{rng.randint(0, 60)}.{rng.randint(0, 12)}"
        labels = {
            "app.kubernetes.io/name": svc,
            "app.kubernetes.io/part-of": "shop",
            "app.kubernetes.io/component": rng.choice(["backend", "worker", "frontend"]),
            "app.kubernetes.io/managed-by": "argocd",
            "team": team,
        }
        env = [
            {"name": "SPRING_PROFILES_ACTIVE", "value": ENV_MARK},
            {"name": "DB_URL", "value": f"jdbc:postgresql://{ENV_MARK}-db-{i % 7}.internal:5432/{svc.replace('-', '_')}"},
            {"name": "DB_USER", "value": svc.replace("-", "_")},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": f"{svc}-db", "key": "password"}}},
            {"name": "KAFKA_BOOTSTRAP", "value": f"kafka-0.kafka.shop-{ENV_MARK}.svc:9092,kafka-1.kafka.shop-{ENV_MARK}.svc:9092"},
            {"name": "REDIS_URL", "value": f"redis://redis-{i % 5}.shop-{ENV_MARK}.svc.cluster.local:6379/{i % 16}"},
            {"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75.0 -XX:+UseG1GC -Dfile.encoding=UTF-8"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ]
        for name, value in ENV_VARS_FIXED:
            env.append({"name": name, "value": value})
        env.append({"name": "OTEL_SERVICE_NAME", "value": svc})
        for name in rng.sample(sorted(ENV_VARS_PLAIN), rng.randint(10, 16)):
            env.append({"name": name, "value": rng.choice(ENV_VARS_PLAIN[name])})
        containers = [{
            "name": svc,
            "image": f"registry.example.com/shop/{svc}:{version}",
            "imagePullPolicy": "IfNotPresent",
            "args": ["--server.port=8080", "--management.server.port=9090", f"--spring.application.name={svc}"],
            "ports": [
                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
                {"name": "grpc", "containerPort": 9000, "protocol": "TCP"},
            ],
            "env": env,
            "resources": {
                "requests": {"cpu": rng.choice(["100m", "250m", "500m", "1"]), "memory": rng.choice(["256Mi", "512Mi", "1Gi"])},
                "limits": {"cpu": rng.choice(["1", "2"]), "memory": rng.choice(["512Mi", "1Gi", "2Gi"])},
            },
            "livenessProbe": {"httpGet": {"path": "/actuator/health/liveness", "port": "metrics"},
                              "initialDelaySeconds": 30, "periodSeconds": 10, "failureThreshold": 3},
            "readinessProbe": {"httpGet": {"path": "/actuator/health/readiness", "port": "metrics"},
                               "periodSeconds": 5, "failureThreshold": 3},
            "volumeMounts": [
                {"name": "config", "mountPath": "/etc/app", "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
                {"name": "tls", "mountPath": "/etc/tls", "readOnly": True},
            ],
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
        }]
        if rng.random() < 0.4:
            containers.append({
                "name": "log-shipper",
                "image": "registry.example.com/platform/fluent-bit:3.1.4",
                "args": ["-c", "/fluent-bit/etc/fluent-bit.conf"],
                "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                "volumeMounts": [{"name": "tmp", "mountPath": "/var/log/app"}],
            })
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": svc, "namespace": NAMESPACE, "labels": dict(labels),
                "annotations": {"argocd.argoproj.io/sync-wave": str(rng.randint(0, 5)),
                                "shop.example.com/owner": f"team-{team}@example.com",
                                "shop.example.com/runbook": f"https://runbooks.example.com/{team}/{svc}"},
            },
            "spec": {
                "replicas": rng.choice([2, 3, 4, 6]),
                "revisionHistoryLimit": 5,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "selector": {"matchLabels": {"app.kubernetes.io/name": svc}},
                "template": {
                    "metadata": {
                        "labels": {"app.kubernetes.io/name": svc, "team": team},
                        "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
                                        "prometheus.io/path": "/actuator/prometheus"},
                    },
                    "spec": {
                        "serviceAccountName": svc,
                        "terminationGracePeriodSeconds": 45,
                        "securityContext": {"runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001},
                        "containers": containers,
                        "volumes": [
                            {"name": "config", "configMap": {"name": f"{svc}-config"}},
                            {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                            {"name": "tls", "secret": {"secretName": f"{svc}-tls"}},
                        ],
                        "nodeSelector": {"kubernetes.io/os": "linux", "node.example.com/pool": rng.choice(["general", "memory"])},
                        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "shop", "effect": "NoSchedule"}],
                        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                                       "whenUnsatisfiable": "ScheduleAnyway",
                                                       "labelSelector": {"matchLabels": {"app.kubernetes.io/name": svc}}}],
                    },
                },
            },
        }
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": svc, "namespace": NAMESPACE, "labels": dict(labels)},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app.kubernetes.io/name": svc},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                    {"name": "grpc", "port": 9000, "targetPort": "grpc", "protocol": "TCP"},
                    {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"},
                ],
            },
        }
        app_yaml = "\n".join([
            "server:",
            "  port: 8080",
            "  shutdown: graceful",
            "spring:",
            f"  application.name: {svc}",
            "  datasource:",
            f"    url: jdbc:postgresql://{ENV_MARK}-db-{i % 7}.internal:5432/{svc.replace('-', '_')}",
            f"    hikari.maximum-pool-size: {rng.choice([5, 10, 20])}",
            "  kafka:",
            f"    bootstrap-servers: kafka-0.kafka.shop-{ENV_MARK}.svc:9092",
            f"    consumer.group-id: {svc}",
            "management:",
            "  endpoints.web.exposure.include: health,info,prometheus",
            "  metrics.tags.application: ${spring.application.name}",
            "logging:",
            "  level.root: INFO",
            f"  level.com.example.shop.{svc.split('-')[0]}: INFO",
            "resilience4j.circuitbreaker.instances.default:",
            f"  failure-rate-threshold: {rng.choice([25, 50])}",
            f"  wait-duration-in-open-state: {rng.choice([10, 30, 60])}s",
        ]) + "\n"
        data = {
            "application.yaml": Literal(app_yaml),
            "PUBLIC_BASE_URL": f"https://{svc}.{ENV_MARK}.shop.example.com",
            "ASSET_BUCKET": f"s3://shop-{svc}-{ENV_MARK}",
        }
        for name in rng.sample(sorted(ENV_VARS_PLAIN), rng.randint(12, 18)):
            data[name] = rng.choice(ENV_VARS_PLAIN[name])
        configmap = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{svc}-config", "namespace": NAMESPACE, "labels": dict(labels)},
            "data": data,
        }
        docs = [deployment, service, configmap]
        hpa = None
        if rng.random() < 0.3:
            hpa = {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": svc, "namespace": NAMESPACE},
                "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc},
                         "minReplicas": 2, "maxReplicas": rng.choice([6, 10, 20]),
                         "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                      "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            }
            docs.append(hpa)
        return f"k8s/{team}/{svc}.yaml", svc, docs

    # ---- other files

    def app_files(self, j):
        """The six files of one app: (relative path, format, model)."""
        rng = random.Random(f"{self.seed}/app/{j}")
        app = self.apps[j]
        db = app.replace("-", "_")
        app_yaml = {
            "server": {"port": 8080, "shutdown": "graceful",
                       "tomcat": {"threads": {"max": rng.choice([100, 200, 400])}, "accept-count": 100,
                                  "connection-timeout": f"{rng.choice([5, 10, 20])}s"}},
            "spring": {
                "application": {"name": app},
                "datasource": {"url": f"jdbc:postgresql://{ENV_MARK}-db-{j % 7}.internal:5432/{db}",
                               "username": db, "password": None,
                               "hikari": {"maximum-pool-size": rng.choice([10, 20]), "minimum-idle": 2,
                                          "connection-timeout": 3000, "max-lifetime": 1800000}},
                "jpa": {"open-in-view": False, "properties": {"hibernate": {"jdbc": {"batch_size": 50}}}},
                "kafka": {"bootstrap-servers": [f"kafka-{k}.kafka.shop-{ENV_MARK}.svc:9092" for k in range(3)],
                          "consumer": {"group-id": app, "auto-offset-reset": "earliest", "max-poll-records": 500}},
                "cache": {"type": "redis", "redis": {"time-to-live": f"{rng.choice([60, 300, 600])}s"}},
            },
            "clients": {},
            "management": {"endpoints": {"web": {"exposure": {"include": ["health", "info", "prometheus"]}}},
                           "metrics": {"tags": {"application": app}}},
            "cors": {"allowed-origins": [f"https://shop.example.com", f"https://{ENV_MARK}.shop.example.com",
                                         f"https://admin.{ENV_MARK}.shop.example.com", "https://m.shop.example.com"]},
            "logging": {"level": {"root": "INFO", "com.example.shop": "INFO", "org.hibernate.SQL": "WARN"}},
        }
        for name in rng.sample(WORDS, rng.randint(20, 30)):
            app_yaml["clients"][name] = {
                "base-url": f"http://{name}-api.shop-{ENV_MARK}.svc.cluster.local",
                "connect-timeout": f"{rng.choice([1, 2, 3])}s",
                "read-timeout": f"{rng.choice([2, 5, 10, 30])}s",
                "retries": rng.choice([0, 1, 2, 3]),
            }
        features = {"version": rng.randint(1, 40), "owner": f"team-{TEAMS[j % len(TEAMS)]}", "features": []}
        for n, name in enumerate(rng.sample(WORDS, rng.randint(38, 46))):
            features["features"].append({
                "id": f"{name}-{rng.choice(['v2', 'beta', 'experiment', 'rollout', 'redesign'])}-{n}",
                "enabled": rng.random() < 0.6,
                "rollout": rng.choice([0, 5, 25, 50, 100]),
                "segments": rng.sample(["staff", "beta-testers", "eu", "us", "mobile", "web"], 2),
                "description": f"{name.capitalize()} flow {rng.choice(['rewrite', 'tweak', 'A/B test', 'migration'])}",
            })
        toml = {
            "name": app,
            "concurrency": rng.choice([2, 4, 8]),
            "tags": ["shop", TEAMS[j % len(TEAMS)]],
            "pool": {"min": 2, "max": rng.choice([10, 20, 30]), "idle_timeout": "5m", "max_lifetime": "30m"},
            "retry": {"attempts": 3, "backoff_ms": 200, "max_backoff_ms": 5000, "jitter": True},
            "upstreams": [],
        }
        for name in rng.sample(WORDS, rng.randint(25, 35)):
            toml["upstreams"].append({"name": name,
                                      "url": f"http://{name}.shop-{ENV_MARK}.svc.cluster.local:8080",
                                      "timeout_ms": rng.choice([100, 250, 800, 2000]),
                                      "weight": rng.choice([1, 2, 5])})
        dotenv = [
            ("NODE_ENV", "production"), ("PORT", "3000"), ("LOG_LEVEL", "info"),
            ("API_BASE_URL", f"http://{app}.shop-{ENV_MARK}.svc.cluster.local:8080"),
            ("DB_HOST", f"{ENV_MARK}-db-{j % 7}.internal"), ("DB_NAME", db), ("DB_USER", db),
            ("DB_PASSWORD", None), ("STRIPE_API_KEY", None), ("SESSION_SECRET", None),
            ("CDN_URL", "https://cdn.example.com/shop"),
        ]
        for n in range(rng.randint(100, 130)):
            name = rng.choice(sorted(ENV_VARS_PLAIN))
            dotenv.append((f"{rng.choice(WORDS).upper()}_{name}_{n}", rng.choice(ENV_VARS_PLAIN[name])))
        props = [
            ("spring.application.name", app), ("server.port", "8081"),
            ("spring.datasource.url", f"jdbc:postgresql://{ENV_MARK}-db-{j % 7}.internal:5432/{db}?ApplicationName={app}"),
            ("spring.datasource.username", db), ("spring.datasource.password", None),
            ("server.tomcat.max-threads", str(rng.choice([100, 200]))),
            ("spring.mail.host", "smtp.mailrelay.example.com"),
            ("server.forward-headers-strategy", "framework"),
        ]
        for n in range(rng.randint(130, 170)):
            props.append((f"shop.{rng.choice(WORDS)}.{rng.choice(WORDS)}.{rng.choice(['timeout-ms', 'batch-size', 'enabled', 'limit', 'ttl'])}.{n}",
                          str(rng.choice(["true", "false", 10, 100, 250, 1000, "30s"]))))
        ini = []
        for name in rng.sample(WORDS, rng.randint(18, 24)):
            ini.append((name, [("host", f"{name}.{ENV_MARK}.partner.example.net"), ("port", str(rng.choice([21, 22, 443, 8443]))),
                               ("batch_size", str(rng.choice([100, 500, 1000]))), ("schedule", f"0 {rng.randint(0, 23)} * * *"),
                               ("format", rng.choice(["csv", "xml", "json"])), ("retries", str(rng.randint(1, 5))),
                               ("remote_dir", f"/inbound/{name}"), ("encoding", "UTF-8"),
                               ("archive_days", str(rng.choice([7, 30, 90])))]))
        base = f"services/{app}"
        return [
            (f"{base}/app.yaml", "yaml", app_yaml),
            (f"{base}/features.json", "json", features),
            (f"{base}/config.toml", "toml", toml),
            (f"{base}/.env", "dotenv", dotenv),
            (f"{base}/application.properties", "properties", props),
            (f"legacy/{app}.ini", "ini", ini),
        ]


def secret_for(env, *parts):
    digest = hashlib.sha256(("/".join((env,) + parts)).encode()).hexdigest()
    return f"{digest[:6]}-{digest[6:14]}-{digest[14:22]}"


def stripe_for(env, *parts):
    digest = hashlib.sha256(("stripe/" + "/".join((env,) + parts)).encode()).hexdigest()
    return "sk_live_FAKE" + digest[:28]


def shuffled_dict(d, rng):
    items = list(d.items())
    rng.shuffle(items)
    return dict(items)


def reorder(node, rng, depth=0):
    """Reorders maps and identity-keyed lists (and set-like scalar lists), recursively."""
    if isinstance(node, Literal):
        return node
    if isinstance(node, dict):
        out = {k: reorder(v, rng, depth + 1) if k not in ("args", "command") else v for k, v in node.items()}
        return shuffled_dict(out, rng) if rng.random() < 0.5 else out
    if isinstance(node, list):
        items = [reorder(v, rng, depth + 1) for v in node]
        if items and rng.random() < 0.6:
            rng.shuffle(items)
        return items
    return node


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return len(text.encode())


def generate(out, seed, k8s_files, other_files, progress):
    estate = Estate(seed, k8s_files, other_files)
    prng = random.Random(f"{seed}/plants")
    per_kind = max(1, (k8s_files + other_files) // 250)
    kinds_k8s = ["image", "replicas", "env-value", "limit-missing", "configmap-value",
                 "configmap-extra", "pdb-missing", "probe"]
    kinds_other = ["feature-flag", "pool-max", "log-level", "dotenv-extra", "shared-secret",
                   "props-missing", "props-value", "ini-value", "app-timeout", "file-extra"]
    targets = {}
    for kind in kinds_k8s:
        targets[kind] = set(prng.sample(range(k8s_files), min(per_kind, k8s_files)))
    napps = (other_files + 5) // 6
    for kind in kinds_other:
        targets[kind] = set(prng.sample(range(napps), min(per_kind, napps)))

    stats = {"qa": {"bytes": 0, "yaml_bytes": 0, "files": 0}, "prod": {"bytes": 0, "yaml_bytes": 0, "files": 0}}

    def emit(env, rel, text):
        n = write(os.path.join(out, env, rel), text)
        stats[env]["bytes"] += n
        stats[env]["files"] += 1
        if rel.endswith(".yaml"):
            stats[env]["yaml_bytes"] += n

    # ---- Kubernetes
    for i in range(k8s_files):
        if progress and i % 500 == 0:
            print(f"gen: k8s {i}/{k8s_files}", file=sys.stderr)
        rel, svc, docs = estate.k8s_model(i)
        qa = [fill(d, "qa") for d in docs]
        prod = [fill(d, "prod") for d in docs]
        dep_q, dep_p = qa[0], prod[0]
        cm_q, cm_p = qa[2], prod[2]
        main_q = dep_q["spec"]["template"]["spec"]["containers"][0]
        main_p = dep_p["spec"]["template"]["spec"]["containers"][0]
        dkey = f"{rel}:Deployment/shop-{{env}}/{svc}:"
        ckey = f"{rel}:ConfigMap/shop-{{env}}/{svc}-config:"
        cpath = f"spec.template.spec.containers[name={svc}]"
        if i in targets["image"]:
            main_q["image"] = main_q["image"].rsplit(":", 1)[0] + ":9.9.0-rc.1"
            estate.plant(dkey + cpath + ".image", "drift", "image")
        if i in targets["replicas"]:
            dep_q["spec"]["replicas"] = 1
            if dep_p["spec"]["replicas"] == 1:
                dep_p["spec"]["replicas"] = 3
            estate.plant(dkey + "spec.replicas", "drift", "replicas")
        if i in targets["env-value"]:
            var = main_q["env"][-1]
            var["value"] = str(int(float(var["value"]) * 7) + 1)
            estate.plant(dkey + cpath + f".env[name={var['name']}].value", "drift", "env-value")
        if i in targets["limit-missing"]:
            del main_q["resources"]["limits"]["memory"]
            estate.plant(dkey + cpath + ".resources.limits.memory", "missing", "limit-missing")
        if i in targets["configmap-value"]:
            name = [k for k in cm_q["data"] if k.isupper() and k not in ("PUBLIC_BASE_URL", "ASSET_BUCKET")][0]
            cm_q["data"][name] = str(int(float(cm_q["data"][name]) * 3) + 2)
            estate.plant(ckey + f"data.{name}", "drift", "configmap-value")
        if i in targets["configmap-extra"]:
            cm_q["data"]["DEBUG_SQL"] = "true"
            estate.plant(ckey + "data.DEBUG_SQL", "extra", "configmap-extra")
        if i in targets["probe"]:
            main_q["readinessProbe"]["periodSeconds"] = 30
            estate.plant(dkey + cpath + ".readinessProbe.periodSeconds", "drift", "probe")
        if i in targets["pdb-missing"]:
            prod.append({
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": svc, "namespace": "shop-prod"},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": svc}}},
            })
            estate.plant(f"{rel}:PodDisruptionBudget/shop-{{env}}/{svc}", "missing", "pdb-missing")
        erng = random.Random(f"{seed}/reorder/k8s/{i}")
        if erng.random() < 0.5:
            prod = [reorder(d, erng) for d in prod]
            estate.reordered_files += 1
        head_q = f"# {svc}: managed by Argo CD ({TEAMS[i % len(TEAMS)]})\n"
        head_p = head_q if erng.random() < 0.5 else f"# {svc}\n# Production manifests: changes need a change ticket\n"
        emit("qa", rel, head_q + "---\n".join(to_yaml(d) for d in qa))
        quote = "'" if erng.random() < 0.5 else '"'
        emit("prod", rel, head_p + "---\n".join(to_yaml(d, quote) for d in prod))

    # ---- other files
    written = 0
    for j in range(napps):
        if progress and j % 100 == 0:
            print(f"gen: apps {j}/{napps}", file=sys.stderr)
        erng = random.Random(f"{seed}/reorder/app/{j}")
        for rel, fmt, model in estate.app_files(j):
            if written >= other_files:
                break
            written += 1
            q, p = fill(model, "qa"), fill(model, "prod")
            if fmt == "yaml":
                q["spring"]["datasource"]["password"] = secret_for("qa", rel, "db")
                p["spring"]["datasource"]["password"] = secret_for("prod", rel, "db")
                if j in targets["app-timeout"]:
                    client = next(iter(q["clients"]))
                    q["clients"][client]["read-timeout"] = "120s"
                    if p["clients"][client]["read-timeout"] == "120s":
                        p["clients"][client]["read-timeout"] = "10s"
                    estate.plant(f"{rel}:clients.{client}.read-timeout", "drift", "app-timeout")
                if erng.random() < 0.5:
                    p = reorder(p, erng)
                    estate.reordered_files += 1
                emit("qa", rel, "# " + rel + "\n" + to_yaml(q))
                emit("prod", rel, to_yaml(p, "'"))
            elif fmt == "json":
                if j in targets["feature-flag"]:
                    f = q["features"][len(q["features"]) // 2]
                    f["enabled"] = not f["enabled"]
                    estate.plant(f"{rel}:features[id={f['id']}].enabled", "drift", "feature-flag")
                if erng.random() < 0.5:
                    erng.shuffle(p["features"])
                    p = shuffled_dict(p, erng)
                    estate.reordered_files += 1
                emit("qa", rel, json.dumps(q, indent=2) + "\n")
                emit("prod", rel, json.dumps(p, indent=4) + "\n")
            elif fmt == "toml":
                if j in targets["pool-max"]:
                    q["pool"]["max"] = p["pool"]["max"] + 40
                    estate.plant(f"{rel}:pool.max", "drift", "pool-max")
                if erng.random() < 0.5:
                    erng.shuffle(p["upstreams"])
                    p["pool"] = shuffled_dict(p["pool"], erng)
                    estate.reordered_files += 1
                emit("qa", rel, to_toml(q, f"# {rel}"))
                emit("prod", rel, to_toml(p, "# worker settings (Production)"))
            elif fmt == "dotenv":
                def fill_secrets(pairs, env):
                    out = []
                    for k, v in pairs:
                        if k == "DB_PASSWORD":
                            v = secret_for(env, rel, "db")
                        elif k == "STRIPE_API_KEY":
                            v = stripe_for("prod" if (env == "qa" and j in targets["shared-secret"]) else env, rel)
                        elif k == "SESSION_SECRET":
                            v = '"' + secret_for(env, rel, "session") + '"'
                        out.append((k, v))
                    return out
                q, p = fill_secrets(q, "qa"), fill_secrets(p, "prod")
                if j in targets["shared-secret"]:
                    estate.plant(f"{rel}:STRIPE_API_KEY", "shared-secret", "shared-secret")
                if j in targets["log-level"]:
                    q = [(k, "debug" if k == "LOG_LEVEL" else v) for k, v in q]
                    estate.plant(f"{rel}:LOG_LEVEL", "drift", "log-level")
                if j in targets["dotenv-extra"]:
                    q.append(("MAILHOG_URL", "http://mailhog.shop-qa.svc.cluster.local:8025"))
                    estate.plant(f"{rel}:MAILHOG_URL", "extra", "dotenv-extra")
                if erng.random() < 0.5:
                    erng.shuffle(p)
                    estate.reordered_files += 1
                emit("qa", rel, to_flat(q, f"# {rel}\n", "="))
                emit("prod", rel, to_flat(p, "", "="))
            elif fmt == "properties":
                def fill_pw(pairs, env):
                    return [(k, secret_for(env, rel, "db") if v is None else v) for k, v in pairs]
                q, p = fill_pw(q, "qa"), fill_pw(p, "prod")
                if j in targets["props-missing"]:
                    q = [(k, v) for k, v in q if k != "server.forward-headers-strategy"]
                    estate.plant(f"{rel}:server.forward-headers-strategy", "missing", "props-missing")
                if j in targets["props-value"]:
                    q = [(k, "800" if k == "server.tomcat.max-threads" else v) for k, v in q]
                    estate.plant(f"{rel}:server.tomcat.max-threads", "drift", "props-value")
                if erng.random() < 0.5:
                    erng.shuffle(p)
                    estate.reordered_files += 1
                emit("qa", rel, to_flat(q, f"# {rel}\n", "="))
                emit("prod", rel, to_flat(p, "", " = "))
                if j in targets["file-extra"]:
                    dbg = rel.rsplit("/", 1)[0] + "/debug.properties"
                    emit("qa", dbg, "# QA only\nlogging.level.org.springframework.web=DEBUG\n"
                                    "spring.jpa.show-sql=true\nmanagement.endpoint.env.show-values=ALWAYS\n")
                    estate.plant(dbg, "extra", "file-extra")
            elif fmt == "ini":
                if j in targets["ini-value"]:
                    name, pairs = q[0]
                    q[0] = (name, [(k, "9999" if k == "batch_size" else v) for k, v in pairs])
                    estate.plant(f"{rel}:{name}.batch_size", "drift", "ini-value")
                if erng.random() < 0.5:
                    erng.shuffle(p)
                    estate.reordered_files += 1
                emit("qa", rel, to_ini(q, f"; {rel}\n"))
                emit("prod", rel, to_ini(p, "; legacy job (Production)\n"))

    manifest = """# Generated by bench/config/gen_estate.py
[environments.qa]
config = ["qa/**"]

[environments.prod]
config = ["prod/**"]
production = true

[rules]
env_tokens = { qa = ["qa", "staging"], prod = ["prod", "production"] }
"""
    write(os.path.join(out, "envparity.toml"), manifest)
    by_class, by_kind = {}, {}
    for p in estate.planted:
        by_class[p["class"]] = by_class.get(p["class"], 0) + 1
        by_kind[p["kind"]] = by_kind.get(p["kind"], 0) + 1
    planted = {"count": len(estate.planted), "by_class": by_class, "by_kind": by_kind,
               "planted": estate.planted}
    write(os.path.join(out, "planted.json"), json.dumps(planted, indent=1) + "\n")
    write(os.path.join(out, "planted.count"), f"{len(estate.planted)}\n")
    info = {"seed": seed, "k8s_files": k8s_files, "other_files": other_files, "sizes": stats,
            "reordered_files_in_prod": estate.reordered_files, "planted": len(estate.planted)}
    write(os.path.join(out, "estate.json"), json.dumps(info, indent=1) + "\n")
    return planted, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="folder to write the estate into (emptied first)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--k8s-files", type=int, default=5000)
    ap.add_argument("--other-files", type=int, default=2000)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    for env in ("qa", "prod"):
        shutil.rmtree(os.path.join(args.out, env), ignore_errors=True)
    planted, info = generate(args.out, args.seed, args.k8s_files, args.other_files, not args.quiet)
    for env in ("qa", "prod"):
        s = info["sizes"][env]
        print(f"gen: {env}: {s['files']} files, {s['bytes'] / 1e6:.1f} MB ({s['yaml_bytes'] / 1e6:.1f} MB YAML)",
              file=sys.stderr)
    print(f"gen: {info['reordered_files_in_prod']} files reordered in prod", file=sys.stderr)
    print(f"gen: planted {planted['count']} differences: "
          + ", ".join(f"{v} {k}" for k, v in sorted(planted["by_class"].items())), file=sys.stderr)
    print(planted["count"])


if __name__ == "__main__":
    main()
