//! Where the hub is and where its cache lives: [`HubConfig`], read from the environment in one
//! place ([`HubConfig::from_env`]).

use std::path::PathBuf;

use crate::error::HubError;

/// The public Hugging Face hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Everything a [`crate::Hub`] needs to know about its surroundings. Build it with
/// [`HubConfig::new`] (explicit paths, as tests and other libraries do) or
/// [`HubConfig::from_env`] (the variables huggingface_hub reads, as the `lmc` binary does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// The hub cache directory, the one holding `models--ORG--NAME/` folders.
    pub cache_dir: PathBuf,
    /// The hub's base URL, without a trailing `/`.
    pub endpoint: String,
    /// A hub access token, sent as `Authorization: Bearer …` to the endpoint (never to the
    /// servers it redirects downloads to).
    pub token: Option<String>,
    /// Never touch the network: resolve from the cache or fail.
    pub offline: bool,
}

impl HubConfig {
    /// A configuration for `cache_dir` and the public hub, without a token, online.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            endpoint: DEFAULT_ENDPOINT.to_string(),
            token: None,
            offline: false,
        }
    }

    /// The configuration huggingface_hub (and so transformers) would use in this environment.
    /// This is the only place the crate reads environment variables:
    ///
    /// - cache: `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE` (its older name), else
    ///   `$HF_HOME/hub`, where `HF_HOME` defaults to `$XDG_CACHE_HOME/huggingface`, and that to
    ///   `~/.cache/huggingface`; a leading `~/` means `$HOME/`;
    /// - endpoint: `HF_ENDPOINT`, else <https://huggingface.co>;
    /// - token: `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else the file `hf auth login` writes
    ///   (`HF_TOKEN_PATH`, else `$HF_HOME/token`) if it exists;
    /// - offline: `HF_HUB_OFFLINE` or `TRANSFORMERS_OFFLINE` set to `1`, `ON`, `YES` or `TRUE`
    ///   (any case).
    ///
    /// Empty variables count as unset.
    pub fn from_env() -> Result<Self, HubError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] over any source of variables.
    fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, HubError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let home = var("HOME");
        let path = |value: String| -> PathBuf {
            match (value.strip_prefix("~/"), &home) {
                (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
                _ => PathBuf::from(value),
            }
        };
        let hf_home = var("HF_HOME")
            .map(path)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| path(d).join("huggingface")))
            .or_else(|| {
                home.as_ref()
                    .map(|h| PathBuf::from(h).join(".cache").join("huggingface"))
            });
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(path)
            .or_else(|| hf_home.as_ref().map(|h| h.join("hub")))
            .ok_or_else(|| HubError::NoCacheDir {
                reason: "none of HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME or HOME is set".to_string(),
            })?;
        let token = match var("HF_TOKEN").or_else(|| var("HUGGING_FACE_HUB_TOKEN")) {
            Some(token) => Some(token.trim().to_string()),
            None => {
                let file = var("HF_TOKEN_PATH")
                    .map(path)
                    .or_else(|| hf_home.map(|h| h.join("token")));
                match file {
                    Some(file) => match std::fs::read_to_string(&file) {
                        Ok(token) => Some(token.trim().to_string()).filter(|t| !t.is_empty()),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(source) => return Err(HubError::Io { path: file, source }),
                    },
                    None => None,
                }
            }
        };
        let truthy = |name: &str| {
            var(name).is_some_and(|v| {
                matches!(
                    v.trim().to_ascii_uppercase().as_str(),
                    "1" | "ON" | "YES" | "TRUE"
                )
            })
        };
        Ok(Self {
            cache_dir,
            endpoint: var("HF_ENDPOINT")
                .map(|e| e.trim().trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            token,
            offline: truthy("HF_HUB_OFFLINE") || truthy("TRANSFORMERS_OFFLINE"),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<HubConfig, HubError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HubConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_cache_follows_huggingface_hub_precedence() {
        // Every case sets HOME to a directory without a token file.
        let home = tempfile::tempdir().unwrap();
        let h = home.path().to_str().unwrap();
        let cache = |vars: &[(&str, &str)]| {
            let mut all = vec![("HOME", h)];
            all.extend_from_slice(vars);
            config(&all).unwrap().cache_dir
        };
        assert_eq!(cache(&[]), home.path().join(".cache/huggingface/hub"));
        assert_eq!(
            cache(&[("XDG_CACHE_HOME", "/x")]),
            PathBuf::from("/x/huggingface/hub")
        );
        assert_eq!(
            cache(&[("XDG_CACHE_HOME", "/x"), ("HF_HOME", "/h")]),
            PathBuf::from("/h/hub")
        );
        assert_eq!(
            cache(&[("HF_HOME", "/h"), ("HUGGINGFACE_HUB_CACHE", "/old")]),
            PathBuf::from("/old")
        );
        assert_eq!(
            cache(&[
                ("HF_HOME", "/h"),
                ("HUGGINGFACE_HUB_CACHE", "/old"),
                ("HF_HUB_CACHE", "~/c")
            ]),
            home.path().join("c")
        );
        assert_eq!(
            cache(&[("HF_HUB_CACHE", ""), ("HF_HOME", "/h")]),
            PathBuf::from("/h/hub")
        );
        assert!(matches!(config(&[]), Err(HubError::NoCacheDir { .. })));
    }

    #[test]
    fn endpoint_token_and_offline_come_from_their_variables() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path().to_str().unwrap();
        let c = config(&[("HOME", h)]).unwrap();
        assert_eq!(
            (c.endpoint.as_str(), c.token, c.offline),
            (DEFAULT_ENDPOINT, None, false)
        );

        let c = config(&[
            ("HOME", h),
            ("HF_ENDPOINT", "http://127.0.0.1:9/"),
            ("HF_TOKEN", "hf_x\n"),
            ("HF_HUB_OFFLINE", "yes"),
        ])
        .unwrap();
        assert_eq!(
            (c.endpoint.as_str(), c.token.as_deref(), c.offline),
            ("http://127.0.0.1:9", Some("hf_x"), true)
        );
        assert!(
            config(&[("HOME", h), ("TRANSFORMERS_OFFLINE", "1")])
                .unwrap()
                .offline
        );
        assert!(
            !config(&[("HOME", h), ("HF_HUB_OFFLINE", "0")])
                .unwrap()
                .offline
        );

        // The token `hf auth login` saved, under HF_HOME.
        std::fs::create_dir_all(home.path().join("hf")).unwrap();
        std::fs::write(home.path().join("hf/token"), "hf_saved\n").unwrap();
        let hf_home = home.path().join("hf");
        let c = config(&[("HOME", h), ("HF_HOME", hf_home.to_str().unwrap())]).unwrap();
        assert_eq!(c.token.as_deref(), Some("hf_saved"));
        let c = config(&[
            ("HOME", h),
            ("HF_HOME", hf_home.to_str().unwrap()),
            ("HF_TOKEN", "hf_env"),
        ])
        .unwrap();
        assert_eq!(c.token.as_deref(), Some("hf_env"));
    }
}
