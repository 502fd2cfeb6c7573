//! Per-cluster statistics and the within- vs between-cluster barrier summary.

use serde::{Deserialize, Serialize};

use crate::error::{AnalysisError, Result};
use crate::matrix::BarrierMatrix;
use crate::stats::Summary;

/// Statistics of one cluster (the paper's cluster table, Figure 5, and HANS breakdown, Figure 7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Cluster label.
    pub cluster: usize,
    /// Number of models.
    pub size: usize,
    /// The diagnostic metric of its models.
    pub diagnostic: Summary,
    /// The in-domain metric of its models.
    pub in_domain: Summary,
    /// Per HANS cell (`heuristic/label`), the accuracy of its models; empty without HANS data.
    pub hans: Vec<(String, Summary)>,
}

/// Per-model HANS accuracies, with the cell names.
#[derive(Debug, Clone, Copy)]
pub struct HansCells<'a> {
    /// Cell names, e.g. `lexical_overlap/non-entailment`.
    pub names: &'a [String],
    /// Per model (in label order), one accuracy per cell.
    pub values: &'a [Vec<f64>],
}

/// Statistics of each cluster `0..k`.
///
/// # Errors
/// [`AnalysisError::Statistics`] if the per-model slices differ in length from `labels`, or a label
/// is not below `k`.
pub fn cluster_stats(
    labels: &[usize],
    k: usize,
    diagnostic: &[f64],
    in_domain: &[f64],
    hans: Option<HansCells<'_>>,
) -> Result<Vec<ClusterStats>> {
    let n = labels.len();
    let hans_len = hans.map_or(n, |h| h.values.len());
    if diagnostic.len() != n || in_domain.len() != n || hans_len != n {
        return Err(AnalysisError::Statistics(format!(
            "{n} labels but {} diagnostic, {} in-domain and {hans_len} HANS values",
            diagnostic.len(),
            in_domain.len()
        )));
    }
    if let Some(&label) = labels.iter().find(|&&l| l >= k) {
        return Err(AnalysisError::Statistics(format!(
            "label {label} is not below k = {k}"
        )));
    }
    Ok((0..k)
        .map(|cluster| {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == cluster).collect();
            let pick = |values: &[f64]| members.iter().map(|&i| values[i]).collect::<Vec<_>>();
            let hans = hans
                .map(|h| {
                    h.names
                        .iter()
                        .enumerate()
                        .map(|(cell, name)| {
                            let values: Vec<f64> =
                                members.iter().map(|&i| h.values[i][cell]).collect();
                            (name.clone(), Summary::of(&values))
                        })
                        .collect()
                })
                .unwrap_or_default();
            ClusterStats {
                cluster,
                size: members.len(),
                diagnostic: Summary::of(&pick(diagnostic)),
                in_domain: Summary::of(&pick(in_domain)),
                hans,
            }
        })
        .collect())
}

/// Barrier values of pairs inside one cluster vs pairs across clusters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BarrierSummary {
    /// Unordered pairs whose models share a cluster.
    pub within: Summary,
    /// Unordered pairs whose models are in different clusters.
    pub between: Summary,
}

/// Splits the upper triangle of `d` by whether both models share a label.
///
/// # Errors
/// [`AnalysisError::Statistics`] if `labels` does not have one entry per model.
pub fn within_between(d: &BarrierMatrix, labels: &[usize]) -> Result<BarrierSummary> {
    let n = d.len();
    if labels.len() != n {
        return Err(AnalysisError::Statistics(format!(
            "{} labels for a {n}-model matrix",
            labels.len()
        )));
    }
    let (mut within, mut between) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in i + 1..n {
            if labels[i] == labels[j] {
                within.push(d.get(i, j));
            } else {
                between.push(d.get(i, j));
            }
        }
    }
    Ok(BarrierSummary {
        within: Summary::of(&within),
        between: Summary::of(&between),
    })
}
