//! `--backend cpu|cuda` and `--precision f32|tf32|bf16`: what a command computes on, and how.
//!
//! Commands that run the model write their body once, generic over the backend, as an
//! [`OnBackend`] job; [`run_on`] picks the backend and its device. CUDA is compiled in only with
//! the `cuda` feature (`cargo xtask build-gpu`); without it `--backend cuda` is a clear error.
//!
//! The precision has two halves: the model casts the inputs of its matrix products to bf16 for
//! `bf16` ([`lmc_bert::Precision`], set on the model by each job), and on CUDA the process decides
//! once, before its first matrix product, whether f32 products may run on TF32 tensor cores
//! (`f32`: no; `tf32` and `bf16`: yes). CubeCL's compiled kernels and autotune results are cached
//! on disk under `<lmc cache>/cubecl/<precision>/`, so a second process neither compiles nor
//! tunes again (a tuned kernel of one mode could not run in the other, hence one folder each).

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use clap::{Args, ValueEnum};
use lmc_bert::Precision;
use lmc_data::Provenance;

/// Compute backend of the `lmc` binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    /// burn's flex CPU backend.
    Cpu,
    /// burn-cuda on NVIDIA GPU 0 (a binary built with `cargo xtask build-gpu`).
    Cuda,
}

impl BackendChoice {
    /// The option's value on a command line.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendChoice::Cpu => "cpu",
            BackendChoice::Cuda => "cuda",
        }
    }
}

/// `--threads`: the CPU threads of a command that computes.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ThreadsOption {
    /// CPU threads to compute on [default: every core, or $RAYON_NUM_THREADS].
    #[arg(long)]
    pub threads: Option<usize>,
}

impl ThreadsOption {
    /// Sizes the process's compute pool (rayon's global pool, which burn-flex, the
    /// interpolation kernel and the analysis use). A second call with the same count, as
    /// `lmc reproduce` makes for each stage, changes nothing.
    ///
    /// # Errors
    /// `--threads 0`, or a count other than that of a pool already started.
    pub fn apply(&self) -> anyhow::Result<()> {
        let Some(threads) = self.threads else {
            return Ok(());
        };
        if threads == 0 {
            anyhow::bail!("--threads 0: give at least 1");
        }
        if rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .is_err()
            && rayon::current_num_threads() != threads
        {
            anyhow::bail!(
                "--threads {threads}: this process already computes on {} threads",
                rayon::current_num_threads()
            );
        }
        Ok(())
    }
}

/// Where and how a command computes: the options every computing command shares.
#[derive(Debug, Clone, Copy, Args)]
pub struct ComputeOptions {
    /// Compute backend (`cuda` needs a binary built with `cargo xtask build-gpu`).
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// GPU ordinal for `--backend cuda` [default: 0].
    #[arg(long)]
    pub device: Option<usize>,
    #[command(flatten)]
    pub threads: ThreadsOption,
    /// Matrix products: `f32` (strict), `tf32` (TF32 tensor cores, CUDA only) or `bf16` (mixed
    /// precision: bf16 inputs, f32 weights, softmax, LayerNorm and loss) [default: f32 on the
    /// CPU, bf16 on CUDA].
    #[arg(long)]
    pub precision: Option<Precision>,
}

impl ComputeOptions {
    /// The options for `backend` with its default precision.
    pub fn on(backend: BackendChoice) -> Self {
        ComputeOptions {
            backend,
            device: None,
            threads: ThreadsOption::default(),
            precision: None,
        }
    }

    /// The precision asked for, or the backend's default.
    ///
    /// # Errors
    /// `tf32` on the CPU, which has no TF32 arithmetic.
    pub fn precision(&self) -> anyhow::Result<Precision> {
        match (self.backend, self.precision) {
            (BackendChoice::Cpu, Some(Precision::Tf32)) => Err(anyhow::anyhow!(
                "--precision tf32 needs a GPU's tensor cores; on the CPU use f32 or bf16"
            )),
            (_, Some(precision)) => Ok(precision),
            (BackendChoice::Cpu, None) => Ok(Precision::F32),
            (BackendChoice::Cuda, None) => Ok(Precision::Bf16),
        }
    }
}

/// This build of lmc computing on backend `B` (and the global pool's threads), for the records a
/// command writes.
pub fn provenance<B: Backend>(device: &B::Device) -> Provenance {
    provenance_on(B::name(device))
}

/// This build of lmc, for records of work without a model (`backend` says what computed).
pub fn provenance_on(backend: String) -> Provenance {
    Provenance {
        lmc_version: env!("CARGO_PKG_VERSION").to_owned(),
        git_commit: option_env!("LMC_GIT_COMMIT").map(str::to_owned),
        backend,
        threads: rayon::current_num_threads(),
    }
}

/// A command body that runs on any burn backend.
pub trait OnBackend {
    /// What the command returns.
    type Output;
    /// Runs the command on backend `B` and `device`.
    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<Self::Output>;
}

/// Runs `job` on the backend `compute` names, with the process's matrix products set up for
/// its precision (the job sets the model's own half, [`lmc_bert::Precision`]).
///
/// # Errors
/// The job's error, [`ComputeOptions::precision`]'s, or [`check`]'s.
pub fn run_on<J: OnBackend>(compute: ComputeOptions, job: J) -> anyhow::Result<J::Output> {
    let precision = compute.precision()?;
    compute.threads.apply()?;
    match compute.backend {
        BackendChoice::Cpu => job.run::<Flex>(Default::default()),
        BackendChoice::Cuda => cuda::run_on_gpu(job, precision, compute.device.unwrap_or(0)),
    }
}

/// Checks that the backend `compute` names can run here in its precision, so that a command
/// can stop before any work (the CPU always can, in f32 and bf16).
///
/// # Errors
/// `tf32` on the CPU; for `cuda`: a binary built without the `cuda` feature, a machine where the
/// CUDA driver or NVRTC cannot be loaded, or a device that fails a first computation.
pub fn check(compute: ComputeOptions) -> anyhow::Result<()> {
    let precision = compute.precision()?;
    compute.threads.apply()?;
    match compute.backend {
        BackendChoice::Cpu if compute.device.is_some() => Err(anyhow::anyhow!(
            "--device selects a GPU; `--backend cpu` has none"
        )),
        BackendChoice::Cpu => Ok(()),
        BackendChoice::Cuda => cuda::check_gpu(precision, compute.device.unwrap_or(0)),
    }
}

#[cfg(feature = "cuda")]
mod cuda {
    use std::sync::OnceLock;

    use anyhow::anyhow;
    use burn::backend::Cuda;
    use burn::backend::cuda::CudaDevice;
    use burn::cubecl::config::cache::CacheConfig;
    use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
    use burn::tensor::Tensor;
    use lmc_bert::Precision;

    use super::OnBackend;

    /// Runs `job` on GPU `ordinal` in `precision`, after checking that the driver loads and the
    /// device computes.
    pub fn run_on_gpu<J: OnBackend>(
        job: J,
        precision: Precision,
        ordinal: usize,
    ) -> anyhow::Result<J::Output> {
        configure(precision)?;
        let device = CudaDevice::new(ordinal);
        check_device(&device)?;
        job.run::<Cuda>(device)
    }

    /// Checks GPU `ordinal` as [`run_on_gpu`] does.
    pub fn check_gpu(precision: Precision, ordinal: usize) -> anyhow::Result<()> {
        configure(precision)?;
        check_device(&CudaDevice::new(ordinal))
    }

    /// Sets, once per process and before CubeCL reads its configuration, whether f32 matrix
    /// products may use TF32 and where compiled kernels and autotune results are cached. A
    /// process is configured for one precision; asking for another later is an error.
    fn configure(precision: Precision) -> anyhow::Result<()> {
        static CONFIGURED: OnceLock<Precision> = OnceLock::new();
        let configured = *CONFIGURED.get_or_init(|| {
            cubek_matmul::definition::set_tf32_allowed(precision != Precision::F32);
            // A cubecl.toml found from the working directory, and CUBECL_* variables, still
            // apply; only the cache folders are lmc's.
            let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
            if let Some(cache) = lmc_bert::pretrained::default_cache_dir() {
                let folder = cache.join("cubecl").join(precision.as_str());
                config.compilation.cache = Some(CacheConfig::File(folder.clone()));
                config.autotune.cache = CacheConfig::File(folder);
            }
            CubeClRuntimeConfig::set(config);
            precision
        });
        if configured != precision {
            return Err(anyhow!(
                "this process already computes in {configured}; {precision} needs a new process"
            ));
        }
        Ok(())
    }

    /// cudarc and CubeCL panic when the driver or NVRTC is missing; this turns that into an
    /// error before any work starts, then computes 1 + 2 on the device.
    fn check_device(device: &CudaDevice) -> anyhow::Result<()> {
        // SAFETY: each call only tries to open the shared library by its usual names.
        let (driver, nvrtc) = unsafe {
            (
                cudarc::driver::sys::is_culib_present(),
                cudarc::nvrtc::sys::is_culib_present(),
            )
        };
        if !driver {
            return Err(anyhow!(
                "no CUDA driver on this machine: libcuda.so cannot be loaded (is the NVIDIA \
                 driver installed? `nvidia-smi` should list the GPU)"
            ));
        }
        if !nvrtc {
            return Err(anyhow!(
                "the CUDA driver loads but NVRTC does not: put the folder holding libnvrtc.so on \
                 LD_LIBRARY_PATH (PyTorch's wheels ship one under nvidia/cuda_nvrtc/lib)"
            ));
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let probe = std::panic::catch_unwind(|| {
            Tensor::<Cuda, 1>::from_floats([1.0, 2.0], device)
                .sum()
                .into_scalar()
        });
        std::panic::set_hook(previous);
        match probe {
            Ok(sum) if sum == 3.0 => Ok(()),
            Ok(sum) => Err(anyhow!("the CUDA device computed 1 + 2 = {sum}")),
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown reason");
                Err(anyhow!(
                    "CUDA device {} failed a first computation: {reason}",
                    device.index
                ))
            }
        }
    }
}

#[cfg(not(feature = "cuda"))]
mod cuda {
    use super::OnBackend;

    pub fn run_on_gpu<J: OnBackend>(
        _job: J,
        _precision: lmc_bert::Precision,
        _ordinal: usize,
    ) -> anyhow::Result<J::Output> {
        Err(built_without_cuda())
    }

    pub fn check_gpu(_precision: lmc_bert::Precision, _ordinal: usize) -> anyhow::Result<()> {
        Err(built_without_cuda())
    }

    fn built_without_cuda() -> anyhow::Error {
        anyhow::anyhow!(
            "this lmc was built without CUDA; build one with `cargo xtask build-gpu` (or \
             `cargo build --profile optimized -p lmc-cli --features cuda`)"
        )
    }
}
