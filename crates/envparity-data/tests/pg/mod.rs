//! A throwaway PostgreSQL server for the tests: its own data folder, socket folder and
//! port, one per test process, stopped when the process ends however it ends.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The test role's password: a `%` to be percent-encoded, a word to search for.
pub const PASSWORD: &str = "pw-Zq7%canaryPG";
pub const PASSWORD_IN_URL: &str = "pw-Zq7%25canaryPG";
pub const USER: &str = "envp";

pub struct Server {
    pub port: u16,
    /// The socket folder: the superuser connects there without a password.
    pub socket_dir: PathBuf,
    watchdog: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.watchdog.wait();
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();

pub fn server() -> &'static Server {
    SERVER.get_or_init(Server::start)
}

/// A second, independent server with its own roles: two clusters stand for QA's and
/// Production's, whose roles (cluster-wide in PostgreSQL) must not mix.
#[allow(dead_code)]
pub fn another() -> Server {
    Server::start()
}

fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .find(|d| d.join("initdb").is_file())
        .expect("these tests need PostgreSQL installed (the postgresql package)")
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// `initdb` and `postgres` refuse to run as root: as root, run them as `postgres`
/// (`setpriv` execs, so the PID is the server's own).
fn as_postgres(program: &Path) -> Vec<String> {
    let mut argv = Vec::new();
    if running_as_root() {
        argv.extend(
            [
                "setpriv",
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
            ]
            .map(String::from),
        );
    }
    argv.push(program.display().to_string());
    argv
}

impl Server {
    fn start() -> Server {
        let began = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("envparity-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        if running_as_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let bin = bin_dir();
        let data = dir.join("data");
        let mut initdb = as_postgres(&bin.join("initdb"));
        initdb.extend([
            "-D".to_string(),
            data.display().to_string(),
            "-U".into(),
            "postgres".into(),
            "-E".into(),
            "UTF8".into(),
            "--locale=C.UTF-8".into(),
            "--auth-local=trust".into(),
            "--auth-host=scram-sha-256".into(),
            "--no-sync".into(),
        ]);
        let output = Command::new(&initdb[0])
            .args(&initdb[1..])
            .stdin(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut argv = as_postgres(&bin.join("postgres"));
        argv.extend([
            "-D".to_string(),
            data.display().to_string(),
            "-p".into(),
            port.to_string(),
            "-k".into(),
            dir.display().to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            "fsync=off".into(),
            "-c".into(),
            "shared_buffers=32MB".into(),
        ]);
        // Start the server, wait for EOF on stdin (this process ended), stop exactly that
        // PID, wait for it, remove the folder.
        let script = r#"dir="$1"; shift
"$@" </dev/null >"$dir/server.log" 2>&1 &
pid=$!
read -r _ui
kill -INT "$pid" 2>/dev/null
wait "$pid"
rm -rf "$dir""#;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&dir)
            .args(&argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        let stdin = watchdog.stdin.take();
        let server = Server {
            port,
            socket_dir: dir.clone(),
            watchdog,
            stdin,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.try_sql("postgres", "SELECT 1").is_err() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                panic!("postgres did not start within 60 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.sql(
            "postgres",
            &format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"),
        );
        eprintln!("postgres started in {:.2?}", began.elapsed());
        server
    }

    fn try_sql(&self, db: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let config = format!(
                "host={} port={} user=postgres dbname={db}",
                self.socket_dir.display(),
                self.port
            );
            let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let handle = tokio::spawn(connection);
            let mut out = Vec::new();
            for m in client.simple_query(sql).await.map_err(|e| {
                e.as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| e.to_string())
            })? {
                if let tokio_postgres::SimpleQueryMessage::Row(row) = m {
                    out.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect(),
                    );
                }
            }
            drop(client);
            let _ = handle.await;
            Ok(out)
        })
    }

    /// Runs SQL as the superuser in `db`; panics on error.
    pub fn sql(&self, db: &str, sql: &str) -> Vec<Vec<Option<String>>> {
        self.try_sql(db, sql)
            .unwrap_or_else(|e| panic!("test SQL failed: {e}\n{sql}"))
    }

    /// A fresh database owned by the superuser, readable by the test role; its URL.
    pub fn database(&self, name: &str) -> String {
        self.sql("postgres", &format!("DROP DATABASE IF EXISTS {name}"));
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        self.sql(
            name,
            &format!(
                "GRANT USAGE ON SCHEMA public TO {USER};
                 ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {USER};"
            ),
        );
        self.url(USER, PASSWORD_IN_URL, name)
    }

    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }
}
