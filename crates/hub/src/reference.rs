//! Model references (`hf:ORG/NAME@REVISION`) and population ranges (`…{A..B}…`).

use std::fmt;

use crate::error::HubError;

/// The prefix that marks a model argument as a hub reference rather than a directory.
pub const SCHEME: &str = "hf:";

/// The branch a reference without `@REVISION` names, as in huggingface_hub.
pub const DEFAULT_BRANCH: &str = "main";

/// Whether a model argument is a hub reference (`hf:…`) rather than a local directory.
pub fn is_hub_reference(argument: &str) -> bool {
    argument.starts_with(SCHEME)
}

/// One model on the hub at one revision: `hf:ORG/NAME`, `hf:ORG/NAME@REVISION` or
/// `hf:ORG/NAME@step=N`.
///
/// `ORG/` may be left out for the hub's old top-level repositories (`hf:bert-base-uncased`).
/// Repository names follow the hub's rules: letters, digits, `-`, `_` and `.`, at most 96 per
/// part, starting and ending with a letter, digit or `_`, and no `--` or `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HubRef {
    repo: String,
    revision: Revision,
}

/// Which commit of a repository a [`HubRef`] names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Revision {
    /// A branch, a tag, or a full (40 hex digits) or abbreviated commit sha, as written after `@`;
    /// `main` when the reference has no `@`. The hub resolves it; offline, the hub cache's
    /// `refs/` does (and an abbreviated sha also matches the one cached snapshot it begins).
    Named(String),
    /// `step=N`: the newest commit on `main` whose title names training step `N` (see
    /// [`step_in_title`]). The QQP models of the paper (`connectivity/bert_ft_qqp-0..99`) have
    /// one commit per saved step: 15000, 20000, 25000, 30000 and 34110.
    Step(u64),
}

impl HubRef {
    /// Parses `hf:ORG/NAME`, `hf:ORG/NAME@REVISION` or `hf:ORG/NAME@step=N`.
    pub fn parse(reference: &str) -> Result<Self, HubError> {
        let bad = |reason: &str| HubError::BadReference {
            reference: reference.to_string(),
            reason: reason.to_string(),
        };
        let body = reference
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad("it does not start with hf:"))?;
        let (repo, revision) = match body.split_once('@') {
            None => (body, Revision::Named(DEFAULT_BRANCH.to_string())),
            Some((repo, revision)) => (repo, parse_revision(revision).map_err(|r| bad(&r))?),
        };
        check_repo_id(repo).map_err(|r| bad(&r))?;
        Ok(Self {
            repo: repo.to_string(),
            revision,
        })
    }

    /// Expands a population range ([`expand_range`]) and parses every reference in it:
    /// `hf:connectivity/feather_berts_{0..99}` gives the paper's 100 MNLI models, in order.
    pub fn parse_all(pattern: &str) -> Result<Vec<Self>, HubError> {
        expand_range(pattern)?
            .iter()
            .map(|r| Self::parse(r))
            .collect()
    }

    /// The repository, `ORG/NAME`.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// The revision.
    pub fn revision(&self) -> &Revision {
        &self.revision
    }
}

impl fmt::Display for HubRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}@{}", self.repo, self.revision)
    }
}

impl Revision {
    /// The name under which the hub cache's `refs/` records this revision's commit, as
    /// huggingface_hub records any branch, tag or abbreviated sha it resolved: the revision as
    /// written (`main`, `v1.0`, `step=25000`).
    pub fn ref_name(&self) -> String {
        self.to_string()
    }

    /// The full commit sha, when the revision is one (40 lowercase hex digits).
    pub fn full_commit(&self) -> Option<&str> {
        match self {
            Self::Named(name) if is_full_commit(name) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(name) => f.write_str(name),
            Self::Step(step) => write!(f, "step={step}"),
        }
    }
}

/// Whether `s` is a full git commit sha: 40 lowercase hex digits.
pub(crate) fn is_full_commit(s: &str) -> bool {
    s.len() == 40 && is_lower_hex(s)
}

pub(crate) fn is_lower_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse_revision(revision: &str) -> Result<Revision, String> {
    if let Some(step) = revision.strip_prefix("step=") {
        return match step.parse::<u64>() {
            Ok(n) if step.bytes().all(|b| b.is_ascii_digit()) => Ok(Revision::Step(n)),
            _ => Err(format!("step={step} is not a step count")),
        };
    }
    if revision.is_empty() {
        return Err("the revision after @ is empty".to_string());
    }
    // Branch and tag names follow git's rules (`git check-ref-format`); refusing what git
    // refuses also keeps the name safe as a path under the cache's refs/.
    if let Some(c) = revision.chars().find(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '\\' | '?' | '~' | '^' | ':' | '*' | '[' | '@')
    }) {
        return Err(format!("the revision contains {c:?}"));
    }
    if revision.starts_with('/')
        || revision.ends_with('/')
        || revision.contains("//")
        || revision.contains("..")
    {
        return Err(format!("{revision:?} is not a valid branch or tag name"));
    }
    Ok(Revision::Named(revision.to_string()))
}

fn check_repo_id(repo: &str) -> Result<(), String> {
    let parts: Vec<&str> = repo.split('/').collect();
    if parts.len() > 2 {
        return Err(format!("{repo:?} has more than one '/'"));
    }
    for part in &parts {
        if part.is_empty() || part.len() > 96 {
            return Err(format!(
                "{repo:?}: each part of the name has 1 to 96 characters"
            ));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!("{repo:?} contains {c:?}"));
        }
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !word(part.chars().next()) || !word(part.chars().last()) {
            return Err(format!(
                "{repo:?}: names start and end with a letter, digit or '_'"
            ));
        }
    }
    if repo.contains("--") || repo.contains("..") {
        return Err(format!("{repo:?} contains '--' or '..'"));
    }
    Ok(())
}

/// Expands one population range `{A..B}` in a pattern, as bash's brace expansion does: every
/// integer from `A` to `B`, **both ends included**, counting down when `A > B`, and zero-padded
/// to the wider end when either end is written with a leading zero (`{08..10}` gives `08 09 10`).
/// `hf:connectivity/feather_berts_{0..99}` gives `…_0` to `…_99`, 100 references;
/// `hf:connectivity/bert_ft_qqp-{0..99}@step=25000` the QQP models at one step. A pattern without
/// braces is returned as it is. At most one range per pattern.
pub fn expand_range(pattern: &str) -> Result<Vec<String>, HubError> {
    let bad = |reason: &str| HubError::BadRange {
        pattern: pattern.to_string(),
        reason: reason.to_string(),
    };
    let Some(open) = pattern.find('{') else {
        if pattern.contains('}') {
            return Err(bad("'}' without '{'"));
        }
        return Ok(vec![pattern.to_string()]);
    };
    let close = open
        + pattern[open..]
            .find('}')
            .ok_or_else(|| bad("'{' without '}'"))?;
    let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
    if suffix.contains('{') || suffix.contains('}') {
        return Err(bad("more than one range"));
    }
    let inner = &pattern[open + 1..close];
    let (first, last) = inner
        .split_once("..")
        .ok_or_else(|| bad(&format!("{{{inner}}} is not {{A..B}}")))?;
    let number = |s: &str| {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&format!("{s:?} is not a non-negative integer")));
        }
        s.parse::<u64>()
            .map_err(|_| bad(&format!("{s} is too large")))
    };
    let (a, b) = (number(first)?, number(last)?);
    let padded = |s: &str| s.len() > 1 && s.starts_with('0');
    let width = if padded(first) || padded(last) {
        first.len().max(last.len())
    } else {
        0
    };
    let numbers: Box<dyn Iterator<Item = u64>> = if a <= b {
        Box::new(a..=b)
    } else {
        Box::new((b..=a).rev())
    };
    Ok(numbers
        .map(|n| format!("{prefix}{n:0width$}{suffix}"))
        .collect())
}

/// The training step a commit title names, if any: the integer after the first word `step`
/// (any case; what may stand between them is spaces, `=`, `:`, `_`, `-` or `#`). The paper's
/// upload script titles the QQP checkpoints `Saving weights and logs of step 25000`;
/// transformers' `Trainer` titles them `Training in progress, step 25000`; DeepSpeed's folders
/// are `global_step25000`. All three give 25000. A title whose first `step` has no integer after
/// it names no step.
pub fn step_in_title(title: &str) -> Option<u64> {
    let lower = title.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(found) = lower[from..].find("step") {
        let start = from + found;
        from = start + 4;
        // "step" must begin a word: "steps" is skipped below, "footstep" here.
        if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut i = from;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'=' | b':' | b'_' | b'-' | b'#' | b'\t')
        {
            i += 1;
        }
        let digits_end = bytes[i..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |n| i + n);
        if digits_end == i {
            if i == from && bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
                continue; // "steps", "stepwise": not the word "step"
            }
            return None;
        }
        return lower[i..digits_end].parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_read_from_the_titles_in_use() {
        assert_eq!(
            step_in_title("Saving weights and logs of step 25000"),
            Some(25000)
        );
        assert_eq!(
            step_in_title("Training in progress, step 34110"),
            Some(34110)
        );
        assert_eq!(step_in_title("global_step15000"), Some(15000));
        assert_eq!(step_in_title("Step=20000: checkpoint"), Some(20000));
        assert_eq!(step_in_title("5 steps later, step 30000"), Some(30000));
        assert_eq!(step_in_title("Saving tokenizer"), None);
        assert_eq!(step_in_title("End of training"), None);
        assert_eq!(step_in_title("footstep 12"), None);
        assert_eq!(step_in_title("step: pending (was 12)"), None);
    }

    #[test]
    fn revisions_name_their_refs_as_written() {
        let r = HubRef::parse("hf:connectivity/bert_ft_qqp-3@step=25000").unwrap();
        assert_eq!(r.revision().ref_name(), "step=25000");
        assert_eq!(r.to_string(), "hf:connectivity/bert_ft_qqp-3@step=25000");
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let r = HubRef::parse(&format!("hf:a/b@{sha}")).unwrap();
        assert_eq!(r.revision().full_commit(), Some(sha));
        assert_eq!(
            HubRef::parse("hf:a/b@0123abc")
                .unwrap()
                .revision()
                .full_commit(),
            None
        );
    }
}
