//! The client side of load: plain or TLS connections (rustls), HTTP/1.1 with keep-alive
//! written by hand (requests written whole, responses read to their end by Content-Length
//! or chunks without keeping bodies), and HTTP/2 through the `h2` crate (many streams on
//! one connection; ALPN over TLS, prior knowledge over plain TCP).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::mix::Request;

/// Where requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query.
    pub path: String,
}

impl Target {
    /// `http://host[:port]/path` or `https://…`.
    pub fn parse(url: &str) -> Result<Target, String> {
        let (tls, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else {
            return Err(format!("{url}: not an http:// or https:// URL"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        if authority.contains('@') {
            return Err(
                "a load target URL may not hold credentials (give headers in --requests)"
                    .to_string(),
            );
        }
        let default_port = if tls { 443 } else { 80 };
        // `[::1]:8080`, `[::1]` (its colons are not a port's), `host:8080`, `host`.
        let port_colon = match authority.rfind(']') {
            Some(bracket) => authority[bracket..].rfind(':').map(|i| bracket + i),
            None => authority.rfind(':'),
        };
        let (host, port) = match port_colon.map(|i| (&authority[..i], &authority[i + 1..])) {
            Some((h, p)) => (
                h.trim_start_matches('[').trim_end_matches(']').to_string(),
                p.parse::<u16>()
                    .map_err(|_| format!("{url}: the port is not a number"))?,
            ),
            _ => (
                authority
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                default_port,
            ),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(Target {
            tls,
            host,
            port,
            path,
        })
    }

    /// `host:port` for connecting.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// What the `Host` header (and HTTP/2's `:authority`) says.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == if self.tls { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL without its path: where the run's routes are sent.
    pub fn base(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.authority()
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    Connect,
    Tls,
    Timeout,
    /// The connection closed or reset before a whole response arrived.
    Reset,
    /// The response was not HTTP as expected.
    Protocol,
}

impl Failure {
    pub fn name(self) -> &'static str {
        match self {
            Failure::Connect => "connect",
            Failure::Tls => "tls",
            Failure::Timeout => "timeout",
            Failure::Reset => "reset",
            Failure::Protocol => "protocol",
        }
    }
}

/// How to trust a TLS server.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM certificates to trust instead of the system's.
    pub ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate (a QA host with a self-signed one).
    pub insecure: bool,
}

/// Opens connections to the target: TCP, then TLS when the URL is `https`.
#[derive(Clone)]
pub struct Connector {
    pub target: Target,
    pub protocol: Protocol,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
    /// The first message of each kind of connection failure, so the user learns why
    /// (`connection refused`, `invalid peer certificate: UnknownIssuer`) without a log line
    /// per request.
    pub first_errors: Arc<std::sync::Mutex<std::collections::BTreeMap<String, String>>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("target", &self.target)
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl Connector {
    pub fn new(
        target: Target,
        protocol: Protocol,
        options: &TlsOptions,
    ) -> Result<Connector, String> {
        let tls = if target.tls {
            let config = client_config(protocol, options)?;
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|_| format!("{}: not a host name TLS can verify", target.host))?;
            Some((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        Ok(Connector {
            target,
            protocol,
            tls,
            first_errors: Arc::default(),
        })
    }

    pub(crate) fn note(&self, failure: Failure, message: String) -> Failure {
        if let Ok(mut first) = self.first_errors.lock() {
            first.entry(failure.name().to_string()).or_insert(message);
        }
        failure
    }

    async fn stream(&self) -> Result<Stream, Failure> {
        let tcp = TcpStream::connect(self.target.address())
            .await
            .map_err(|e| self.note(Failure::Connect, format!("{}: {e}", self.target.address())))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Stream::Plain(tcp)),
            Some((connector, name)) => {
                let tls = connector.connect(name.clone(), tcp).await.map_err(|e| {
                    self.note(Failure::Tls, format!("TLS with {}: {e}", self.target.host))
                })?;
                if self.protocol == Protocol::Http2
                    && tls.get_ref().1.alpn_protocol() != Some(b"h2")
                {
                    return Err(self.note(
                        Failure::Protocol,
                        format!(
                            "{} did not agree to HTTP/2 (ALPN): drop --http2",
                            self.target.host
                        ),
                    ));
                }
                Ok(Stream::Tls(Box::new(tls)))
            }
        }
    }

    pub async fn open_http1(&self) -> Result<Http1, Failure> {
        Ok(Http1 {
            stream: self.stream().await?,
            buffer: vec![0; 64 << 10],
            start: 0,
            end: 0,
        })
    }

    /// An HTTP/2 connection; its driver runs as a task of its own.
    pub async fn open_http2(&self) -> Result<Http2, Failure> {
        let stream = self.stream().await?;
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(8 << 20)
            .handshake::<_, Bytes>(stream)
            .await
            .map_err(|e| {
                self.note(
                    Failure::Protocol,
                    format!("HTTP/2 handshake with {}: {e}", self.target.address()),
                )
            })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Ok(Http2 {
            send,
            base: self.target.base(),
            id: OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            broken: Arc::default(),
        })
    }
}

fn client_config(protocol: Protocol, options: &TlsOptions) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let mut config = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &options.ca_file {
            Some(path) => {
                use rustls::pki_types::pem::PemObject;
                let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                    .map_err(|e| format!("--cacert {}: {e}", path.display()))?;
                for cert in certs {
                    let cert = cert.map_err(|e| format!("--cacert {}: {e}", path.display()))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("--cacert {}: {e}", path.display()))?;
                }
                if roots.is_empty() {
                    return Err(format!("--cacert {}: no certificate in it", path.display()));
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
                // A slim image without a CA bundle would fail every request as `tls`.
                if roots.is_empty() {
                    return Err(
                        "https: this machine has no trusted CA certificates (install ca-certificates, or give --cacert FILE)"
                            .to_string(),
                    );
                }
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = match protocol {
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
        Protocol::Http2 => vec![b"h2".to_vec()],
    };
    Ok(config)
}

/// `--insecure`: any certificate is accepted, but handshake signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A TCP stream, or TLS over one.
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What a response came to: its status, the bytes received, and whether the connection
/// can carry the next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub bytes: u64,
    pub keep: bool,
}

/// One keep-alive HTTP/1.1 connection.
pub struct Http1 {
    stream: Stream,
    buffer: Vec<u8>,
    /// Bytes of `buffer` already consumed.
    start: usize,
    end: usize,
}

/// The end of a response's head.
static HEAD_END: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\r\n\r\n"));

impl Http1 {
    /// Sends a request written whole ([`crate::mix::Http1Requests::write`]) and reads its
    /// response; `head_method`: a HEAD request, whose response has no body. The connection
    /// stays usable only if this returns `Ok` with `keep`.
    pub async fn exchange(&mut self, request: &[u8], head_method: bool) -> Result<Answer, Failure> {
        self.stream
            .write_all(request)
            .await
            .map_err(|_| Failure::Reset)?;
        self.read_response(head_method).await
    }

    async fn read_response(&mut self, head_request: bool) -> Result<Answer, Failure> {
        let mut parser = ResponseParser::new(head_request);
        loop {
            let (used, progress) = parser.feed(&self.buffer[self.start..self.end])?;
            self.start += used;
            if let Progress::Done(answer) = progress {
                return Ok(answer);
            }
            match self.fill().await {
                Ok(()) => {}
                // The end of the connection: the end of a body read to it, else a reset.
                Err(Failure::Reset) => return parser.end(),
                Err(e) => return Err(e),
            }
        }
    }

    async fn fill(&mut self) -> Result<(), Failure> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buffer.len() {
            if self.start == 0 {
                self.buffer.resize(self.buffer.len() * 2, 0);
            } else {
                self.buffer.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
        }
        let n = self
            .stream
            .read(&mut self.buffer[self.end..])
            .await
            .map_err(|_| Failure::Reset)?;
        if n == 0 {
            return Err(Failure::Reset);
        }
        self.end += n;
        Ok(())
    }
}

/// Where a response being read has got to.
#[derive(Clone, Copy, Debug)]
enum Stage {
    Head,
    /// Body bytes still to come.
    Length(u64),
    ChunkSize,
    /// A chunk's data and its CRLF still to come.
    ChunkData(u64),
    Trailers,
    /// No length given: the body runs to the end of the connection.
    UntilClose,
}

/// Whether a response is whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    More,
    Done(Answer),
}

/// Reads one HTTP/1.1 response from bytes as they arrive, without I/O of its own (bodies
/// are counted, not kept): the tokio connection (TLS) and the direct loop (plain TCP)
/// feed it the same way.
#[derive(Clone, Debug)]
pub(crate) struct ResponseParser {
    head_request: bool,
    stage: Stage,
    status: u16,
    keep: bool,
    received: u64,
}

impl ResponseParser {
    /// `head_request`: a HEAD request, whose response has no body whatever it says.
    pub(crate) fn new(head_request: bool) -> ResponseParser {
        ResponseParser {
            head_request,
            stage: Stage::Head,
            status: 0,
            keep: false,
            received: 0,
        }
    }

    /// Whether it reads the answer to a HEAD request.
    pub(crate) fn head_request(&self) -> bool {
        self.head_request
    }

    fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            bytes: self.received,
            keep: self.keep,
        }
    }

    /// Takes what it can of `bytes` (the unread part of a buffer): how many it used, and
    /// whether the response is whole. A head or chunk-size line not yet whole is left
    /// unused, for the next call with more bytes after it.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<(usize, Progress), Failure> {
        let mut at = 0;
        loop {
            let rest = &bytes[at..];
            match self.stage {
                Stage::Head => {
                    let Some(i) = HEAD_END.find(rest) else {
                        return Ok((at, Progress::More));
                    };
                    let head = &rest[..i + 4];
                    let status = parse_status(head).ok_or(Failure::Protocol)?;
                    self.received += head.len() as u64;
                    at += head.len();
                    // Interim responses (`100 Continue`, `103 Early Hints`) come before the
                    // real one: their bytes count, the request's answer is what follows.
                    if (100..200).contains(&status) && status != 101 {
                        continue;
                    }
                    self.status = status;
                    let (length, chunked, keep) = framing(head);
                    self.keep = keep;
                    // No body for 101, 204, 304 and HEAD.
                    let bodyless =
                        self.head_request || status < 200 || status == 204 || status == 304;
                    self.stage = if bodyless {
                        return Ok((at, Progress::Done(self.answer())));
                    } else if chunked {
                        Stage::ChunkSize
                    } else if let Some(n) = length {
                        self.received = self.received.saturating_add(n);
                        Stage::Length(n)
                    } else {
                        self.keep = false;
                        Stage::UntilClose
                    };
                }
                Stage::Length(left) | Stage::ChunkData(left) => {
                    let take = left.min(rest.len() as u64);
                    at += take as usize;
                    let left = left - take;
                    let chunk = matches!(self.stage, Stage::ChunkData(_));
                    self.stage = match (left, chunk) {
                        (0, false) => return Ok((at, Progress::Done(self.answer()))),
                        (0, true) => Stage::ChunkSize,
                        (left, false) => Stage::Length(left),
                        (left, true) => Stage::ChunkData(left),
                    };
                    if left > 0 {
                        return Ok((at, Progress::More));
                    }
                }
                Stage::ChunkSize => {
                    let Some(i) = memchr::memmem::find(rest, b"\r\n") else {
                        return Ok((at, Progress::More));
                    };
                    let size_text = rest[..i].split(|b| *b == b';').next().unwrap_or_default();
                    let size = std::str::from_utf8(size_text)
                        .ok()
                        .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                        .ok_or(Failure::Protocol)?;
                    at += i + 2;
                    self.stage = if size == 0 {
                        Stage::Trailers
                    } else {
                        // A size no body has (`ffffffffffffffff`) would overflow the count.
                        let with_crlf = size.checked_add(2).ok_or(Failure::Protocol)?;
                        self.received = self.received.checked_add(size).ok_or(Failure::Protocol)?;
                        Stage::ChunkData(with_crlf)
                    };
                }
                Stage::Trailers => {
                    // Trailers up to the empty line.
                    let Some(i) = memchr::memmem::find(rest, b"\r\n") else {
                        return Ok((at, Progress::More));
                    };
                    at += i + 2;
                    if i == 0 {
                        return Ok((at, Progress::Done(self.answer())));
                    }
                }
                Stage::UntilClose => {
                    self.received += rest.len() as u64;
                    return Ok((bytes.len(), Progress::More));
                }
            }
        }
    }

    /// The connection ended: the answer, for a body that runs to its end; else a reset.
    pub(crate) fn end(&self) -> Result<Answer, Failure> {
        match self.stage {
            Stage::UntilClose => Ok(self.answer()),
            _ => Err(Failure::Reset),
        }
    }
}

/// What a response head says of its body and its connection: `Content-Length`, whether it
/// is chunked, and whether the connection is kept.
fn framing(head: &[u8]) -> (Option<u64>, bool, bool) {
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut keep = head.starts_with(b"HTTP/1.1");
    let mut lines = memchr::memchr_iter(b'\n', head);
    let mut line_start = lines.next().map_or(head.len(), |end| end + 1);
    for line_end in lines {
        let line = &head[line_start..line_end];
        line_start = line_end + 1;
        // Only three headers matter; most lines are told apart by their first letter.
        if !matches!(line.first().map(|b| b | 0x20), Some(b'c' | b't')) {
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-length") {
            length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = value.eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case(b"connection") {
            keep = !value.eq_ignore_ascii_case(b"close");
        }
    }
    (length, chunked, keep)
}

/// One HTTP/2 connection; clones share it, each request a stream of its own.
#[derive(Clone)]
pub struct Http2 {
    send: h2::client::SendRequest<Bytes>,
    base: String,
    /// Tells this connection from the one that may replace it in a shared slot.
    pub id: u64,
    /// Set when the connection itself failed, not one of its streams.
    broken: Arc<std::sync::atomic::AtomicBool>,
}

impl Http2 {
    /// Whether the connection itself failed: a stream reset by the server (RST_STREAM)
    /// fails only its request, and the connection carries on.
    pub fn is_broken(&self) -> bool {
        self.broken.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn failure(&self, e: &h2::Error) -> Failure {
        // Only a stream reset leaves the connection usable; any other error (I/O, GOAWAY,
        // a connection-level protocol error) is the connection's.
        if !e.is_reset() {
            self.broken
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        h2_failure(e)
    }

    pub async fn exchange(
        &self,
        request: &Request,
        common: &[(String, String)],
    ) -> Result<Answer, Failure> {
        let mut send = self
            .send
            .clone()
            .ready()
            .await
            .map_err(|e| self.failure(&e))?;
        // A user's `Host` is HTTP/2's `:authority` (RFC 9113 §8.3.1: the two must agree),
        // as it replaces the target's `Host` over HTTP/1.1.
        let is_host = |name: &str| name.eq_ignore_ascii_case("host");
        let headers = common.iter().chain(&request.headers);
        let uri = match headers.clone().find(|(name, _)| is_host(name)) {
            Some((_, host)) => {
                let scheme = self.base.split_once("://").map_or("http", |(s, _)| s);
                format!("{scheme}://{host}{}", request.path)
            }
            None => format!("{}{}", self.base, request.path),
        };
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(uri)
            .header("user-agent", "envparity-load")
            .header("accept", "*/*");
        for (name, value) in headers.filter(|(name, _)| !is_host(name)) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let head = builder.body(()).map_err(|_| Failure::Protocol)?;
        let (response, mut stream) = send
            .send_request(head, request.body.is_empty())
            .map_err(|e| self.failure(&e))?;
        if !request.body.is_empty() {
            stream
                .send_data(Bytes::copy_from_slice(&request.body), true)
                .map_err(|e| self.failure(&e))?;
        }
        let response = response.await.map_err(|e| self.failure(&e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut bytes = 0u64;
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(|e| self.failure(&e))?;
            bytes += chunk.len() as u64;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        Ok(Answer {
            status,
            bytes,
            keep: true,
        })
    }
}

fn h2_failure(e: &h2::Error) -> Failure {
    if e.is_io() || e.is_reset() || e.is_go_away() {
        Failure::Reset
    } else {
        Failure::Protocol
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end]
}

fn parse_status(head: &[u8]) -> Option<u16> {
    if !head.starts_with(b"HTTP/1.") {
        return None;
    }
    let code = head.get(9..12)?;
    std::str::from_utf8(code).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            Target::parse("http://127.0.0.1:8080/a?b=1").unwrap(),
            Target {
                tls: false,
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/a?b=1".into()
            }
        );
        assert_eq!(
            Target::parse("http://[::1]:81").unwrap().address(),
            "[::1]:81"
        );
        let t = Target::parse("https://qa.shop.example").unwrap();
        assert_eq!(
            (t.tls, t.port, t.base()),
            (true, 443, "https://qa.shop.example".to_string())
        );
        assert_eq!(Target::parse("http://h:8080?x").unwrap().path, "/?x");
        let v6 = Target::parse("http://[::1]/x").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.port, v6.address(), v6.base()),
            (
                "::1",
                80,
                "[::1]:80".to_string(),
                "http://[::1]".to_string()
            )
        );
        assert_eq!(Target::parse("https://[::1]").unwrap().port, 443);
        assert!(Target::parse("http://h:x/").unwrap_err().contains("port"));
        assert!(
            Target::parse("ftp://x")
                .unwrap_err()
                .contains("not an http")
        );
        assert!(
            Target::parse("http://u:p@x/")
                .unwrap_err()
                .contains("credentials")
        );
    }

    /// Feeds `bytes` in pieces of `piece` bytes, as a socket might hand them over, keeping
    /// what the parser leaves unused as a connection's buffer does.
    fn parse_in_pieces(bytes: &[u8], piece: usize, head: bool) -> (Result<Answer, Failure>, usize) {
        let mut parser = ResponseParser::new(head);
        let (mut buffer, mut fed) = (Vec::new(), 0);
        loop {
            match parser.feed(&buffer) {
                Err(f) => return (Err(f), fed),
                Ok((used, Progress::Done(answer))) => {
                    return (Ok(answer), fed - (buffer.len() - used));
                }
                Ok((used, Progress::More)) => {
                    buffer.drain(..used);
                }
            }
            if fed == bytes.len() {
                return (parser.end(), fed);
            }
            let next = (fed + piece).min(bytes.len());
            buffer.extend_from_slice(&bytes[fed..next]);
            fed = next;
        }
    }

    #[test]
    fn a_response_reads_the_same_however_it_arrives() {
        let chunked: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
        let cases: [(&[u8], bool, Result<Answer, Failure>); 8] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                false,
                Ok(Answer { status: 200, bytes: 43, keep: true }),
            ),
            (
                chunked,
                false,
                Ok(Answer { status: 200, bytes: 47 + 8, keep: true }),
            ),
            (
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
                false,
                Ok(Answer { status: 204, bytes: 25 + 46, keep: false }),
            ),
            // HEAD: the length describes a body that is not sent.
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
                true,
                Ok(Answer { status: 200, bytes: 39, keep: true }),
            ),
            // No length: the body runs to the end of the connection.
            (
                b"HTTP/1.0 200 OK\r\n\r\nto the end",
                false,
                Ok(Answer { status: 200, bytes: 29, keep: false }),
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\ncut",
                false,
                Err(Failure::Reset),
            ),
            (b"SSH-2.0-OpenSSH\r\n\r\n", false, Err(Failure::Protocol)),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nx",
                false,
                Err(Failure::Protocol),
            ),
        ];
        for (bytes, head, expected) in cases {
            for piece in [1, 2, 3, 7, 16, bytes.len()] {
                let (answer, used) = parse_in_pieces(bytes, piece, head);
                assert_eq!(
                    answer,
                    expected,
                    "{} in pieces of {piece}",
                    String::from_utf8_lossy(bytes)
                );
                if answer.is_ok_and(|a| a.keep) {
                    assert_eq!(used, bytes.len(), "all of it is the response");
                }
            }
        }
        // What follows a whole response is left for the next one.
        let two = [
            chunked,
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        ]
        .concat();
        let mut parser = ResponseParser::new(false);
        let (used, progress) = parser.feed(&two).unwrap();
        assert_eq!(
            (used, progress),
            (
                chunked.len(),
                Progress::Done(Answer {
                    status: 200,
                    bytes: 55,
                    keep: true
                })
            )
        );
        let (_, second) = ResponseParser::new(false).feed(&two[used..]).unwrap();
        assert_eq!(
            second,
            Progress::Done(Answer {
                status: 404,
                bytes: 45,
                keep: true
            })
        );
    }
}
