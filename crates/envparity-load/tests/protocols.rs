//! TLS and HTTP/2 against a server of our own on loopback: rustls with a certificate made
//! by `openssl` for this test, ALPN choosing h2 or http/1.1, and h2 with prior knowledge
//! over plain TCP. Trust is checked: an unknown certificate is a `tls` error unless the
//! user gives its CA or says `--insecure`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use envparity_load::http::{Connector, Protocol, Target, TlsOptions};
use envparity_load::mix::{Mix, Templates};
use envparity_load::run::{Plan, run};
use envparity_load::schedule::{Schedule, Shape, ShardPlan};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A self-signed certificate for 127.0.0.1 and localhost.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        // A leaf, not a CA: rustls refuses a CA certificate as the server's own.
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is installed (scripts/test installs it)");
    assert!(status.success());
    (cert, key)
}

#[derive(Default)]
struct Seen {
    h1: AtomicU64,
    h2: AtomicU64,
    connections: AtomicU64,
}

/// Serves `hello` over TLS (ALPN h2 or http/1.1) when `tls` is given, else h2 with prior
/// knowledge. Counts requests by protocol and connections.
fn serve(tls: Option<(PathBuf, PathBuf)>) -> (u16, Arc<Seen>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    let acceptor = tls.map(|(cert, key)| {
        use rustls::pki_types::pem::PemObject;
        let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(&cert)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                counts.connections.fetch_add(1, Ordering::Relaxed);
                let (counts, acceptor) = (counts.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match acceptor {
                        None => h2_serve(tcp, &counts).await,
                        Some(acceptor) => {
                            let Ok(tls) = acceptor.accept(tcp).await else {
                                return;
                            };
                            if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                                h2_serve(tls, &counts).await;
                            } else {
                                h1_serve(tls, &counts).await;
                            }
                        }
                    }
                });
            }
        });
    });
    (port, seen)
}

async fn h2_serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(io: S, counts: &Seen) {
    let Ok(mut connection) = h2::server::handshake(io).await else {
        return;
    };
    while let Some(Ok((request, mut respond))) = connection.accept().await {
        counts.h2.fetch_add(1, Ordering::Relaxed);
        let _ = request;
        let response = http::Response::builder().status(200).body(()).unwrap();
        if let Ok(mut body) = respond.send_response(response, false) {
            let _ = body.send_data(bytes::Bytes::from_static(b"hello"), true);
        }
    }
}

async fn h1_serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut io: S,
    counts: &Seen,
) {
    let mut buf = vec![0u8; 4096];
    let mut have = 0;
    loop {
        let Ok(n) = io.read(&mut buf[have..]).await else {
            return;
        };
        if n == 0 {
            return;
        }
        have += n;
        while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            buf.copy_within(end + 4..have, 0);
            have -= end + 4;
            counts.h1.fetch_add(1, Ordering::Relaxed);
            if io
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

fn go(url: &str, protocol: Protocol, tls: TlsOptions) -> envparity_load::result::RunResult {
    let target = Target::parse(url).unwrap();
    let plan = Plan {
        connector: Connector::new(target, protocol, &tls).unwrap(),
        schedule: Schedule::new(&Shape::Constant, 200.0, 1.0),
        mix: Mix::single("/", &Templates::default(), 1).unwrap(),
        shard: ShardPlan::WHOLE,
        connections: 2,
        streams: 8,
        timeout: Duration::from_secs(5),
        precise: false,
        start_at: None,
        threads: 2,
        direct: true,
        model: None,
    };
    run(&plan, Arc::new(AtomicBool::new(false)), |_| {}).unwrap()
}

#[test]
fn https_with_the_users_ca_over_http1_and_http2() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let (port, seen) = serve(Some((cert.clone(), key)));
    let url = format!("https://127.0.0.1:{port}/");
    let trusted = TlsOptions {
        ca_file: Some(cert),
        insecure: false,
    };
    let r = go(&url, Protocol::Http1, trusted.clone());
    assert_eq!(
        (r.completed, r.status.get("2xx").copied()),
        (200, Some(200)),
        "{:?}",
        r.errors
    );
    assert_eq!(r.protocol, "https/1.1");
    assert_eq!(seen.h1.load(Ordering::Relaxed), 200);
    let before = seen.connections.load(Ordering::Relaxed);
    let r = go(&url, Protocol::Http2, trusted);
    assert_eq!(
        (r.completed, r.status.get("2xx").copied()),
        (200, Some(200)),
        "{:?}",
        r.errors
    );
    assert_eq!(r.protocol, "https/h2");
    assert_eq!(seen.h2.load(Ordering::Relaxed), 200);
    // 16 stream slots rode on the 2 connections.
    assert_eq!(seen.connections.load(Ordering::Relaxed) - before, 2);
    // Each response: 5 bytes of body over HTTP/2 (headers are not counted there).
    assert_eq!(r.bytes_received, 200 * 5);
}

#[test]
fn an_untrusted_certificate_is_a_tls_error_unless_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let (port, _) = serve(Some((cert, key)));
    let url = format!("https://127.0.0.1:{port}/");
    let r = go(&url, Protocol::Http1, TlsOptions::default());
    assert_eq!(r.completed, 0);
    assert_eq!(r.errors.get("tls"), Some(&200), "{:?}", r.errors);
    // Why, once, in the user's words: rustls's reason.
    let why = &r.error_samples["tls"];
    assert!(
        why.contains("certificate") || why.contains("issuer"),
        "{why}"
    );
    let r = go(
        &url,
        Protocol::Http2,
        TlsOptions {
            ca_file: None,
            insecure: true,
        },
    );
    assert_eq!(r.completed, 200, "{:?}", r.errors);
}

#[test]
fn http2_with_prior_knowledge_over_plain_tcp() {
    let (port, seen) = serve(None);
    let r = go(
        &format!("http://127.0.0.1:{port}/"),
        Protocol::Http2,
        TlsOptions::default(),
    );
    assert_eq!(r.completed, 200, "{:?}", r.errors);
    assert_eq!(r.protocol, "h2c");
    assert_eq!(seen.h2.load(Ordering::Relaxed), 200);
}

/// A plain-TCP HTTP/2 server on 127.0.0.1 where `answer` handles each stream (and may
/// reset it); the port, and how many connections were opened.
fn serve_h2(
    answer: impl Fn(&http::Request<h2::RecvStream>, h2::server::SendResponse<bytes::Bytes>)
    + Send
    + Sync
    + 'static,
) -> (u16, Arc<AtomicU64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let connections = Arc::new(AtomicU64::new(0));
    let opened = connections.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                opened.fetch_add(1, Ordering::Relaxed);
                let answer = answer.clone();
                tokio::spawn(async move {
                    let Ok(mut connection) = h2::server::handshake(tcp).await else {
                        return;
                    };
                    while let Some(Ok((request, respond))) = connection.accept().await {
                        answer(&request, respond);
                    }
                });
            }
        });
    });
    (port, connections)
}

#[test]
fn an_h2_stream_reset_fails_its_request_and_keeps_the_connection() {
    // Every 5th stream is refused (RST_STREAM); the rest are answered.
    let streams = AtomicU64::new(0);
    let (port, connections) = serve_h2(move |_, mut respond| {
        if (streams.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(5) {
            respond.send_reset(h2::Reason::REFUSED_STREAM);
            return;
        }
        let response = http::Response::builder().status(200).body(()).unwrap();
        if let Ok(mut body) = respond.send_response(response, false) {
            let _ = body.send_data(bytes::Bytes::from_static(b"hello"), true);
        }
    });
    let r = go(
        &format!("http://127.0.0.1:{port}/"),
        Protocol::Http2,
        TlsOptions::default(),
    );
    assert_eq!(r.sent, 200, "{r:?}");
    assert_eq!(r.errors.get("reset"), Some(&40), "{:?}", r.errors);
    assert_eq!(r.completed, 160, "{:?}", r.errors);
    // The 16 stream slots stayed on their 2 connections.
    assert_eq!(connections.load(Ordering::Relaxed), 2);
}

#[test]
fn a_users_host_is_the_h2_authority_and_not_a_second_header() {
    let seen: Arc<std::sync::Mutex<Vec<(String, usize)>>> = Arc::default();
    let record = seen.clone();
    let (port, _) = serve_h2(move |request, mut respond| {
        let authority = request.uri().authority().map(|a| a.to_string());
        let hosts = request.headers().get_all("host").iter().count();
        record
            .lock()
            .unwrap()
            .push((authority.unwrap_or_default(), hosts));
        let response = http::Response::builder().status(200).body(()).unwrap();
        let _ = respond.send_response(response, true);
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("load.toml");
    std::fs::write(&file, "[headers]\nHost = \"shop.internal\"\n").unwrap();
    let target = Target::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let plan = Plan {
        connector: Connector::new(target, Protocol::Http2, &TlsOptions::default()).unwrap(),
        schedule: Schedule::new(&Shape::Constant, 50.0, 1.0),
        mix: Mix::single("/", &Templates::read(&file).unwrap(), 1).unwrap(),
        shard: ShardPlan::WHOLE,
        connections: 1,
        streams: 4,
        timeout: Duration::from_secs(5),
        precise: false,
        start_at: None,
        threads: 1,
        direct: true,
        model: None,
    };
    let r = run(&plan, Arc::new(AtomicBool::new(false)), |_| {}).unwrap();
    assert_eq!(r.completed, 50, "{:?}", r.errors);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 50);
    assert!(
        seen.iter()
            .all(|(authority, hosts)| authority == "shop.internal" && *hosts == 0),
        "{:?}",
        &seen[..3]
    );
}
