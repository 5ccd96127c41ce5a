//! The access model: who can do what in one environment — principals, their attributes and
//! memberships, and permissions (principal × action × resource) with where each comes
//! from. Collected read-only from databases (`envparity-data`), from Kubernetes RBAC
//! manifests and application switches in the configuration, and from the SQL that
//! `pg_dumpall --roles-only` / `pg_dump --schema-only` / `SHOW GRANTS` print.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a principal or permission belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    Postgres,
    Mysql,
    #[serde(rename = "k8s")]
    Kubernetes,
    /// Application switches read from the configuration.
    App,
    /// The team's own Rego rules.
    Rego,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Postgres => "postgres",
            System::Mysql => "mysql",
            System::Kubernetes => "k8s",
            System::App => "app",
            System::Rego => "rego",
        }
    }
}

/// Where a fact was read: a file and line (dumps, manifests, config), or a live catalog
/// (`file` is the source's name, e.g. `postgres://db.internal/shop`, with no line).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Origin {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// A role, account, user, group or service account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    pub system: System,
    /// PostgreSQL: the role name. MySQL: `'user'@'host'`. Kubernetes: `ServiceAccount
    /// ns/name`, `User name`, `Group name`.
    pub name: String,
    /// `role`, `user`, `account`, `ServiceAccount`, `User`, `Group`.
    pub kind: String,
    /// Security-relevant attributes, as text: `superuser`, `createrole`, `createdb`,
    /// `bypassrls`, `replication`, `login` (`true`/`false`), `connection_limit`,
    /// `password_expires` (a date, or `never`), MySQL `host`, `require_ssl`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Roles this principal is a member of, directly; `inherit: false` memberships end in
    /// `(noinherit)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_of: Vec<String>,
    pub origin: Origin,
}

/// One thing a principal may do, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Permission {
    pub system: System,
    /// The grantee as named in the environment; `PUBLIC` for PostgreSQL's everyone.
    pub principal: String,
    /// `SELECT`, `INSERT`, `USAGE`, `ALL` (SQL); `get`, `list`, `*` (Kubernetes verbs).
    pub action: String,
    /// `table public.orders`, `column public.users.email`, `schema public`, `database
    /// shop`, `sequence public.orders_id_seq`, `function public.f(integer)`, `*.*` (MySQL
    /// global), `shop.*`; Kubernetes `secrets in shop`, `nodes (cluster)`, `*` .
    pub resource: String,
    /// How it is granted, in the system's own words: `GRANT SELECT ON public.orders TO
    /// app`, `owner`, `RoleBinding shop/admins → ClusterRole cluster-admin`.
    pub via: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grant_option: bool,
    pub origin: Origin,
}

/// A pg_hba-style authentication rule (PostgreSQL) where it could be read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthRule {
    pub system: System,
    /// `host`, `hostssl`, `local`, …
    pub kind: String,
    pub database: String,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `trust`, `password`, `md5`, `scram-sha-256`, `cert`, `reject`, …
    pub method: String,
    pub origin: Origin,
}

/// An application setting that relaxes access: auth off, debug on, `CORS *`, TLS off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Switch {
    /// The rule that matched: `auth-disabled`, `debug`, `cors-any`, `tls-off`,
    /// `tls-verify-off`, `default-credential`, `cookie-insecure`, `admin-exposed`, or a
    /// user rule's id.
    pub rule: String,
    /// The config key (`app.yaml:server.auth.enabled`).
    pub key: String,
    /// The value as displayed (secrets as hashes).
    pub value: String,
    pub origin: Origin,
}

/// Who can do what in one environment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessModel {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<Principal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<Permission>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth_rules: Vec<AuthRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub switches: Vec<Switch>,
    /// What could not be read with the access given, and why ("pg_hba rules: needs
    /// pg_read_all_settings or superuser").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<String>,
    /// What the team's own Rego rules (`[access] policies`) found in this environment,
    /// evaluated when the snapshot was taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<CustomViolation>,
}

/// One result of a user's Rego rule: `deny contains {"key": …, "message": …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomViolation {
    /// The policy file that produced it.
    pub policy: String,
    pub key: String,
    pub message: String,
    /// `error` (default), `warning` or `info`.
    pub severity: String,
    pub origin: Origin,
}

impl AccessModel {
    pub fn is_empty(&self) -> bool {
        self.principals.is_empty()
            && self.permissions.is_empty()
            && self.auth_rules.is_empty()
            && self.switches.is_empty()
    }

    /// Folds another model (another source of the same environment) into this one.
    pub fn extend(&mut self, other: AccessModel) {
        self.principals.extend(other.principals);
        self.permissions.extend(other.permissions);
        self.auth_rules.extend(other.auth_rules);
        self.switches.extend(other.switches);
        self.limits.extend(other.limits);
        self.custom.extend(other.custom);
    }
}

use crate::finding::{Class, Facet, Finding, Location, Severity, Side};

fn location(origin: &Origin) -> Option<Location> {
    origin.line.map(|line| Location {
        file: origin.file.clone(),
        line,
        column: None,
    })
}

/// One environment's view for a finding: its value and where it was read.
fn side(env: &str, value: Option<String>, origin: Option<&Origin>) -> Side {
    Side {
        env: env.to_string(),
        value,
        location: origin.and_then(location),
    }
}

/// A finding with its group (`postgres`, `k8s`, `app`) and severity from its class.
fn finding(system: &str, class: Class, key: String, a: Side, b: Side, message: String) -> Finding {
    Finding {
        facet: Facet::Access,
        class,
        severity: class.default_severity(),
        key,
        group: format!("access: {system}"),
        resource: None,
        a,
        b,
        message,
        reason: None,
        covers: 1,
    }
}

/// Whether `key`'s permission is granted in `other` by a wildcard: an `*` or `ALL`
/// action on the same resource, or any action on `*` in the same scope.
fn covered(key: &PermissionKey, other: &BTreeMap<PermissionKey, Permission>) -> bool {
    let (system, principal, _, resource) = key;
    let wildcard_action = ["*", "ALL"].iter().any(|all| {
        other.contains_key(&(
            *system,
            principal.clone(),
            all.to_string(),
            resource.clone(),
        ))
    });
    // `configmaps in shop` is covered by `* in shop`; `x (all namespaces)` by `* (all namespaces)`.
    let scope = resource
        .find(" in ")
        .map(|i| &resource[i..])
        .or_else(|| resource.find(" (").map(|i| &resource[i..]));
    let wildcard_resource = scope.is_some_and(|scope| {
        other.keys().any(|(s, p, a, r)| {
            s == system
                && p == principal
                && (a == "*" || *a == key.2)
                && r.strip_prefix('*').is_some_and(|rest| rest == scope)
        })
    });
    wildcard_action || wildcard_resource
}

/// What a strictness rule found in one environment.
struct Violation<'m> {
    /// The permission it is about (principal, action, resource), if it is one.
    permission: Option<(String, String, String)>,
    system: System,
    /// Key suffix after `access:{system}:`.
    key: String,
    value: String,
    origin: &'m Origin,
    message: String,
    severity: Severity,
}

/// The strictness pack for an environment marked production: each finding names the
/// grant, binding or switch to change.
fn violations<'m>(m: &'m AccessModel, env: &str) -> Vec<Violation<'m>> {
    let mut out = Vec::new();
    let flag = |p: &Principal, attr: &str| p.attributes.get(attr).is_some_and(|v| v == "true");
    for p in &m.principals {
        match p.system {
            System::Postgres if flag(p, "login") && p.name != "postgres" => {
                if flag(p, "superuser") {
                    out.push(Violation {
                        permission: None,
                        system: p.system,
                        key: format!("{}.superuser", p.name),
                        value: "SUPERUSER".into(),
                        origin: &p.origin,
                        message: format!(
                            "`{}` can log in as a superuser in {env}: an application or person's role must not bypass every check (`ALTER ROLE {} NOSUPERUSER`)",
                            p.name, p.name
                        ),
                        severity: Severity::Error,
                    });
                }
                if flag(p, "bypassrls") {
                    out.push(Violation {
                        permission: None,
                        system: p.system,
                        key: format!("{}.bypassrls", p.name),
                        value: "BYPASSRLS".into(),
                        origin: &p.origin,
                        message: format!(
                            "`{}` bypasses row-level security in {env} (`ALTER ROLE {} NOBYPASSRLS`)",
                            p.name, p.name
                        ),
                        severity: Severity::Error,
                    });
                }
            }
            System::Mysql if flag(p, "super") && !p.name.starts_with("'root'@'localhost'") => {
                out.push(Violation {
                    permission: None,
                    system: p.system,
                    key: format!("{}.super", p.name),
                    value: "SUPER".into(),
                    origin: &p.origin,
                    message: format!(
                        "{} has SUPER in {env} (`REVOKE SUPER ON *.* FROM {}`)",
                        p.name, p.name
                    ),
                    severity: Severity::Error,
                });
            }
            _ => {}
        }
    }
    for g in &m.permissions {
        let v = |key: String, message: String, severity: Severity| Violation {
            permission: Some((g.principal.clone(), g.action.clone(), g.resource.clone())),
            system: g.system,
            key,
            value: format!("{} {}", g.action, g.resource),
            origin: &g.origin,
            message,
            severity,
        };
        match g.system {
            System::Postgres if g.principal == "PUBLIC" => {
                let object = [
                    "table ",
                    "view ",
                    "column ",
                    "sequence ",
                    "materialized view ",
                ]
                .iter()
                .find_map(|k| g.resource.strip_prefix(k).map(|rest| (k.trim(), rest)));
                if let Some((kind, name)) = object {
                    out.push(v(
                        format!("PUBLIC {} {}", g.action, g.resource),
                        format!(
                            "PUBLIC may {} {kind} {name} in {env}: every role, present and future, can (`REVOKE {} ON {} FROM PUBLIC`)",
                            g.action,
                            g.action,
                            name.split('.').take(2).collect::<Vec<_>>().join(".")
                        ),
                        Severity::Error,
                    ));
                } else if g.resource == "schema public" && g.action == "CREATE" {
                    out.push(v(
                        "PUBLIC CREATE schema public".into(),
                        format!(
                            "PUBLIC may CREATE in schema public in {env}: any role can plant objects others resolve (`REVOKE CREATE ON SCHEMA public FROM PUBLIC`)"
                        ),
                        Severity::Warning,
                    ));
                }
            }
            System::Mysql
                if g.resource == "*.*"
                    && g.action == "ALL"
                    && !g.principal.starts_with("'root'@'localhost'") =>
            {
                out.push(v(
                    format!("{} ALL *.*", g.principal),
                    format!(
                        "{} has ALL PRIVILEGES on *.* in {env}: grant only what it uses (`REVOKE ALL PRIVILEGES ON *.* FROM {}`)",
                        g.principal, g.principal
                    ),
                    Severity::Error,
                ));
            }
            System::Kubernetes => {
                let cluster_admin = g.via.contains("→ ClusterRole cluster-admin");
                let service_account = g.principal.starts_with("ServiceAccount ");
                if cluster_admin && g.action == "*" && g.resource.starts_with("* ") {
                    let scope = if g.resource.ends_with("(all namespaces)") {
                        "anything in the cluster".to_string()
                    } else {
                        format!("anything {}", g.resource.trim_start_matches("* "))
                    };
                    out.push(v(
                        format!("{} cluster-admin", g.principal),
                        format!(
                            "{} is bound to cluster-admin in {env} ({}): it can do {scope}; bind a role with the verbs it uses",
                            g.principal, g.via
                        ),
                        if service_account {
                            Severity::Error
                        } else {
                            Severity::Warning
                        },
                    ));
                } else if !cluster_admin
                    && !g.via.ends_with("(built-in)")
                    && (g.action == "*" || g.resource.starts_with("* "))
                {
                    out.push(v(
                        format!("{} {} {}", g.principal, g.action, g.resource),
                        format!(
                            "{} has a wildcard in {env}: `{}` on `{}` ({}); list the verbs and resources it uses",
                            g.principal, g.action, g.resource, g.via
                        ),
                        Severity::Warning,
                    ));
                }
            }
            _ => {}
        }
    }
    for r in &m.auth_rules {
        if matches!(r.method.as_str(), "trust" | "password") {
            let addr = r.address.as_deref().unwrap_or("");
            out.push(Violation {
                permission: None,
                system: r.system,
                key: format!("hba {} {} {} {addr}", r.kind, r.database, r.user),
                value: r.method.clone(),
                origin: &r.origin,
                message: if r.method == "trust" {
                    format!(
                        "pg_hba lets {} connect to {} {} without a password in {env} (`trust`): use scram-sha-256",
                        r.user, r.database, addr
                    )
                } else {
                    format!(
                        "pg_hba sends {}'s password in clear text in {env} (`password`): use scram-sha-256",
                        r.user
                    )
                },
                severity: if r.method == "trust" {
                    Severity::Error
                } else {
                    Severity::Warning
                },
            });
        }
    }
    for c in &m.custom {
        out.push(Violation {
            permission: None,
            system: System::Rego,
            key: c.key.clone(),
            value: c.key.clone(),
            origin: &c.origin,
            message: format!("{} in {env} ({})", c.message, c.policy),
            severity: match c.severity.as_str() {
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                _ => Severity::Error,
            },
        });
    }
    for s in &m.switches {
        let what = match s.rule.as_str() {
            "auth-disabled" => "turns authentication off",
            "debug" => "turns debug mode on",
            "admin-exposed" => "exposes admin or profiling endpoints",
            "cors-any" => "lets any origin make CORS requests",
            "tls-off" => "turns TLS off",
            "tls-verify-off" => "does not verify TLS certificates",
            "cookie-insecure" => "sends cookies without Secure/HttpOnly",
            "default-credential" => "uses a well-known default credential",
            _ => "",
        };
        let what = if what.is_empty() {
            format!("matches the switch rule `{}`", s.rule)
        } else {
            what.to_string()
        };
        out.push(Violation {
            permission: None,
            system: System::App,
            key: format!("{} {}", s.rule, s.key),
            value: s.value.clone(),
            origin: &s.origin,
            message: format!("`{}` = `{}` {what} in {env}", s.key, s.value),
            severity: if s.rule == "debug" {
                Severity::Warning
            } else {
                Severity::Error
            },
        });
    }
    out
}

/// `envparity access audit`: the strictness pack on one environment.
pub fn audit(m: &AccessModel, env: &str) -> Vec<Finding> {
    violations(m, env)
        .into_iter()
        .map(|v| {
            let mut f = finding(
                v.system.name(),
                Class::Policy,
                format!("access:{}:{}", v.system.name(), v.key),
                side(env, Some(v.value.clone()), Some(v.origin)),
                side(env, Some(v.value), Some(v.origin)),
                v.message,
            );
            f.severity = v.severity;
            f
        })
        .collect()
}

/// A permission as compared across environments: names with environment tokens replaced.
type PermissionKey = (System, String, String, String);

/// Compares every environment's access model with the reference's, and audits the
/// reference when it is marked production.
pub(crate) fn compare_access(
    snapshots: &[crate::snapshot::Snapshot],
    reference: usize,
    rules: &crate::rules::Rules,
    today: crate::date::Date,
    expect_used: &[std::sync::atomic::AtomicBool],
    tokens: &crate::tokens::EnvTokens,
) -> (Vec<Finding>, u64) {
    let mut findings = Vec::new();
    let mut compared = 0u64;
    let b = &snapshots[reference];
    let eb = b.environment.as_str();
    let mut push = |mut f: Finding| {
        let key = f.key.clone();
        crate::compare::apply_rules(rules, today, expect_used, &mut f, vec![key]);
        findings.push(f);
    };
    for (i, a) in snapshots.iter().enumerate() {
        if i == reference {
            continue;
        }
        let ea = a.environment.as_str();
        let norm = |env: &str, text: &str| tokens.normalize(env, text).into_owned();
        // A principal's name across environments: an explicit pair's first name, else
        // the name with environment tokens replaced.
        let who = |env: &str, name: &str| -> String {
            match rules
                .access_pairs
                .iter()
                .find(|group| group.iter().any(|n| n == name))
            {
                Some(group) => format!("{{pair:{}}}", group[0]),
                None => norm(env, name),
            }
        };
        let (ma, mb) = match (&a.access, &b.access) {
            (Some(ma), Some(mb)) => (ma, mb),
            (None, None) => continue,
            (Some(_), None) if !b.access_errors.is_empty() => continue,
            (None, Some(_)) if !a.access_errors.is_empty() => continue,
            (ma, _) => {
                compared += 1;
                let (class, has, lacks) = if ma.is_none() {
                    (Class::Missing, eb, ea)
                } else {
                    (Class::Extra, ea, eb)
                };
                push(finding(
                    "all",
                    class,
                    "access".into(),
                    side(ea, ma.as_ref().map(|_| "collected".into()), None),
                    side(eb, b.access.as_ref().map(|_| "collected".into()), None),
                    format!(
                        "{has}'s access was collected, {lacks}'s not: give {lacks} the same sources (databases, RBAC manifests, `access = [...]` dumps)"
                    ),
                ));
                continue;
            }
        };
        let violation_keys: std::collections::BTreeSet<String> =
            violations(mb, eb).into_iter().map(|v| v.key).collect();
        // Principals, paired by their names with environment tokens replaced.
        let principals = |m: &'_ AccessModel, env: &str| -> BTreeMap<(System, String), Principal> {
            m.principals
                .iter()
                .map(|p| ((p.system, who(env, &p.name)), p.clone()))
                .collect()
        };
        let (pa, pb) = (principals(ma, ea), principals(mb, eb));
        let mut alone: std::collections::BTreeSet<(System, String)> = Default::default();
        for key in pa
            .keys()
            .chain(pb.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            compared += 1;
            let sys = key.0.name();
            match (pa.get(key), pb.get(key)) {
                (Some(x), Some(y)) => {
                    let attrs: std::collections::BTreeSet<&String> =
                        x.attributes.keys().chain(y.attributes.keys()).collect();
                    for attr in attrs {
                        let (va, vb) = (x.attributes.get(attr), y.attributes.get(attr));
                        // The strictness pack's finding on the same key says more.
                        let flagged_attr =
                            b.production && violation_keys.contains(&format!("{}.{attr}", y.name));
                        if !flagged_attr && va.map(|v| norm(ea, v)) != vb.map(|v| norm(eb, v)) {
                            push(finding(
                                sys,
                                Class::Drift,
                                format!("access:{sys}:{}.{attr}", key.1),
                                side(ea, va.cloned(), Some(&x.origin)),
                                side(eb, vb.cloned(), Some(&y.origin)),
                                format!(
                                    "`{}` has {attr} = {} in {ea}, `{}` {} in {eb}",
                                    x.name,
                                    va.map_or("(unset)", String::as_str),
                                    y.name,
                                    vb.map_or("(unset)", String::as_str)
                                ),
                            ));
                        }
                    }
                    let ra: std::collections::BTreeSet<String> =
                        x.member_of.iter().map(|r| norm(ea, r)).collect();
                    let rb: std::collections::BTreeSet<String> =
                        y.member_of.iter().map(|r| norm(eb, r)).collect();
                    for role in ra.symmetric_difference(&rb) {
                        let in_b = rb.contains(role);
                        push(finding(
                            sys,
                            if in_b { Class::Missing } else { Class::Extra },
                            format!("access:{sys}:{} member of {role}", key.1),
                            side(ea, (!in_b).then(|| role.clone()), Some(&x.origin)),
                            side(eb, in_b.then(|| role.clone()), Some(&y.origin)),
                            if in_b {
                                format!("`{}` is a member of {role} in {eb}, not in {ea}", y.name)
                            } else {
                                format!("`{}` is a member of {role} in {ea}, not in {eb}", x.name)
                            },
                        ));
                    }
                }
                (x, y) => {
                    alone.insert(key.clone());
                    let p = x.or(y).expect("one side has it");
                    let in_b = y.is_some();
                    push(finding(
                        sys,
                        if in_b { Class::Missing } else { Class::Extra },
                        format!("access:{sys}:{}", key.1),
                        side(ea, x.map(|p| p.kind.clone()), x.map(|p| &p.origin)),
                        side(eb, y.map(|p| p.kind.clone()), y.map(|p| &p.origin)),
                        format!(
                            "{} `{}` exists in {} only",
                            p.kind,
                            p.name,
                            if in_b { eb } else { ea }
                        ),
                    ));
                }
            }
        }
        // Permissions of principals both sides have.
        let perms = |m: &'_ AccessModel, env: &str| -> BTreeMap<PermissionKey, Permission> {
            m.permissions
                .iter()
                .map(|g| {
                    (
                        (
                            g.system,
                            who(env, &g.principal),
                            g.action.clone(),
                            norm(env, &g.resource),
                        ),
                        g.clone(),
                    )
                })
                .filter(|(k, _)| !alone.contains(&(k.0, k.1.clone())))
                .collect()
        };
        let (ga, gb) = (perms(ma, ea), perms(mb, eb));
        // What the strictness pack reports about the reference is not listed twice.
        let flagged: std::collections::BTreeSet<(String, String, String)> = if b.production {
            violations(mb, eb)
                .iter()
                .filter_map(|v| v.permission.clone())
                .collect()
        } else {
            Default::default()
        };
        for key in ga
            .keys()
            .chain(gb.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            compared += 1;
            let sys = key.0.name();
            match (ga.get(key), gb.get(key)) {
                (Some(_), Some(_)) => {}
                // A wildcard on the other side grants it too (`*` verbs, `ALL`).
                (Some(_), None) if covered(key, &gb) => {}
                (None, Some(_)) if covered(key, &ga) => {}
                (None, Some(g))
                    if flagged.contains(&(
                        g.principal.clone(),
                        g.action.clone(),
                        g.resource.clone(),
                    )) => {}
                (None, Some(g)) => push(finding(
                    sys,
                    Class::Missing,
                    format!("access:{sys}:{} {} {}", g.principal, g.action, g.resource),
                    side(ea, None, None),
                    side(eb, Some(g.via.clone()), Some(&g.origin)),
                    format!(
                        "{eb} lets `{}` {} {}; {ea} does not: what needs it was never tested in {ea}, or {eb} is too loose",
                        g.principal, g.action, g.resource
                    ),
                )),
                (Some(g), None) => push(finding(
                    sys,
                    Class::Extra,
                    format!("access:{sys}:{} {} {}", g.principal, g.action, g.resource),
                    side(ea, Some(g.via.clone()), Some(&g.origin)),
                    side(eb, None, None),
                    format!(
                        "{ea} lets `{}` {} {}; {eb} does not: a test that passes only because of it fails in {eb}",
                        g.principal, g.action, g.resource
                    ),
                )),
                (None, None) => {}
            }
        }
        // Authentication rules, by what they match.
        let rules_of = |m: &'_ AccessModel,
                        env: &str|
         -> BTreeMap<(String, String, String, String), AuthRule> {
            m.auth_rules
                .iter()
                .map(|r| {
                    (
                        (
                            r.kind.clone(),
                            norm(env, &r.database),
                            norm(env, &r.user),
                            r.address.clone().unwrap_or_default(),
                        ),
                        r.clone(),
                    )
                })
                .collect()
        };
        let (ra, rb) = (rules_of(ma, ea), rules_of(mb, eb));
        for key in ra
            .keys()
            .chain(rb.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            compared += 1;
            let (x, y) = (ra.get(key), rb.get(key));
            if x.map(|r| &r.method) == y.map(|r| &r.method) {
                continue;
            }
            let class = match (x, y) {
                (Some(_), Some(_)) => Class::Drift,
                (None, _) => Class::Missing,
                _ => Class::Extra,
            };
            push(finding(
                "postgres",
                class,
                format!(
                    "access:postgres:hba {} {} {} {}",
                    key.0, key.1, key.2, key.3
                ),
                side(ea, x.map(|r| r.method.clone()), x.map(|r| &r.origin)),
                side(eb, y.map(|r| r.method.clone()), y.map(|r| &r.origin)),
                format!(
                    "{} connections of {} to {} authenticate by {} in {ea}, by {} in {eb}",
                    key.0,
                    key.2,
                    key.1,
                    x.map_or("(no rule)", |r| r.method.as_str()),
                    y.map_or("(no rule)", |r| r.method.as_str())
                ),
            ));
        }
        // Switches the compared environment has and the reference does not: tests there
        // pass with a relaxation the reference does not grant.
        let switches = |m: &'_ AccessModel, env: &str| -> BTreeMap<(String, String), Switch> {
            m.switches
                .iter()
                .map(|s| ((s.rule.clone(), norm(env, &s.key)), s.clone()))
                .collect()
        };
        let (sa, sb) = (switches(ma, ea), switches(mb, eb));
        for (key, s) in &sa {
            compared += 1;
            if !sb.contains_key(key) {
                push(finding(
                    "app",
                    Class::Extra,
                    format!("access:app:{} {}", s.rule, s.key),
                    side(ea, Some(s.value.clone()), Some(&s.origin)),
                    side(eb, None, None),
                    format!(
                        "`{}` = `{}` in {ea} ({}), not in {eb}: what passes in {ea} with it may fail in {eb}",
                        s.key, s.value, s.rule
                    ),
                ));
            }
        }
    }
    // The strictness pack on the reference, when it is Production; each finding says
    // whether the compared environments share the relaxation.
    if b.production
        && let Some(mb) = &b.access
    {
        for v in violations(mb, eb) {
            compared += 1;
            let others: Vec<&crate::snapshot::Snapshot> = snapshots
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != reference)
                .map(|(_, s)| s)
                .collect();
            let (ea, shared) = match others.first() {
                Some(a) => {
                    let shared = a.access.as_ref().is_some_and(|ma| {
                        violations(ma, &a.environment).iter().any(|w| {
                            tokens.normalize(&a.environment, &w.key) == tokens.normalize(eb, &v.key)
                        })
                    });
                    (a.environment.as_str(), shared)
                }
                None => (eb, false),
            };
            let mut f = finding(
                v.system.name(),
                Class::Policy,
                format!("access:{}:{}", v.system.name(), v.key),
                side(ea, shared.then(|| v.value.clone()), None),
                side(eb, Some(v.value.clone()), Some(v.origin)),
                if shared {
                    format!("{} (and in {ea})", v.message)
                } else {
                    v.message
                },
            );
            f.severity = v.severity;
            push(f);
        }
    }
    compared += crate::compare::push_unreadable(
        &mut findings,
        Facet::Access,
        snapshots,
        reference,
        |s| &s.access_errors,
        rules,
    );
    (findings, compared)
}

/// The report of `envparity access audit ENV`: the strictness pack on one environment.
pub fn audit_report(
    snapshot: &crate::snapshot::Snapshot,
    rules: &crate::rules::Rules,
) -> crate::report::Report {
    let env = snapshot.environment.as_str();
    let mut findings = snapshot
        .access
        .as_ref()
        .map(|m| audit(m, env))
        .unwrap_or_default();
    for f in &mut findings {
        if let Some(severity) = rules.severity_override(&[&f.key]) {
            f.severity = severity;
        }
    }
    for error in &snapshot.access_errors {
        findings.push(crate::compare::unreadable_finding(
            Facet::Access,
            error,
            env,
            env,
            false,
            rules,
        ));
    }
    let compared = snapshot.access.as_ref().map_or(0, |m| {
        (m.principals.len() + m.permissions.len() + m.auth_rules.len() + m.switches.len()) as u64
    });
    let summary = crate::compare::summarize(Facet::Access, compared, &findings);
    crate::report::Report {
        format: crate::report::REPORT_FORMAT.to_string(),
        version: crate::report::REPORT_VERSION,
        environments: vec![crate::report::EnvironmentInfo {
            name: env.to_string(),
            production: snapshot.production,
            taken_at: snapshot.taken_at.clone(),
        }],
        reference: env.to_string(),
        score: summary.score,
        facets: vec![summary],
        findings,
        matrix: None,
        notes: snapshot
            .access
            .as_ref()
            .map(|m| m.limits.clone())
            .unwrap_or_default(),
        traffic: Vec::new(),
        load: Vec::new(),
    }
}

/// What one principal may do, for `envparity access show`: its attributes, memberships
/// and permissions (direct, and through the roles it is a member of).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrincipalReport {
    pub environment: String,
    pub principal: Principal,
    pub permissions: Vec<Permission>,
    /// Permissions held through memberships: (role, permission).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited: Vec<(String, Permission)>,
}

/// The principals whose name contains `name` (case-insensitive), with their permissions.
pub fn principal_reports(m: &AccessModel, env: &str, name: &str) -> Vec<PrincipalReport> {
    let needle = name.to_lowercase();
    m.principals
        .iter()
        .filter(|p| p.name.to_lowercase().contains(&needle))
        .map(|p| {
            let own: Vec<Permission> = m
                .permissions
                .iter()
                .filter(|g| g.system == p.system && g.principal == p.name)
                .cloned()
                .collect();
            // Memberships, followed transitively (inheriting ones only).
            let mut roles: Vec<String> = Vec::new();
            let mut queue: Vec<String> = p
                .member_of
                .iter()
                .filter(|r| !r.ends_with("(noinherit)"))
                .cloned()
                .collect();
            while let Some(role) = queue.pop() {
                if roles.contains(&role) || roles.len() > 256 {
                    continue;
                }
                if let Some(parent) = m
                    .principals
                    .iter()
                    .find(|q| q.system == p.system && q.name == role)
                {
                    queue.extend(
                        parent
                            .member_of
                            .iter()
                            .filter(|r| !r.ends_with("(noinherit)"))
                            .cloned(),
                    );
                }
                roles.push(role);
            }
            let mut via_public = vec!["PUBLIC".to_string()];
            if p.system != System::Postgres {
                via_public.clear();
            }
            let inherited = m
                .permissions
                .iter()
                .filter(|g| g.system == p.system)
                .filter_map(|g| {
                    roles
                        .iter()
                        .chain(via_public.iter())
                        .find(|r| **r == g.principal)
                        .map(|r| (r.clone(), g.clone()))
                })
                .collect();
            PrincipalReport {
                environment: env.to_string(),
                principal: p.clone(),
                permissions: own,
                inherited,
            }
        })
        .collect()
}
