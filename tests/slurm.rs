//! `lmc slurm pipeline` against a real Slurm (tests/slurm/cluster.sh: Debian's Slurm 22.05, one
//! node on 127.0.0.1, docs/slurm-fixture.md): a smoke population and a 3-shard sweep submitted
//! as array jobs through the generated scripts and `submit.sh`, one sweep task cancelled while
//! it runs and requeued, then the merge, analysis and report. The population's weights and the
//! merged tables must equal, byte for byte, those of the same commands run here without Slurm.
//!
//! Runs when Slurm's daemons are installed and the test runs as root; otherwise it says why and
//! passes, unless `LMC_SLURM_TESTS=1` (CI), under which a missing Slurm is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Resources the fixture's node accepts (2 CPUs, no GPU).
#[rustfmt::skip]
const RESOURCES: [&str; 8] = ["--gpus", "0", "--cpus-per-task", "1", "--mem", "100M", "--time", "00:10:00"];
/// The population's seeds, here and on the cluster.
const SEEDS: &str = "3";
/// A shard takes a few seconds here (13 α points on all of CoLA's two dev sets, one thread), so
/// that the test finds it running.
#[rustfmt::skip]
const SWEEP: [&str; 10] = [
    "--task", "cola", "--alphas", "13", "--sets", "id:all,ood:all", "--full-sets", "id:100",
    "--max-length", "64",
];
#[rustfmt::skip]
const TERMINAL: [&str; 9] = [
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
    "DEADLINE", "PREEMPTED",
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn lmc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lmc"))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Why Slurm cannot run here, if it cannot.
fn missing_slurm() -> Option<String> {
    let installed = Command::new("slurmctld")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return Some("slurmctld is not installed (tests/slurm/install.sh installs it)".into());
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o).trim().to_owned());
    if uid.as_deref().ok() != Some("0") {
        return Some("the fixture's daemons and jobs run as root; this test does not".into());
    }
    None
}

/// A private cluster (`cluster.sh up`), brought down when dropped.
struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    fn up() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new(repository().join("tests/slurm/cluster.sh"))
            .arg("up")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "cluster.sh up failed:\n{}",
            text(&output)
        );
        Cluster { dir }
    }

    /// A Slurm client command of this cluster, without any `SLURM_*` variable of ours.
    fn client(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SLURM_") {
                command.env_remove(name);
            }
        }
        command.env("SLURM_CONF", self.dir.path().join("etc/slurm.conf"));
        command
    }

    fn run(&self, program: &str, args: &[&str]) -> String {
        let output = self.client(program).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {}:\n{}",
            args.join(" "),
            text(&output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `ID STATE` of a job and each of its array tasks, finished ones included.
    fn states(&self, job: &str) -> Vec<(String, String)> {
        let output = self
            .client("squeue")
            .args(["-h", "-r", "-t", "all", "-j", job, "-o", "%i %T"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(id, state)| (id.to_owned(), state.trim().to_owned()))
            .collect()
    }

    fn state(&self, task: &str) -> Option<String> {
        let job = task.split('_').next().unwrap();
        self.states(job)
            .into_iter()
            .find(|(id, _)| id == task)
            .map(|(_, state)| state)
    }

    fn finished(&self, job: &str) -> bool {
        let states = self.states(job);
        !states.is_empty()
            && states
                .iter()
                .all(|(_, state)| TERMINAL.contains(&state.as_str()))
    }

    /// What a failed wait prints: every job, the tasks' logs and slurmctld's log.
    fn diagnose(&self, jobs: &[&str], logs: &Path) -> String {
        let mut report = String::new();
        for job in jobs {
            report += &text(
                &self
                    .client("scontrol")
                    .args(["show", "job", job])
                    .output()
                    .unwrap(),
            );
        }
        for entry in std::fs::read_dir(logs).into_iter().flatten().flatten() {
            let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
            report += &format!("----- {}\n{log}", entry.path().display());
        }
        let controller = self.dir.path().join("log/slurmctld.log");
        let log = std::fs::read_to_string(&controller).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        report += &format!("----- {} (last 60 lines)\n", controller.display());
        for line in tail.iter().rev() {
            report += line;
            report += "\n";
        }
        report
    }

    /// Polls `done` until it holds; past `limit`, fails with [`Cluster::diagnose`].
    fn wait(
        &self,
        what: &str,
        limit: Duration,
        jobs: &[&str],
        logs: &Path,
        done: impl Fn() -> bool,
    ) {
        let deadline = Instant::now() + limit;
        while !done() {
            if Instant::now() > deadline {
                panic!(
                    "{what}: not within {limit:?}\n{}",
                    self.diagnose(jobs, logs)
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let output = Command::new(repository().join("tests/slurm/cluster.sh"))
            .arg("down")
            .arg(self.dir.path())
            .output();
        if let Ok(output) = output
            && !output.status.success()
        {
            eprintln!("cluster.sh down failed:\n{}", text(&output));
        }
    }
}

/// The run directories of a population (name → SHA-256 of the trained weights).
fn population(dir: &Path) -> Vec<(String, String)> {
    let mut runs: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().join("done.json").is_file())
        .map(|entry| {
            let weights = entry.path().join("model/model.safetensors");
            let digest = lmc_bert::pretrained::sha256_file(&weights).unwrap();
            (entry.file_name().to_string_lossy().into_owned(), digest)
        })
        .collect();
    runs.sort();
    runs
}

/// The merged tables of a results directory, by name.
fn tables(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut tables: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "parquet"))
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(entry.path()).unwrap())
        })
        .collect();
    tables.sort();
    tables
}

/// The population and the unsharded sweep, here.
fn run_locally(dir: &Path) -> Result<(), String> {
    let population = dir.join("population");
    let output = lmc()
        .args([
            "finetune", "--task", "cola", "--preset", "smoke", "--seeds", SEEDS,
        ])
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--out")
        .arg(&population)
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(format!("local lmc finetune:\n{}", text(&output)));
    }
    let output = lmc()
        .arg("sweep")
        .args(SWEEP)
        .arg("--models")
        .arg(&population)
        .arg("--data-dir")
        .arg(data_dir())
        .arg("--out")
        .arg(dir.join("results"))
        .output()
        .unwrap();
    if !output.status.success() {
        return Err(format!("local lmc sweep:\n{}", text(&output)));
    }
    Ok(())
}

#[test]
fn a_pipeline_on_slurm_with_a_requeued_shard_equals_the_local_run() {
    if let Some(reason) = missing_slurm() {
        if std::env::var("LMC_SLURM_TESTS").as_deref() == Ok("1") {
            panic!("LMC_SLURM_TESTS=1, but Slurm cannot run here: {reason}");
        }
        eprintln!("skipped: {reason} (LMC_SLURM_TESTS=1 makes this a failure)");
        return;
    }
    let start = Instant::now();
    let cluster = Cluster::up();
    let cluster_up = start.elapsed();
    let work = tempfile::tempdir().unwrap();
    let jobs = work.path().join("jobs");
    let logs = jobs.join("logs");

    let output = lmc()
        .current_dir(work.path())
        .args([
            "slurm", "pipeline", "--out", "jobs", "--seeds", SEEDS, "--shards", "3",
        ])
        .args(RESOURCES)
        .args([
            "--",
            "finetune",
            "--task",
            "cola",
            "--preset",
            "smoke",
            "--out",
            "population",
        ])
        .arg("--data-dir")
        .arg(data_dir())
        .args(["--", "sweep"])
        .args(SWEEP)
        .args(["--models", "population", "--out", "results", "--data-dir"])
        .arg(data_dir())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let sweep_script = std::fs::read_to_string(jobs.join("sweep.sbatch")).unwrap();
    assert!(
        sweep_script.contains("--no-merge --shard \"${SLURM_ARRAY_TASK_ID}/3\""),
        "{sweep_script}"
    );

    let submitted = cluster.run(jobs.join("submit.sh").to_str().unwrap(), &[]);
    let id = |stage: &str| {
        submitted
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{stage} ")))
            .unwrap_or_else(|| panic!("no `{stage}` line in submit.sh's output:\n{submitted}"))
            .to_owned()
    };
    let (finetune, sweep, merge) = (id("finetune"), id("sweep"), id("merge"));
    let all = [finetune.as_str(), sweep.as_str(), merge.as_str()];
    let submit = Instant::now();

    // The same work here, while the cluster's tasks wait for their turn.
    let local_dir = work.path().join("local");
    let local = {
        let dir = local_dir.clone();
        std::thread::spawn(move || run_locally(&dir))
    };

    let cancelled = format!("{sweep}_1");
    cluster.wait(
        "sweep task 1 running",
        Duration::from_secs(180),
        &all,
        &logs,
        || cluster.state(&cancelled).as_deref() == Some("RUNNING"),
    );
    let running = submit.elapsed();
    cluster.run("scancel", &[&cancelled]);
    cluster.wait(
        "sweep task 1 cancelled",
        Duration::from_secs(30),
        &all,
        &logs,
        || cluster.state(&cancelled).as_deref() == Some("CANCELLED"),
    );
    cluster.run("scontrol", &["requeue", &cancelled]);
    cluster.wait(
        "the merge job",
        Duration::from_secs(300),
        &all,
        &logs,
        || all.iter().all(|job| cluster.finished(job)),
    );
    let finished = submit.elapsed();
    for job in all {
        for (task, state) in cluster.states(job) {
            assert_eq!(
                state,
                "COMPLETED",
                "{task}\n{}",
                cluster.diagnose(&all, &logs)
            );
        }
    }
    local.join().unwrap().unwrap();
    let local_done = submit.elapsed();

    // The requeued task logged both attempts into its own file; no shard merged.
    let log = std::fs::read_to_string(logs.join(format!("lmc-sweep-{cancelled}.log"))).unwrap();
    assert!(
        log.contains("attempt 1 on") && log.contains("attempt 2 on"),
        "{log}"
    );
    for task in 0..3 {
        let log =
            std::fs::read_to_string(logs.join(format!("lmc-sweep-{sweep}_{task}.log"))).unwrap();
        assert!(
            log.contains("parts stored") && !log.contains("complete, wrote"),
            "{log}"
        );
    }
    assert!(jobs.join("analysis/analysis.json").is_file());
    assert!(jobs.join("report/report.html").is_file());

    let trained = population(&work.path().join("population"));
    assert_eq!(trained.len(), 3, "{trained:?}");
    assert_eq!(
        trained,
        population(&local_dir.join("population")),
        "the same run directories and weights"
    );
    let merged = tables(&work.path().join("results"));
    let names: Vec<&str> = merged.iter().map(|(name, _)| name.as_str()).collect();
    for table in [
        "pairs.parquet",
        "endpoints.parquet",
        "distances.parquet",
        "full_endpoints.parquet",
    ] {
        assert!(names.contains(&table), "{table} missing: {names:?}");
    }
    let expected = tables(&local_dir.join("results"));
    assert_eq!(
        merged.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        expected.iter().map(|(name, _)| name).collect::<Vec<_>>()
    );
    for ((name, bytes), (_, local_bytes)) in merged.iter().zip(&expected) {
        assert!(bytes == local_bytes, "{name} differs from the local run's");
    }
    eprintln!(
        "slurm test: cluster up {:.1} s; after submission: sweep task running {:.1} s, every job \
         done {:.1} s, local run done {:.1} s; whole test {:.1} s",
        cluster_up.as_secs_f64(),
        running.as_secs_f64(),
        finished.as_secs_f64(),
        local_done.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
}
