//! A throwaway project folder and a way to run the real binary in it.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Project {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
            env: vec![("ENVPARITY_KEY".into(), "test-project-key".into())],
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str, contents: &str) -> &Project {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).unwrap()
    }

    pub fn set_env(&mut self, key: &str, value: &str) -> &mut Project {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn unset_env(&mut self, key: &str) -> &mut Project {
        self.env.retain(|(k, _)| k != key);
        self
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.dir.path().to_path_buf(), args)
    }

    pub fn run_in(&self, cwd: PathBuf, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_envparity"));
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run envparity");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// The envparity.toml most tests use.
pub const MANIFEST: &str = r#"
[environments.qa]
config = ["qa/**"]
[environments.prod]
config = ["prod/**"]
production = true

[rules]
env_tokens = { qa = ["qa", "staging"], prod = ["prod", "production"] }
secrets = ["*password*", "*secret*", "*token*", "*_KEY", "*api_key*"]
"#;

/// Findings of a JSON report as (class, key) pairs.
pub fn classes(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap().to_string(),
                f["key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn class_of(report: &serde_json::Value, key: &str) -> Option<String> {
    classes(report)
        .into_iter()
        .find(|(_, k)| k == key)
        .map(|(c, _)| c)
}
