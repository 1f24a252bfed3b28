//! Content KPIs: approval cycle times, rounds and revisions over a set of
//! items' histories.

use serde::Serialize;

use crate::access::percentile;

use super::RevisionSize;

/// What the metrics need of one content item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemHistory {
    /// Approval rounds decided (approved or changes requested).
    pub rounds: u32,
    /// One per round that ended with changes requested.
    pub revisions: Vec<RevisionSize>,
    /// When a version was first submitted for review.
    pub first_submitted_at: Option<i64>,
    /// When the item was approved, if it was.
    pub approved_at: Option<i64>,
    /// Approved in the round of its first submission.
    pub approved_first_round: bool,
}

/// The content metrics of a set of items; each is `None` when nothing
/// counts toward it (rather than a misleading 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentMetrics {
    /// Items considered.
    pub items: usize,
    /// Mean revisions per item, over items with at least one decided round.
    pub revisions_per_asset: Option<f64>,
    /// Share of items (with at least one decided round) that needed a major
    /// revision.
    pub rework_rate: Option<f64>,
    /// First submitted → approved, median over approved items (nearest rank).
    pub approval_cycle_median_ms: Option<i64>,
    /// First submitted → approved, 90th percentile (nearest rank).
    pub approval_cycle_p90_ms: Option<i64>,
    /// Share of approved items approved in their first round.
    pub first_draft_acceptance: Option<f64>,
    /// Approved rounds over decided rounds.
    pub approval_pass_rate: Option<f64>,
}

/// Computes [`ContentMetrics`]. An item's approved rounds are its decided
/// rounds minus its revisions (never negative); an approval before the first
/// submission counts as a zero cycle.
pub fn metrics(items: &[ItemHistory]) -> ContentMetrics {
    let ratio = |num: usize, den: usize| (den > 0).then(|| num as f64 / den as f64);
    let reviewed: Vec<&ItemHistory> = items.iter().filter(|i| i.rounds > 0).collect();
    let revisions: usize = reviewed.iter().map(|i| i.revisions.len()).sum();
    let reworked = reviewed
        .iter()
        .filter(|i| i.revisions.contains(&RevisionSize::Major))
        .count();
    let approved: Vec<&ItemHistory> = items.iter().filter(|i| i.approved_at.is_some()).collect();
    let cycles: Vec<i64> = approved
        .iter()
        .filter_map(|i| Some((i.approved_at? - i.first_submitted_at?).max(0)))
        .collect();
    let first_round = approved.iter().filter(|i| i.approved_first_round).count();
    let decided: usize = items.iter().map(|i| i.rounds as usize).sum();
    let passed: usize = items
        .iter()
        .map(|i| (i.rounds as usize).saturating_sub(i.revisions.len()))
        .sum();
    ContentMetrics {
        items: items.len(),
        revisions_per_asset: ratio(revisions, reviewed.len()),
        rework_rate: ratio(reworked, reviewed.len()),
        approval_cycle_median_ms: percentile(&cycles, 50.0),
        approval_cycle_p90_ms: percentile(&cycles, 90.0),
        first_draft_acceptance: ratio(first_round, approved.len()),
        approval_pass_rate: ratio(passed, decided),
    }
}
