//! `lmc interpolate`: a linear merge of two Hugging Face checkpoints, file to file.

use std::path::PathBuf;

use clap::Args;

use crate::backend::ThreadsOption;

/// Arguments of `lmc interpolate`.
#[derive(Debug, Args)]
pub struct InterpolateArgs {
    /// First model (α = 0): a checkpoint directory, a .safetensors file or a hub reference
    /// `hf:ORG/NAME[@REVISION]`.
    pub a: String,
    /// Second model (α = 1): the same kinds as A.
    pub b: String,
    /// Interpolation weight: the result is (1 − α)·A + α·B. Values outside [0, 1] extrapolate.
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: f32,
    /// Output: a directory (weights + config/tokenizer copied from A) or a .safetensors file
    /// (`-o` and `--output` are older spellings).
    #[arg(long, short = 'o', alias = "output")]
    pub out: PathBuf,
    #[command(flatten)]
    pub threads: ThreadsOption,
}

pub fn run(args: InterpolateArgs) -> anyhow::Result<()> {
    args.threads.apply()?;
    let summary = lmc_interp::merge_checkpoints(
        &crate::models::resolve_one(&args.a)?,
        &crate::models::resolve_one(&args.b)?,
        args.alpha,
        &args.out,
    )?;
    println!(
        "{}: {} tensors interpolated ({} values), {} carried from A, {} bytes written",
        summary.output.display(),
        summary.interpolated_tensors,
        summary.interpolated_values,
        summary.carried_tensors,
        summary.bytes_written
    );
    if !summary.non_finite_tensors.is_empty() {
        tracing::warn!(
            "non-finite values in {} tensors, first `{}`",
            summary.non_finite_tensors.len(),
            summary.non_finite_tensors[0]
        );
    }
    Ok(())
}
