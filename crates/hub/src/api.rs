//! The hub's HTTP protocol, as huggingface_hub speaks it:
//!
//! - `GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true`: the commit a revision
//!   names (`sha`) and its files (`siblings`: `rfilename`, `size`, `blobId`, and for LFS files
//!   `lfs: {sha256, size}`);
//! - `GET {endpoint}/api/models/{repo}/commits/{branch}`: the branch's commits, newest first
//!   (`id`, `title`), in pages chained by a `Link: <…>; rel="next"` header;
//! - `GET|HEAD {endpoint}/{repo}/resolve/{commit}/{file}`: a file. LFS files redirect (302) to a
//!   storage server; the hub's own answer carries `X-Repo-Commit`, `ETag` (the git blob sha1) or,
//!   for LFS files, `X-Linked-Etag` (the sha256) and `X-Linked-Size`. Downloads resume with
//!   `Range: bytes=N-`.
//!
//! Errors carry `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`,
//! `GatedRepo`), which is how this module tells a missing repository from a missing revision.
//! Redirects are followed here, not by the HTTP client, so that the token is only ever sent to
//! the endpoint's own origin and the hub's headers stay visible.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::HubError;
use crate::reference::is_full_commit;

/// At most this many redirects per request (the hub uses one or two).
const MAX_REDIRECTS: usize = 10;
/// At most this many pages of commits (the hub sends 50 per page).
const MAX_COMMIT_PAGES: usize = 1000;

/// `GET /api/models/{repo}/revision/{revision}?blobs=true`.
#[derive(Debug, Deserialize)]
pub(crate) struct RevisionInfo {
    /// The full commit sha the revision resolved to.
    pub sha: String,
    /// The files at that commit.
    #[serde(default)]
    pub siblings: Vec<Sibling>,
}

/// One file of a [`RevisionInfo`].
#[derive(Debug, Deserialize)]
pub(crate) struct Sibling {
    pub rfilename: String,
    pub size: Option<u64>,
    #[serde(rename = "blobId")]
    pub blob_id: Option<String>,
    pub lfs: Option<Lfs>,
}

/// The LFS pointer of a large file: the content's sha256 and size.
#[derive(Debug, Deserialize)]
pub(crate) struct Lfs {
    pub sha256: String,
    pub size: u64,
}

/// One entry of `GET /api/models/{repo}/commits/{branch}`.
#[derive(Debug, Deserialize)]
pub(crate) struct CommitEntry {
    pub id: String,
    pub title: String,
}

/// What a `HEAD` of a file's resolve URL tells (huggingface_hub's `get_hf_file_metadata`).
#[derive(Debug)]
pub(crate) struct FileHeaders {
    /// `X-Linked-Etag` (LFS: the content's sha256), else `ETag` (the git blob sha1), unquoted.
    pub etag: Option<String>,
    /// Whether the etag came from `X-Linked-Etag`, i.e. the file is in LFS and the etag is its sha256.
    pub lfs: bool,
    /// `X-Linked-Size`, else the `Content-Length` of a non-redirect answer.
    pub size: Option<u64>,
}

/// The body of a file download.
pub(crate) enum FileBody {
    /// The whole file (200): the server ignored or was not sent a `Range`.
    Whole(ureq::Response),
    /// The file from byte `start` on (206).
    From {
        start: u64,
        response: ureq::Response,
    },
    /// 416: the range starts at or past the end of the file.
    RangeNotSatisfiable,
}

/// What a request is about, for naming it in errors.
#[derive(Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub repo: &'a str,
    pub revision: &'a str,
    pub file: Option<&'a str>,
}

/// A blocking client for one hub endpoint.
pub(crate) struct Client {
    agent: ureq::Agent,
    endpoint: String,
    token: Option<String>,
    /// The hub cache, for the hint in [`HubError::Unreachable`].
    cache_dir: PathBuf,
}

impl Client {
    pub(crate) fn new(endpoint: &str, token: Option<String>, cache_dir: PathBuf) -> Self {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(60))
            .user_agent(concat!("lmc-hub/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token,
            cache_dir,
        }
    }

    /// The URL of a file at a commit.
    pub(crate) fn resolve_url(&self, repo: &str, commit: &str, file: &str) -> String {
        format!(
            "{}/{repo}/resolve/{commit}/{}",
            self.endpoint,
            encode(file, true)
        )
    }

    /// The commit a revision names, and the files there.
    pub(crate) fn revision_info(
        &self,
        repo: &str,
        revision: &str,
    ) -> Result<RevisionInfo, HubError> {
        let url = format!(
            "{}/api/models/{repo}/revision/{}?blobs=true",
            self.endpoint,
            encode(revision, false)
        );
        let subject = Subject {
            repo,
            revision,
            file: None,
        };
        let response = self.follow("GET", &url, None, true, subject)?;
        let info: RevisionInfo = parse_json(response, &url)?;
        if !is_full_commit(&info.sha) {
            return Err(HubError::BadResponse {
                url,
                reason: format!("sha {:?} is not a commit sha", info.sha),
            });
        }
        Ok(info)
    }

    /// Walks a branch's commits, newest first, until `visit` returns `true` or the history ends.
    pub(crate) fn walk_commits(
        &self,
        repo: &str,
        branch: &str,
        mut visit: impl FnMut(&CommitEntry) -> bool,
    ) -> Result<(), HubError> {
        let mut url = format!(
            "{}/api/models/{repo}/commits/{}",
            self.endpoint,
            encode(branch, false)
        );
        let subject = Subject {
            repo,
            revision: branch,
            file: None,
        };
        for _ in 0..MAX_COMMIT_PAGES {
            let response = self.follow("GET", &url, None, true, subject)?;
            let next = response.header("link").and_then(next_link);
            let page: Vec<CommitEntry> = parse_json(response, &url)?;
            for commit in &page {
                if !is_full_commit(&commit.id) {
                    return Err(HubError::BadResponse {
                        url,
                        reason: format!("commit id {:?} is not a commit sha", commit.id),
                    });
                }
                if visit(commit) {
                    return Ok(());
                }
            }
            match next {
                Some(next) => url = join_location(&url, &next),
                None => return Ok(()),
            }
        }
        Err(HubError::BadResponse {
            url,
            reason: format!("more than {MAX_COMMIT_PAGES} pages of commits"),
        })
    }

    /// The hub's headers for a file, from a `HEAD` that follows only redirects within the
    /// endpoint (a renamed repository), not to the storage server.
    pub(crate) fn file_headers(
        &self,
        url: &str,
        subject: Subject<'_>,
    ) -> Result<FileHeaders, HubError> {
        let response = self.follow("HEAD", url, None, false, subject)?;
        let linked = response.header("x-linked-etag");
        let etag = linked.or_else(|| response.header("etag")).map(unquote_etag);
        let is_redirect = (300..400).contains(&response.status());
        let size = response
            .header("x-linked-size")
            .or_else(|| {
                if is_redirect {
                    None
                } else {
                    response.header("content-length")
                }
            })
            .and_then(|s| s.trim().parse().ok());
        Ok(FileHeaders {
            etag,
            lfs: linked.is_some(),
            size,
        })
    }

    /// Downloads a file from byte `start` on, following every redirect.
    pub(crate) fn get_file(
        &self,
        url: &str,
        start: u64,
        subject: Subject<'_>,
    ) -> Result<FileBody, HubError> {
        let range = (start > 0).then_some(start);
        let response = match self.follow("GET", url, range, true, subject) {
            Err(HubError::Http { status: 416, .. }) => return Ok(FileBody::RangeNotSatisfiable),
            other => other?,
        };
        if response.status() != 206 {
            return Ok(FileBody::Whole(response));
        }
        let start = response
            .header("content-range")
            .and_then(|r| r.trim().strip_prefix("bytes "))
            .and_then(|r| r.split('-').next())
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| HubError::BadResponse {
                url: url.to_string(),
                reason: "206 Partial Content without a valid Content-Range".to_string(),
            })?;
        Ok(FileBody::From { start, response })
    }

    /// Sends a request and follows redirects (all of them, or only those within the endpoint's
    /// origin), mapping error statuses to [`HubError`]s about `subject`.
    fn follow(
        &self,
        method: &str,
        url: &str,
        range_from: Option<u64>,
        leave_origin: bool,
        subject: Subject<'_>,
    ) -> Result<ureq::Response, HubError> {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut request = self.agent.request(method, &url);
            if let Some(token) = self
                .token
                .as_deref()
                .filter(|_| origin(&url) == origin(&self.endpoint))
            {
                request = request.set("Authorization", &format!("Bearer {token}"));
            }
            if let Some(from) = range_from {
                request = request.set("Range", &format!("bytes={from}-"));
            }
            let response = match request.call() {
                Ok(response) => response,
                Err(ureq::Error::Status(status, response)) => {
                    return Err(self.status_error(status, response, &url, subject));
                }
                Err(ureq::Error::Transport(transport)) => {
                    return Err(HubError::Unreachable {
                        endpoint: self.endpoint.clone(),
                        reason: transport.to_string(),
                        cache: self.cache_dir.clone(),
                    });
                }
            };
            if !(300..400).contains(&response.status()) {
                return Ok(response);
            }
            let Some(location) = response.header("location") else {
                return Err(HubError::BadResponse {
                    url,
                    reason: format!("{} redirect without a Location", response.status()),
                });
            };
            let next = join_location(&url, location);
            if !leave_origin && origin(&next) != origin(&self.endpoint) {
                return Ok(response);
            }
            url = next;
        }
        Err(HubError::BadResponse {
            url,
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    fn status_error(
        &self,
        status: u16,
        response: ureq::Response,
        url: &str,
        subject: Subject<'_>,
    ) -> HubError {
        let code = response.header("x-error-code").unwrap_or("").to_string();
        let header_message = response.header("x-error-message").map(str::to_string);
        let endpoint = self.endpoint.clone();
        let repo = subject.repo.to_string();
        match (code.as_str(), subject.file) {
            ("RepoNotFound", _) => return HubError::RepoNotFound { repo, endpoint },
            ("RevisionNotFound", _) => {
                return HubError::RevisionNotFound {
                    repo,
                    revision: subject.revision.to_string(),
                    endpoint,
                };
            }
            ("EntryNotFound", Some(file)) => {
                return HubError::FileNotFound {
                    repo,
                    commit: subject.revision.to_string(),
                    file: file.to_string(),
                    url: url.to_string(),
                };
            }
            _ => {}
        }
        if matches!(status, 401 | 403) || code == "GatedRepo" {
            return HubError::Unauthorized {
                repo,
                endpoint,
                url: url.to_string(),
                status,
                token_set: self.token.is_some(),
            };
        }
        let message = header_message.unwrap_or_else(|| {
            let body = response.into_string().unwrap_or_default();
            serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_else(|| body.trim().chars().take(200).collect())
        });
        HubError::Http {
            url: url.to_string(),
            status,
            message,
        }
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    response: ureq::Response,
    url: &str,
) -> Result<T, HubError> {
    let mut body = String::new();
    response
        .into_reader()
        .read_to_string(&mut body)
        .map_err(|e| HubError::BadResponse {
            url: url.to_string(),
            reason: format!("cannot read the answer: {e}"),
        })?;
    serde_json::from_str(&body).map_err(|e| HubError::BadResponse {
        url: url.to_string(),
        reason: format!("invalid JSON: {e}"),
    })
}

/// `W/"abc"` or `"abc"` → `abc`, as huggingface_hub normalises etags into blob names.
fn unquote_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_string()
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            matches!(
                p.trim().replace(' ', "").as_str(),
                "rel=\"next\"" | "rel=next"
            )
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_string())
    })
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// The URL a `Location` (absolute, scheme-relative, absolute-path or relative) points to from `base`.
fn join_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_string()
    } else if let Some(rest) = location.strip_prefix("//") {
        let scheme = base.split("://").next().unwrap_or("https");
        format!("{scheme}://{rest}")
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        let path = base.split(['?', '#']).next().unwrap_or(base);
        let dir = &path[..path.rfind('/').map_or(path.len(), |i| i + 1)];
        format!("{dir}{location}")
    }
}

/// Percent-encodes a URL path segment (keeping `/` when `keep_slash`), as huggingface_hub's
/// `quote` does.
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_joined_and_encoded_as_browsers_do() {
        assert_eq!(
            origin("https://huggingface.co/api/models/a/b"),
            "https://huggingface.co"
        );
        assert_eq!(origin("http://127.0.0.1:8080?x"), "http://127.0.0.1:8080");
        let base = "https://huggingface.co/a/b/resolve/main/model.safetensors";
        assert_eq!(
            join_location(base, "https://cdn.example/x?s=1"),
            "https://cdn.example/x?s=1"
        );
        assert_eq!(
            join_location(base, "//cdn.example/x"),
            "https://cdn.example/x"
        );
        assert_eq!(
            join_location(base, "/api/x"),
            "https://huggingface.co/api/x"
        );
        assert_eq!(
            join_location(base, "config.json"),
            "https://huggingface.co/a/b/resolve/main/config.json"
        );
        assert_eq!(encode("feature/x y", false), "feature%2Fx%20y");
        assert_eq!(encode("sub/dir/f.json", true), "sub/dir/f.json");
        assert_eq!(unquote_etag("W/\"abc\""), "abc");
    }

    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let header = "<https://huggingface.co/api/models/a/b/commits/main?p=2>; rel=\"next\", <https://huggingface.co/api/models/a/b/commits/main?p=9>; rel=\"last\"";
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://huggingface.co/api/models/a/b/commits/main?p=2")
        );
        assert_eq!(next_link("<https://x/?p=9>; rel=\"last\""), None);
    }
}
