//! The Lua scripts of the Redis back end, each one atomic change (or consistent read) of
//! one experience.
//!
//! The queue scripts are `lua/common.lua` (key names and helpers) followed by the script's
//! own file; the lease scripts stand alone. Each file says at its top which keys it touches,
//! its arguments and its reply.
//!
//! # Loading
//!
//! [`Scripts::load`] sends `SCRIPT LOAD` for each once, when a node connects; every call
//! after that is an `EVALSHA` by the script's SHA-1. When Redis answers `NOSCRIPT` (it was
//! restarted, failed over, or its script cache flushed), redis-rs's
//! [`redis::ScriptInvocation::invoke_async`] loads the script again (`SCRIPT LOAD`) and
//! repeats the `EVALSHA`: it does not fall back to sending the whole text with `EVAL`.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionManager;

/// Key names and helpers every queue script begins with.
const COMMON: &str = include_str!("lua/common.lua");

/// Every script, built once per process.
pub static SCRIPTS: LazyLock<Scripts> = LazyLock::new(Scripts::new);

/// The scripts, one field per operation.
#[derive(Debug)]
pub struct Scripts {
    /// `lua/create.lua`.
    pub create: Script,
    /// `lua/join.lua`.
    pub join: Script,
    /// `lua/position.lua`.
    pub position: Script,
    /// `lua/leave.lua`.
    pub leave: Script,
    /// `lua/admit.lua`.
    pub admit: Script,
    /// `lua/expire.lua`.
    pub expire: Script,
    /// `lua/redeem.lua`.
    pub redeem: Script,
    /// `lua/extend.lua`.
    pub extend: Script,
    /// `lua/reserve.lua`.
    pub reserve: Script,
    /// `lua/patch.lua`.
    pub patch: Script,
    /// `lua/replay.lua`.
    pub replay: Script,
    /// `lua/cursor.lua`.
    pub cursor: Script,
    /// `lua/mirror.lua`.
    pub mirror: Script,
    /// `lua/page.lua`.
    pub page: Script,
    /// `lua/lease_take.lua`.
    pub lease_take: Script,
    /// `lua/lease_renew.lua`.
    pub lease_renew: Script,
    /// `lua/lease_release.lua`.
    pub lease_release: Script,
}

/// A queue script: the common part, then the script's own.
fn queue_script(body: &str) -> Script {
    Script::new(&format!("{COMMON}\n{body}"))
}

impl Scripts {
    fn new() -> Self {
        Self {
            create: queue_script(include_str!("lua/create.lua")),
            join: queue_script(include_str!("lua/join.lua")),
            position: queue_script(include_str!("lua/position.lua")),
            leave: queue_script(include_str!("lua/leave.lua")),
            admit: queue_script(include_str!("lua/admit.lua")),
            expire: queue_script(include_str!("lua/expire.lua")),
            redeem: queue_script(include_str!("lua/redeem.lua")),
            extend: queue_script(include_str!("lua/extend.lua")),
            reserve: queue_script(include_str!("lua/reserve.lua")),
            patch: queue_script(include_str!("lua/patch.lua")),
            replay: queue_script(include_str!("lua/replay.lua")),
            cursor: queue_script(include_str!("lua/cursor.lua")),
            mirror: queue_script(include_str!("lua/mirror.lua")),
            page: queue_script(include_str!("lua/page.lua")),
            lease_take: Script::new(include_str!("lua/lease_take.lua")),
            lease_renew: Script::new(include_str!("lua/lease_renew.lua")),
            lease_release: Script::new(include_str!("lua/lease_release.lua")),
        }
    }

    /// Every script, for loading.
    fn all(&self) -> [&Script; 17] {
        [
            &self.create,
            &self.join,
            &self.position,
            &self.leave,
            &self.admit,
            &self.expire,
            &self.redeem,
            &self.extend,
            &self.reserve,
            &self.patch,
            &self.replay,
            &self.cursor,
            &self.mirror,
            &self.page,
            &self.lease_take,
            &self.lease_renew,
            &self.lease_release,
        ]
    }

    /// Loads every script into Redis's script cache (`SCRIPT LOAD`), so that calls are
    /// `EVALSHA` from the first; a Lua syntax error shows here rather than at first use.
    pub async fn load(&self, conn: &mut ConnectionManager) -> redis::RedisResult<()> {
        for script in self.all() {
            script.load_async(conn).await?;
        }
        Ok(())
    }
}
