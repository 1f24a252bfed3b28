//! WAL checkpoints on a thread of their own, off the request path.
//!
//! By default SQLite copies the WAL back into the database file (and fsyncs
//! it) inside the COMMIT that takes the WAL past 1,000 pages. With statements
//! run on the async worker that awaits them, that COMMIT — and every task
//! queued on that worker — waited for the copy: the durable-write p99 was five
//! times its p50 (`docs/benchmarks.md`, issue 17). The writer connection runs
//! with `wal_autocheckpoint=0` and this thread checkpoints instead, in
//! `PASSIVE` mode (it never waits for, nor blocks, readers or the writer), on a
//! connection of its own, whenever something was committed since its last look.
//!
//! The thread stops when the last clone of the `Db` that started it is
//! dropped. A process that exits without a clean close leaves its WAL behind;
//! SQLite reads it on the next open, so nothing is lost either way.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often the thread looks for committed work.
const TICK: Duration = Duration::from_millis(100);

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct CheckpointStats {
    /// Checkpoints run (each after something was committed).
    pub checkpoints: AtomicU64,
    /// Frames in the WAL at the last checkpoint: how far it grows between two.
    pub wal_frames: AtomicU64,
    /// Checkpoints that failed (logged at `warn`; retried on the next tick).
    pub failures: AtomicU64,
}

/// A request for a checkpoint now, answered when it ran (`true`) or failed.
type Now = tokio::sync::oneshot::Sender<bool>;

/// The running checkpoint thread of one database; dropping it stops the thread.
#[derive(Debug)]
pub struct Checkpointer {
    /// Asks for a checkpoint now; dropping it stops the thread.
    now: mpsc::Sender<Now>,
    stats: Arc<CheckpointStats>,
}

impl Checkpointer {
    /// Starts checkpointing the WAL of the database at `path`.
    pub fn start(path: &Path) -> std::io::Result<Checkpointer> {
        let (now, asked) = mpsc::channel::<Now>();
        let stats = Arc::new(CheckpointStats::default());
        let counters = stats.clone();
        let path = path.to_path_buf();
        std::thread::Builder::new()
            .name("baton-wal-checkpoint".into())
            .spawn(move || run(&path, &asked, &counters))?;
        Ok(Checkpointer { now, stats })
    }

    pub fn stats(&self) -> &CheckpointStats {
        &self.stats
    }

    /// Checkpoints now, without waiting for the next tick (a backup, a
    /// test); false when the checkpoint failed.
    pub async fn checkpoint_now(&self) -> bool {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.now.send(reply).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

fn run(path: &Path, asked: &mpsc::Receiver<Now>, stats: &CheckpointStats) {
    let mut conn: Option<Connection> = None;
    let mut seen: Option<i64> = None;
    loop {
        let reply = match asked.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => None,
            Ok(reply) => {
                // Asked: checkpoint even when nothing looks new.
                seen = None;
                Some(reply)
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let ok = pass(path, &mut conn, &mut seen, stats);
        if let Some(reply) = reply {
            let _ = reply.send(ok);
        }
    }
}

/// One look (see [`tick`]), opening the connection first when needed.
/// False when it failed.
fn pass(
    path: &Path,
    conn: &mut Option<Connection>,
    seen: &mut Option<i64>,
    stats: &CheckpointStats,
) -> bool {
    if conn.is_none() {
        match open(path) {
            Ok(c) => *conn = Some(c),
            Err(e) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(path = %path.display(), error = %e, "WAL checkpointer cannot open the database");
                return false;
            }
        }
    }
    let Some(c) = conn.as_ref() else { return false };
    match tick(c, seen) {
        Ok(None) => true,
        Ok(Some(frames)) => {
            stats.checkpoints.fetch_add(1, Ordering::Relaxed);
            stats.wal_frames.store(frames, Ordering::Relaxed);
            true
        }
        Err(e) => {
            stats.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(path = %path.display(), error = %e, "WAL checkpoint failed; retrying");
            *conn = None;
            *seen = None;
            false
        }
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(1))?;
    Ok(conn)
}

/// One look: when another connection committed since the last one, a
/// `PASSIVE` checkpoint. Returns the frames the WAL held, when it ran.
fn tick(conn: &Connection, seen: &mut Option<i64>) -> rusqlite::Result<Option<u64>> {
    // `data_version` changes when another connection commits; reading it
    // costs no disk access.
    let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    if *seen == Some(version) {
        return Ok(None);
    }
    let (busy, log, done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    // Look again next tick when readers kept frames from being copied.
    *seen = (busy == 0 && done >= log).then_some(version);
    Ok(Some(u64::try_from(log).unwrap_or(0)))
}
