//! A minimal HTTP/1.1 client for load: keep-alive connections, requests written whole,
//! responses read to their end (Content-Length or chunked) without keeping bodies.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// Path and query.
    pub path: String,
}

impl Target {
    /// `http://host[:port]/path`. HTTPS is not supported yet: an error says so.
    pub fn parse(url: &str) -> Result<Target, String> {
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(format!(
                "{url}: HTTPS targets are not supported yet (plain HTTP only)"
            ));
        } else {
            return Err(format!("{url}: not an http:// URL"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err("a load target URL may not hold credentials".to_string());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h.trim_start_matches('[').trim_end_matches(']').to_string(),
                p.parse::<u16>()
                    .map_err(|_| format!("{url}: the port is not a number"))?,
            ),
            _ => (
                authority
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                80,
            ),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(Target {
            host,
            port,
            path: path.to_string(),
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

    /// The request, written once and sent as is.
    pub fn get_request(&self, path: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: envparity-load\r\nAccept: */*\r\n\r\n",
            if self.port == 80 {
                self.host.clone()
            } else {
                format!("{}:{}", self.host, self.port)
            }
        )
        .into_bytes()
    }
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    Connect,
    Timeout,
    /// The connection closed or reset before a whole response arrived.
    Reset,
    /// The response was not HTTP/1.x as expected.
    Protocol,
}

impl Failure {
    pub fn name(self) -> &'static str {
        match self {
            Failure::Connect => "connect",
            Failure::Timeout => "timeout",
            Failure::Reset => "reset",
            Failure::Protocol => "protocol",
        }
    }
}

/// One keep-alive connection.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// Bytes of `buffer` already consumed.
    start: usize,
    end: usize,
}

impl Connection {
    pub async fn open(target: &Target) -> Result<Connection, Failure> {
        let stream = TcpStream::connect(target.address())
            .await
            .map_err(|_| Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            buffer: vec![0; 64 << 10],
            start: 0,
            end: 0,
        })
    }

    /// Sends a request and reads its response: the status and the bytes received. The
    /// connection stays usable only if this returns `Ok` and `keep` is true.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<(u16, u64, bool), Failure> {
        self.stream
            .write_all(request)
            .await
            .map_err(|_| Failure::Reset)?;
        // Headers.
        let header_end = loop {
            if let Some(i) = memchr::memmem::find(&self.buffer[self.start..self.end], b"\r\n\r\n") {
                break self.start + i + 4;
            }
            self.fill().await?;
        };
        let head = &self.buffer[self.start..header_end];
        let status = parse_status(head).ok_or(Failure::Protocol)?;
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut keep = head.starts_with(b"HTTP/1.1");
        for line in head.split(|b| *b == b'\n').skip(1) {
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
        let mut received = (header_end - self.start) as u64;
        self.start = header_end;
        // No body for 1xx, 204, 304 and HEAD.
        let bodyless = status < 200 || status == 204 || status == 304;
        if bodyless {
        } else if chunked {
            received += self.skip_chunked().await?;
        } else if let Some(n) = length {
            received += n;
            self.skip(n).await?;
        } else {
            // Read to the end of the connection.
            loop {
                received += (self.end - self.start) as u64;
                self.start = self.end;
                match self.fill().await {
                    Ok(()) => {}
                    Err(Failure::Reset) => break,
                    Err(e) => return Err(e),
                }
            }
            keep = false;
        }
        Ok((status, received, keep))
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

    async fn skip(&mut self, mut n: u64) -> Result<(), Failure> {
        loop {
            let have = (self.end - self.start) as u64;
            if have >= n {
                self.start += n as usize;
                return Ok(());
            }
            n -= have;
            self.start = self.end;
            self.fill().await?;
        }
    }

    async fn skip_chunked(&mut self) -> Result<u64, Failure> {
        let mut total = 0;
        loop {
            let line_end = loop {
                if let Some(i) = memchr::memmem::find(&self.buffer[self.start..self.end], b"\r\n") {
                    break self.start + i;
                }
                self.fill().await?;
            };
            let size_text = &self.buffer[self.start..line_end];
            let size_text = size_text.split(|b| *b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size_text)
                .ok()
                .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                .ok_or(Failure::Protocol)?;
            self.start = line_end + 2;
            if size == 0 {
                // Trailers up to the empty line.
                loop {
                    if let Some(i) =
                        memchr::memmem::find(&self.buffer[self.start..self.end], b"\r\n")
                    {
                        let empty = i == 0;
                        self.start += i + 2;
                        if empty {
                            return Ok(total);
                        }
                    } else {
                        self.fill().await?;
                    }
                }
            }
            total += size;
            self.skip(size + 2).await?;
        }
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
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/a?b=1".into()
            }
        );
        assert_eq!(
            Target::parse("http://[::1]:81").unwrap().address(),
            "[::1]:81"
        );
        assert!(Target::parse("https://x").unwrap_err().contains("HTTPS"));
        assert!(
            Target::parse("http://u:p@x/")
                .unwrap_err()
                .contains("credentials")
        );
    }
}
