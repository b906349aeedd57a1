//! Reload triggers other than `POST /reload`: file changes and SIGHUP.
//!
//! Files: the folders of the configuration and of every file it references
//! are watched (editors often replace a file rather than write it, which a
//! watch on the file itself would miss); an event on one of those files
//! starts a quiet period, and the reload runs once no further event came
//! for [`QUIET`] (or at most [`MAX_WAIT`] after the first), so a burst of
//! saves makes one reload. After each reload the set of files is updated.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::state::{Gateway, Trigger};

/// The quiet time that ends a burst of saves.
pub const QUIET: Duration = Duration::from_millis(200);
/// A burst that never pauses still reloads this often.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// Starts watching; the watcher stops when the returned value is dropped.
/// `None` (and a message in the log) when the platform offers no watcher.
pub fn files(state: Arc<Gateway>) -> Option<Arc<Mutex<notify::RecommendedWatcher>>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let watched = Arc::clone(&state);
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let relevant = watched
            .files
            .lock()
            .map(|files| {
                event.paths.iter().any(|p| {
                    files.contains(p) || p.parent().is_some_and(|d| d.is_dir() && files.contains(d))
                })
            })
            .unwrap_or(false);
        if relevant {
            let _ = tx.send(());
        }
    });
    let watcher = match watcher {
        Ok(w) => Arc::new(Mutex::new(w)),
        Err(e) => {
            tracing::warn!("file watching is off ({e}); reload with POST /reload or SIGHUP");
            return None;
        }
    };
    let mut dirs = BTreeSet::new();
    update(&state, &watcher, &mut dirs);
    let handle = Arc::clone(&watcher);
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            let first = Instant::now();
            loop {
                let left = MAX_WAIT.saturating_sub(first.elapsed());
                if left.is_zero() {
                    break;
                }
                match tokio::time::timeout(QUIET.min(left), rx.recv()).await {
                    Ok(Some(())) => {}
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            state.reload(Trigger::File).await;
            update(&state, &handle, &mut dirs);
        }
    });
    Some(watcher)
}

/// Watches the folder of every file of the configuration not yet watched.
fn update(
    state: &Gateway,
    watcher: &Mutex<notify::RecommendedWatcher>,
    dirs: &mut BTreeSet<PathBuf>,
) {
    let wanted: BTreeSet<PathBuf> = state
        .files
        .lock()
        .map(|f| {
            f.iter()
                .filter_map(|p| p.parent().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    let Ok(mut w) = watcher.lock() else { return };
    for dir in wanted.difference(&dirs.clone()) {
        match w.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                dirs.insert(dir.clone());
            }
            Err(e) => tracing::warn!("cannot watch {}: {e}", dir.display()),
        }
    }
}

/// Reloads on every SIGHUP (Unix only).
pub fn hangup(state: Arc<Gateway>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hup) => {
                tokio::spawn(async move {
                    while hup.recv().await.is_some() {
                        state.reload(Trigger::Signal).await;
                    }
                });
            }
            Err(e) => tracing::warn!("SIGHUP does not reload ({e})"),
        }
    }
    #[cfg(not(unix))]
    drop(state);
}
