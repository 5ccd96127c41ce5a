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

/// What a blind review (2026-12-04) found the CLI doing wrong with odd sources and files.
#[test]
fn a_named_pipe_is_unreadable_not_a_hang() {
    let p = Project::new();
    p.file("envparity.toml", crate::support::MANIFEST)
        .file("qa/a.env", "A=1\n")
        .file("prod/a.env", "A=2\n");
    let fifo = p.path().join("qa/pipe.env");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let started = std::time::Instant::now();
    let run = p.run(&["diff", "qa", "prod", "--format", "json"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let unreadable = crate::support::class_of(&report, "qa/pipe.env");
    assert_eq!(unreadable.as_deref(), Some("unreadable"), "{report:#}");
    assert!(
        run.stdout.contains("a named pipe, not a file"),
        "{}",
        run.stdout
    );
    // The rest is still compared.
    assert_eq!(
        crate::support::class_of(&report, "a.env:A").as_deref(),
        Some("drift")
    );
}

#[test]
fn two_files_that_pair_as_one_are_named_not_merged() {
    let p = Project::new();
    p.file(
        "my.toml",
        "[environments.qa]\nconfig = [\"config/qa/**\", \"k8s/qa/**\"]\n[environments.prod]\nconfig = [\"config/prod/**\", \"k8s/prod/**\"]\nproduction = true\n",
    )
    .file("config/qa/app.env", "A=1\n")
    .file("k8s/qa/app.env", "A=2\n")
    .file("config/prod/app.env", "A=1\n")
    .file("k8s/prod/app.env", "A=1\n");
    let run = p.run(&[
        "--config", "my.toml", "diff", "qa", "prod", "--format", "json",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    // The first by name is compared (and is in parity); the other is named, on its side.
    assert_eq!(
        crate::support::class_of(&report, "a.env:A"),
        None,
        "{report:#}"
    );
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "k8s/qa/app.env")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(finding["class"], "unreadable");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("and so does `config/qa/app.env`"),
        "{finding:#}"
    );
    assert_eq!(finding["a"]["env"], "qa");
    assert_eq!(finding["a"]["location"]["file"], "k8s/qa/app.env");
    let prod_side = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "k8s/prod/app.env")
        .unwrap_or_else(|| panic!("{report:#}"));
    // A reference-side source keeps the sides in report order: qa compared, prod reference.
    assert_eq!(prod_side["a"]["env"], "qa");
    assert_eq!(prod_side["b"]["env"], "prod");
    assert_eq!(prod_side["b"]["location"]["file"], "k8s/prod/app.env");
}

#[test]
fn errors_about_a_named_manifest_name_it_and_its_line() {
    let p = Project::new();
    p.file(
        "bad.toml",
        "# header\n\n[environments.qa]\nconfig = [\"qa/[\"]\n[environments.prod]\nconfig = [\"prod/dir.yaml\"]\nproduction = true\n",
    )
    .file("prod/dir.yaml/a.yaml", "a: 1\n");
    let run = p.run(&["--config", "bad.toml", "diff", "qa", "prod"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("bad.toml:4:"), "{}", run.stdout);
    assert!(!run.stdout.contains("envparity.toml"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("`prod/dir.yaml` is a folder: write `prod/dir.yaml/**`"),
        "{}",
        run.stdout
    );
    p.file(
        "names.toml",
        "# header\n\n[environments.qa]\nconfig = [\"qa/**\"]\n[environments.\"bad.name\"]\nconfig = [\"qa/**\"]\n",
    );
    let run = p.run(&["--config", "names.toml", "diff", "qa", "bad.name"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("names.toml:5:15:"), "{}", run.stderr);
    let run = p.run(&["--config", ".", "diff", "qa", "prod"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is a folder"), "{}", run.stderr);
}

#[test]
fn a_baseline_that_cannot_be_read_is_an_error_not_an_empty_one() {
    let p = Project::new();
    p.file("envparity.toml", crate::support::MANIFEST)
        .file("qa/a.env", "A=1\n")
        .file("prod/a.env", "A=2\n");
    std::fs::create_dir(p.path().join("envparity.baseline.json")).unwrap();
    let run = p.run(&["diff", "qa", "prod"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a file"), "{}", run.stderr);
    std::fs::remove_dir(p.path().join("envparity.baseline.json")).unwrap();
    for (text, says) in [
        (r#"{"version":2,"entries":[]}"#, "baseline version 2"),
        (r#"{"entries":[]}"#, "has no `version`"),
        (
            r#"{"version":1,"entries":[],"extra":1}"#,
            "unknown field `extra`",
        ),
    ] {
        p.file("envparity.baseline.json", text);
        let run = p.run(&["diff", "qa", "prod"]);
        assert_eq!(run.code, 2, "{text}");
        assert!(run.stderr.contains(says), "{text}: {}", run.stderr);
        // And `baseline` does not write over a file it cannot read.
        let run = p.run(&["baseline"]);
        assert_eq!(run.code, 2, "{text}");
        assert_eq!(p.read("envparity.baseline.json"), text);
    }
}

#[test]
fn init_writes_where_config_says() {
    let p = Project::new();
    p.file("sub/qa/a.env", "A=1\n")
        .file("sub/prod/a.env", "A=1\n");
    let run = p.run(&["--config", "sub/my.toml", "init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!p.path().join("envparity.toml").exists());
    let written = p.read("sub/my.toml");
    assert!(written.contains("[environments.qa]"), "{written}");
    assert!(p.path().join("sub/.envparity.key").exists());
    let run = p.run(&["--config", "sub/my.toml", "diff", "qa", "prod"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// `-o /dev/null` as root once put a regular file where the device was (the report was
/// written beside it and renamed over it). A pipe stands in for the device here.
#[test]
fn output_to_a_pipe_or_through_a_symlink_keeps_what_is_there() {
    use std::os::unix::fs::FileTypeExt;
    let p = Project::new();
    p.file("envparity.toml", crate::support::MANIFEST)
        .file("qa/a.env", "A=1\n")
        .file("prod/a.env", "A=2\n");
    let fifo = p.path().join("report.pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let run = p.run(&[
        "diff",
        "qa",
        "prod",
        "--format",
        "json",
        "-o",
        "report.pipe",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let read = reader.join().unwrap();
    assert!(read.contains("\"findings\""), "{read}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    std::os::unix::fs::symlink("real.json", p.path().join("link.json")).unwrap();
    let run = p.run(&["diff", "qa", "prod", "--format", "json", "-o", "link.json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(p.path().join("link.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(p.read("real.json").contains("\"findings\""));
}
