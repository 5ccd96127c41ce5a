//! Kubernetes RBAC from the configuration snapshot's objects: Roles, ClusterRoles (with
//! aggregation), RoleBindings, ClusterRoleBindings and ServiceAccounts, into principals
//! and their effective permissions. Read from the snapshot rather than the files, so a
//! snapshot taken elsewhere carries the same RBAC.
//!
//! A RoleBinding grants only inside its own namespace, even when it names a ClusterRole;
//! a ClusterRoleBinding grants in every namespace (`(all namespaces)`) and on
//! cluster-scoped resources (`(cluster)`).

use std::collections::BTreeMap;

use envparity_core::access::{AccessModel, Origin, Permission, Principal, System};
use envparity_core::snapshot::{ConfigSnapshot, Resource, Value};

/// One rule of a Role or ClusterRole.
#[derive(Clone, Debug, Default, PartialEq)]
struct Rule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
    names: Vec<String>,
    urls: Vec<String>,
}

#[derive(Clone, Debug)]
struct RoleDef {
    rules: Vec<Rule>,
    labels: BTreeMap<String, String>,
    /// `aggregationRule.clusterRoleSelectors[].matchLabels`, one map per selector.
    selectors: Vec<BTreeMap<String, String>>,
}

/// ClusterRoles every cluster has, as Kubernetes defines them (abridged: `view` and `edit`
/// list their verbs on every resource rather than each resource by name).
fn built_in(name: &str) -> Option<Vec<Rule>> {
    let rule = |verbs: &[&str], resources: &[&str]| Rule {
        api_groups: vec!["*".into()],
        resources: resources.iter().map(|s| s.to_string()).collect(),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..Rule::default()
    };
    let read = ["get", "list", "watch"];
    let write = [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    Some(match name {
        "cluster-admin" => vec![
            rule(&["*"], &["*"]),
            Rule {
                urls: vec!["*".into()],
                verbs: vec!["*".into()],
                ..Rule::default()
            },
        ],
        "admin" => vec![
            rule(&write, &["*"]),
            rule(&write, &["roles", "rolebindings"]),
        ],
        "edit" => vec![rule(&write, &["*"])],
        "view" => vec![rule(&read, &["*"])],
        _ => return None,
    })
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::List(items) => items.iter().flat_map(strings).collect(),
        Value::String(s) => vec![s.to_string()],
        Value::Number(n) => vec![n.to_string()],
        Value::Bool(b) => vec![b.to_string()],
        _ => Vec::new(),
    }
}

fn text(value: &Value) -> Option<String> {
    strings(value).into_iter().next()
}

/// `rules[3].verbs` → (`rules[3]`, `verbs`); `subjects[name=api].kind` → (`subjects[name=api]`, `kind`).
fn split_item<'a>(path: &'a str, list: &str) -> Option<(&'a str, &'a str)> {
    let rest = path.strip_prefix(list)?;
    if !rest.starts_with('[') {
        return None;
    }
    let close = rest.find(']')?;
    let field = rest[close + 1..].strip_prefix('.')?;
    Some((&path[..list.len() + close + 1], field))
}

/// `metadata.labels["a.b/c"]` or `metadata.labels.app` → `a.b/c` / `app`.
fn label_key<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    if let Some(quoted) = rest.strip_prefix("[\"") {
        return quoted.strip_suffix("\"]");
    }
    rest.strip_prefix('.').filter(|k| !k.contains('.'))
}

fn role_def(r: &Resource) -> RoleDef {
    let mut rules: BTreeMap<&str, Rule> = BTreeMap::new();
    let mut labels = BTreeMap::new();
    let mut selectors: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for e in &r.entries {
        if let Some((item, field)) = split_item(e.path, "rules") {
            let rule = rules.entry(item).or_default();
            let values = strings(e.value);
            match field {
                "apiGroups" => rule.api_groups = values,
                "resources" => rule.resources = values,
                "verbs" => rule.verbs = values,
                "resourceNames" => rule.names = values,
                "nonResourceURLs" => rule.urls = values,
                _ => {}
            }
        } else if let Some(key) = label_key(e.path, "metadata.labels") {
            labels.insert(key.to_string(), text(e.value).unwrap_or_default());
        } else if let Some((item, field)) =
            split_item(e.path, "aggregationRule.clusterRoleSelectors")
            && let Some(key) = label_key(&format!(".{field}"), ".matchLabels")
        {
            selectors
                .entry(item)
                .or_default()
                .insert(key.to_string(), text(e.value).unwrap_or_default());
        }
    }
    RoleDef {
        rules: rules.into_values().collect(),
        labels,
        selectors: selectors.into_values().collect(),
    }
}

/// Reads RBAC objects from every configuration file of one environment.
pub fn from_config(config: &ConfigSnapshot) -> AccessModel {
    let mut model = AccessModel::default();
    let mut cluster_roles: BTreeMap<String, RoleDef> = BTreeMap::new();
    let mut roles: BTreeMap<(String, String), RoleDef> = BTreeMap::new();
    let mut bindings: Vec<(&Resource, &str)> = Vec::new();
    for file in &config.files {
        for r in &file.resources {
            match r.kind.as_str() {
                "ClusterRole" => {
                    cluster_roles.insert(r.name.clone(), role_def(r));
                }
                "Role" => {
                    let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
                    roles.insert((ns, r.name.clone()), role_def(r));
                }
                "RoleBinding" | "ClusterRoleBinding" => bindings.push((r, &file.source)),
                "ServiceAccount" => {
                    let ns = r.namespace.as_deref().unwrap_or("default");
                    let mut attributes = BTreeMap::new();
                    if let Some(e) = r
                        .entries
                        .iter()
                        .find(|e| e.path == "automountServiceAccountToken")
                    {
                        attributes.insert(
                            "automount_token".to_string(),
                            text(e.value).unwrap_or_default(),
                        );
                    }
                    model.principals.push(Principal {
                        system: System::Kubernetes,
                        name: format!("ServiceAccount {ns}/{}", r.name),
                        kind: "ServiceAccount".into(),
                        attributes,
                        member_of: Vec::new(),
                        origin: Origin {
                            file: file.source.clone(),
                            line: Some(r.line),
                        },
                    });
                }
                _ => {}
            }
        }
    }
    // Aggregated ClusterRoles take the rules of every ClusterRole their selectors match.
    let snapshot = cluster_roles.clone();
    for role in cluster_roles.values_mut() {
        for selector in role.selectors.clone() {
            if selector.is_empty() {
                continue;
            }
            for (other_name, other) in &snapshot {
                let matches = selector.iter().all(|(k, v)| other.labels.get(k) == Some(v));
                if matches && other.selectors.is_empty() {
                    let _ = other_name;
                    role.rules.extend(other.rules.iter().cloned());
                }
            }
        }
    }
    for (binding, file) in bindings {
        let namespaced = binding.kind == "RoleBinding";
        let ns = binding.namespace.as_deref().unwrap_or("default");
        let field = |name: &str| {
            binding
                .entries
                .iter()
                .find(|e| e.path == name)
                .and_then(|e| text(e.value))
        };
        let (Some(ref_kind), Some(ref_name)) = (field("roleRef.kind"), field("roleRef.name"))
        else {
            continue;
        };
        let (rules, built) = match ref_kind.as_str() {
            "Role" => (
                roles
                    .get(&(ns.to_string(), ref_name.clone()))
                    .map(|r| r.rules.clone()),
                false,
            ),
            _ => match cluster_roles.get(&ref_name) {
                Some(r) => (Some(r.rules.clone()), false),
                None => (built_in(&ref_name), true),
            },
        };
        let via = format!(
            "{} {}{} → {ref_kind} {ref_name}{}",
            binding.kind,
            if namespaced {
                format!("{ns}/")
            } else {
                String::new()
            },
            binding.name,
            if built { " (built-in)" } else { "" }
        );
        let origin = Origin {
            file: file.to_string(),
            line: Some(binding.line),
        };
        // Subjects, grouped by their list item.
        let mut subjects: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
        for e in &binding.entries {
            if let Some((item, f)) = split_item(e.path, "subjects") {
                subjects
                    .entry(item)
                    .or_default()
                    .insert(f, text(e.value).unwrap_or_default());
            }
        }
        for subject in subjects.values() {
            let kind = subject.get("kind").map_or("", String::as_str);
            let Some(name) = subject.get("name") else {
                continue;
            };
            let principal = match kind {
                "ServiceAccount" => format!(
                    "ServiceAccount {}/{name}",
                    subject.get("namespace").map_or(ns, String::as_str)
                ),
                other => format!("{other} {name}"),
            };
            // Users and groups exist only where bindings name them.
            if kind != "ServiceAccount" && !model.principals.iter().any(|p| p.name == principal) {
                model.principals.push(Principal {
                    system: System::Kubernetes,
                    name: principal.clone(),
                    kind: kind.to_string(),
                    attributes: BTreeMap::new(),
                    member_of: Vec::new(),
                    origin: origin.clone(),
                });
            }
            let Some(rules) = &rules else {
                model.permissions.push(Permission {
                    system: System::Kubernetes,
                    principal: principal.clone(),
                    action: "?".into(),
                    resource: format!("{ref_kind} {ref_name} (not found)"),
                    via: via.clone(),
                    grant_option: false,
                    origin: origin.clone(),
                });
                continue;
            };
            for rule in rules {
                for verb in &rule.verbs {
                    for resource in rule_resources(rule, namespaced.then_some(ns)) {
                        model.permissions.push(Permission {
                            system: System::Kubernetes,
                            principal: principal.clone(),
                            action: verb.clone(),
                            resource,
                            via: via.clone(),
                            grant_option: false,
                            origin: origin.clone(),
                        });
                    }
                }
            }
        }
    }
    model.permissions.sort();
    model.permissions.dedup_by(|a, b| {
        a.principal == b.principal && a.action == b.action && a.resource == b.resource
    });
    model
}

/// Kubernetes resources that live outside namespaces: granted by a ClusterRoleBinding
/// they are `(cluster)`, not `(all namespaces)`.
const CLUSTER_SCOPED: &[&str] = &[
    "nodes",
    "namespaces",
    "persistentvolumes",
    "clusterroles",
    "clusterrolebindings",
    "storageclasses",
    "customresourcedefinitions",
    "priorityclasses",
    "csidrivers",
    "csinodes",
    "ingressclasses",
    "runtimeclasses",
    "volumeattachments",
    "certificatesigningrequests",
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "apiservices",
    "tokenreviews",
    "subjectaccessreviews",
    "selfsubjectaccessreviews",
    "componentstatuses",
];

/// `secrets in shop`, `deployments.apps/api in shop`, `pods (all namespaces)`,
/// `nodes (cluster)`, `url /metrics`.
fn rule_resources(rule: &Rule, namespace: Option<&str>) -> Vec<String> {
    let scope_of = |resource: &str| match namespace {
        Some(ns) => format!(" in {ns}"),
        None if CLUSTER_SCOPED.contains(&resource.split('/').next().unwrap_or(resource)) => {
            " (cluster)".to_string()
        }
        None => " (all namespaces)".to_string(),
    };
    let mut out = Vec::new();
    let groups: Vec<&str> = if rule.api_groups.is_empty() {
        vec![""]
    } else {
        rule.api_groups.iter().map(String::as_str).collect()
    };
    for resource in &rule.resources {
        let scope = scope_of(resource);
        for group in &groups {
            let qualified = match *group {
                "" | "*" => resource.clone(),
                g => format!("{resource}.{g}"),
            };
            if rule.names.is_empty() {
                out.push(format!("{qualified}{scope}"));
            } else {
                for name in &rule.names {
                    out.push(format!("{qualified}/{name}{scope}"));
                }
            }
        }
    }
    if namespace.is_none() {
        for url in &rule.urls {
            out.push(format!("url {url}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use envparity_core::snapshot::{ConfigFile, Entries, Format};

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::String((*s).into())).collect())
    }

    fn resource(kind: &str, ns: Option<&str>, name: &str, entries: &[(&str, Value)]) -> Resource {
        Resource {
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
            line: 1,
            entries: entries.iter().map(|(p, v)| (p, 1, v.clone())).collect(),
        }
    }

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    fn config(resources: Vec<Resource>) -> ConfigSnapshot {
        ConfigSnapshot {
            files: vec![ConfigFile {
                path: "rbac.yaml".into(),
                source: "prod/rbac.yaml".into(),
                format: Format::Yaml,
                entries: Entries::new(),
                resources,
            }],
            errors: Vec::new(),
        }
    }

    #[test]
    fn a_rolebinding_to_a_clusterrole_grants_only_in_its_namespace() {
        let model = from_config(&config(vec![
            resource(
                "ClusterRole",
                None,
                "secret-reader",
                &[
                    ("rules[0].apiGroups", list(&[""])),
                    ("rules[0].resources", list(&["secrets"])),
                    ("rules[0].verbs", list(&["get", "list"])),
                ],
            ),
            resource(
                "RoleBinding",
                Some("shop"),
                "read-secrets",
                &[
                    ("subjects[name=api].kind", s("ServiceAccount")),
                    ("subjects[name=api].name", s("api")),
                    ("roleRef.kind", s("ClusterRole")),
                    ("roleRef.name", s("secret-reader")),
                ],
            ),
            resource(
                "ClusterRoleBinding",
                None,
                "ops",
                &[
                    ("subjects[name=ops].kind", s("Group")),
                    ("subjects[name=ops].name", s("ops")),
                    ("roleRef.kind", s("ClusterRole")),
                    ("roleRef.name", s("cluster-admin")),
                ],
            ),
        ]));
        let perms: Vec<(String, String, String)> = model
            .permissions
            .iter()
            .map(|p| (p.principal.clone(), p.action.clone(), p.resource.clone()))
            .collect();
        assert!(perms.contains(&(
            "ServiceAccount shop/api".into(),
            "get".into(),
            "secrets in shop".into()
        )));
        assert!(
            !perms
                .iter()
                .any(|p| p.2.contains("all namespaces") && p.0.contains("api")),
            "{perms:?}"
        );
        assert!(perms.contains(&("Group ops".into(), "*".into(), "* (all namespaces)".into())));
        let ops = model
            .permissions
            .iter()
            .find(|p| p.principal == "Group ops")
            .unwrap();
        assert_eq!(
            ops.via,
            "ClusterRoleBinding ops → ClusterRole cluster-admin (built-in)"
        );
    }

    #[test]
    fn cluster_scoped_resources_are_the_clusters() {
        let model = from_config(&config(vec![
            resource(
                "ClusterRole",
                None,
                "node-reader",
                &[
                    ("rules[0].apiGroups", list(&[""])),
                    ("rules[0].resources", list(&["nodes", "pods"])),
                    ("rules[0].verbs", list(&["get"])),
                ],
            ),
            resource(
                "ClusterRoleBinding",
                None,
                "node-reader",
                &[
                    ("subjects[name=ops].kind", s("User")),
                    ("subjects[name=ops].name", s("ops")),
                    ("roleRef.kind", s("ClusterRole")),
                    ("roleRef.name", s("node-reader")),
                ],
            ),
        ]));
        let resources: Vec<&str> = model
            .permissions
            .iter()
            .map(|p| p.resource.as_str())
            .collect();
        assert_eq!(resources, ["nodes (cluster)", "pods (all namespaces)"]);
        assert_eq!(model.principals[0].name, "User ops");
    }

    #[test]
    fn aggregated_clusterroles_take_the_matching_rules() {
        let model = from_config(&config(vec![
            resource(
                "ClusterRole",
                None,
                "monitoring",
                &[(
                    "aggregationRule.clusterRoleSelectors[0].matchLabels[\"rbac.example.com/aggregate-to-monitoring\"]",
                    s("true"),
                )],
            ),
            resource(
                "ClusterRole",
                None,
                "monitoring-endpoints",
                &[
                    (
                        "metadata.labels[\"rbac.example.com/aggregate-to-monitoring\"]",
                        s("true"),
                    ),
                    ("rules[0].apiGroups", list(&[""])),
                    ("rules[0].resources", list(&["services", "endpoints"])),
                    ("rules[0].verbs", list(&["get"])),
                ],
            ),
            resource(
                "ClusterRoleBinding",
                None,
                "prometheus",
                &[
                    ("subjects[name=prometheus].kind", s("ServiceAccount")),
                    ("subjects[name=prometheus].name", s("prometheus")),
                    ("subjects[name=prometheus].namespace", s("monitoring")),
                    ("roleRef.kind", s("ClusterRole")),
                    ("roleRef.name", s("monitoring")),
                ],
            ),
        ]));
        let resources: Vec<&str> = model
            .permissions
            .iter()
            .filter(|p| p.principal == "ServiceAccount monitoring/prometheus")
            .map(|p| p.resource.as_str())
            .collect();
        assert_eq!(
            resources,
            ["endpoints (all namespaces)", "services (all namespaces)"]
        );
    }
}
