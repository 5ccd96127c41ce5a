//! `envparity load k8s-job`: the manifests that run one load plan as N shards on a
//! Kubernetes cluster: a ConfigMap with the model (and requests file), and an Indexed Job
//! whose pods each run `envparity load … --shard $(JOB_COMPLETION_INDEX)/N` from one
//! common start time, writing their result to stdout for `envparity load merge`.

use std::fmt::Write as _;

#[derive(Clone, Debug)]
pub struct JobSpec {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub shards: u32,
    /// The arguments every shard's `envparity load` gets, before `--shard`,
    /// `--start-at` and `-o`: target, rate, shape, duration, connections…
    pub args: Vec<String>,
    /// The model's JSON and the requests file's text, mounted at /plan.
    pub model_json: Option<String>,
    pub requests_toml: Option<String>,
    /// RFC 3339, UTC.
    pub start_at: String,
    /// A Secret whose keys become the pods' environment (the requests file's `${VAR}`s).
    pub env_from_secret: Option<String>,
    pub cpu: String,
    pub memory: String,
}

/// ConfigMaps hold at most 1 MiB.
const CONFIGMAP_LIMIT: usize = 1_000_000;

pub fn render(spec: &JobSpec) -> Result<String, String> {
    let size = spec.model_json.as_ref().map_or(0, String::len)
        + spec.requests_toml.as_ref().map_or(0, String::len);
    if size > CONFIGMAP_LIMIT {
        return Err(format!(
            "the model and requests file come to {size} bytes, over a ConfigMap's 1 MiB: refit the model with fewer routes"
        ));
    }
    let name = &spec.name;
    let ns = &spec.namespace;
    let n = spec.shards;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# envparity load as a Kubernetes Indexed Job: {n} shards of one schedule, all starting at {}.",
        spec.start_at
    );
    let _ = writeln!(out, "# Apply it before then:   kubectl apply -f THIS_FILE");
    let _ = writeln!(
        out,
        "# Collect and merge:      for i in $(seq 0 {}); do kubectl logs -n {ns} -l job-name={name},batch.kubernetes.io/job-completion-index=$i > shard-$i.json; done",
        n.saturating_sub(1)
    );
    let _ = writeln!(
        out,
        "#                         envparity load merge shard-*.json -o run.json"
    );
    let plan = spec.model_json.is_some() || spec.requests_toml.is_some();
    if plan {
        let _ = writeln!(
            out,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-plan\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: envparity-load\ndata:"
        );
        if let Some(json) = &spec.model_json {
            let _ = writeln!(out, "  model.json: {}", quote(json));
        }
        if let Some(toml) = &spec.requests_toml {
            let _ = writeln!(out, "  requests.toml: {}", quote(toml));
        }
        let _ = writeln!(out, "---");
    }
    let mut args: Vec<String> = vec!["load".to_string()];
    args.extend(spec.args.iter().cloned());
    args.extend([
        "--shard".to_string(),
        format!("$(JOB_COMPLETION_INDEX)/{n}"),
        "--start-at".to_string(),
        spec.start_at.clone(),
        "-o".to_string(),
        "-".to_string(),
        // `kubectl logs` joins stderr to stdout: only the JSON may be written, so that
        // the logs collected are the shard's result.
        "--quiet".to_string(),
    ]);
    let _ = writeln!(
        out,
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: envparity-load\nspec:\n  completionMode: Indexed\n  completions: {n}\n  parallelism: {n}\n  backoffLimit: 0\n  ttlSecondsAfterFinished: 86400\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: envparity-load\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: load\n          image: {}\n          args:",
        quote(&spec.image)
    );
    for a in &args {
        let _ = writeln!(out, "            - {}", quote(a));
    }
    if let Some(secret) = &spec.env_from_secret {
        let _ = writeln!(
            out,
            "          envFrom:\n            - secretRef:\n                name: {}",
            quote(secret)
        );
    }
    let _ = writeln!(
        out,
        "          resources:\n            requests:\n              cpu: {}\n              memory: {}\n            limits:\n              memory: {}",
        quote(&spec.cpu),
        quote(&spec.memory),
        quote(&spec.memory)
    );
    if plan {
        let _ = writeln!(
            out,
            "          volumeMounts:\n            - name: plan\n              mountPath: /plan\n              readOnly: true\n      volumes:\n        - name: plan\n          configMap:\n            name: {name}-plan"
        );
    }
    Ok(out)
}

/// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
