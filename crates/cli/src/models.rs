//! Model arguments of every command (`--model`, `--models`, `--anchor`/`--bases`, `interpolate A
//! B`): a local directory, or a Hugging Face hub reference `hf:ORG/NAME[@REVISION]` (a branch,
//! tag, commit or `step=N`; one `{a..b}` range names a population, e.g.
//! `hf:connectivity/feather_berts_{0..99}`), resolved into the standard hub cache by lmc-hub:
//! what transformers already downloaded is used as it is, what is missing is downloaded there
//! (unless `HF_HUB_OFFLINE=1`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, bail};
use lmc_hub::{DEFAULT_BRANCH, Hub, HubRef, Revision, TerminalProgress, is_hub_reference};
use lmc_sweep::ModelRef;

/// The process's hub client, made on first use (the environment is read once).
fn hub() -> anyhow::Result<&'static Hub> {
    static HUB: OnceLock<Hub> = OnceLock::new();
    if let Some(hub) = HUB.get() {
        return Ok(hub);
    }
    let hub = Hub::from_env()?.with_progress(TerminalProgress::stderr());
    Ok(HUB.get_or_init(|| hub))
}

/// The name a hub model has in result tables: the repository's name, with the revision when one
/// was given (`feather_berts_7`, `bert_ft_qqp-0@step=25000`).
pub fn hub_model_name(reference: &HubRef) -> String {
    let name = reference
        .repo()
        .rsplit('/')
        .next()
        .unwrap_or(reference.repo());
    match reference.revision() {
        Revision::Named(branch) if branch == DEFAULT_BRANCH => name.to_owned(),
        revision => format!("{name}@{revision}"),
    }
}

/// Every model `arguments` name: hub references (ranges expanded) resolved into the cache, and
/// local paths kept for [`lmc_sweep::discover_models`] (model, run and population directories).
///
/// # Errors
/// A malformed reference, or one the hub (or the offline cache) cannot give.
pub fn resolve(arguments: &[String]) -> anyhow::Result<(Vec<ModelRef>, Vec<PathBuf>)> {
    let mut hub_models = Vec::new();
    let mut local = Vec::new();
    for argument in arguments {
        if !is_hub_reference(argument) {
            local.push(PathBuf::from(argument));
            continue;
        }
        for reference in HubRef::parse_all(argument)? {
            let dir = hub()?.resolve(&reference)?;
            hub_models.push(ModelRef {
                name: hub_model_name(&reference),
                dir,
                run_dir: None,
            });
        }
    }
    Ok((hub_models, local))
}

/// The directory of one model: a local path as it is, a hub reference resolved into the cache.
///
/// # Errors
/// A range (several models where one is needed) or a reference that cannot be resolved.
pub fn resolve_one(argument: &str) -> anyhow::Result<PathBuf> {
    if !is_hub_reference(argument) {
        return Ok(PathBuf::from(argument));
    }
    let references = HubRef::parse_all(argument)?;
    let [reference] = references.as_slice() else {
        bail!(
            "{argument}: names {} models where one is needed",
            references.len()
        );
    };
    hub()?
        .resolve(reference)
        .with_context(|| format!("resolving {argument}"))
}

/// The model of `--preset paper`, bert-base-uncased: installed in the lmc cache
/// (`<cache>/models/bert-base-uncased`) or already in the Hugging Face hub cache. Nothing is
/// downloaded here: a paper-scale run should not start a 440 MB download unasked.
///
/// # Errors
/// Neither has it; the message says how to provide it.
pub fn bert_base_uncased(lmc_cache: &Path) -> anyhow::Result<PathBuf> {
    let installed = lmc_cache.join("models").join(BERT_BASE_UNCASED);
    if installed.join("config.json").is_file() {
        return Ok(installed);
    }
    let reference = HubRef::parse(&format!("{}{BERT_BASE_UNCASED}", lmc_hub::SCHEME))?;
    if let Ok(dir) = hub().and_then(|hub| Ok(hub.resolve_cached(&reference)?)) {
        return Ok(dir);
    }
    bail!(
        "the paper preset fine-tunes {BERT_BASE_UNCASED}, which is neither in {} nor in the Hugging \
         Face cache: pass --model DIR (any Hugging Face BERT directory) or --model hf:{BERT_BASE_UNCASED} \
         to download it (or --preset gpu for all-MiniLM-L6-v2 with the paper's recipe)",
        installed.display()
    )
}

/// The paper's pretrained model.
pub const BERT_BASE_UNCASED: &str = "bert-base-uncased";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_models_are_named_by_repository_and_revision() {
        let name = |text: &str| hub_model_name(&HubRef::parse(text).unwrap());
        assert_eq!(name("hf:connectivity/feather_berts_7"), "feather_berts_7");
        assert_eq!(
            name("hf:connectivity/bert_ft_qqp-0@step=25000"),
            "bert_ft_qqp-0@step=25000"
        );
        assert_eq!(name("hf:bert-base-uncased"), "bert-base-uncased");
    }

    #[test]
    fn local_paths_pass_through_untouched() {
        let (hub, local) = resolve(&["runs/mnli".to_owned(), "model/".to_owned()]).unwrap();
        assert!(hub.is_empty());
        assert_eq!(local, [PathBuf::from("runs/mnli"), PathBuf::from("model/")]);
        assert_eq!(
            resolve_one("runs/x/model").unwrap(),
            PathBuf::from("runs/x/model")
        );
    }
}
