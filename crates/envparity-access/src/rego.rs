//! The team's own access rules in Rego (OPA's language), evaluated with `regorus` over the
//! normalized model, for teams that already write OPA policies. A policy declares
//! `package envparity.access` and a set `deny` whose members are strings or objects
//! `{"key": …, "message": …, "severity": "error" | "warning" | "info"}`.
//!
//! The input document is the environment's model: `environment`, `production`,
//! `principals`, `permissions`, `auth_rules`, `switches` — the same fields as in a
//! snapshot's `access`.

use envparity_core::access::{AccessModel, CustomViolation, Origin};

/// The rule every policy contributes to.
const QUERY: &str = "data.envparity.access.deny";

/// Loaded policies, ready to evaluate against each environment.
#[derive(Clone)]
pub struct Policies {
    engine: regorus::Engine,
    /// The files loaded, for naming where a result came from.
    files: Vec<String>,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("files", &self.files)
            .finish()
    }
}

impl Policies {
    /// Loads policy texts: `(shown name, text)`. A syntax error names the file and line.
    pub fn load(files: &[(String, String)]) -> Result<Policies, String> {
        let mut engine = regorus::Engine::new();
        for (shown, text) in files {
            engine
                .add_policy(shown.clone(), text.clone())
                .map_err(|e| tidy(&e.to_string(), shown))?;
        }
        Ok(Policies {
            engine,
            files: files.iter().map(|(s, _)| s.clone()).collect(),
        })
    }

    /// What the policies deny in one environment's model.
    pub fn evaluate(
        &self,
        environment: &str,
        production: bool,
        model: &AccessModel,
    ) -> Result<Vec<CustomViolation>, String> {
        let mut input = serde_json::to_value(model).map_err(|e| e.to_string())?;
        if let Some(object) = input.as_object_mut() {
            object.insert("environment".into(), environment.into());
            object.insert("production".into(), production.into());
            for list in ["principals", "permissions", "auth_rules", "switches"] {
                object.entry(list).or_insert_with(|| serde_json::json!([]));
            }
        }
        let mut engine = self.engine.clone();
        engine.set_input(
            regorus::Value::from_json_str(&input.to_string()).map_err(|e| e.to_string())?,
        );
        let results = engine
            .eval_query(QUERY.to_string(), false)
            .map_err(|e| format!("evaluating {QUERY}: {}", tidy(&e.to_string(), "")))?;
        let policy = self.files.join(", ");
        let mut out = Vec::new();
        for result in results.result {
            for expression in result.expressions {
                let json = expression.value.to_json_str().map_err(|e| e.to_string())?;
                let value: serde_json::Value =
                    serde_json::from_str(&json).map_err(|e| e.to_string())?;
                let items = match value {
                    serde_json::Value::Array(items) => items,
                    other => vec![other],
                };
                for item in items {
                    out.push(violation(&item, &policy));
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out.dedup_by(|a, b| a.key == b.key);
        Ok(out)
    }
}

fn violation(item: &serde_json::Value, policy: &str) -> CustomViolation {
    let text = |field: &str| item.get(field).and_then(|v| v.as_str()).map(str::to_string);
    let message = match item {
        serde_json::Value::String(s) => s.clone(),
        _ => text("message")
            .or_else(|| text("msg"))
            .unwrap_or_else(|| item.to_string()),
    };
    CustomViolation {
        policy: policy.to_string(),
        key: text("key").unwrap_or_else(|| message.clone()),
        message,
        severity: text("severity").unwrap_or_else(|| "error".into()),
        origin: Origin {
            file: policy.to_string(),
            line: None,
        },
    }
}

/// regorus's messages span lines (`--> file:3:5`, the source line, a caret, `error: …`):
/// `file:3:5: …` on one line.
fn tidy(message: &str, shown: &str) -> String {
    let at = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .map(str::trim);
    let what = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or_else(|| message.lines().last().unwrap_or(message).trim());
    match at {
        Some(at) => format!("{at}: {what}"),
        None if !shown.is_empty() => format!("{shown}: {what}"),
        None => what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envparity_core::access::{Permission, System};

    const POLICY: &str = r#"
package envparity.access

import rego.v1

deny contains v if {
    input.production
    some p in input.permissions
    p.system == "k8s"
    p.action in {"delete", "*"}
    startswith(p.resource, "secrets")
    v := {"key": sprintf("%s deletes secrets", [p.principal]),
          "message": sprintf("%s may delete secrets (%s)", [p.principal, p.via])}
}

deny contains "no principal may be called root" if {
    some p in input.principals
    p.name == "root"
}
"#;

    fn model() -> AccessModel {
        AccessModel {
            permissions: vec![Permission {
                system: System::Kubernetes,
                principal: "ServiceAccount shop/api".into(),
                action: "delete".into(),
                resource: "secrets in shop".into(),
                via: "RoleBinding shop/x → Role y".into(),
                grant_option: false,
                origin: Origin::default(),
            }],
            ..AccessModel::default()
        }
    }

    #[test]
    fn a_policy_denies_what_it_says() {
        let p = Policies::load(&[("team.rego".into(), POLICY.into())]).unwrap();
        let found = p.evaluate("prod", true, &model()).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "ServiceAccount shop/api deletes secrets");
        assert!(found[0].message.contains("RoleBinding shop/x"));
        assert_eq!(found[0].severity, "error");
        assert!(p.evaluate("qa", false, &model()).unwrap().is_empty());
    }

    #[test]
    fn a_broken_policy_names_its_file_and_line() {
        let err = Policies::load(&[(
            "bad.rego".into(),
            "package envparity.access\n\ndeny contains x if {\n  x := \n}\n".into(),
        )])
        .unwrap_err();
        assert_eq!(err, "bad.rego:4:5: expecting `}` while parsing set");
        assert!(!err.contains('\n'), "{err}");
    }
}
