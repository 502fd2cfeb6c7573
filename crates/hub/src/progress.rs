//! Download progress: the events a [`crate::Hub`] reports ([`DownloadEvent`]), the trait that
//! receives them ([`Progress`], which any `Fn(&DownloadEvent)` implements), and the reporter the
//! `lmc` binary uses ([`TerminalProgress`]: an indicatif bar on a terminal, a line at least every
//! 30 s in a log).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often [`TerminalProgress::stderr`] writes a line when stderr is not a terminal.
pub const LOG_INTERVAL: Duration = Duration::from_secs(30);

/// Where a file download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A request for the file begins, the first or, after a dropped connection, a later one;
    /// `done` is what is already on disk, from which the download resumes.
    Started,
    /// More bytes arrived; `done` counts all of them, resumed ones included.
    Received,
    /// The file is complete, verified and in the cache.
    Finished,
}

/// One progress report of one file download.
#[derive(Debug, Clone, Copy)]
pub struct DownloadEvent<'a> {
    /// `ORG/NAME`.
    pub repo: &'a str,
    /// The file name in the repository.
    pub file: &'a str,
    /// Where the download stands.
    pub stage: Stage,
    /// Bytes of the file on disk so far.
    pub done: u64,
    /// The file's size.
    pub total: u64,
}

/// Receives [`DownloadEvent`]s; called on the downloading thread, once per chunk received.
pub trait Progress: Send + Sync {
    /// Handles one event.
    fn report(&self, event: &DownloadEvent<'_>);
}

impl<F: Fn(&DownloadEvent<'_>) + Send + Sync> Progress for F {
    fn report(&self, event: &DownloadEvent<'_>) {
        self(event)
    }
}

/// Shows downloads to a person: an indicatif bar per file when stderr is a terminal, otherwise
/// (a log, CI) a line when a file starts or resumes, at least every [`LOG_INTERVAL`] while bytes
/// arrive, and when it is done. (A connection that stalls is dropped after 60 s without a byte,
/// and the download resumes with a line saying so.)
pub struct TerminalProgress {
    output: Mutex<Output>,
}

enum Output {
    Bar(Option<ProgressBar>),
    Lines {
        out: Box<dyn Write + Send>,
        every: Duration,
        last: Instant,
    },
}

impl TerminalProgress {
    /// Reports to stderr: bars on a terminal, lines every [`LOG_INTERVAL`] otherwise.
    pub fn stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Self {
                output: Mutex::new(Output::Bar(None)),
            }
        } else {
            Self::lines(std::io::stderr(), LOG_INTERVAL)
        }
    }

    /// Reports as lines to `out`, one at least every `every` while a file downloads.
    pub fn lines(out: impl Write + Send + 'static, every: Duration) -> Self {
        Self {
            output: Mutex::new(Output::Lines {
                out: Box::new(out),
                every,
                last: Instant::now(),
            }),
        }
    }
}

impl Progress for TerminalProgress {
    fn report(&self, e: &DownloadEvent<'_>) {
        let mut output = self
            .output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &mut *output {
            Output::Bar(bar) => match e.stage {
                Stage::Started => {
                    let new =
                        ProgressBar::with_draw_target(Some(e.total), ProgressDrawTarget::stderr());
                    if let Ok(style) = ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    ) {
                        new.set_style(style);
                    }
                    new.set_message(format!("{} {}", e.repo, e.file));
                    new.set_position(e.done);
                    *bar = Some(new);
                }
                Stage::Received => {
                    if let Some(bar) = bar {
                        bar.set_position(e.done);
                    }
                }
                Stage::Finished => {
                    if let Some(bar) = bar.take() {
                        bar.set_position(e.total);
                        bar.finish();
                    }
                }
            },
            Output::Lines { out, every, last } => {
                let line = match e.stage {
                    Stage::Started if e.done > 0 => {
                        format!(
                            "{}: resuming {} at {} of {}",
                            e.repo,
                            e.file,
                            size(e.done),
                            size(e.total)
                        )
                    }
                    Stage::Started => {
                        format!("{}: downloading {} ({})", e.repo, e.file, size(e.total))
                    }
                    Stage::Received if last.elapsed() >= *every => {
                        let percent = (e.done * 100).checked_div(e.total).unwrap_or(100);
                        format!(
                            "{}: {} {} of {} ({percent} %)",
                            e.repo,
                            e.file,
                            size(e.done),
                            size(e.total)
                        )
                    }
                    Stage::Received => return,
                    Stage::Finished => {
                        format!("{}: downloaded {} ({})", e.repo, e.file, size(e.total))
                    }
                };
                *last = Instant::now();
                // Progress is best effort: a closed stderr must not fail a download.
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        }
    }
}

/// `438.0 MB`, `12.3 kB`, `512 B`.
fn size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.2} GB", bytes as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_gets_a_line_per_interval_and_at_start_and_end() {
        let shared = Shared::default();
        let report = |progress: &TerminalProgress, stage, done| {
            progress.report(&DownloadEvent {
                repo: "connectivity/feather_berts_0",
                file: "model.safetensors",
                stage,
                done,
                total: 438_000_000,
            })
        };
        let quiet = TerminalProgress::lines(shared.clone(), Duration::from_secs(3600));
        report(&quiet, Stage::Started, 0);
        report(&quiet, Stage::Received, 1_000_000);
        report(&quiet, Stage::Finished, 438_000_000);
        let chatty = TerminalProgress::lines(shared.clone(), Duration::ZERO);
        report(&chatty, Stage::Started, 219_000_000);
        report(&chatty, Stage::Received, 328_500_000);
        let text = String::from_utf8(shared.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "connectivity/feather_berts_0: downloading model.safetensors (438.0 MB)\n\
             connectivity/feather_berts_0: downloaded model.safetensors (438.0 MB)\n\
             connectivity/feather_berts_0: resuming model.safetensors at 219.0 MB of 438.0 MB\n\
             connectivity/feather_berts_0: model.safetensors 328.5 MB of 438.0 MB (75 %)\n"
        );
    }
}
