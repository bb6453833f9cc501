//! The two back ends as the contract suite gets them: a handle of experience `drop`, not
//! created yet (each behaviour creates it with the stock it needs).

use livequeue_server::engine::core::MemoryQueue;
use livequeue_server::engine::redis::{RedisQueue, connect};

use crate::server::RedisServer;

/// The experience every behaviour runs on.
const EXPERIENCE: &str = "drop";

/// The in-memory rules.
pub fn memory() -> MemoryQueue {
    MemoryQueue::new(EXPERIENCE)
}

/// The Redis core on a fresh redis-server, which lives as long as the returned guard.
pub async fn redis() -> (RedisServer, RedisQueue) {
    let server = RedisServer::start();
    let conn = connect(&server.url())
        .await
        .expect("cannot connect to the test's redis-server");
    let queue = RedisQueue::new(conn, EXPERIENCE).expect("a valid id was refused");
    (server, queue)
}
