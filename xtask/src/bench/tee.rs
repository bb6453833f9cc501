//! Running a benchmark's command with its output both on the terminal (to watch a run that
//! lasts minutes) and in a log file under the run's directory (to explain a failure, and to
//! read the figures of a program that only prints them).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::shell::describe;

/// How long the output is still read after the command ended: a grandchild that outlived
/// it (a browser a runner did not stop) may hold the pipe open forever.
const DRAIN: Duration = Duration::from_secs(5);

/// Runs `command`, copying its output to the terminal and to `log`; the error is the reason
/// the run failed (the command line, its exit status and its last lines).
pub fn run(command: &mut Command, log: &Path) -> Result<(), String> {
    let line = describe(command);
    println!("$ {line}  (log: {})", log.display());
    let file = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let file = Arc::new(Mutex::new(file));
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    let (done_tx, done_rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        copy(out, false, Arc::clone(&file), done_tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        copy(err, true, Arc::clone(&file), done_tx.clone());
    }
    drop(done_tx);
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{line}`: {e}"))?;
    for _ in 0..2 {
        // A timeout or a closed channel both mean: stop waiting for the output.
        if done_rx.recv_timeout(DRAIN).is_err() {
            break;
        }
    }
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let last: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = last[last.len().saturating_sub(3)..].join(" / ");
    Err(format!("`{line}` failed ({status}); last output: {tail}"))
}

/// Copies `from` line by line to the terminal and the log, then says so on `done`.
fn copy(
    from: impl Read + Send + 'static,
    to_stderr: bool,
    log: Arc<Mutex<File>>,
    done: mpsc::Sender<()>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            // The terminal and the log are best effort: a full disk must not stop the run.
            if to_stderr {
                let _ = std::io::stderr().write_all(&line);
            } else {
                let _ = std::io::stdout().write_all(&line);
            }
            if let Ok(mut file) = log.lock() {
                let _ = file.write_all(&line);
            }
            line.clear();
        }
        // The receiver may have stopped waiting; nothing to tell then.
        let _ = done.send(());
    });
}
