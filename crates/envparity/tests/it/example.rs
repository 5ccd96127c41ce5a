//! The bundled example finds exactly what examples/shop/EXPECTED.md lists.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::support::{Project, classes};

fn shop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/shop")
}

/// `(key, class)` rows of the "Planted differences" table.
fn planted() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(shop_dir().join("EXPECTED.md")).unwrap();
    let section = text
        .split("## Planted differences")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let number_cell = cells.get(1)?;
            if !number_cell.chars().all(|c| c.is_ascii_digit()) || number_cell.is_empty() {
                return None;
            }
            Some((cells[2].trim_matches('`').to_string(), cells[3].to_string()))
        })
        .collect()
}

#[test]
fn the_bundled_example_finds_what_expected_md_lists() {
    let mut p = Project::new();
    p.set_env("ENVPARITY_TODAY", "2026-11-23");
    let run = p.run_in(shop_dir(), &["diff", "qa", "prod", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found: BTreeSet<(String, String)> = classes(&run.json())
        .into_iter()
        .map(|(c, k)| (k, c))
        .collect();
    let expected = planted();
    assert!(
        expected.len() >= 30,
        "EXPECTED.md lists {} rows",
        expected.len()
    );
    let missed: Vec<_> = expected.difference(&found).collect();
    let surprising: Vec<_> = found.difference(&expected).collect();
    assert!(
        missed.is_empty() && surprising.is_empty(),
        "missed: {missed:#?}\nnot in EXPECTED.md: {surprising:#?}"
    );
}

#[test]
fn the_readme_run_command_works_from_the_repository_root() {
    let p = Project::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let run = p.run_in(
        root,
        &[
            "--config",
            "examples/shop/envparity.toml",
            "diff",
            "qa",
            "prod",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("shared-secret") && run.stdout.contains("parity"),
        "{}",
        run.stdout
    );
}
