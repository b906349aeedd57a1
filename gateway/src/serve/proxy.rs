//! Outbound calls through an HTTP proxy (the `proxy` policy, a backend
//! entity's `proxy`): a connector
//! that opens a TCP connection to the proxy instead of the target. An
//! `http://` target is then asked of the proxy in absolute form (the
//! connection says it is proxied, so hyper writes the whole URL) with
//! `Proxy-Authorization` on the request; an `https://` target is reached
//! through a `CONNECT` tunnel (credentials on the `CONNECT`), inside which
//! the client's TLS runs as usual. Connecting, and the proxy's answer to
//! `CONNECT`, are bounded in time and size.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use sluice_engine::runtime::OutboundProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The most a proxy's answer to `CONNECT` may hold before its blank line.
const MAX_CONNECT_REPLY: usize = 8 * 1024;

/// Connects to the proxy of `proxy` whatever the target.
#[derive(Clone, Debug)]
pub struct ProxyConnector {
    /// `host:port` of the proxy.
    authority: String,
    /// `Basic ...`, when the proxy policy gives a user name.
    authorization: Option<String>,
    timeout: Duration,
}

impl ProxyConnector {
    pub fn new(proxy: &OutboundProxy, timeout: Duration) -> Result<Self, String> {
        let authority = proxy
            .url
            .trim()
            .strip_prefix("http://")
            .map(|a| a.trim_end_matches('/').to_owned())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("the proxy URL `{}` is not `http://host:port`", proxy.url))?;
        let authority = if authority.contains(':') {
            authority
        } else {
            format!("{authority}:80")
        };
        Ok(Self {
            authority,
            authorization: authorization(proxy),
            timeout,
        })
    }
}

/// The `Proxy-Authorization` value of the proxy's credentials.
pub fn authorization(proxy: &OutboundProxy) -> Option<String> {
    let user = proxy.username.as_deref()?;
    let pass = proxy.password.as_deref().unwrap_or_default();
    Some(format!(
        "Basic {}",
        base64(format!("{user}:{pass}").as_bytes())
    ))
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A connection to the proxy: for `http://` targets the client speaks to
/// the proxy itself (`proxied`), for `https://` it is a tunnel.
pub struct ProxyStream {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        Connected::new().proxy(self.proxied)
    }
}

impl Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<ProxyStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            tokio::time::timeout(this.timeout, this.connect(dst))
                .await
                .map_err(|_| BoxError::from("connecting through the proxy timed out"))?
        })
    }
}

impl ProxyConnector {
    async fn connect(self, dst: Uri) -> Result<ProxyStream, BoxError> {
        let mut tcp = TcpStream::connect(&self.authority).await?;
        tcp.set_nodelay(true)?;
        if dst.scheme_str() != Some("https") {
            return Ok(ProxyStream {
                io: TokioIo::new(tcp),
                proxied: true,
            });
        }
        let host = dst.host().ok_or("the URL has no host")?;
        let target = format!("{host}:{}", dst.port_u16().unwrap_or(443));
        let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(a) = &self.authorization {
            head.push_str(&format!("Proxy-Authorization: {a}\r\n"));
        }
        head.push_str("\r\n");
        tcp.write_all(head.as_bytes()).await?;
        // The answer's head, read a byte at a time so that nothing of the
        // tunnel after it is consumed.
        let mut reply = Vec::new();
        while !reply.ends_with(b"\r\n\r\n") {
            if reply.len() >= MAX_CONNECT_REPLY {
                return Err("the proxy's answer to CONNECT is too long".into());
            }
            let b = tcp.read_u8().await?;
            reply.push(b);
        }
        let status_line = String::from_utf8_lossy(&reply);
        let status = status_line.split_whitespace().nth(1).unwrap_or_default();
        if status != "200" {
            return Err(
                format!("the proxy refused the tunnel to {target} (status {status})").into(),
            );
        }
        Ok(ProxyStream {
            io: TokioIo::new(tcp),
            proxied: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_basic_and_the_default_port_is_80() {
        let p = OutboundProxy {
            url: "http://proxy.local".into(),
            username: Some("Aladdin".into()),
            password: Some("open sesame".into()),
        };
        let c = ProxyConnector::new(&p, Duration::from_secs(1)).unwrap();
        assert_eq!(c.authority, "proxy.local:80");
        assert_eq!(
            c.authorization.as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert!(!format!("{p:?}").contains("sesame"));
        assert!(
            ProxyConnector::new(
                &OutboundProxy {
                    url: "https://p:1".into(),
                    ..OutboundProxy::default()
                },
                Duration::from_secs(1)
            )
            .is_err()
        );
    }
}
