//! Cluster membership across training checkpoints (the paper's Figure 6).
//!
//! Each checkpoint's barrier matrix is clustered on its own. Cluster labels are arbitrary per
//! clustering, so before counting switches the labels of each checkpoint are renamed to agree as
//! much as possible with the previous checkpoint: the renaming maximises the number of models that
//! keep their label (an exact assignment, by dynamic programming over subsets of labels). The
//! centroid-distance axis of each checkpoint is likewise flipped when its positions correlate
//! negatively with the previous checkpoint's, so that arrows between checkpoints are comparable.
//!
//! With [`KChoice::Eigengap`], k is chosen once, at the last checkpoint (the trained models), and
//! used at every checkpoint, so that labels can be aligned.

use serde::Serialize;

use crate::error::{AnalysisError, Result};
use crate::matrix::BarrierMatrix;
use crate::spectral::{ClusterOptions, KChoice, SpectralEmbedding};
use crate::stats::pearson;

/// Most clusters whose labels [`training_dynamics`] aligns (the assignment is O(k²·2ᵏ)).
pub const MAX_ALIGNED_CLUSTERS: usize = 12;

/// One checkpoint's barrier matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Label, e.g. the training step.
    pub label: String,
    /// Its barrier matrix (any model order; names must match across checkpoints).
    pub barriers: BarrierMatrix,
}

/// A model whose (aligned) cluster changes between consecutive checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Switch {
    /// The model.
    pub model: String,
    /// Earlier checkpoint's label.
    pub from_checkpoint: String,
    /// Later checkpoint's label.
    pub to_checkpoint: String,
    /// Cluster at the earlier checkpoint.
    pub from_cluster: usize,
    /// Cluster at the later checkpoint.
    pub to_cluster: usize,
}

/// Positions and clusters of every model at every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dynamics {
    /// Checkpoint labels, in the given order.
    pub checkpoints: Vec<String>,
    /// Model names, in the first checkpoint's order.
    pub names: Vec<String>,
    /// The number of clusters used at every checkpoint.
    pub k: usize,
    /// `positions[t][i]`: model `i` on checkpoint `t`'s centroid-distance axis (sign aligned).
    pub positions: Vec<Vec<f64>>,
    /// `labels[t][i]`: model `i`'s cluster at checkpoint `t`, aligned with checkpoint `t − 1`.
    pub labels: Vec<Vec<usize>>,
    /// Every change of cluster between consecutive checkpoints.
    pub switches: Vec<Switch>,
}

/// The renaming `old label → new label` of `labels` that maximises agreement with `reference`.
fn align(reference: &[usize], labels: &[usize], k: usize) -> Vec<usize> {
    let mut overlap = vec![vec![0_usize; k]; k];
    for (&r, &l) in reference.iter().zip(labels) {
        overlap[l][r] += 1;
    }
    // best[mask]: the largest overlap when the first popcount(mask) labels are renamed into `mask`.
    let full = 1_usize << k;
    let mut best = vec![None::<(usize, usize)>; full];
    best[0] = Some((0, 0));
    for mask in 0..full {
        let Some((score, _)) = best[mask] else {
            continue;
        };
        let label = mask.count_ones() as usize;
        if label == k {
            continue;
        }
        for (target, &gain) in overlap[label].iter().enumerate() {
            let next = mask | (1 << target);
            if next != mask && best[next].is_none_or(|(s, _)| s < score + gain) {
                best[next] = Some((score + gain, target));
            }
        }
    }
    let mut rename = vec![0; k];
    let mut mask = full - 1;
    for label in (0..k).rev() {
        let (_, target) = best[mask].expect("every full assignment is reachable");
        rename[label] = target;
        mask &= !(1 << target);
    }
    rename
}

/// Clusters every checkpoint, aligns labels and axis signs, and lists the models that switch.
///
/// # Errors
/// [`AnalysisError::Checkpoint`] when there is no checkpoint or one's model names differ from the
/// first's; [`AnalysisError::Clustering`] when k exceeds [`MAX_ALIGNED_CLUSTERS`]; clustering errors.
pub fn training_dynamics(checkpoints: &[Checkpoint], options: &ClusterOptions) -> Result<Dynamics> {
    let first = checkpoints
        .first()
        .ok_or_else(|| AnalysisError::Checkpoint {
            checkpoint: String::new(),
            message: "no checkpoints given".to_owned(),
        })?;
    let names = first.barriers.names.clone();
    let mut embeddings = Vec::with_capacity(checkpoints.len());
    for checkpoint in checkpoints {
        let matrix = &checkpoint.barriers;
        let mismatch = |message: String| AnalysisError::Checkpoint {
            checkpoint: checkpoint.label.clone(),
            message,
        };
        if matrix.len() != names.len() {
            return Err(mismatch(format!(
                "{} models, but checkpoint `{}` has {}",
                matrix.len(),
                first.label,
                names.len()
            )));
        }
        let order = names
            .iter()
            .map(|name| {
                matrix.index_of(name).ok_or_else(|| {
                    mismatch(format!(
                        "model `{name}` of checkpoint `{}` is missing",
                        first.label
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        embeddings.push(SpectralEmbedding::new(
            &matrix.permuted(&order),
            options.delta,
        )?);
    }
    let k = match options.k {
        KChoice::Fixed(k) => k,
        KChoice::Eigengap => embeddings
            .last()
            .map_or(1, |e| e.eigengap_k(options.eigengap_max_k)),
    };
    if k > MAX_ALIGNED_CLUSTERS {
        return Err(AnalysisError::Clustering(format!(
            "aligning labels across checkpoints supports at most {MAX_ALIGNED_CLUSTERS} clusters, got k = {k}"
        )));
    }
    let mut positions: Vec<Vec<f64>> = Vec::with_capacity(checkpoints.len());
    let mut labels: Vec<Vec<usize>> = Vec::with_capacity(checkpoints.len());
    for embedding in &embeddings {
        let mut axis = embedding.centroid_axis(&options.kmeans)?.distances;
        if let Some(previous) = positions.last()
            && pearson(previous, &axis).is_some_and(|r| r < 0.0)
        {
            axis.iter_mut().for_each(|x| *x = -*x);
        }
        let mut current = embedding
            .cluster(k, options.eigengap_max_k, &options.kmeans)?
            .labels;
        if let Some(previous) = labels.last() {
            let rename = align(previous, &current, k);
            current.iter_mut().for_each(|l| *l = rename[*l]);
        }
        positions.push(axis);
        labels.push(current);
    }
    let mut switches = Vec::new();
    for t in 1..checkpoints.len() {
        for (i, name) in names.iter().enumerate() {
            if labels[t - 1][i] != labels[t][i] {
                switches.push(Switch {
                    model: name.clone(),
                    from_checkpoint: checkpoints[t - 1].label.clone(),
                    to_checkpoint: checkpoints[t].label.clone(),
                    from_cluster: labels[t - 1][i],
                    to_cluster: labels[t][i],
                });
            }
        }
    }
    Ok(Dynamics {
        checkpoints: checkpoints.iter().map(|c| c.label.clone()).collect(),
        names,
        k,
        positions,
        labels,
        switches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_maximises_total_overlap_not_the_largest_cell() {
        // Greedy on the largest cell (label 0 → 0, 5 models) would keep only 5 of 13 models; swapping
        // keeps 8.
        let reference = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0];
        assert_eq!(align(&reference, &labels, 2), vec![1, 0]);
    }
}
