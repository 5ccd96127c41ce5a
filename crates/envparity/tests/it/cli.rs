//! The command line itself: finding envparity.toml, init, schema, errors.

use crate::support::{MANIFEST, Project};

#[test]
fn finds_envparity_toml_in_a_parent_folder() {
    let p = Project::new();
    p.file("envparity.toml", MANIFEST)
        .file("qa/a.yaml", "x: 1\n")
        .file("prod/a.yaml", "x: 2\n");
    let run = p.run_in(
        p.path().join("qa"),
        &["diff", "qa", "prod", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let other = tempfile::tempdir().unwrap();
    let cfg = p.path().join("envparity.toml");
    let run = p.run_in(
        other.path().to_path_buf(),
        &["--config", cfg.to_str().unwrap(), "diff", "qa", "prod"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn manifest_errors_point_at_line_and_column() {
    let p = Project::new();
    p.file(
        "envparity.toml",
        "[environments.qa]\nconfig = [\"qa/**\"]\nproduciton = true\n",
    );
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("envparity.toml:3:1"), "{}", run.stderr);
    assert!(run.stderr.contains("produciton"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    p.file(
        "envparity.toml",
        "[environments.qa]\nconfig = [\"qa/[**\"]\n[environments.prod]\nconfig = [\"prod/**\"]\n",
    );
    p.file("prod/a.yaml", "a: 1\n");
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("envparity.toml:2:"),
        "a bad glob is named with its line: {}",
        run.stdout
    );
}

#[test]
fn unknown_environment_is_a_clear_error() {
    let p = Project::new();
    p.file("envparity.toml", MANIFEST);
    let run = p.run(&["diff", "qa", "production"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`production`") && run.stderr.contains("qa, prod")
            || run.stderr.contains("prod, qa"),
        "{}",
        run.stderr
    );
}

#[test]
fn init_writes_a_working_template_and_a_private_key() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    p.file("envs/staging/app.yaml", "a: 1\n")
        .file("envs/production/app.yaml", "a: 2\n");
    let run = p.run(&["init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let manifest = p.read("envparity.toml");
    assert!(
        manifest.contains("envs/staging/**") && manifest.contains("production = true"),
        "{manifest}"
    );
    let mode = std::fs::metadata(p.path().join(".envparity.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(p.read(".gitignore").lines().any(|l| l == ".envparity.key"));
    let diff = p.run(&["diff", "staging", "production", "--format", "json"]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert_eq!(p.run(&["init"]).code, 2, "refuses to overwrite");
}

#[test]
fn schema_describes_the_manifest() {
    let p = Project::new();
    let run = p.run(&["schema"]);
    assert_eq!(run.code, 0);
    let schema = run.json();
    let text = schema.to_string();
    for field in [
        "environments",
        "env_tokens",
        "secrets",
        "expect",
        "expires",
        "production",
    ] {
        assert!(text.contains(field), "schema lacks {field}");
    }
}

#[test]
fn a_bad_snapshot_file_is_named_without_echoing_it() {
    let p = Project::new();
    p.file(
        "broken.json",
        "{\"format\": \"envparity-snapshot\",\n \"version\": CANARY-x}\n",
    )
    .file("other.json", "{\"hello\": 1}\n")
    .file(
        "good.json",
        "{\"format\": \"envparity-snapshot\", \"version\": 1}\n",
    );
    let run = p.run(&["diff", "broken.json", "good.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("broken.json:2:") && !run.stderr.contains("CANARY"),
        "{}",
        run.stderr
    );
    let run = p.run(&["diff", "other.json", "good.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("other.json: not an envparity snapshot"),
        "{}",
        run.stderr
    );
}
