//! Cursor pagination: a page of items and the cursor of the next page.

use serde::Serialize;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Clamps a requested page size to 1..=200 (50 when absent).
pub fn clamp_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// Builds a page from `limit + 1` fetched rows: the extra row only says that
/// another page exists; the cursor is the key of the last row shown.
pub fn from_rows<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(key) } else { None };
    Page {
        items: rows,
        next_cursor,
    }
}
