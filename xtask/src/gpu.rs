//! `cargo xtask build-gpu`: the `lmc` binary with burn-cuda, packed with what a GPU machine
//! without a Rust toolchain or network needs to run it: `lmc` and, on request, the default
//! model. (`benches/gpu/bundle.sh` packs the project's own GPU checks.)
//!
//! The CUDA driver (`libcuda.so`) and NVRTC are loaded when the binary first touches the GPU,
//! so the build needs neither the CUDA toolkit nor a GPU; this command checks that the binary
//! links no CUDA library.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

use crate::{build_lmc, workspace_root};

/// Arguments of `cargo xtask build-gpu`.
#[derive(Debug, Args)]
pub struct BuildGpuArgs {
    /// Bundle directory [default: target/lmc-gpu].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also copy all-MiniLM-L6-v2 from the lmc cache into the bundle (`cache/`, about 90 MB).
    #[arg(long)]
    with_model: bool,
}

pub fn run(args: BuildGpuArgs) -> anyhow::Result<()> {
    eprintln!("building lmc with the cuda feature (optimised profile) …");
    let binary = build_lmc(&["cuda"])?;
    let linked = linked_libraries(&binary)?;
    if let Some(cuda) = linked.iter().find(|lib| is_cuda_library(lib)) {
        bail!(
            "{} links {cuda} at load time; it must load CUDA at run time only",
            binary.display()
        );
    }
    let bundle = match args.out {
        Some(out) => {
            std::path::absolute(&out).with_context(|| format!("--out {}", out.display()))?
        }
        None => workspace_root().join("target").join("lmc-gpu"),
    };
    std::fs::create_dir_all(&bundle).with_context(|| format!("creating {}", bundle.display()))?;
    let packed = bundle.join("lmc");
    std::fs::copy(&binary, &packed)
        .with_context(|| format!("copying {} to {}", binary.display(), packed.display()))?;
    strip(&packed)?;
    if args.with_model {
        let minilm = crate::install_model(&binary)?;
        let name = minilm
            .file_name()
            .context("the MiniLM directory has a name")?;
        copy_dir(&minilm, &bundle.join("cache").join("models").join(name))?;
    }
    let archive = archive(&bundle)?;
    let megabytes =
        |path: &Path| -> anyhow::Result<f64> { Ok(std::fs::metadata(path)?.len() as f64 / 1e6) };
    println!(
        "{} ({:.0} MB); shared libraries: {}",
        packed.display(),
        megabytes(&packed)?,
        linked.join(", ")
    );
    println!(
        "{} ({:.0} MB): the same, packed",
        archive.display(),
        megabytes(&archive)?
    );
    println!();
    println!("To run it on a GPU machine (NVIDIA driver installed; no Rust, no network needed):");
    println!(
        "  1. copy {} (unpack with `tar -xzf`) and your data directory to the machine;",
        archive.display()
    );
    if args.with_model {
        println!("  2. the model is in the bundle: pass --cache-dir <bundle>/cache;");
    } else {
        println!(
            "  2. copy the lmc cache's models/ folder too (or rerun with --with-model), and pass \
             --cache-dir to its parent;"
        );
    }
    println!(
        "  3. ./lmc reproduce cola --backend cuda --preset gpu --data-dir DATA --cache-dir CACHE"
    );
    println!(
        "If the driver is found but NVRTC is not, put the folder holding libnvrtc.so on \
         LD_LIBRARY_PATH (PyTorch wheels ship it under nvidia/cuda_nvrtc/lib)."
    );
    Ok(())
}

/// Packs `bundle` into `<bundle>.tar.gz` beside it (the binary compresses about 3×).
fn archive(bundle: &Path) -> anyhow::Result<PathBuf> {
    let (Some(parent), Some(name)) = (bundle.parent(), bundle.file_name()) else {
        bail!(
            "{} has no parent folder to put the archive in",
            bundle.display()
        );
    };
    let archive = parent.join(format!("{}.tar.gz", name.to_string_lossy()));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(parent)
        .arg(name)
        .status()
        .context("cannot run tar to pack the bundle")?;
    if !status.success() {
        bail!("packing {} failed ({status})", bundle.display());
    }
    Ok(archive)
}

/// Removes the line tables (the optimised profile keeps them for profiling): about 12× smaller,
/// so the bundle travels to machines that take tens of megabytes, not hundreds.
fn strip(binary: &Path) -> anyhow::Result<()> {
    let status = Command::new("strip")
        .arg(binary)
        .status()
        .context("cannot run strip (binutils) on the bundled binary")?;
    if !status.success() {
        bail!("strip {} failed ({status})", binary.display());
    }
    Ok(())
}

/// The shared libraries `binary` asks the dynamic loader for (`ldd`).
fn linked_libraries(binary: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new("ldd")
        .arg(binary)
        .output()
        .context("cannot run ldd to list the binary's shared libraries")?;
    if !output.status.success() {
        bail!("ldd {} failed ({})", binary.display(), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

fn is_cuda_library(name: &str) -> bool {
    ["libcuda", "libnvrtc", "libcudart", "libcublas", "libnccl"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| {
                format!("copying {} to {}", entry.path().display(), target.display())
            })?;
        }
    }
    Ok(())
}
