//! `--backend cpu|cuda`: the burn backend a command computes on.
//!
//! Commands that run the model write their body once, generic over the backend, as an
//! [`OnBackend`] job; [`run_on`] picks the backend and its device. CUDA is compiled in only with
//! the `cuda` feature (`cargo xtask build-gpu`); without it `--backend cuda` is a clear error.

use burn::backend::Flex;
use burn::tensor::backend::Backend;
use clap::ValueEnum;

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

/// A command body that runs on any burn backend.
pub trait OnBackend {
    /// What the command returns.
    type Output;
    /// Runs the command on backend `B` and `device`.
    fn run<B: Backend>(self, device: B::Device) -> anyhow::Result<Self::Output>;
}

/// Runs `job` on the backend `choice` names.
///
/// # Errors
/// The job's error, or [`check`]'s.
pub fn run_on<J: OnBackend>(choice: BackendChoice, job: J) -> anyhow::Result<J::Output> {
    match choice {
        BackendChoice::Cpu => job.run::<Flex>(Default::default()),
        BackendChoice::Cuda => cuda::run_on_gpu(job),
    }
}

/// Checks that the backend `choice` names can run here, so that a command can stop before any
/// work (the CPU always can).
///
/// # Errors
/// For `cuda`: a binary built without the `cuda` feature, a machine where the CUDA driver or
/// NVRTC cannot be loaded, or a device that fails a first computation.
pub fn check(choice: BackendChoice) -> anyhow::Result<()> {
    match choice {
        BackendChoice::Cpu => Ok(()),
        BackendChoice::Cuda => cuda::check_gpu(),
    }
}

#[cfg(feature = "cuda")]
mod cuda {
    use anyhow::anyhow;
    use burn::backend::Cuda;
    use burn::backend::cuda::CudaDevice;
    use burn::tensor::Tensor;

    use super::OnBackend;

    /// Runs `job` on GPU 0, after checking that the driver loads and the device computes.
    pub fn run_on_gpu<J: OnBackend>(job: J) -> anyhow::Result<J::Output> {
        let device = CudaDevice::new(0);
        check_device(&device)?;
        job.run::<Cuda>(device)
    }

    /// Checks GPU 0 as [`run_on_gpu`] does.
    pub fn check_gpu() -> anyhow::Result<()> {
        check_device(&CudaDevice::new(0))
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
                Err(anyhow!("CUDA device 0 failed a first computation: {reason}"))
            }
        }
    }
}

#[cfg(not(feature = "cuda"))]
mod cuda {
    use super::OnBackend;

    pub fn run_on_gpu<J: OnBackend>(_job: J) -> anyhow::Result<J::Output> {
        Err(built_without_cuda())
    }

    pub fn check_gpu() -> anyhow::Result<()> {
        Err(built_without_cuda())
    }

    fn built_without_cuda() -> anyhow::Error {
        anyhow::anyhow!(
            "this lmc was built without CUDA; build one with `cargo xtask build-gpu` (or \
             `cargo build --profile optimized -p lmc-cli --features cuda`)"
        )
    }
}
