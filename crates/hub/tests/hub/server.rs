//! A hub on 127.0.0.1 for the tests: the API answers (`revision/{rev}?blobs=true`,
//! `commits/{branch}` in pages of two with `Link` headers), `resolve/{rev}/{file}` with the hub's
//! headers (`X-Repo-Commit`, `ETag`, and for LFS files a 302 to a second "storage" port with
//! `X-Linked-Etag` / `X-Linked-Size`), `Range` requests, `X-Error-Code` on 404s, private
//! repositories (401 without the token), and faults: bodies cut short, bodies with a wrong byte.
//! Every request is logged, so tests can say what went over the wire.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Commits per page of the commits API (the real hub sends 50).
const PAGE: usize = 2;

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A 40-hex id derived from `parts` (commit ids, git blob ids).
fn id40(parts: &[&[u8]]) -> String {
    let mut all = Vec::new();
    for part in parts {
        all.extend_from_slice(part);
        all.push(0);
    }
    sha256_hex(&all)[..40].to_string()
}

#[derive(Clone)]
pub struct File {
    pub content: Vec<u8>,
    /// Stored in LFS: served through a redirect to storage, listed with its sha256.
    pub lfs: bool,
}

impl File {
    /// The blob name huggingface_hub gives it: sha256 for LFS files, the git blob id otherwise.
    pub fn blob(&self) -> String {
        if self.lfs {
            sha256_hex(&self.content)
        } else {
            id40(&[b"blob", &self.content])
        }
    }
}

#[derive(Clone)]
pub struct Commit {
    pub id: String,
    pub title: String,
    /// Every file of the repository at this commit.
    pub files: BTreeMap<String, File>,
}

/// A model repository with a linear history on `main` (and any other branches or tags).
#[derive(Clone)]
pub struct Repo {
    pub id: String,
    /// Oldest first.
    pub commits: Vec<Commit>,
    refs: BTreeMap<String, String>,
    /// Sent as `Authorization: Bearer …` or answered with 401.
    pub token: Option<String>,
    /// List only `rfilename`s (no size, blobId, lfs): the client must HEAD the files.
    pub bare_file_list: bool,
}

impl Repo {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            commits: Vec::new(),
            refs: BTreeMap::new(),
            token: None,
            bare_file_list: false,
        }
    }

    /// Adds a commit on `main` that adds or replaces `files` (name, content, in LFS); returns its id.
    pub fn commit(&mut self, title: &str, files: &[(&str, &[u8], bool)]) -> String {
        let mut all = self
            .commits
            .last()
            .map(|c| c.files.clone())
            .unwrap_or_default();
        for (name, content, lfs) in files {
            all.insert(
                name.to_string(),
                File {
                    content: content.to_vec(),
                    lfs: *lfs,
                },
            );
        }
        let id = id40(&[
            self.id.as_bytes(),
            title.as_bytes(),
            &self.commits.len().to_le_bytes(),
        ]);
        self.commits.push(Commit {
            id: id.clone(),
            title: title.to_string(),
            files: all,
        });
        self.refs.insert("main".to_string(), id.clone());
        id
    }

    /// Points a branch or tag at a commit.
    pub fn tag(&mut self, name: &str, commit: &str) {
        self.refs.insert(name.to_string(), commit.to_string());
    }

    pub fn file(&self, commit: &str, name: &str) -> &File {
        &self.commits.iter().find(|c| c.id == commit).unwrap().files[name]
    }

    /// A branch, tag, full commit or unique abbreviation of one.
    fn resolve(&self, revision: &str) -> Option<&Commit> {
        let id = self.refs.get(revision).cloned().or_else(|| {
            let matches: Vec<&Commit> = self
                .commits
                .iter()
                .filter(|c| revision.len() >= 7 && c.id.starts_with(revision))
                .collect();
            (matches.len() == 1).then(|| matches[0].id.clone())
        })?;
        self.commits.iter().find(|c| c.id == id)
    }

    /// The commits reachable from a branch, newest first.
    fn history(&self, branch: &str) -> Option<Vec<&Commit>> {
        let head = self.refs.get(branch)?;
        let end = self.commits.iter().position(|c| &c.id == head)?;
        Some(self.commits[..=end].iter().rev().collect())
    }
}

/// The files of a small BERT-shaped model: config, safetensors-sized weights (in LFS),
/// tokenizer files. `seed` makes the weights differ between models.
pub fn model_files(seed: u8) -> Vec<(&'static str, Vec<u8>, bool)> {
    let weights: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ seed)
        .collect();
    vec![
        (
            "config.json",
            format!("{{\"model_type\": \"bert\", \"seed\": {seed}}}").into_bytes(),
            false,
        ),
        ("model.safetensors", weights, true),
        (
            "vocab.txt",
            b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n".to_vec(),
            false,
        ),
        (
            "tokenizer_config.json",
            b"{\"do_lower_case\": true}".to_vec(),
            false,
        ),
        (
            "README.md",
            b"# a model card lmc does not fetch\n".to_vec(),
            false,
        ),
    ]
}

/// `model_files` as the slice `Repo::commit` takes.
pub fn as_slices<'a>(
    files: &'a [(&'static str, Vec<u8>, bool)],
) -> Vec<(&'static str, &'a [u8], bool)> {
    files
        .iter()
        .map(|(n, c, l)| (*n, c.as_slice(), *l))
        .collect()
}

#[derive(Default)]
struct State {
    repos: HashMap<String, Repo>,
    log: Vec<String>,
    /// File name → (body bytes to send before closing, responses left to cut short).
    cut_short: HashMap<String, (usize, usize)>,
    /// File names served with their first byte flipped.
    corrupt: HashSet<String>,
    /// File names the file list shows but `resolve` answers 404 for.
    hidden: HashSet<String>,
    hub_origin: String,
    storage_origin: String,
}

/// The running server: a hub port and a storage port (another origin, as a CDN is).
pub struct FakeHub {
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    addrs: Vec<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
}

impl FakeHub {
    pub fn start(repos: Vec<Repo>) -> Self {
        let hub = TcpListener::bind("127.0.0.1:0").unwrap();
        let storage = TcpListener::bind("127.0.0.1:0").unwrap();
        let addrs = vec![hub.local_addr().unwrap(), storage.local_addr().unwrap()];
        let state = Arc::new(Mutex::new(State {
            repos: repos.into_iter().map(|r| (r.id.clone(), r)).collect(),
            hub_origin: format!("http://{}", addrs[0]),
            storage_origin: format!("http://{}", addrs[1]),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = [(hub, false), (storage, true)]
            .into_iter()
            .map(|(listener, is_storage)| {
                let (state, stop) = (state.clone(), stop.clone());
                std::thread::spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        if let Ok(stream) = stream {
                            let state = state.clone();
                            std::thread::spawn(move || handle(stream, &state, is_storage));
                        }
                    }
                })
            })
            .collect();
        Self {
            state,
            stop,
            addrs,
            threads,
        }
    }

    /// The endpoint to configure (`HF_ENDPOINT`).
    pub fn endpoint(&self) -> String {
        self.state.lock().unwrap().hub_origin.clone()
    }

    /// Every request so far: `hub GET /path`, `storage GET /lfs/… bytes=N-`, ` auth` when a
    /// token was sent.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// The next `responses` downloads of `file` send only `bytes` bytes of body, then close.
    pub fn cut_short(&self, file: &str, bytes: usize, responses: usize) {
        self.state
            .lock()
            .unwrap()
            .cut_short
            .insert(file.to_string(), (bytes, responses));
    }

    /// `file` stays in the file list, but `resolve` answers 404 `EntryNotFound` for it.
    pub fn hide(&self, file: &str) {
        self.state.lock().unwrap().hidden.insert(file.to_string());
    }

    /// `file` is served with its first byte flipped (same size, wrong sha256).
    pub fn corrupt(&self, file: &str) {
        self.state.lock().unwrap().corrupt.insert(file.to_string());
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for addr in &self.addrs {
            let _ = TcpStream::connect(addr); // wakes the accept loop so it sees `stop`
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes, then close.
    cut_at: Option<usize>,
}

impl Response {
    fn new(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
            cut_at: None,
        }
    }

    fn json(value: serde_json::Value) -> Self {
        Self::new(200, value.to_string().into_bytes()).header("Content-Type", "application/json")
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        let mut response = Self::new(
            status,
            serde_json::json!({ "error": message })
                .to_string()
                .into_bytes(),
        );
        if !code.is_empty() {
            response = response.header("X-Error-Code", code);
        }
        response
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>, is_storage: bool) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let Some(request) = read_request(&stream) else {
        return;
    };
    let range = request
        .headers
        .get("range")
        .map(|r| format!(" {}", r.trim_start_matches("bytes=")))
        .unwrap_or_default();
    let auth = if request.headers.contains_key("authorization") {
        " auth"
    } else {
        ""
    };
    let query = if request.query.is_empty() {
        String::new()
    } else {
        format!("?{}", request.query)
    };
    let side = if is_storage { "storage" } else { "hub" };
    let response = {
        let mut state = state.lock().unwrap();
        state.log.push(format!(
            "{side} {} {}{query}{range}{auth}",
            request.method, request.path
        ));
        if is_storage {
            storage(&mut state, &request)
        } else {
            hub(&mut state, &request)
        }
    };
    write_response(stream, &request, response);
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let (path, query) = target
        .split_once('?')
        .map_or((target.clone(), String::new()), |(p, q)| {
            (p.to_string(), q.to_string())
        });
    Some(Request {
        method,
        path,
        query,
        headers,
    })
}

fn write_response(mut stream: TcpStream, request: &Request, response: Response) {
    let reason = match response.status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    if request.method != "HEAD" {
        let end = response
            .cut_at
            .unwrap_or(response.body.len())
            .min(response.body.len());
        let _ = stream.write_all(&response.body[..end]);
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Checks the repository exists and the caller may read it.
fn open<'a>(state: &'a State, repo: &str, request: &Request) -> Result<&'a Repo, Response> {
    let Some(found) = state.repos.get(repo) else {
        return Err(Response::error(404, "RepoNotFound", "Repository not found"));
    };
    if let Some(token) = &found.token
        && request.headers.get("authorization") != Some(&format!("Bearer {token}"))
    {
        return Err(Response::error(
            401,
            "",
            "Invalid credentials in Authorization header",
        ));
    }
    Ok(found)
}

fn hub(state: &mut State, request: &Request) -> Response {
    let path = request.path.clone();
    if let Some(rest) = path.strip_prefix("/api/models/") {
        if let Some((repo, revision)) = rest.split_once("/revision/") {
            return revision_info(state, request, repo, &decode(revision));
        }
        if let Some((repo, branch)) = rest.split_once("/commits/") {
            return commits(state, request, repo, &decode(branch));
        }
    }
    if let Some((repo, rest)) = path.trim_start_matches('/').split_once("/resolve/")
        && let Some((revision, file)) = rest.split_once('/')
    {
        return resolve(state, request, repo, &decode(revision), &decode(file));
    }
    Response::error(404, "", "no such route")
}

fn revision_info(state: &State, request: &Request, repo: &str, revision: &str) -> Response {
    let repo = match open(state, repo, request) {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Some(commit) = repo.resolve(revision) else {
        return Response::error(
            404,
            "RevisionNotFound",
            &format!("Invalid rev id: {revision}"),
        );
    };
    let blobs = request.query.split('&').any(|q| q == "blobs=true");
    let siblings: Vec<serde_json::Value> = commit
        .files
        .iter()
        .map(|(name, file)| {
            if repo.bare_file_list || !blobs {
                return serde_json::json!({ "rfilename": name });
            }
            let mut sibling = serde_json::json!({
                "rfilename": name,
                "size": file.content.len(),
                "blobId": id40(&[b"blob", if file.lfs { b"pointer" } else { &file.content }]),
            });
            if file.lfs {
                sibling["lfs"] = serde_json::json!({ "sha256": sha256_hex(&file.content), "size": file.content.len(), "pointerSize": 134 });
            }
            sibling
        })
        .collect();
    Response::json(
        serde_json::json!({ "id": repo.id, "modelId": repo.id, "sha": commit.id, "siblings": siblings }),
    )
}

fn commits(state: &State, request: &Request, repo_id: &str, branch: &str) -> Response {
    let repo = match open(state, repo_id, request) {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Some(history) = repo.history(branch) else {
        return Response::error(
            404,
            "RevisionNotFound",
            &format!("Invalid rev id: {branch}"),
        );
    };
    let page: usize = request
        .query
        .strip_prefix("p=")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let entries: Vec<serde_json::Value> = history
        .iter()
        .skip(page * PAGE)
        .take(PAGE)
        .map(|c| serde_json::json!({ "id": c.id, "title": c.title, "message": format!("{}\n", c.title), "authors": [], "date": "2022-06-01T00:00:00.000Z" }))
        .collect();
    let mut response = Response::json(serde_json::Value::Array(entries));
    if (page + 1) * PAGE < history.len() {
        let next = format!(
            "{}/api/models/{repo_id}/commits/{branch}?p={}",
            state.hub_origin,
            page + 1
        );
        response = response.header("Link", &format!("<{next}>; rel=\"next\""));
    }
    response
}

fn resolve(
    state: &mut State,
    request: &Request,
    repo_id: &str,
    revision: &str,
    name: &str,
) -> Response {
    let repo = match open(state, repo_id, request) {
        Ok(repo) => repo,
        Err(response) => return response,
    };
    let Some(commit) = repo.resolve(revision) else {
        return Response::error(
            404,
            "RevisionNotFound",
            &format!("Invalid rev id: {revision}"),
        );
    };
    let Some(file) = commit
        .files
        .get(name)
        .filter(|_| !state.hidden.contains(name))
        .cloned()
    else {
        return Response::error(
            404,
            "EntryNotFound",
            &format!("{name} does not exist on {revision}"),
        );
    };
    let commit_id = commit.id.clone();
    if file.lfs {
        let sha = sha256_hex(&file.content);
        let location = format!("{}/lfs/{sha}?file={name}", state.storage_origin);
        return Response::new(302, Vec::new())
            .header("Location", &location)
            .header("X-Repo-Commit", &commit_id)
            .header("ETag", &format!("\"{}\"", id40(&[b"blob", b"pointer"])))
            .header("X-Linked-Etag", &format!("\"{sha}\""))
            .header("X-Linked-Size", &file.content.len().to_string());
    }
    let etag = format!("\"{}\"", file.blob());
    serve(state, request, name, &file.content)
        .header("ETag", &etag)
        .header("X-Repo-Commit", &commit_id)
}

fn storage(state: &mut State, request: &Request) -> Response {
    let Some(sha) = request.path.strip_prefix("/lfs/") else {
        return Response::error(404, "", "no such object");
    };
    let name = request
        .query
        .strip_prefix("file=")
        .map(decode)
        .unwrap_or_default();
    let content = state
        .repos
        .values()
        .flat_map(|r| r.commits.iter().flat_map(|c| c.files.values()))
        .find(|f| f.lfs && sha256_hex(&f.content) == sha)
        .map(|f| f.content.clone());
    match content {
        Some(content) => serve(state, request, &name, &content),
        None => Response::error(404, "", "no such object"),
    }
}

/// A file body, honouring `Range: bytes=N-` and the faults set for `name`.
fn serve(state: &mut State, request: &Request, name: &str, content: &[u8]) -> Response {
    let mut content = content.to_vec();
    if state.corrupt.contains(name) {
        content[0] ^= 0xff;
    }
    let start: Option<usize> = request
        .headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse().ok());
    let mut response = match start {
        Some(start) if start >= content.len() => {
            return Response::new(416, Vec::new())
                .header("Content-Range", &format!("bytes */{}", content.len()));
        }
        Some(start) => Response::new(206, content[start..].to_vec()).header(
            "Content-Range",
            &format!("bytes {start}-{}/{}", content.len() - 1, content.len()),
        ),
        None => Response::new(200, content),
    };
    if let Some((bytes, left)) = state
        .cut_short
        .get_mut(name)
        .filter(|(_, left)| *left > 0 && request.method == "GET")
    {
        *left -= 1;
        response.cut_at = Some(*bytes);
    }
    response
}
