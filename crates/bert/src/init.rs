//! Seeded initialisation of new weights, independent of any backend's random state.
//!
//! Weights drawn here depend only on the seed and the parameter's name, so a classifier head
//! initialised from seed 7 is the same on every backend, in every process, whatever else was
//! initialised before it.

/// SplitMix64: a small, well-mixed generator whose stream is fixed by its definition.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator for one named parameter: the seed is mixed with an FNV-1a hash of the name.
    pub fn for_parameter(seed: u64, name: &str) -> Self {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in name.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut mixer = Self::new(seed ^ hash);
        Self::new(mixer.next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform draw from the open interval (0, 1).
    pub fn next_open_unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// `n` draws from N(0, std²) by the Box–Muller transform.
    pub fn normal_vec(&mut self, n: usize, std: f64) -> Vec<f32> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let radius = (-2.0 * self.next_open_unit().ln()).sqrt();
            let angle = std::f64::consts::TAU * self.next_open_unit();
            out.push((std * radius * angle.cos()) as f32);
            if out.len() < n {
                out.push((std * radius * angle.sin()) as f32);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_draws_have_the_requested_moments() {
        let draws = SplitMix64::new(3).normal_vec(200_000, 0.02);
        let n = draws.len() as f64;
        let mean = draws.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = draws
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 2e-4, "mean {mean}");
        assert!((var.sqrt() - 0.02).abs() < 2e-4, "std {}", var.sqrt());
    }

    #[test]
    fn parameter_streams_depend_on_seed_and_name_only() {
        let a = SplitMix64::for_parameter(5, "classifier.weight").normal_vec(4, 1.0);
        let b = SplitMix64::for_parameter(5, "classifier.weight").normal_vec(4, 1.0);
        let c = SplitMix64::for_parameter(6, "classifier.weight").normal_vec(4, 1.0);
        let d = SplitMix64::for_parameter(5, "bert.pooler.dense.weight").normal_vec(4, 1.0);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
