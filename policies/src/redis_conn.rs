//! The one way the Redis clients of the policies connect (the semantic
//! cache's store, the counters, the external cache).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisResult};
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
