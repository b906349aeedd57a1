//! The one way the Redis clients of the policies (the semantic cache's
//! store, the counters, the external cache) reach their server: a
//! connection made on first use, every request bounded by the connect and
//! response timeouts, and, where the client wants it, one more try when
//! the connection broke (the manager has replaced it by then).

use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, FromRedisValue, Pipeline, RedisError, RedisResult};
use tokio::sync::OnceCell;

/// The connection manager in `cell`, made on first use (inside the runtime
/// that uses it) with these timeouts and one attempt per reconnection: the
/// caller's bound, not a backoff, decides how long an operation may take.
pub(crate) async fn managed(
    cell: &OnceCell<ConnectionManager>,
    client: &Client,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> RedisResult<ConnectionManager> {
    let manager = cell
        .get_or_try_init(|| async {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(connect_timeout))
                .set_response_timeout(Some(response_timeout))
                .set_number_of_retries(0);
            ConnectionManager::new_lazy_with_config(client.clone(), config)
        })
        .await?;
    Ok(manager.clone())
}

/// One request to the server.
pub(crate) enum Request<'a> {
    Cmd(&'a Cmd),
    Pipe(&'a Pipeline),
}

/// A Redis server: made anywhere (it does not connect), used inside a
/// tokio runtime. It holds no URL, so its `Debug` cannot show a password.
pub(crate) struct Conn {
    client: Client,
    manager: OnceCell<ConnectionManager>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish_non_exhaustive()
    }
}

impl Conn {
    pub fn new(client: Client, connect_timeout: Duration, response_timeout: Duration) -> Self {
        Self {
            client,
            manager: OnceCell::new(),
            connect_timeout,
            response_timeout,
        }
    }

    /// Sends `request` once, bounded by the connect and response timeouts
    /// together (a timeout is an I/O `TimedOut` error).
    pub async fn once<T: FromRedisValue>(&self, request: &Request<'_>) -> RedisResult<T> {
        let bound = self.connect_timeout + self.response_timeout;
        let sent = async {
            let mut con = managed(
                &self.manager,
                &self.client,
                self.connect_timeout,
                self.response_timeout,
            )
            .await?;
            match request {
                Request::Cmd(c) => c.query_async(&mut con).await,
                Request::Pipe(p) => p.query_async(&mut con).await,
            }
        };
        match tokio::time::timeout(bound, sent).await {
            Ok(r) => r,
            Err(_) => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} ms", bound.as_millis()),
            ))),
        }
    }

    /// Sends `request`; if the connection broke (not a timeout), once more
    /// on the connection that replaces it.
    pub async fn send<T: FromRedisValue>(&self, request: Request<'_>) -> RedisResult<T> {
        once_more(|| self.once(&request)).await
    }
}

/// Runs `attempt`; if it failed because the connection broke (not a
/// timeout), runs it once more.
pub(crate) async fn once_more<T, F, Fut>(attempt: F) -> RedisResult<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = RedisResult<T>>,
{
    match attempt().await {
        Err(e) if reconnects(&e) => attempt().await,
        r => r,
    }
}

/// Whether the error broke the connection (not a timeout): the manager
/// replaces it, and the request is worth one more try.
pub(crate) fn reconnects(e: &RedisError) -> bool {
    e.is_io_error() && !e.is_timeout()
}
