//! Child processes for the cluster: [`Process`], one run of a program in a process group of
//! its own with its output appended to a log file, killed with its group when dropped (also
//! when a test panics); and [`Service`], a program that can be killed and started again the
//! same way, one [`Process`] per run.
//!
//! The group is what makes a kill whole: nginx's workers, or anything a program forks, go
//! with it. Signals go through `kill(1)`: the workspace forbids `unsafe`, so no libc call.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One running (or ended) child process.
struct Process {
    child: Child,
}

impl Process {
    /// Starts `command`, its output appended to `log` after a line that says what was
    /// started (so a restart's output follows the first run's).
    fn spawn(name: &str, command: &mut Command, log: &Path) -> Self {
        let open = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()))
        };
        let mut out = open();
        let mut line = format!("--- {}", command.get_program().to_string_lossy());
        for arg in command.get_args() {
            line.push(' ');
            line.push_str(&arg.to_string_lossy());
        }
        // A marker for whoever reads the log after a failure; a log that cannot be written
        // shows up as an empty tail, and nothing else needs it.
        let _ = std::io::Write::write_all(&mut out, format!("{line}\n").as_bytes());
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(open()));
        std::os::unix::process::CommandExt::process_group(command, 0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({line}): {e}"));
        Self { child }
    }

    /// How it ended, if it has.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL to the whole group, as a crash or an OOM kill would end it; returns once
    /// the process is reaped.
    fn kill(&mut self) {
        if self.exited().is_none() {
            self.signal_group("KILL");
        }
        // Reaped either way; an error means it was reaped already.
        let _ = self.child.wait();
    }

    /// SIGTERM (a clean stop: nginx's fast shutdown takes its workers along), then
    /// SIGKILL to the group after `grace`, and to whatever of the group outlived it.
    fn terminate(&mut self, grace: Duration) {
        if self.exited().is_none() {
            // It may end between the check and the signal: nothing to do then.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + grace;
            while self.exited().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Whatever of the group remains (a worker whose master was killed).
        self.signal_group("KILL");
        let _ = self.child.wait();
    }

    fn signal_group(&self, signal: &str) {
        // The negative id is the group. It fails only when the group is gone already.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), "--", &group])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How a program is started, kept so that a restart is the same start.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its environment besides the inherited one, from which every `LIVEQUEUE_*` is
    /// removed (so that a developer's shell cannot change what a test runs).
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// `program` with `args` and nothing added to its environment.
    pub fn new<A: Into<OsString>>(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = A>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("LIVEQUEUE_") {
                command.env_remove(name);
            }
        }
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// A program the cluster runs, stops, and starts again as it was started first, its every
/// run's output in one log.
pub struct Service {
    /// What the messages call it (`node 1`, `redis`, `nginx`).
    name: String,
    launch: Launch,
    log: PathBuf,
    /// The running process; `None` once killed, until started again.
    process: Option<Process>,
}

impl Service {
    /// Starts `launch` as `name`, its output in `log`. It may not answer yet: see
    /// [`Service::wait_until`].
    pub fn start(name: &str, launch: Launch, log: PathBuf) -> Self {
        let mut service = Self {
            name: name.to_owned(),
            launch,
            log,
            process: None,
        };
        service.restart();
        service
    }

    /// Whether it runs (it was not killed, or was started since).
    pub fn is_up(&self) -> bool {
        self.process.is_some()
    }

    /// Kills it at once (SIGKILL, its whole group): no shutdown of any kind.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Stops it cleanly (SIGTERM), killing its group after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        if let Some(mut process) = self.process.take() {
            process.terminate(grace);
        }
    }

    /// Starts it again as it was started first, killing it first if it runs.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = self.launch.command();
        self.process = Some(Process::spawn(&self.name, &mut command, &self.log));
    }

    /// Calls `probe` every 50 ms until it answers `Ok`, within `within`; panics, with the
    /// log's tail and `probe`'s last `Err`, if it does not or if the process ends (or is
    /// not running) meanwhile. `what` says what was awaited.
    pub async fn wait_until(
        &mut self,
        what: &str,
        within: Duration,
        mut probe: impl AsyncFnMut() -> Result<(), String>,
    ) {
        let deadline = Instant::now() + within;
        loop {
            match &mut self.process {
                None => panic!("{} is not running: no {what} to wait for", self.name),
                Some(process) => {
                    if let Some(status) = process.exited() {
                        panic!("{} exited ({status}):\n{}", self.name, self.log_tail(30));
                    }
                }
            }
            let last = match probe().await {
                Ok(()) => return,
                Err(last) => last,
            };
            assert!(
                Instant::now() < deadline,
                "{}: no {what} within {within:?} (last: {last}):\n{}",
                self.name,
                self.log_tail(30)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

/// The last `lines` lines of the file at `path` (empty if it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
