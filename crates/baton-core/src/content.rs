//! Content production and approval: the states a content item moves through,
//! its brief, approval rounds, the version naming convention, the publishing
//! QA checklist and the content metrics (revisions per asset, rework rate,
//! approval cycle time, first-draft acceptance, approval pass rate).
//!
//! `brief → in_production → in_review ⇄ changes_requested`, then
//! `approved → scheduled → published`, or `cancelled` from any open status.
//! Each action records an event ([`action_event`]) whose type is also the
//! trigger of the matching SOP, so the SOP library and the workflow cannot
//! drift apart. Review is broad and approval narrow: anyone may comment, but
//! only the item's approvers decide a round ([`round_outcome`]).

use serde::{Deserialize, Serialize};

use crate::access::percentile;
use crate::CoreError;

// ------------------------------------------------------------- statuses --

/// Where a content item is in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentStatus {
    /// The brief is being written (content intake).
    Brief,
    /// The brief is approved; drafts are being made.
    InProduction,
    /// A version is with the reviewers and approvers.
    InReview,
    /// An approver asked for changes; the team is revising.
    ChangesRequested,
    /// Approved; waiting to be scheduled (publishing QA).
    Approved,
    Scheduled,
    Published,
    Cancelled,
}

impl ContentStatus {
    pub const ALL: [ContentStatus; 8] = [
        ContentStatus::Brief,
        ContentStatus::InProduction,
        ContentStatus::InReview,
        ContentStatus::ChangesRequested,
        ContentStatus::Approved,
        ContentStatus::Scheduled,
        ContentStatus::Published,
        ContentStatus::Cancelled,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ContentStatus::Brief => "brief",
            ContentStatus::InProduction => "in_production",
            ContentStatus::InReview => "in_review",
            ContentStatus::ChangesRequested => "changes_requested",
            ContentStatus::Approved => "approved",
            ContentStatus::Scheduled => "scheduled",
            ContentStatus::Published => "published",
            ContentStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<ContentStatus> {
        ContentStatus::ALL.into_iter().find(|c| c.key() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ContentStatus::Brief => "Brief",
            ContentStatus::InProduction => "In production",
            ContentStatus::InReview => "In review",
            ContentStatus::ChangesRequested => "Changes requested",
            ContentStatus::Approved => "Approved",
            ContentStatus::Scheduled => "Scheduled",
            ContentStatus::Published => "Published",
            ContentStatus::Cancelled => "Cancelled",
        }
    }

    /// Still in the pipeline: neither published nor cancelled.
    pub fn is_open(self) -> bool {
        !matches!(self, ContentStatus::Published | ContentStatus::Cancelled)
    }
}

/// What is done to a content item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentAction {
    /// The brief is complete and signed off; production starts.
    ApproveBrief,
    /// A version is sent for review (first time or after changes).
    Submit,
    /// An approval round ended with changes requested.
    RequestChanges,
    /// An approval round ended approved.
    Approve,
    Schedule,
    /// Taken off the schedule, back to approved.
    Unschedule,
    Publish,
    Cancel,
    /// The caption of an approved (or scheduled) item changed: what was
    /// approved no longer is what would be published, so the item goes back
    /// to production and needs a new review round. Not offered on its own;
    /// editing the caption does it.
    ReopenApproval,
}

/// Every action people choose, in workflow order (for "what is possible"
/// messages); [`ContentAction::ReopenApproval`] follows a caption edit.
const ACTIONS: [ContentAction; 8] = [
    ContentAction::ApproveBrief,
    ContentAction::Submit,
    ContentAction::RequestChanges,
    ContentAction::Approve,
    ContentAction::Schedule,
    ContentAction::Unschedule,
    ContentAction::Publish,
    ContentAction::Cancel,
];

impl ContentAction {
    pub fn key(self) -> &'static str {
        match self {
            ContentAction::ApproveBrief => "approve_brief",
            ContentAction::Submit => "submit",
            ContentAction::RequestChanges => "request_changes",
            ContentAction::Approve => "approve",
            ContentAction::Schedule => "schedule",
            ContentAction::Unschedule => "unschedule",
            ContentAction::Publish => "publish",
            ContentAction::Cancel => "cancel",
            ContentAction::ReopenApproval => "reopen_approval",
        }
    }

    /// The action as a verb phrase after "it can" / "it cannot".
    fn phrase(self) -> &'static str {
        match self {
            ContentAction::ApproveBrief => "have its brief approved",
            ContentAction::Submit => "be submitted for review",
            ContentAction::RequestChanges => "get changes requested",
            ContentAction::Approve => "be approved",
            ContentAction::Schedule => "be scheduled",
            ContentAction::Unschedule => "be unscheduled",
            ContentAction::Publish => "be published",
            ContentAction::Cancel => "be cancelled",
            ContentAction::ReopenApproval => "have its approval reopened",
        }
    }
}

/// The allowed moves; `None` for everything else.
fn next(from: ContentStatus, action: ContentAction) -> Option<ContentStatus> {
    use ContentAction as A;
    use ContentStatus as S;
    Some(match (from, action) {
        (S::Brief, A::ApproveBrief) => S::InProduction,
        (S::InProduction | S::ChangesRequested, A::Submit) => S::InReview,
        (S::InReview, A::RequestChanges) => S::ChangesRequested,
        (S::InReview, A::Approve) => S::Approved,
        (S::Approved, A::Schedule) => S::Scheduled,
        (S::Scheduled, A::Unschedule) => S::Approved,
        (S::Scheduled, A::Publish) => S::Published,
        (S::Approved | S::Scheduled, A::ReopenApproval) => S::InProduction,
        (s, A::Cancel) if s.is_open() => S::Cancelled,
        _ => return None,
    })
}

/// The status after `action`, or a conflict that names the current status
/// and what is possible from it.
///
/// brief --ApproveBrief--> in_production --Submit--> in_review
/// --RequestChanges--> changes_requested --Submit--> in_review --Approve-->
/// approved --Schedule--> scheduled --Publish--> published;
/// scheduled --Unschedule--> approved; Cancel from any open status;
/// approved or scheduled --ReopenApproval--> in_production (the caption
/// changed after approval: a new round on the current version decides it
/// again; the revision count is unchanged, because no approver asked for
/// the change).
pub fn transition(from: ContentStatus, action: ContentAction) -> Result<ContentStatus, CoreError> {
    if let Some(to) = next(from, action) {
        return Ok(to);
    }
    let label = from.label();
    let cannot = action.phrase();
    let possible: Vec<&str> = ACTIONS
        .into_iter()
        .filter(|a| next(from, *a).is_some())
        .map(ContentAction::phrase)
        .collect();
    let msg = match from {
        ContentStatus::Published => format!(
            "content in \"{label}\" cannot {cannot}; published content is final and nothing more can happen to it"
        ),
        ContentStatus::Cancelled => format!(
            "content in \"{label}\" cannot {cannot}; it is closed, so start a new content item instead"
        ),
        _ => format!(
            "content in \"{label}\" cannot {cannot}; from \"{label}\" it can {}",
            or_list(&possible)
        ),
    };
    Err(CoreError::Conflict(msg))
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Event of a new content item; it starts the `content_intake` SOP.
pub const CYCLE_STARTED: &str = "content.cycle_started";

/// The event type an action records, which is also the trigger of the
/// matching SOP (`content.brief_approved` starts creative production,
/// `content.drafts_ready` review and approval, `content.ready_to_schedule`
/// publishing QA).
pub fn action_event(action: ContentAction) -> &'static str {
    match action {
        ContentAction::ApproveBrief => "content.brief_approved",
        ContentAction::Submit => "content.drafts_ready",
        ContentAction::RequestChanges => "content.changes_requested",
        ContentAction::Approve => "content.ready_to_schedule",
        ContentAction::Schedule => "content.scheduled",
        ContentAction::Unschedule => "content.unscheduled",
        ContentAction::Publish => "content.published",
        ContentAction::Cancel => "content.cancelled",
        ContentAction::ReopenApproval => APPROVAL_REOPENED,
    }
}

/// Event of an approval reopened because the caption changed after it.
pub const APPROVAL_REOPENED: &str = "content.approval_reopened";

// -------------------------------------------------------------- caption --

/// Longest caption (copy), in characters.
pub const CAPTION_MAX: usize = 5_000;

/// Checks and normalizes a caption (the post's copy, part of what is
/// approved): trimmed, Windows line endings become `\n`, at most 5,000
/// characters, no control characters other than newlines and tabs. Empty
/// is fine (a caption may come later). Errors on `caption`.
pub fn validate_caption(caption: &str) -> Result<String, CoreError> {
    let v = caption.trim().replace("\r\n", "\n");
    let len = v.chars().count();
    if len > CAPTION_MAX {
        return Err(CoreError::invalid(
            "caption",
            format!(
                "must be at most {} characters (got {})",
                thousands(CAPTION_MAX),
                thousands(len)
            ),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(CoreError::invalid(
            "caption",
            "must not contain control characters (newlines and tabs are fine)",
        ));
    }
    Ok(v)
}

/// The hashtags of a caption: `#` followed by a letter, digit or `_`, not
/// inside a word (`a#b` is not one).
pub fn hashtag_count(caption: &str) -> usize {
    let mut count = 0;
    let mut prev: Option<char> = None;
    let mut chars = caption.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '#'
            && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_')
            && chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '_')
        {
            count += 1;
        }
        prev = Some(c);
    }
    count
}

/// A publishing QA check the caption fails: the QA item's key (`length`,
/// `hashtags`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptionProblem {
    pub key: &'static str,
    pub message: String,
}

/// What the channel's limits say about a caption: too long for the channel,
/// or more hashtags than it accepts. Unknown channels have no limits.
pub fn caption_problems(channel_key: &str, caption: &str) -> Vec<CaptionProblem> {
    let Some(info) = channel(channel_key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let len = caption.chars().count();
    if let Some(limit) = info.caption_limit.filter(|l| len > *l) {
        out.push(CaptionProblem {
            key: "length",
            message: format!(
                "the caption is {} characters; {} allows {}",
                thousands(len),
                info.name,
                thousands(limit)
            ),
        });
    }
    let tags = hashtag_count(caption);
    if let Some(limit) = info.hashtag_limit.filter(|l| tags > *l) {
        out.push(CaptionProblem {
            key: "hashtags",
            message: format!(
                "the caption has {tags} hashtags; {} allows {limit}",
                info.name
            ),
        });
    }
    out
}

// ---------------------------------------------------------------- brief --

/// Longest brief field, in characters.
const BRIEF_FIELD_MAX: usize = 5_000;

/// The content brief. Its five fields are the definition of done of the
/// `content_intake` SOP ([`ContentBrief::FIELDS`] are that checklist's keys):
/// a brief is complete when each of the five is filled. Every field may be
/// left out; unknown fields are refused so a typo is not silently lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentBrief {
    /// Who the content is for.
    pub audience: String,
    /// The idea or point of view.
    pub angle: String,
    /// What the audience is asked to do or get.
    pub offer: String,
    /// Brand, legal and format constraints.
    pub constraints: String,
    /// Reference posts, links or notes on what good looks like.
    pub examples: String,
}

impl ContentBrief {
    pub const FIELDS: [&'static str; 5] = ["audience", "angle", "offer", "constraints", "examples"];

    fn values(&self) -> [&str; 5] {
        [
            &self.audience,
            &self.angle,
            &self.offer,
            &self.constraints,
            &self.examples,
        ]
    }

    /// Checks and normalizes the brief: each field trimmed (Windows line
    /// endings become `\n`), at most 5,000 characters, no control characters
    /// other than newlines and tabs. Empty fields are fine (just not
    /// complete). Errors name the field as `brief.audience`, ….
    pub fn validated(self) -> Result<ContentBrief, CoreError> {
        Ok(ContentBrief {
            audience: brief_field("audience", &self.audience)?,
            angle: brief_field("angle", &self.angle)?,
            offer: brief_field("offer", &self.offer)?,
            constraints: brief_field("constraints", &self.constraints)?,
            examples: brief_field("examples", &self.examples)?,
        })
    }

    /// The fields still empty, in [`ContentBrief::FIELDS`] order.
    pub fn missing(&self) -> Vec<&'static str> {
        Self::FIELDS
            .into_iter()
            .zip(self.values())
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(k, _)| k)
            .collect()
    }

    /// Every field is filled: the intake's definition of done is met.
    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }
}

fn brief_field(name: &str, value: &str) -> Result<String, CoreError> {
    let field = format!("brief.{name}");
    let v = value.trim().replace("\r\n", "\n");
    let len = v.chars().count();
    if len > BRIEF_FIELD_MAX {
        return Err(CoreError::invalid(
            field,
            format!("must be at most {BRIEF_FIELD_MAX} characters (got {len})"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(CoreError::invalid(
            field,
            "must not contain control characters (newlines and tabs are fine)",
        ));
    }
    Ok(v)
}

// ------------------------------------------------------------ approvals --

/// An approver's decision on a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    RequestChanges,
}

impl Decision {
    pub fn key(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::RequestChanges => "request_changes",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "request_changes" => Some(Decision::RequestChanges),
            _ => None,
        }
    }
}

/// Whether every approver must approve, or one is enough.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    #[default]
    All,
    Any,
}

impl ApprovalMode {
    pub fn key(self) -> &'static str {
        match self {
            ApprovalMode::All => "all",
            ApprovalMode::Any => "any",
        }
    }

    pub fn parse(s: &str) -> Option<ApprovalMode> {
        match s {
            "all" => Some(ApprovalMode::All),
            "any" => Some(ApprovalMode::Any),
            _ => None,
        }
    }
}

/// How big a requested revision is; major ones count as rework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionSize {
    Major,
    Minor,
}

impl RevisionSize {
    pub fn key(self) -> &'static str {
        match self {
            RevisionSize::Major => "major",
            RevisionSize::Minor => "minor",
        }
    }

    pub fn parse(s: &str) -> Option<RevisionSize> {
        match s {
            "major" => Some(RevisionSize::Major),
            "minor" => Some(RevisionSize::Minor),
            _ => None,
        }
    }
}

/// Where an approval round stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// Still open; these approvers have not decided yet.
    Pending {
        waiting_on: Vec<String>,
    },
    Approved,
    ChangesRequested,
}

/// The outcome of one approval round on the current version.
///
/// `decisions` are `(member id, decision)` in time order. Only approvers'
/// decisions count (reviewers comment, they do not decide), and an
/// approver's latest decision replaces their earlier one. Any approver
/// requesting changes → `ChangesRequested`, in both modes. `All`: approved
/// when every approver's latest decision is approve. `Any`: approved when at
/// least one approver approved and none requested changes. Otherwise
/// `Pending` with the approvers still to decide, in the given order (listed
/// once each). No approvers → `Pending` with an empty list: nobody can
/// approve, which the caller must surface rather than auto-approve.
pub fn round_outcome(
    mode: ApprovalMode,
    approvers: &[String],
    decisions: &[(String, Decision)],
) -> RoundOutcome {
    let mut distinct: Vec<&String> = Vec::new();
    for a in approvers {
        if !distinct.contains(&a) {
            distinct.push(a);
        }
    }
    let latest = |who: &String| {
        decisions
            .iter()
            .rev()
            .find(|(m, _)| m == who)
            .map(|(_, d)| *d)
    };
    let latest: Vec<(&String, Option<Decision>)> =
        distinct.iter().map(|a| (*a, latest(a))).collect();
    if distinct.is_empty() {
        return RoundOutcome::Pending {
            waiting_on: Vec::new(),
        };
    }
    if latest
        .iter()
        .any(|(_, d)| *d == Some(Decision::RequestChanges))
    {
        return RoundOutcome::ChangesRequested;
    }
    let approved = match mode {
        ApprovalMode::All => latest.iter().all(|(_, d)| *d == Some(Decision::Approve)),
        ApprovalMode::Any => latest.iter().any(|(_, d)| *d == Some(Decision::Approve)),
    };
    if approved {
        return RoundOutcome::Approved;
    }
    RoundOutcome::Pending {
        waiting_on: latest
            .into_iter()
            .filter(|(_, d)| d.is_none())
            .map(|(a, _)| a.clone())
            .collect(),
    }
}

// --------------------------------------------------------------- naming --

/// The default naming convention of versions, e.g.
/// `harbor-fitness_spring-launch_instagram_reel_v3`.
pub const DEFAULT_NAMING: &str = "{client}_{campaign}_{channel}_{format}_v{n}";
/// The placeholders a naming pattern may use; `{n}` is the version number.
pub const NAMING_PLACEHOLDERS: [&str; 7] = [
    "client", "campaign", "channel", "format", "title", "date", "n",
];

/// Longest pattern and longest generated name, in characters.
const NAME_MAX: usize = 200;
/// Longest filled-in part (client, campaign, …), in characters.
const PART_MAX: usize = 40;

enum Token<'a> {
    Literal(&'a str),
    Placeholder(&'static str),
}

/// Splits a pattern into literal text and known placeholders; the error is
/// the message only.
fn tokens(pattern: &str) -> Result<Vec<Token<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let Some(end) = after.find('}') else {
                return Err("a \"{\" is not closed; placeholders look like {client}".to_string());
            };
            let name = &after[..end];
            let Some(known) = NAMING_PLACEHOLDERS.iter().find(|p| **p == name) else {
                let known: Vec<String> = NAMING_PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect();
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                return Err(format!(
                    "unknown placeholder {{{name}}}; use {}",
                    or_list(&known)
                ));
            };
            out.push(Token::Placeholder(known));
            rest = &after[end + 1..];
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            let literal = &rest[..end];
            if let Some(c) = literal.chars().find(|c| !literal_ok(*c)) {
                return Err(if c == '}' {
                    "a \"}\" has no opening \"{\"".to_string()
                } else {
                    format!(
                        "{c:?} is not allowed; outside placeholders use only letters, digits, \"_\", \".\" and \"-\""
                    )
                });
            }
            out.push(Token::Literal(literal));
            rest = &rest[end..];
        }
    }
    Ok(out)
}

fn literal_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Checks a naming pattern: 1–200 characters, only known `{placeholders}`,
/// must contain `{n}` (so versions get distinct names), literal text limited
/// to `[A-Za-z0-9_.-]` (safe in file names everywhere). Returns it trimmed.
pub fn validate_naming(pattern: &str) -> Result<String, CoreError> {
    let p = pattern.trim();
    let bad = |m: String| CoreError::invalid("naming", m);
    if p.is_empty() {
        return Err(bad("must not be empty".into()));
    }
    let len = p.chars().count();
    if len > NAME_MAX {
        return Err(bad(format!(
            "must be at most {NAME_MAX} characters (got {len})"
        )));
    }
    let toks = tokens(p).map_err(bad)?;
    if !toks.iter().any(|t| matches!(t, Token::Placeholder("n"))) {
        return Err(bad(
            "must contain {n}, the version number, so every version gets its own name".into(),
        ));
    }
    Ok(p.to_string())
}

/// What a version name is made of; `n` comes separately.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameParts {
    pub client: String,
    pub campaign: String,
    pub channel: String,
    pub format: String,
    pub title: String,
    /// Usually `2025-03-14`.
    pub date: String,
}

/// Fills the naming pattern for version `n`. Each part is made safe for file
/// names: lower-cased, common accented Latin letters folded to ASCII
/// (`é` → `e`, `ß` → `ss`), anything else outside `[a-z0-9-]` (spaces,
/// underscores, slashes, dots, other scripts) becomes `-`, runs of `-`
/// collapse, `-` is trimmed from both ends, at most 40 characters, and an
/// empty part becomes `x`. If the whole name would exceed 200 characters the
/// longest parts are shortened further (the version number is never cut).
/// An invalid pattern falls back to [`DEFAULT_NAMING`], so a name is always
/// produced.
pub fn version_name(pattern: &str, parts: &NameParts, n: u32) -> String {
    let pattern = validate_naming(pattern).unwrap_or_else(|_| DEFAULT_NAMING.to_string());
    let toks = tokens(&pattern).unwrap_or_default();
    let clean = [
        ("client", sanitize_part(&parts.client)),
        ("campaign", sanitize_part(&parts.campaign)),
        ("channel", sanitize_part(&parts.channel)),
        ("format", sanitize_part(&parts.format)),
        ("title", sanitize_part(&parts.title)),
        ("date", sanitize_part(&parts.date)),
    ];
    let number = n.to_string();
    let fill = |cap: usize| {
        let mut out = String::new();
        for t in &toks {
            match t {
                Token::Literal(l) => out.push_str(l),
                Token::Placeholder("n") => out.push_str(&number),
                Token::Placeholder(p) => {
                    let v = clean.iter().find(|(k, _)| k == p).map_or("x", |(_, v)| v);
                    // Parts are ASCII, so byte positions are characters.
                    out.push_str(v[..v.len().min(cap)].trim_end_matches('-'));
                }
            }
        }
        out
    };
    for cap in (1..=PART_MAX).rev() {
        let name = fill(cap);
        if name.len() <= NAME_MAX {
            return name;
        }
    }
    let mut name = fill(1);
    name.truncate(NAME_MAX);
    name
}

/// One part of a file name: see [`version_name`].
fn sanitize_part(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars().flat_map(char::to_lowercase) {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            // combining accents of decomposed text ("e" + "´"): dropped
            continue;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if let Some(f) = fold(c) {
            out.push_str(f);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(PART_MAX); // ASCII only, so a char boundary
    let out = out.trim_matches('-');
    if out.is_empty() {
        "x".to_string()
    } else {
        out.to_string()
    }
}

/// ASCII for common accented Latin letters (already lower-cased).
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

// ----------------------------------------------------------- publishing --

/// One item of a publishing QA checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QaItem {
    pub key: String,
    pub label: String,
}

/// A channel content is published to, with its text limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChannelInfo {
    pub key: &'static str,
    pub name: &'static str,
    /// Longest caption (post text, or video description), in characters.
    pub caption_limit: Option<usize>,
    /// Most hashtags the channel accepts on one post.
    pub hashtag_limit: Option<usize>,
}

const fn ch(
    key: &'static str,
    name: &'static str,
    caption_limit: Option<usize>,
    hashtag_limit: Option<usize>,
) -> ChannelInfo {
    ChannelInfo {
        key,
        name,
        caption_limit,
        hashtag_limit,
    }
}

/// The channels Baton knows the limits of: Instagram (2,200-character
/// caption, 30 hashtags), Facebook (63,206), TikTok (2,200), LinkedIn
/// (3,000), X (280, non-Premium), YouTube (5,000-character description),
/// Pinterest (500-character pin description), Threads (500).
pub const CHANNELS: &[ChannelInfo] = &[
    ch("instagram", "Instagram", Some(2_200), Some(30)),
    ch("facebook", "Facebook", Some(63_206), None),
    ch("tiktok", "TikTok", Some(2_200), None),
    ch("linkedin", "LinkedIn", Some(3_000), None),
    ch("x", "X", Some(280), None),
    ch("youtube", "YouTube", Some(5_000), None),
    ch("pinterest", "Pinterest", Some(500), None),
    ch("threads", "Threads", Some(500), None),
];

/// A known channel by key (case and surrounding spaces ignored).
pub fn channel(key: &str) -> Option<&'static ChannelInfo> {
    let key = key.trim();
    CHANNELS.iter().find(|c| c.key.eq_ignore_ascii_case(key))
}

/// The default publishing QA checklist of a channel: links, tags and
/// handles, formatting, length (with the channel's caption limit when
/// known), hashtags (only where the channel limits them), legal, and
/// disclosure. An unknown channel gets the generic items.
pub fn default_qa(channel_key: &str) -> Vec<QaItem> {
    let info = channel(channel_key);
    let item = |key: &str, label: String| QaItem {
        key: key.to_string(),
        label,
    };
    let mut items = vec![
        item(
            "links_checked",
            "Every link opens the right page, with UTM tags".into(),
        ),
        item(
            "tags_handles",
            "Tags and @handles are correct and approved".into(),
        ),
        item(
            "formatting",
            "Formatting and line breaks render on the channel".into(),
        ),
    ];
    items.push(item(
        "length",
        match info.and_then(|c| c.caption_limit.map(|l| (c.name, l))) {
            Some((name, limit)) => {
                format!("Caption within {name}'s {} characters", thousands(limit))
            }
            None => "Length fits the channel".into(),
        },
    ));
    if let Some(n) = info.and_then(|c| c.hashtag_limit) {
        items.push(item("hashtags", format!("At most {n} hashtags")));
    }
    items.push(item("legal", "Legal and claims checked".into()));
    items.push(item(
        "disclosure",
        "Paid partnership / #ad disclosure where required".into(),
    ));
    items
}

/// `63206` → `63,206`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    // The first group has 1–3 digits; every later group has 3.
    let head = match digits.len() % 3 {
        0 => 3,
        r => r,
    }
    .min(digits.len());
    let mut out = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|b| char::from(*b)));
    }
    out
}

/// Most items of a QA checklist.
const QA_ITEMS_MAX: usize = 30;
/// Longest QA item label, in characters.
const QA_LABEL_MAX: usize = 200;

/// Validates an agency-configured QA checklist: 1–30 items, keys
/// `[a-z][a-z0-9_]{1,39}` and unique, labels 1–200 characters without
/// control characters. Returns it with labels trimmed. Errors on "items".
pub fn validate_qa(items: Vec<QaItem>) -> Result<Vec<QaItem>, CoreError> {
    let bad = |m: String| CoreError::invalid("items", m);
    if !(1..=QA_ITEMS_MAX).contains(&items.len()) {
        return Err(bad(format!(
            "a checklist needs 1–{QA_ITEMS_MAX} items (got {})",
            items.len()
        )));
    }
    let mut out: Vec<QaItem> = Vec::with_capacity(items.len());
    for item in items {
        if !qa_key_ok(&item.key) {
            return Err(bad(format!(
                "item key {:?}: use 2–40 characters: a lowercase letter, then lowercase letters, digits or _",
                item.key
            )));
        }
        if out.iter().any(|o| o.key == item.key) {
            return Err(bad(format!("item key {:?} is used twice", item.key)));
        }
        let label = item.label.trim();
        let len = label.chars().count();
        if !(1..=QA_LABEL_MAX).contains(&len) || label.chars().any(char::is_control) {
            return Err(bad(format!(
                "item {:?}: the label needs 1–{QA_LABEL_MAX} characters on one line",
                item.key
            )));
        }
        out.push(QaItem {
            key: item.key,
            label: label.to_string(),
        });
    }
    Ok(out)
}

fn qa_key_ok(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=40).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

// -------------------------------------------------------------- metrics --

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sop::default_library;
    use ContentAction as A;
    use ContentStatus as S;

    #[test]
    fn status_keys_labels_and_openness() {
        let keys: Vec<&str> = S::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(
            keys,
            [
                "brief",
                "in_production",
                "in_review",
                "changes_requested",
                "approved",
                "scheduled",
                "published",
                "cancelled"
            ]
        );
        for s in S::ALL {
            assert_eq!(S::parse(s.key()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.key()));
            assert_eq!(s.is_open(), !matches!(s, S::Published | S::Cancelled));
        }
        assert_eq!(S::parse("Brief"), None);
        assert_eq!(S::parse("done"), None);
        assert_eq!(S::InProduction.label(), "In production");
        assert_eq!(S::ChangesRequested.label(), "Changes requested");
        assert!(S::Brief < S::Published, "ordered by workflow");
        assert_eq!(A::ApproveBrief.key(), "approve_brief");
        assert_eq!(A::RequestChanges.key(), "request_changes");
        assert_eq!(
            serde_json::to_value(A::ApproveBrief).unwrap(),
            serde_json::json!("approve_brief")
        );
    }

    #[test]
    fn transitions_table() {
        let allowed = [
            (S::Brief, A::ApproveBrief, S::InProduction),
            (S::InProduction, A::Submit, S::InReview),
            (S::InReview, A::RequestChanges, S::ChangesRequested),
            (S::ChangesRequested, A::Submit, S::InReview),
            (S::InReview, A::Approve, S::Approved),
            (S::Approved, A::Schedule, S::Scheduled),
            (S::Scheduled, A::Publish, S::Published),
            (S::Scheduled, A::Unschedule, S::Approved),
            (S::Brief, A::Cancel, S::Cancelled),
            (S::InProduction, A::Cancel, S::Cancelled),
            (S::InReview, A::Cancel, S::Cancelled),
            (S::ChangesRequested, A::Cancel, S::Cancelled),
            (S::Approved, A::Cancel, S::Cancelled),
            (S::Scheduled, A::Cancel, S::Cancelled),
        ];
        let mut refused = 0;
        for from in S::ALL {
            for action in ACTIONS {
                let want = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                match (transition(from, action), want) {
                    (Ok(to), Some(w)) => assert_eq!(to, w, "{from:?} {action:?}"),
                    (Err(CoreError::Conflict(msg)), None) => {
                        refused += 1;
                        assert!(
                            msg.contains(from.label()),
                            "{from:?} {action:?}: {msg} must name the status"
                        );
                        assert!(msg.contains(action.phrase()), "{msg}");
                    }
                    (got, want) => panic!("{from:?} {action:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(refused, 8 * 8 - allowed.len());
    }

    #[test]
    fn a_caption_change_reopens_approval() {
        for from in S::ALL {
            let got = transition(from, A::ReopenApproval);
            match from {
                S::Approved | S::Scheduled => assert_eq!(got, Ok(S::InProduction), "{from:?}"),
                _ => {
                    let Err(CoreError::Conflict(msg)) = got else {
                        panic!("{from:?}: {got:?}");
                    };
                    assert!(msg.contains("have its approval reopened"), "{msg}");
                }
            }
        }
        assert_eq!(action_event(A::ReopenApproval), "content.approval_reopened");
        assert_eq!(A::ReopenApproval.key(), "reopen_approval");
        // Not offered as a next step: it follows a caption edit.
        let Err(CoreError::Conflict(msg)) = transition(S::Approved, A::Publish) else {
            panic!("approved content is not published directly");
        };
        assert!(!msg.contains("reopened"), "{msg}");
    }

    #[test]
    fn caption_validation_table() {
        let at_max = "é".repeat(CAPTION_MAX);
        let over = "é".repeat(CAPTION_MAX + 1);
        let cases: Vec<(&str, Result<&str, &str>)> = vec![
            ("", Ok("")),
            ("  Morning light.  ", Ok("Morning light.")),
            (
                "Line one\r\n\tLine two #run",
                Ok("Line one\n\tLine two #run"),
            ),
            ("Zoë's Café 東京 🚀", Ok("Zoë's Café 東京 🚀")),
            (&at_max, Ok(&at_max)),
            (&over, Err("at most 5,000 characters (got 5,001)")),
            ("bell\u{7}", Err("control characters")),
        ];
        for (input, want) in cases {
            match (validate_caption(input), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, w),
                (Err(CoreError::Invalid { field, message }), Err(w)) => {
                    assert_eq!(field, "caption");
                    assert!(message.contains(w), "{message:?} lacks {w:?}");
                }
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn hashtags_and_caption_limits() {
        for (caption, n) in [
            ("", 0),
            ("#run #gym", 2),
            ("#run#gym", 1),
            ("price #1 and # alone", 1),
            ("mail a#b and C# code", 0),
            ("#über #東京 #_x", 3),
            ("##double", 1),
        ] {
            assert_eq!(hashtag_count(caption), n, "{caption:?}");
        }
        let tags: String = (0..31).map(|i| format!("#t{i} ")).collect();
        assert_eq!(
            caption_problems("instagram", &tags),
            vec![CaptionProblem {
                key: "hashtags",
                message: "the caption has 31 hashtags; Instagram allows 30".into()
            }]
        );
        assert!(
            caption_problems("tiktok", &tags).is_empty(),
            "no hashtag limit"
        );
        let long = "x".repeat(281);
        assert_eq!(
            caption_problems("x", &long),
            vec![CaptionProblem {
                key: "length",
                message: "the caption is 281 characters; X allows 280".into()
            }]
        );
        assert!(caption_problems("x", &long[1..]).is_empty());
        assert!(caption_problems("myspace", &long).is_empty());
        // Characters, not bytes.
        assert!(caption_problems("x", &"é".repeat(280)).is_empty());
    }

    #[test]
    fn refusals_say_what_is_possible() {
        let cases = [
            (
                S::InReview,
                A::Schedule,
                "content in \"In review\" cannot be scheduled; from \"In review\" it can get changes requested, be approved or be cancelled",
            ),
            (
                S::Brief,
                A::Submit,
                "content in \"Brief\" cannot be submitted for review; from \"Brief\" it can have its brief approved or be cancelled",
            ),
            (
                S::Scheduled,
                A::Approve,
                "content in \"Scheduled\" cannot be approved; from \"Scheduled\" it can be unscheduled, be published or be cancelled",
            ),
        ];
        for (from, action, want) in cases {
            assert_eq!(
                transition(from, action),
                Err(CoreError::Conflict(want.to_string()))
            );
        }
        let Err(CoreError::Conflict(msg)) = transition(S::Published, A::Cancel) else {
            panic!("published content cannot be cancelled");
        };
        assert!(msg.contains("final"), "{msg}");
        let Err(CoreError::Conflict(msg)) = transition(S::Cancelled, A::Submit) else {
            panic!("cancelled content cannot be submitted");
        };
        assert!(msg.contains("new content item"), "{msg}");
    }

    #[test]
    fn action_events_start_the_matching_sops() {
        let cases = [
            (A::ApproveBrief, "content.brief_approved"),
            (A::Submit, "content.drafts_ready"),
            (A::RequestChanges, "content.changes_requested"),
            (A::Approve, "content.ready_to_schedule"),
            (A::Schedule, "content.scheduled"),
            (A::Unschedule, "content.unscheduled"),
            (A::Publish, "content.published"),
            (A::Cancel, "content.cancelled"),
        ];
        for (action, event) in cases {
            assert_eq!(action_event(action), event, "{action:?}");
        }
        assert_eq!(CYCLE_STARTED, "content.cycle_started");
        let lib = default_library();
        let trigger = |key: &str| lib.iter().find(|d| d.key == key).unwrap().trigger.clone();
        assert_eq!(trigger("content_intake"), CYCLE_STARTED);
        assert_eq!(
            trigger("creative_production"),
            action_event(A::ApproveBrief)
        );
        assert_eq!(trigger("review_approval"), action_event(A::Submit));
        assert_eq!(trigger("publishing_qa"), action_event(A::Approve));
    }

    fn brief(a: &str, b: &str, c: &str, d: &str, e: &str) -> ContentBrief {
        ContentBrief {
            audience: a.into(),
            angle: b.into(),
            offer: c.into(),
            constraints: d.into(),
            examples: e.into(),
        }
    }

    #[test]
    fn brief_fields_are_the_intake_checklist() {
        let lib = default_library();
        let intake = lib.iter().find(|d| d.key == "content_intake").unwrap();
        let keys: Vec<&str> = intake.checklist.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ContentBrief::FIELDS);
    }

    #[test]
    fn brief_completeness_table() {
        let cases: Vec<(ContentBrief, Vec<&str>)> = vec![
            (ContentBrief::default(), ContentBrief::FIELDS.to_vec()),
            (brief("Gym-goers 25–40", "x", "y", "z", "w"), vec![]),
            (
                brief("a", "  ", "c", "\n", "e"),
                vec!["angle", "constraints"],
            ),
            (brief("", "b", "c", "d", ""), vec!["audience", "examples"]),
        ];
        for (b, want) in cases {
            assert_eq!(b.missing(), want, "{b:?}");
            assert_eq!(b.is_complete(), want.is_empty(), "{b:?}");
        }
    }

    #[test]
    fn brief_validation_table() {
        let long = "é".repeat(5_001);
        let ok_long = "é".repeat(5_000);
        let cases: Vec<(ContentBrief, Result<ContentBrief, &str>)> = vec![
            (
                brief(" Runners ", "a\r\nb", "\tc", "", "Zoë's Café 東京 🚀"),
                Ok(brief("Runners", "a\nb", "c", "", "Zoë's Café 東京 🚀")),
            ),
            (
                brief("a", "line one\n\tline two", "c", "d", "e"),
                Ok(brief("a", "line one\n\tline two", "c", "d", "e")),
            ),
            (
                brief(&ok_long, "", "", "", ""),
                Ok(brief(&ok_long, "", "", "", "")),
            ),
            (brief(&long, "", "", "", ""), Err("brief.audience")),
            (brief("", "", "bell\u{7}", "", ""), Err("brief.offer")),
            (brief("", "", "", "", "cr\ronly"), Err("brief.examples")),
            (brief("", "", "", "nul\0", ""), Err("brief.constraints")),
        ];
        for (input, want) in cases {
            let got = input.clone().validated();
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w),
                (Err(CoreError::Invalid { field, .. }), Err(w)) => assert_eq!(field, w),
                (g, w) => panic!("{input:?}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn brief_serde_defaults_and_refuses_unknown_fields() {
        let b: ContentBrief = serde_json::from_str(r#"{"audience":"Parents"}"#).unwrap();
        assert_eq!(b.audience, "Parents");
        assert_eq!(b.missing(), ["angle", "offer", "constraints", "examples"]);
        assert!(serde_json::from_str::<ContentBrief>(r#"{"audiance":"typo"}"#).is_err());
    }

    #[test]
    fn decision_mode_and_size_keys() {
        for d in [Decision::Approve, Decision::RequestChanges] {
            assert_eq!(Decision::parse(d.key()), Some(d));
        }
        assert_eq!(Decision::RequestChanges.key(), "request_changes");
        assert_eq!(Decision::parse("reject"), None);
        for m in [ApprovalMode::All, ApprovalMode::Any] {
            assert_eq!(ApprovalMode::parse(m.key()), Some(m));
        }
        assert_eq!(ApprovalMode::default(), ApprovalMode::All);
        assert_eq!(ApprovalMode::parse("majority"), None);
        for r in [RevisionSize::Major, RevisionSize::Minor] {
            assert_eq!(RevisionSize::parse(r.key()), Some(r));
        }
        assert_eq!(RevisionSize::parse("huge"), None);
        assert_eq!(
            serde_json::to_value(Decision::RequestChanges).unwrap(),
            serde_json::json!("request_changes")
        );
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn waiting(v: &[&str]) -> RoundOutcome {
        RoundOutcome::Pending { waiting_on: ids(v) }
    }

    #[test]
    fn round_outcomes_table() {
        use ApprovalMode::{All, Any};
        use Decision::{Approve as Y, RequestChanges as N};
        let ab = ["ana", "ben"];
        type Case<'a> = (
            ApprovalMode,
            &'a [&'a str],
            Vec<(&'a str, Decision)>,
            RoundOutcome,
        );
        let cases: Vec<Case> = vec![
            // nobody decided yet: everyone, in the given order
            (All, &ab, vec![], waiting(&["ana", "ben"])),
            (Any, &ab, vec![], waiting(&["ana", "ben"])),
            // all: one approval is not enough
            (All, &ab, vec![("ben", Y)], waiting(&["ana"])),
            (
                All,
                &ab,
                vec![("ben", Y), ("ana", Y)],
                RoundOutcome::Approved,
            ),
            // any: one approval is enough
            (Any, &ab, vec![("ben", Y)], RoundOutcome::Approved),
            // changes beat approvals, in both modes
            (
                All,
                &ab,
                vec![("ana", Y), ("ben", N)],
                RoundOutcome::ChangesRequested,
            ),
            (
                Any,
                &ab,
                vec![("ana", Y), ("ben", N)],
                RoundOutcome::ChangesRequested,
            ),
            (Any, &ab, vec![("ana", N)], RoundOutcome::ChangesRequested),
            // latest decision wins
            (
                All,
                &ab,
                vec![("ana", N), ("ben", Y), ("ana", Y)],
                RoundOutcome::Approved,
            ),
            (
                Any,
                &ab,
                vec![("ana", Y), ("ana", N)],
                RoundOutcome::ChangesRequested,
            ),
            // a reviewer (non-approver) does not decide
            (All, &ab, vec![("cleo", N), ("ana", Y)], waiting(&["ben"])),
            (Any, &ab, vec![("cleo", Y)], waiting(&["ana", "ben"])),
            (
                All,
                &ab,
                vec![("cleo", N), ("ana", Y), ("ben", Y)],
                RoundOutcome::Approved,
            ),
            // no approvers: nothing can be approved
            (All, &[], vec![("cleo", Y)], waiting(&[])),
            (Any, &[], vec![], waiting(&[])),
            // an approver listed twice is waited on once
            (
                All,
                &["ana", "ben", "ana"],
                vec![],
                waiting(&["ana", "ben"]),
            ),
        ];
        for (mode, approvers, decisions, want) in cases {
            let decisions: Vec<(String, Decision)> = decisions
                .into_iter()
                .map(|(m, d)| (m.to_string(), d))
                .collect();
            assert_eq!(
                round_outcome(mode, &ids(approvers), &decisions),
                want,
                "{mode:?} {approvers:?} {decisions:?}"
            );
        }
    }

    #[test]
    fn naming_validation_table() {
        let long = format!("{}{{n}}", "a".repeat(198));
        let cases: Vec<(String, Result<&str, &str>)> = vec![
            (DEFAULT_NAMING.into(), Ok(DEFAULT_NAMING)),
            ("  {title}-v{n}.final  ".into(), Ok("{title}-v{n}.final")),
            (
                "{date}_{client}_{title}_{n}".into(),
                Ok("{date}_{client}_{title}_{n}"),
            ),
            ("".into(), Err("empty")),
            ("   ".into(), Err("empty")),
            ("{client}_{campaign}".into(), Err("{n}")),
            (
                "{client}_{author}_v{n}".into(),
                Err("unknown placeholder {author}"),
            ),
            ("{Client}_v{n}".into(), Err("unknown placeholder {Client}")),
            (
                "{client_v{n}".into(),
                Err("unknown placeholder {client_v{n}"),
            ),
            ("{client}_v{n".into(), Err("not closed")),
            ("client}_v{n}".into(), Err("no opening")),
            ("{client}/v{n}".into(), Err("'/' is not allowed")),
            ("../{client}_v{n}".into(), Err("'/' is not allowed")),
            ("{client} v{n}".into(), Err("' ' is not allowed")),
            ("{client}_é_v{n}".into(), Err("'é' is not allowed")),
            (long.clone(), Err("at most 200")),
            (long[1..].to_string(), Ok(&long[1..])),
        ];
        for (input, want) in cases {
            match (validate_naming(&input), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, w),
                (Err(CoreError::Invalid { field, message }), Err(w)) => {
                    assert_eq!(field, "naming");
                    assert!(message.contains(w), "{input:?}: {message:?} lacks {w:?}");
                }
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    fn parts(client: &str, campaign: &str, channel: &str, format: &str) -> NameParts {
        NameParts {
            client: client.into(),
            campaign: campaign.into(),
            channel: channel.into(),
            format: format.into(),
            title: String::new(),
            date: String::new(),
        }
    }

    #[test]
    fn version_names_table() {
        let cases = [
            (
                parts("Harbor Fitness", "Spring Launch", "Instagram", "Reel"),
                3,
                "harbor-fitness_spring-launch_instagram_reel_v3",
            ),
            (
                parts("Café Zoë", "Ça va — Ête", "TikTok", "ÆØÅ ßtraße"),
                1,
                "cafe-zoe_ca-va-ete_tiktok_aeoa-sstrasse_v1",
            ),
            // decomposed accents ("e" + U+0301) fold the same way
            (parts("Cafe\u{301}", "x", "y", "z"), 2, "cafe_x_y_z_v2"),
            (
                parts("東京 Tower", "🚀🚀", "  ", "Feed_Post"),
                12,
                "tower_x_x_feed-post_v12",
            ),
            (
                parts("../../etc/passwd", "a/b\\c", "..", "C:\\x"),
                1,
                "etc-passwd_a-b-c_x_c-x_v1",
            ),
            (
                parts("--Acme--", "Q3 -- 2025", "x.com", "Story 9:16"),
                4_000_000_000,
                "acme_q3-2025_x-com_story-9-16_v4000000000",
            ),
        ];
        for (p, n, want) in cases {
            assert_eq!(version_name(DEFAULT_NAMING, &p, n), want, "{p:?}");
        }
    }

    #[test]
    fn version_names_limit_lengths() {
        let long = parts(
            &"a".repeat(100),
            "b b b b b b b b b b b b b b b b b b b b b",
            "c",
            "d",
        );
        let name = version_name(DEFAULT_NAMING, &long, 7);
        assert_eq!(
            name,
            format!(
                "{}_{}_c_d_v7",
                "a".repeat(40),
                "b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b-b"
            ),
            "parts are cut at 40 and never end in '-'"
        );
        // Seven long parts in a long pattern: the name stays within 200
        // characters and keeps the version number.
        let p = NameParts {
            client: "c".repeat(60),
            campaign: "k".repeat(60),
            channel: "h".repeat(60),
            format: "f".repeat(60),
            title: "t".repeat(60),
            date: "d".repeat(60),
        };
        let pattern = "{client}_{campaign}_{channel}_{format}_{title}_{date}_{client}_v{n}";
        assert!(validate_naming(pattern).is_ok());
        let name = version_name(pattern, &p, 15);
        assert!(name.len() <= 200, "{} chars: {name}", name.len());
        assert!(name.ends_with("_v15"), "{name}");
        assert!(name.starts_with("ccccc"), "{name}");
        assert!(name.len() > 150, "shortened only as needed: {name}");
    }

    #[test]
    fn version_names_other_patterns() {
        let p = NameParts {
            client: "Acme".into(),
            campaign: "Launch".into(),
            channel: "LinkedIn".into(),
            format: "Carousel".into(),
            title: "Why we built it".into(),
            date: "2025-03-14".into(),
        };
        assert_eq!(
            version_name("{date}_{client}_{title}.v{n}", &p, 2),
            "2025-03-14_acme_why-we-built-it.v2"
        );
        // an invalid pattern falls back to the default convention
        assert_eq!(
            version_name("{client}/{n}", &p, 1),
            "acme_launch_linkedin_carousel_v1"
        );
        assert_eq!(version_name("", &p, 1), "acme_launch_linkedin_carousel_v1");
    }

    fn keys(items: &[QaItem]) -> Vec<&str> {
        items.iter().map(|i| i.key.as_str()).collect()
    }

    fn label<'a>(items: &'a [QaItem], key: &str) -> &'a str {
        &items.iter().find(|i| i.key == key).unwrap().label
    }

    #[test]
    fn channels_are_known() {
        let expected = [
            ("instagram", Some(2_200), Some(30)),
            ("facebook", Some(63_206), None),
            ("tiktok", Some(2_200), None),
            ("linkedin", Some(3_000), None),
            ("x", Some(280), None),
            ("youtube", Some(5_000), None),
            ("pinterest", Some(500), None),
            ("threads", Some(500), None),
        ];
        assert_eq!(CHANNELS.len(), expected.len());
        for (key, caption, hashtags) in expected {
            let c = channel(key).unwrap();
            assert_eq!(c.key, key);
            assert_eq!(c.caption_limit, caption, "{key}");
            assert_eq!(c.hashtag_limit, hashtags, "{key}");
        }
        assert_eq!(channel(" Instagram ").map(|c| c.key), Some("instagram"));
        assert_eq!(channel("myspace"), None);
        for (n, want) in [
            (0, "0"),
            (500, "500"),
            (2_200, "2,200"),
            (63_206, "63,206"),
            (100_000, "100,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }

    #[test]
    fn default_qa_per_channel() {
        let generic = [
            "links_checked",
            "tags_handles",
            "formatting",
            "length",
            "legal",
            "disclosure",
        ];
        let ig = default_qa("instagram");
        assert_eq!(
            keys(&ig),
            [
                "links_checked",
                "tags_handles",
                "formatting",
                "length",
                "hashtags",
                "legal",
                "disclosure"
            ]
        );
        assert_eq!(
            label(&ig, "length"),
            "Caption within Instagram's 2,200 characters"
        );
        assert_eq!(label(&ig, "hashtags"), "At most 30 hashtags");
        assert_eq!(
            label(&ig, "links_checked"),
            "Every link opens the right page, with UTM tags"
        );
        assert_eq!(
            label(&ig, "disclosure"),
            "Paid partnership / #ad disclosure where required"
        );
        let cases = [
            ("facebook", "Caption within Facebook's 63,206 characters"),
            ("x", "Caption within X's 280 characters"),
            ("linkedin", "Caption within LinkedIn's 3,000 characters"),
            ("pinterest", "Caption within Pinterest's 500 characters"),
            ("myspace", "Length fits the channel"),
            ("", "Length fits the channel"),
        ];
        for (ch, want) in cases {
            let items = default_qa(ch);
            assert_eq!(keys(&items), generic, "{ch}");
            assert_eq!(label(&items, "length"), want, "{ch}");
        }
        for c in CHANNELS {
            let items = default_qa(c.key);
            assert_eq!(validate_qa(items.clone()), Ok(items), "{}", c.key);
        }
    }

    fn qa(key: &str, label: &str) -> QaItem {
        QaItem {
            key: key.into(),
            label: label.into(),
        }
    }

    #[test]
    fn qa_validation_table() {
        let thirty: Vec<QaItem> = (0..30).map(|i| qa(&format!("item_{i}"), "Check")).collect();
        let mut thirty_one = thirty.clone();
        thirty_one.push(qa("one_more", "Check"));
        type Case<'a> = (Vec<QaItem>, Result<Vec<QaItem>, &'a str>);
        let cases: Vec<Case> = vec![
            (
                vec![qa("alt_text", "  Alt text written  "), qa("ab", "x")],
                Ok(vec![qa("alt_text", "Alt text written"), qa("ab", "x")]),
            ),
            (thirty.clone(), Ok(thirty)),
            (
                vec![qa(&format!("a{}", "b".repeat(39)), "x")],
                Ok(vec![qa(&format!("a{}", "b".repeat(39)), "x")]),
            ),
            (vec![], Err("1–30")),
            (thirty_one, Err("1–30")),
            (vec![qa("a", "x")], Err("\"a\"")),
            (vec![qa("Alt", "x")], Err("\"Alt\"")),
            (vec![qa("1st", "x")], Err("\"1st\"")),
            (vec![qa("alt-text", "x")], Err("\"alt-text\"")),
            (vec![qa(&format!("a{}", "b".repeat(40)), "x")], Err("2–40")),
            (vec![qa("legal", "x"), qa("legal", "y")], Err("used twice")),
            (vec![qa("legal", "   ")], Err("label")),
            (vec![qa("legal", &"l".repeat(201))], Err("label")),
            (vec![qa("legal", "two\nlines")], Err("label")),
        ];
        for (input, want) in cases {
            match (validate_qa(input.clone()), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, w),
                (Err(CoreError::Invalid { field, message }), Err(w)) => {
                    assert_eq!(field, "items");
                    assert!(message.contains(w), "{input:?}: {message:?} lacks {w:?}");
                }
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn metrics_empty_and_unreviewed() {
        let none = ContentMetrics {
            items: 0,
            revisions_per_asset: None,
            rework_rate: None,
            approval_cycle_median_ms: None,
            approval_cycle_p90_ms: None,
            first_draft_acceptance: None,
            approval_pass_rate: None,
        };
        assert_eq!(metrics(&[]), none);
        // items still in brief or production count as items, nothing else
        let fresh = [ItemHistory::default(), ItemHistory::default()];
        assert_eq!(metrics(&fresh), ContentMetrics { items: 2, ..none });
    }

    #[test]
    fn metrics_of_a_mixed_set() {
        use RevisionSize::{Major, Minor};
        const H: i64 = 3_600_000;
        let item =
            |rounds, revisions: Vec<RevisionSize>, sub: Option<i64>, app: Option<i64>, first| {
                ItemHistory {
                    rounds,
                    revisions,
                    first_submitted_at: sub,
                    approved_at: app,
                    approved_first_round: first,
                }
            };
        let items = [
            // approved at once after 10 h
            item(1, vec![], Some(0), Some(10 * H), true),
            // two revisions (one major), approved in round 3 after 30 h
            item(3, vec![Minor, Major], Some(5 * H), Some(35 * H), false),
            // one major revision, not approved yet
            item(1, vec![Major], Some(0), None, false),
            // never submitted: counts only as an item
            item(0, vec![], None, None, false),
            // one minor revision, approved in round 2 after 20 h
            item(2, vec![Minor], Some(H), Some(21 * H), false),
        ];
        let m = metrics(&items);
        assert_eq!(m.items, 5);
        // 4 revisions over the 4 items with a decided round (not 5 items)
        assert_eq!(m.revisions_per_asset, Some(1.0));
        // major revisions on 2 of 4 reviewed items
        assert_eq!(m.rework_rate, Some(0.5));
        // cycles 10 h, 30 h, 20 h: nearest-rank median 20 h, p90 30 h
        assert_eq!(m.approval_cycle_median_ms, Some(20 * H));
        assert_eq!(m.approval_cycle_p90_ms, Some(30 * H));
        // 1 of 3 approved items approved in the first round
        assert_eq!(m.first_draft_acceptance, Some(1.0 / 3.0));
        // 3 approved rounds out of 1 + 3 + 1 + 0 + 2 = 7 decided
        assert_eq!(m.approval_pass_rate, Some(3.0 / 7.0));
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["approval_cycle_median_ms"], serde_json::json!(20 * H));

        // approval recorded before the first submission: a zero cycle
        let odd = [item(1, vec![], Some(9 * H), Some(2 * H), true)];
        assert_eq!(metrics(&odd).approval_cycle_median_ms, Some(0));
    }
}
