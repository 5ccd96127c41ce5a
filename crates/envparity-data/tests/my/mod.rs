//! A throwaway MariaDB server for the tests: its own data folder, socket and port, one
//! per test process, stopped when the process ends.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row};

/// The password of the test user: a `%` to be percent-encoded, a word to search for.
pub const PASSWORD: &str = "pw-Zq7%canaryPW";
pub const PASSWORD_IN_URL: &str = "pw-Zq7%25canaryPW";
pub const USER: &str = "envp";

pub struct Server {
    pub port: u16,
    pub socket: PathBuf,
    /// How long install + start took.
    pub started_in: Duration,
    /// The watchdog shell: it stops mariadbd and removes the data folder as soon as its
    /// stdin closes, which happens when this process ends, however it ends.
    watchdog: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing the pipe tells the watchdog to kill its mariadbd (by PID) and wait.
        drop(self.stdin.take());
        let _ = self.watchdog.wait();
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The shared server, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(Server::start)
}

fn find(name: &str) -> PathBuf {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/local/mysql/bin",
    ] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{name}` not found: these tests need a MariaDB server installed (mariadb-server)");
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

const SMALL: [&str; 2] = ["--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M"];

impl Server {
    fn start() -> Server {
        let began = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("envparity-mariadb-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let data = dir.join("data");
        let socket = dir.join("mysqld.sock");
        // Each server its own tmpdir: servers installed side by side in one /tmp collide
        // on internal temporary table names.
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).expect("tmp dir");
        let root = running_as_root();
        let mut install = Command::new(find("mariadb-install-db"));
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .arg("--skip-name-resolve")
            .args(SMALL)
            .stdin(Stdio::null());
        if root {
            install.arg("--user=root");
        }
        let output = install.output().expect("run mariadb-install-db");
        if !output.status.success() {
            let _ = std::fs::remove_dir_all(&dir);
            panic!(
                "mariadb-install-db failed: {}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.join("error.log");
        let mut args: Vec<String> = vec![
            find("mariadbd").display().to_string(),
            "--no-defaults".into(),
            format!("--datadir={}", data.display()),
            format!("--tmpdir={}", tmp.display()),
            format!("--socket={}", socket.display()),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".into(),
            "--skip-log-bin".into(),
            "--skip-name-resolve".into(),
            format!("--pid-file={}", dir.join("mysqld.pid").display()),
            format!("--log-error={}", log.display()),
            "--innodb-flush-log-at-trx-commit=0".into(),
            "--skip-innodb-doublewrite".into(),
            "--character-set-server=utf8mb4".into(),
            "--collation-server=utf8mb4_general_ci".into(),
        ];
        args.extend(SMALL.iter().map(|s| s.to_string()));
        if root {
            args.push("--user=root".into());
        }
        // sh -c SCRIPT sh DIR MARIADBD ARGS…: start mariadbd, wait for EOF on stdin, then
        // stop exactly that PID, wait for it and remove the folder.
        let script = r#"dir="$1"; shift
"$@" </dev/null >/dev/null 2>&1 &
pid=$!
read -r _ui
kill "$pid" 2>/dev/null
wait "$pid"
rm -rf "$dir""#;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&dir)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        let stdin = watchdog.stdin.take();
        let mut server = Server {
            port,
            socket,
            started_in: Duration::ZERO,
            watchdog,
            stdin,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if server.socket.exists() && server.try_root("SELECT 1").is_ok() {
                break;
            }
            if Instant::now() > deadline {
                let mut text = String::new();
                let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut text));
                panic!("mariadbd did not start within 60 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.root(&format!(
            "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'"
        ));
        server.started_in = began.elapsed();
        server
    }

    fn try_root(&self, sql: &str) -> Result<Vec<Row>, mysql_async::Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let opts = OptsBuilder::default()
                .socket(Some(self.socket.display().to_string()))
                .user(Some("root"));
            let mut conn = Conn::new(opts).await?;
            let rows: Vec<Row> = conn.query(sql).await?;
            conn.disconnect().await?;
            Ok(rows)
        })
    }

    /// Runs SQL (several statements allowed) as root over the socket; panics on error.
    pub fn root(&self, sql: &str) -> Vec<Row> {
        self.try_root(sql)
            .unwrap_or_else(|e| panic!("test SQL failed: {e}\n{sql}"))
    }

    /// A fresh database named `name`, readable by the test user; its URL.
    pub fn database(&self, name: &str) -> String {
        self.root(&format!(
            "DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`; \
             GRANT SELECT, SHOW VIEW, TRIGGER ON `{name}`.* TO '{USER}'@'%'"
        ));
        self.url(USER, PASSWORD_IN_URL, name)
    }

    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "mysql://{user}:{password}@127.0.0.1:{}/{database}",
            self.port
        )
    }
}

/// A cell as text (`None` for NULL).
pub fn cell(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        mysql_async::Value::NULL => None,
        mysql_async::Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        other => Some(format!("{other:?}")),
    }
}
