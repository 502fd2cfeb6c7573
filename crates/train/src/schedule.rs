//! The learning-rate schedule: linear warm-up from 0, then linear decay to 0 (transformers'
//! `get_linear_schedule_with_warmup`).

use serde::{Deserialize, Serialize};

/// Linear warm-up over `warmup_steps` updates, then linear decay to zero at `total_steps`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearSchedule {
    /// The peak learning rate, reached at the end of warm-up.
    pub peak: f64,
    /// Updates of warm-up.
    pub warmup_steps: u64,
    /// Updates in the whole run.
    pub total_steps: u64,
}

impl LinearSchedule {
    /// The schedule of a run of `total_steps` updates whose first `⌈warmup_ratio · total_steps⌉`
    /// updates warm up (as transformers' `TrainingArguments.get_warmup_steps`).
    pub fn with_warmup_ratio(peak: f64, warmup_ratio: f64, total_steps: u64) -> Self {
        let warmup_steps = (warmup_ratio * total_steps as f64).ceil() as u64;
        LinearSchedule {
            peak,
            warmup_steps,
            total_steps,
        }
    }

    /// The learning rate of update `step` (0-based). The first update of a warm-up has rate 0,
    /// exactly as transformers' `LambdaLR` gives it.
    pub fn learning_rate(&self, step: u64) -> f64 {
        let factor = if step < self.warmup_steps {
            step as f64 / self.warmup_steps.max(1) as f64
        } else {
            let remaining = self.total_steps.saturating_sub(step) as f64;
            (remaining / self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64).max(0.0)
        };
        self.peak * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_from_zero_peaks_and_decays_to_zero() {
        let schedule = LinearSchedule::with_warmup_ratio(2e-5, 0.1, 100);
        assert_eq!(schedule.warmup_steps, 10);
        assert_eq!(schedule.learning_rate(0), 0.0);
        assert!((schedule.learning_rate(5) - 1e-5).abs() < 1e-18);
        assert_eq!(schedule.learning_rate(10), 2e-5);
        assert!((schedule.learning_rate(55) - 1e-5).abs() < 1e-18);
        assert_eq!(schedule.learning_rate(100), 0.0);
        assert_eq!(schedule.learning_rate(150), 0.0);
    }

    #[test]
    fn warmup_steps_round_up_like_transformers() {
        assert_eq!(
            LinearSchedule::with_warmup_ratio(1.0, 0.1, 95).warmup_steps,
            10
        );
        assert_eq!(
            LinearSchedule::with_warmup_ratio(1.0, 0.0, 95).warmup_steps,
            0
        );
        assert_eq!(
            LinearSchedule::with_warmup_ratio(1.0, 0.0, 95).learning_rate(0),
            1.0
        );
    }
}
