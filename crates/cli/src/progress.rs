//! A progress bar on stderr for work that takes more than a second, and none at all when
//! stderr is not a terminal (pipes, CI, redirects).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub struct Progress {
    started: Instant,
    bar: Option<ProgressBar>,
    enabled: bool,
}

impl Progress {
    pub fn new() -> Self {
        Progress { started: Instant::now(), bar: None, enabled: std::io::stderr().is_terminal() }
    }

    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {pos}/{len} files [{elapsed_precise}] {wide_bar} {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        bar.set_position(done);
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
