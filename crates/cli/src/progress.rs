//! Progress of long commands (finetune, eval, sweep, surface, reproduce), on and off a terminal.
//!
//! On a terminal, an indicatif bar. Anywhere else (a Slurm job, `nohup`, CI), where a bar would
//! either be hidden or fill the log with redraws, a plain line on stderr when the work starts,
//! then at most every [`PLAIN_INTERVAL`], and when it ends: what is done of what, the rate since
//! this process started, and the time left at that rate. `LMC_PROGRESS=plain` or `bar` overrides
//! the choice (read here only).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Longest wait between two plain progress lines.
pub const PLAIN_INTERVAL: Duration = Duration::from_secs(30);

/// One piece of long work: `done` of `total` units.
pub struct Progress {
    display: Display,
}

enum Display {
    Bar(ProgressBar),
    Plain(PlainProgress),
}

impl Progress {
    /// Progress of `total` `unit`s (e.g. "updates", "pairs") of the work called `label`, of
    /// which `done` are done already (resumed work).
    pub fn new(label: &str, unit: &'static str, done: u64, total: u64) -> Self {
        let plain = match std::env::var("LMC_PROGRESS").as_deref() {
            Ok("plain") => true,
            Ok("bar") => false,
            _ => !std::io::stderr().is_terminal(),
        };
        let display = if plain {
            let mut progress = PlainProgress::new(label, unit, done, total, Instant::now());
            eprintln!("{}", progress.line(Instant::now()));
            progress.last_line = Some(Instant::now());
            Display::Plain(progress)
        } else {
            let bar = ProgressBar::new(total).with_position(done);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit}, {{msg}} ({{elapsed}} < {{eta}})"
                ))
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(500));
            Display::Bar(bar)
        };
        Progress { display }
    }

    /// Sets what is done, the total and a short message (e.g. the latest loss).
    pub fn update(&mut self, done: u64, total: u64, message: String) {
        match &mut self.display {
            Display::Bar(bar) => {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(message);
            }
            Display::Plain(progress) => {
                progress.done = done;
                progress.total = total;
                progress.message = message;
                let now = Instant::now();
                if progress.due(now) {
                    eprintln!("{}", progress.line(now));
                    progress.last_line = Some(now);
                }
            }
        }
    }

    /// Ends the display: clears a bar, prints a last plain line.
    pub fn finish(self) {
        match self.display {
            Display::Bar(bar) => bar.finish_and_clear(),
            Display::Plain(progress) => eprintln!("{}", progress.line(Instant::now())),
        }
    }
}

/// The plain display's state; the clock is passed in, so lines and their timing are testable.
struct PlainProgress {
    label: String,
    unit: &'static str,
    started: Instant,
    done_at_start: u64,
    done: u64,
    total: u64,
    message: String,
    last_line: Option<Instant>,
}

impl PlainProgress {
    fn new(label: &str, unit: &'static str, done: u64, total: u64, now: Instant) -> Self {
        PlainProgress {
            label: label.to_owned(),
            unit,
            started: now,
            done_at_start: done,
            done,
            total,
            message: String::new(),
            last_line: None,
        }
    }

    /// Whether a line is due at `now`: the first one, then every [`PLAIN_INTERVAL`].
    fn due(&self, now: Instant) -> bool {
        self.last_line
            .is_none_or(|last| now.duration_since(last) >= PLAIN_INTERVAL)
    }

    /// `label: done/total unit (p %), rate, ETA; message` at `now`.
    fn line(&self, now: Instant) -> String {
        let elapsed = now.duration_since(self.started).as_secs_f64();
        let progressed = self.done.saturating_sub(self.done_at_start);
        let percent = if self.total == 0 {
            100.0
        } else {
            100.0 * self.done as f64 / self.total as f64
        };
        let mut line = format!(
            "{}: {}/{} {} ({percent:.0} %), {} elapsed",
            self.label,
            self.done,
            self.total,
            self.unit,
            clock(elapsed)
        );
        if progressed > 0 && elapsed > 0.0 {
            let rate = progressed as f64 / elapsed;
            let left = self.total.saturating_sub(self.done) as f64 / rate;
            line.push_str(&format!(
                ", {} {}/s, ETA {}",
                rate_text(rate),
                self.unit,
                clock(left)
            ));
        }
        if !self.message.is_empty() {
            line.push_str("; ");
            line.push_str(&self.message);
        }
        line
    }
}

/// `1h02m03s`, `4m05s` or `6s`.
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 {
        format!("{hours}h{minutes:02}m{seconds:02}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

fn rate_text(rate: f64) -> String {
    if rate >= 10.0 {
        format!("{rate:.0}")
    } else if rate >= 0.1 {
        format!("{rate:.2}")
    } else {
        format!("{rate:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_done_total_rate_and_time_left() {
        let start = Instant::now();
        let mut progress = PlainProgress::new("seed3", "updates", 100, 500, start);
        assert_eq!(
            progress.line(start),
            "seed3: 100/500 updates (20 %), 0s elapsed"
        );
        progress.done = 300;
        progress.message = "loss 0.4321".into();
        // 200 updates in 100 s since this process started: 2/s, 200 left → 100 s.
        assert_eq!(
            progress.line(start + Duration::from_secs(100)),
            "seed3: 300/500 updates (60 %), 1m40s elapsed, 2.00 updates/s, ETA 1m40s; loss 0.4321"
        );
    }

    #[test]
    fn plain_lines_come_at_most_every_interval() {
        let start = Instant::now();
        let mut progress = PlainProgress::new("sweep", "pairs", 0, 10, start);
        assert!(progress.due(start), "the first line is due at once");
        progress.last_line = Some(start);
        assert!(!progress.due(start + Duration::from_secs(29)));
        assert!(progress.due(start + PLAIN_INTERVAL));
    }

    #[test]
    fn clocks_read_as_hours_minutes_seconds() {
        assert_eq!(clock(6.4), "6s");
        assert_eq!(clock(245.0), "4m05s");
        assert_eq!(clock(3723.0), "1h02m03s");
        assert_eq!(clock(-1.0), "0s");
    }
}
