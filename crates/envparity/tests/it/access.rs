//! The access facet end to end on files a team keeps: RBAC manifests, application config
//! and the SQL `pg_dumpall`/`pg_dump` print. Planted: a superuser app role, a PUBLIC grant,
//! a RoleBinding to cluster-admin, a wildcard verb, `CORS *`, all in prod; QA relaxations
//! (auth off, an extra DELETE grant, a group with `edit`).

use crate::support::{Project, class_of};

fn rbac(ns: &str, prod: bool) -> String {
    let mut out = format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: {ns}\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: {ns}\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\"]\n    verbs: {}\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: reader\n  namespace: {ns}\nsubjects:\n  - kind: ServiceAccount\n    name: api\n    namespace: {ns}\nroleRef:\n  kind: Role\n  name: reader\n",
        if prod {
            "[\"*\"]"
        } else {
            "[\"get\", \"list\"]"
        }
    );
    if prod {
        out.push_str(&format!(
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: api-admin\n  namespace: {ns}\nsubjects:\n  - kind: ServiceAccount\n    name: api\n    namespace: {ns}\nroleRef:\n  kind: ClusterRole\n  name: cluster-admin\n"
        ));
    } else {
        out.push_str(&format!(
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: testers\n  namespace: {ns}\nsubjects:\n  - kind: Group\n    name: testers\nroleRef:\n  kind: ClusterRole\n  name: edit\n"
        ));
    }
    out
}

fn roles(env: &str, superuser: bool) -> String {
    format!(
        "CREATE ROLE app_{env};\nALTER ROLE app_{env} WITH {} INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:PASSWORDCANARY';\nCREATE ROLE reporting_{env};\nALTER ROLE reporting_{env} WITH NOSUPERUSER INHERIT NOLOGIN;\n\
GRANT SELECT, INSERT ON TABLE public.orders TO app_{env};\n",
        if superuser {
            "SUPERUSER"
        } else {
            "NOSUPERUSER"
        }
    )
}

fn project() -> Project {
    let p = Project::new();
    p.file("qa/rbac.yaml", &rbac("shop-qa", false))
        .file("prod/rbac.yaml", &rbac("shop-prod", true))
        .file(
            "qa/app.yaml",
            "shop:\n  cors:\n    allowed-origins: https://qa.shop.example\n  auth:\n    enabled: false\n",
        )
        .file(
            "prod/app.yaml",
            "shop:\n  cors:\n    allowed-origins: \"*\"\n  auth:\n    enabled: true\n",
        )
        .file(
            "db/qa/roles.sql",
            &format!("{}GRANT DELETE ON TABLE public.orders TO app_qa;\n", roles("qa", false)),
        )
        .file(
            "db/prod/roles.sql",
            &format!(
                "{}GRANT SELECT ON TABLE public.orders TO PUBLIC;\nGRANT SELECT ON TABLE public.audit_log TO reporting_prod;\n",
                roles("prod", true)
            ),
        )
        .file(
            "envparity.toml",
            "[environments.qa]\nconfig = [\"qa/**\"]\naccess = [\"db/qa/*.sql\"]\n\n[environments.prod]\nconfig = [\"prod/**\"]\naccess = [\"db/prod/*.sql\"]\nproduction = true\n\n[rules]\nenv_tokens = { qa = [\"qa\"], prod = [\"prod\"] }\n",
        );
    p
}

#[test]
fn diff_finds_every_planted_access_issue_and_pairs_principals() {
    let p = project();
    let run = p.run(&["access", "diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let expect = [
        ("access:postgres:app_prod.superuser", "policy"),
        (
            "access:postgres:PUBLIC SELECT table public.orders",
            "policy",
        ),
        (
            "access:k8s:ServiceAccount shop-prod/api cluster-admin",
            "policy",
        ),
        (
            "access:k8s:ServiceAccount shop-prod/api * configmaps in shop-prod",
            "policy",
        ),
        (
            "access:app:cors-any app.yaml:shop.cors.allowed-origins",
            "policy",
        ),
        // Paired across environments: one drift, not a missing and an extra role.
        ("access:postgres:app_prod.superuser", "policy"),
        ("access:postgres:app_qa DELETE table public.orders", "extra"),
        (
            "access:postgres:reporting_prod SELECT table public.audit_log",
            "missing",
        ),
        (
            "access:app:auth-disabled app.yaml:shop.auth.enabled",
            "extra",
        ),
        ("access:k8s:Group testers", "extra"),
    ];
    for (key, class) in expect {
        assert_eq!(
            class_of(&report, key).as_deref(),
            Some(class),
            "{key} in {:#}",
            report["findings"]
        );
    }
    let keys: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"access:postgres:app_prod.superuser"),
        "the superuser drift between paired roles: {keys:#?}"
    );
    assert!(
        !keys
            .iter()
            .any(|k| k.contains("app_qa") && !k.contains("DELETE")),
        "app_qa pairs with app_prod: {keys:#?}"
    );
    // A RoleBinding to a ClusterRole is scoped to its namespace.
    assert!(
        !keys.iter().any(|k| k.contains("(all namespaces)")),
        "{keys:#?}"
    );
    for format in ["json", "text", "markdown", "junit", "sarif", "html"] {
        let out = p.run(&["access", "diff", "qa", "prod", "--format", format]);
        assert!(!out.stdout.contains("PASSWORDCANARY"), "{format}");
        assert!(!out.stderr.contains("PASSWORDCANARY"), "{format}");
    }
    let snapshot = p.run(&["snapshot", "prod"]);
    assert!(!snapshot.stdout.contains("PASSWORDCANARY"));
}

#[test]
fn audit_names_what_to_change_and_show_lists_a_principals_permissions() {
    let p = project();
    let run = p.run(&["access", "audit", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("ALTER ROLE app_prod NOSUPERUSER")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("REVOKE SELECT ON public.orders FROM PUBLIC")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("cluster-admin") && m.contains("RoleBinding shop-prod/api-admin")),
        "{messages:#?}"
    );
    // QA's audit: its own relaxations, no superuser.
    let qa = p.run(&["access", "audit", "qa", "--format", "json"]).json();
    let keys: Vec<&str> = qa["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["access:app:auth-disabled app.yaml:shop.auth.enabled"]
    );
    let show = p.run(&["access", "show", "qa", "prod", "--principal", "app_"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let principals: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let list = principals.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["environment"], "qa");
    let actions: Vec<&str> = list[0]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert_eq!(list[1]["principal"]["attributes"]["superuser"], "true");
}

#[test]
fn the_teams_rego_rules_join_the_strictness_pack() {
    let p = project();
    p.file(
        "policies/team.rego",
        "package envparity.access\n\nimport rego.v1\n\n# Application roles never delete: rows are archived.\ndeny contains v if {\n    some p in input.permissions\n    p.system == \"postgres\"\n    p.action == \"DELETE\"\n    v := {\"key\": sprintf(\"%s deletes %s\", [p.principal, p.resource]),\n          \"message\": sprintf(\"%s may DELETE %s\", [p.principal, p.resource]),\n          \"severity\": \"warning\"}\n}\n",
    );
    let manifest = p.read("envparity.toml");
    p.file(
        "envparity.toml",
        &format!("{manifest}\n[access]\npolicies = [\"policies/*.rego\"]\n"),
    );
    let report = p.run(&["access", "audit", "qa", "--format", "json"]).json();
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "access:rego:app_qa deletes table public.orders")
        .unwrap_or_else(|| panic!("{:#}", report["findings"]))
        .clone();
    assert_eq!(finding["class"], "policy");
    assert_eq!(finding["severity"], "warning");
    assert_eq!(
        finding["message"],
        "app_qa may DELETE table public.orders in qa (policies/team.rego)"
    );
    // A broken policy is named by file, line and column, and the run goes on.
    p.file(
        "policies/broken.rego",
        "package envparity.access\n\ndeny contains x if {\n  x := \n}\n",
    );
    let run = p.run(&["access", "audit", "prod"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("policies/broken.rego:4:5: expecting"),
        "{}",
        run.stdout
    );
}

#[test]
fn explicit_pairs_and_the_teams_switch_rules() {
    let p = project();
    // QA's application role has a legacy name the environment tokens cannot pair.
    p.file(
        "db/qa/roles.sql",
        "CREATE ROLE legacy_app;\nALTER ROLE legacy_app WITH NOSUPERUSER LOGIN;\nGRANT SELECT, INSERT ON TABLE public.orders TO legacy_app;\n",
    )
    .file(
        "prod/app.yaml",
        "shop:\n  cors:\n    allowed-origins: https://shop.example\n  auth:\n    enabled: true\n  open_registration: true\n",
    );
    let manifest = p.read("envparity.toml");
    let unpaired = p
        .run(&["access", "diff", "qa", "prod", "--format", "json"])
        .json();
    let keys = |report: &serde_json::Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        keys(&unpaired).contains(&"access:postgres:legacy_app".to_string()),
        "{:#?}",
        keys(&unpaired)
    );
    p.file(
        "envparity.toml",
        &format!(
            "{manifest}\n[access]\npairs = [[\"legacy_app\", \"app_prod\"]]\n\n[[access.switches]]\nrule = \"open-registration\"\nkey = \"app.yaml:shop.open_registration\"\n"
        ),
    );
    let paired = p
        .run(&["access", "diff", "qa", "prod", "--format", "json"])
        .json();
    let found = keys(&paired);
    assert!(
        !found
            .iter()
            .any(|k| k == "access:postgres:legacy_app" || k == "access:postgres:app_prod"),
        "{found:#?}"
    );
    assert_eq!(
        class_of(
            &paired,
            "access:app:open-registration app.yaml:shop.open_registration"
        )
        .as_deref(),
        Some("policy"),
        "{found:#?}"
    );
    // A bad pattern is pointed at.
    p.file(
        "envparity.toml",
        &format!("{manifest}\n[[access.switches]]\nrule = \"x\"\nkey = \"app.yaml:***\"\n"),
    );
    let run = p.run(&["access", "diff", "qa", "prod"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad key pattern"), "{}", run.stderr);
}
