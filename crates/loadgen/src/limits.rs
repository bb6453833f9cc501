//! Raising the open-file limit. Every connection is one descriptor here and one in the
//! server, and the default soft limit (20,000 on this machine) ends a 50k run at once.

use rlimit::Resource;

/// Raises this process's `RLIMIT_NOFILE` to `want` (soft and hard when we may raise the hard
/// limit, i.e. as root; otherwise the soft limit up to the hard one). A child spawned
/// afterwards inherits it. Returns the soft limit now in force.
pub fn raise_own_nofile(want: u64) -> std::io::Result<u64> {
    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE)?;
    if soft >= want {
        return Ok(soft);
    }
    if rlimit::setrlimit(Resource::NOFILE, want, want.max(hard)).is_ok() {
        return Ok(want);
    }
    rlimit::increase_nofile_limit(want)
}

/// Raises another process's `RLIMIT_NOFILE` (for a server given with `--server-pid`); needs
/// root or the same user with a high enough hard limit.
pub fn raise_nofile_of(pid: u32, want: u64) -> std::io::Result<()> {
    let pid = i32::try_from(pid).map_err(std::io::Error::other)?;
    rlimit::prlimit(pid, Resource::NOFILE, Some((want, want)), None)
}
