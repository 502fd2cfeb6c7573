//! The paper's reference numbers for the paper-vs-this-run table, and the names of each task's
//! metrics.
//!
//! Source: `shared/docs/paper-method.md` (Juneja et al., ICLR 2023), section "Clustering",
//! paragraph "Reference outcome at the paper's scale", and section "Tasks, data, metrics" for the
//! metric names. Values the page does not state are `None` and shown as "not stated".

/// What the paper reports for one task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperReference {
    /// Task name, lower case.
    pub task: &'static str,
    /// Fine-tuned models (seeds) in the paper.
    pub models: usize,
    /// Cluster sizes, largest first.
    pub cluster_sizes: &'static [usize],
    /// Mean within-cluster convexity gap of the in-domain loss ("≈ 0").
    pub within_cluster_convexity_gap: Option<f64>,
    /// Convexity gap of the mean generalising-to-heuristic in-domain loss curve.
    pub mean_gh_curve_convexity_gap: Option<f64>,
    /// Endpoint barrier of the same mean curve.
    pub mean_gh_curve_endpoint_barrier: Option<f64>,
    /// The diagnostic metric that ranks models.
    pub diagnostic_metric: &'static str,
    /// The in-domain metric.
    pub in_domain_metric: &'static str,
    /// What the paper says about the clusters and the diagnostic metric.
    pub finding: &'static str,
}

/// The reference numbers, per task (`paper-method.md`, "Clustering": "the 100 MNLI models split
/// 88 / 12; the small cluster holds the models worst on HANS-LO; QQP also splits 88 / 12; CoLA's
/// small cluster is a single model. Within-cluster CG ≈ 0; the mean generalising-to-heuristic MNLI
/// curve has CG ≈ 0.07 while its endpoint barrier is only ≈ 0.007").
pub const PAPER_REFERENCES: [PaperReference; 3] = [
    PaperReference {
        task: "mnli",
        models: 100,
        cluster_sizes: &[88, 12],
        within_cluster_convexity_gap: Some(0.0),
        mean_gh_curve_convexity_gap: Some(0.07),
        mean_gh_curve_endpoint_barrier: Some(0.007),
        diagnostic_metric: "HANS-LO accuracy",
        in_domain_metric: "MNLI-m accuracy",
        finding: "the small cluster holds the models worst on HANS-LO",
    },
    PaperReference {
        task: "qqp",
        models: 100,
        cluster_sizes: &[88, 12],
        within_cluster_convexity_gap: Some(0.0),
        mean_gh_curve_convexity_gap: None,
        mean_gh_curve_endpoint_barrier: None,
        diagnostic_metric: "PAWS-QQP F1 (class 1)",
        in_domain_metric: "QQP validation metric",
        finding: "clusters differ in PAWS-QQP generalisation",
    },
    PaperReference {
        task: "cola",
        models: 100,
        cluster_sizes: &[99, 1],
        within_cluster_convexity_gap: Some(0.0),
        mean_gh_curve_convexity_gap: None,
        mean_gh_curve_endpoint_barrier: None,
        diagnostic_metric: "CoLA out-of-domain MCC",
        in_domain_metric: "CoLA in-domain MCC",
        finding: "the small cluster is a single model",
    },
];

/// The reference of `task` (case-insensitive), if the paper covers it.
pub fn paper_reference(task: &str) -> Option<&'static PaperReference> {
    PAPER_REFERENCES
        .iter()
        .find(|r| r.task.eq_ignore_ascii_case(task))
}
