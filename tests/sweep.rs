//! `lmc sweep` end to end on tiny random models and real MNLI/HANS examples: the sweep's numbers
//! equal evaluating interpolated checkpoints written to disk; endpoints are evaluated once per
//! model; shards and a killed-then-resumed run give the unsharded tables; the tables are the
//! ones lmc-analysis reads.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use burn::backend::Flex;
use lmc_analysis::{EndpointsTable, HansTable, PairsTable, schema};
use lmc_bert::{BertConfig, random_classifier, save_classifier};
use lmc_data::{DataDirSearch, TaskName};
use lmc_sweep::{
    EvalSet, MergeOutcome, ModelRef, PreparedSweep, SetRequest, Shard, SweepSpec, discover_models,
    evaluate, load_model, read_endpoints, read_pairs,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn minilm() -> PathBuf {
    let cache = lmc_bert::pretrained::default_cache_dir()
        .expect("no cache directory: set LMC_CACHE_DIR or HOME");
    lmc_bert::pretrained::ensure_minilm(&cache).unwrap()
}

fn config() -> BertConfig {
    BertConfig {
        max_position_embeddings: 128,
        ..BertConfig::sized(30522, 32, 2, 2, 64)
    }
}

/// A population `<pop>/run-<i>/model/` of `n` tiny MNLI models named `seed<i>` by `run.json`,
/// plus one unfinished run; `steps` intermediate checkpoints per run.
fn population(pop: &Path, n: usize, steps: &[u64]) {
    let labels: Vec<String> = ["entailment", "neutral", "contradiction"]
        .map(String::from)
        .to_vec();
    let tokenizer = minilm();
    let device = Default::default();
    for i in 0..n {
        let run = pop.join(format!("run-{i}"));
        let model = random_classifier::<Flex>(&config(), 3, 100 + i as u64, &device);
        save_classifier(&model, &config(), &labels, &run.join("model")).unwrap();
        lmc_bert::copy_tokenizer_files(&tokenizer, &run.join("model")).unwrap();
        std::fs::write(run.join("run.json"), format!("{{\"name\": \"seed{i}\"}}")).unwrap();
        for step in steps {
            let early = random_classifier::<Flex>(&config(), 3, 1000 * step + i as u64, &device);
            save_classifier(
                &early,
                &config(),
                &labels,
                &run.join(format!("checkpoints/step-{step}")),
            )
            .unwrap();
        }
    }
    std::fs::create_dir_all(pop.join("run-unfinished/checkpoints")).unwrap();
}

fn lmc(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "lmc {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn sweep_args<'a>(pop: &'a str, out: &'a str, data: &'a str, alphas: &'a str) -> Vec<&'a str> {
    vec![
        "sweep",
        "--task",
        "mnli",
        "--models",
        pop,
        "--out",
        out,
        "--data-dir",
        data,
        "--alphas",
        alphas,
        "--sets",
        "id:12,ood:10",
        "--full-sets",
        "hans:60",
        "--batch-size",
        "8",
    ]
}

fn spec(models: Vec<ModelRef>, alphas: Vec<f64>) -> SweepSpec {
    SweepSpec {
        task: TaskName::Mnli,
        pairs: SweepSpec::all_pairs(&models),
        models,
        alphas,
        sets: SetRequest::parse_list("id:12,ood:10").unwrap(),
        full_sets: SetRequest::parse_list("hans:60").unwrap(),
        batch_size: 8,
        max_length: 128,
        precision: lmc_bert::Precision::F32,
        label_order: None,
    }
}

#[test]
fn sweep_equals_evaluating_interpolated_checkpoints_loaded_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop");
    population(&pop, 3, &[]);
    let discovery = discover_models(std::slice::from_ref(&pop)).unwrap();
    assert_eq!(discovery.skipped.len(), 1, "the unfinished run is skipped");
    let names: Vec<&str> = discovery.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["seed0", "seed1", "seed2"]);
    let runs: Vec<PathBuf> = discovery
        .models
        .iter()
        .filter_map(|m| m.run_dir.clone())
        .collect();
    let one_by_one = discover_models(&runs).unwrap();
    assert_eq!(
        one_by_one.models, discovery.models,
        "run directories given one by one are the same models"
    );
    let alphas = vec![-0.25, 0.0, 0.4, 1.0, 1.5];
    let search = DataDirSearch::only(data_dir());
    let sweep =
        PreparedSweep::new(spec(discovery.models.clone(), alphas.clone()), &search).unwrap();
    let out = dir.path().join("results");
    let device = Default::default();
    let summary = sweep
        .run::<Flex>(&out, Shard::ALL, None, &device, &mut |_| {})
        .unwrap();
    // Endpoint reuse: each model once per set (2 path sets + 1 full set), then only interior points.
    assert_eq!(summary.endpoint_evaluations, 3 * 3);
    assert_eq!(summary.path_evaluations, 3 * 3 * 2);
    assert!(matches!(summary.merge, Some(MergeOutcome::Complete { .. })));

    let (rows, _) = read_pairs(&out.join(schema::PAIRS_FILE)).unwrap();
    assert_eq!(rows.len(), 3 * 2 * alphas.len());
    let endpoints = read_endpoints(&out.join(schema::ENDPOINTS_FILE)).unwrap();
    for row in &rows {
        let a = &discovery.models[names.iter().position(|n| *n == row.model_a).unwrap()];
        let b = &discovery.models[names.iter().position(|n| *n == row.model_b).unwrap()];
        let merged = dir
            .path()
            .join(format!("{}-{}-{}", a.name, b.name, row.alpha_index));
        if !merged.exists() {
            lmc_interp::merge_checkpoints(&a.dir, &b.dir, row.alpha as f32, &merged).unwrap();
        }
        let model = load_model::<Flex>(
            &ModelRef {
                name: "merged".into(),
                dir: merged,
                run_dir: None,
            },
            lmc_bert::Precision::F32,
            &device,
        )
        .unwrap();
        let set: &EvalSet = sweep.sets.iter().find(|s| s.label == row.set).unwrap();
        let separate = evaluate(&model, set, &device).unwrap();
        assert!(
            (separate.scores.mean_loss - row.loss).abs() < 1e-4,
            "{row:?}: loss {} evaluated separately",
            separate.scores.mean_loss
        );
        assert!(
            (separate.scores.accuracy - row.accuracy).abs() < 1e-9,
            "{row:?}"
        );
        if row.alpha == 0.0 || row.alpha == 1.0 {
            let model = if row.alpha == 0.0 {
                &row.model_a
            } else {
                &row.model_b
            };
            let e = endpoints
                .iter()
                .find(|e| &e.model == model && e.set == row.set)
                .unwrap();
            assert_eq!((e.loss, e.accuracy), (row.loss, row.accuracy));
        }
    }

    // The tables are what lmc-analysis reads.
    let pairs = PairsTable::read(&out.join(schema::PAIRS_FILE)).unwrap();
    assert_eq!(pairs.sets(), ["id", "ood"]);
    let endpoints = EndpointsTable::read(&out.join(schema::ENDPOINTS_FILE)).unwrap();
    assert_eq!(endpoints.models("ood"), names);
    let hans = HansTable::read(&out.join(schema::HANS_CELLS_FILE)).unwrap();
    assert_eq!(hans.cells("seed1").unwrap().len(), 6);
    for file in ["distances.parquet", "full_endpoints.parquet", "sweep.json"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    for set in ["id", "ood", "full-hans"] {
        assert!(
            out.join(format!("logits/seed0/{set}.parquet")).is_file(),
            "{set}"
        );
    }

    // A second run finds everything stored and evaluates nothing.
    let again = sweep
        .run::<Flex>(&out, Shard::ALL, None, &device, &mut |_| {})
        .unwrap();
    assert_eq!((again.endpoint_evaluations, again.path_evaluations), (0, 0));
    assert_eq!(again.pairs_skipped, 3);
}

fn tables(out: &Path) -> Vec<Vec<u8>> {
    // Compare the decoded rows, not the bytes: Parquet metadata may differ between writers.
    let (pairs, _) = read_pairs(&out.join(schema::PAIRS_FILE)).unwrap();
    let endpoints = read_endpoints(&out.join(schema::ENDPOINTS_FILE)).unwrap();
    vec![
        format!("{pairs:?}").into_bytes(),
        format!("{endpoints:?}").into_bytes(),
    ]
}

#[test]
fn shards_in_parallel_processes_give_the_unsharded_tables() {
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop");
    population(&pop, 4, &[]);
    let (pop, data) = (pop.to_str().unwrap(), data_dir());
    let data = data.to_str().unwrap();
    let whole = dir.path().join("whole");
    lmc(&sweep_args(pop, whole.to_str().unwrap(), data, "4"));
    let sharded = dir.path().join("sharded");
    let children: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let mut args = sweep_args(pop, sharded.to_str().unwrap(), data, "4");
            args.extend(["--shard", &shard]);
            Command::new(env!("CARGO_BIN_EXE_lmc")).args(&args).output()
        })
        .collect();
    for child in children {
        let output = child.unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    lmc(&["sweep", "merge", "--out", sharded.to_str().unwrap()]);
    assert_eq!(tables(&whole), tables(&sharded));
}

#[test]
fn a_killed_sweep_restarted_with_the_same_command_matches_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop");
    population(&pop, 5, &[]);
    let (pop, data) = (pop.to_str().unwrap(), data_dir());
    let data = data.to_str().unwrap();
    let whole = dir.path().join("whole");
    let killed = dir.path().join("killed");
    let args = sweep_args(pop, killed.to_str().unwrap(), data, "12");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(&args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let parts = killed.join("parts");
    let stored = |parts: &Path| {
        std::fs::read_dir(parts).map_or(0, |entries| {
            entries
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("pair-"))
                })
                .count()
        })
    };
    let start = Instant::now();
    while stored(&parts) < 2 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no pair stored in 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = stored(&parts);
    assert!(before < 10, "killed before the end");
    assert!(
        !killed.join(schema::PAIRS_FILE).exists(),
        "no merged table from a partial sweep"
    );
    let rerun = lmc(&args);
    let stdout = String::from_utf8_lossy(&rerun.stdout);
    assert!(
        stdout.contains(&format!("{before} already stored")),
        "{stdout}"
    );
    lmc(&sweep_args(pop, whole.to_str().unwrap(), data, "12"));
    assert_eq!(tables(&whole), tables(&killed));
}

#[test]
fn checkpoints_dry_run_slurm_and_a_changed_plan() {
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop");
    population(&pop, 3, &[10, 20]);
    let (pop, data) = (pop.to_str().unwrap(), data_dir());
    let data = data.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();

    let mut args = sweep_args(pop, out, data, "3");
    args.push("--dry-run");
    let plan = String::from_utf8_lossy(&lmc(&args).stdout).into_owned();
    assert!(
        plan.contains("3 models") && plan.contains("pairs: 3 in this shard"),
        "{plan}"
    );
    assert!(
        !Path::new(out).join("parts").exists(),
        "a dry run evaluates nothing"
    );

    let mut args = sweep_args(pop, out, data, "3");
    args.extend([
        "--pairs",
        "seed0:seed2",
        "--checkpoints",
        "--full-sets",
        "none",
    ]);
    args.retain(|a| *a != "hans:60");
    let position = args.iter().position(|a| *a == "--full-sets").unwrap();
    args.remove(position);
    lmc(&args);
    for step in ["", "checkpoints/step-10/", "checkpoints/step-20/"] {
        let pairs = PairsTable::read(&Path::new(out).join(format!("{step}pairs.parquet"))).unwrap();
        assert_eq!(pairs.models("id"), ["seed0", "seed2"], "{step}");
    }

    let changed = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(sweep_args(pop, out, data, "5"))
        .output()
        .unwrap();
    assert!(!changed.status.success());
    let stderr = String::from_utf8_lossy(&changed.stderr);
    assert!(
        stderr.contains("different sweep") && stderr.contains("sweep.json"),
        "{stderr}"
    );

    let script = dir.path().join("sweep.sbatch");
    let mut args = vec![
        "sweep",
        "slurm",
        "--shards",
        "4",
        "--gpus",
        "0",
        "--script",
        script.to_str().unwrap(),
        "--log-dir",
    ];
    let logs = dir.path().join("logs");
    args.push(logs.to_str().unwrap());
    args.push("--");
    args.extend(sweep_args(pop, out, data, "10").into_iter().skip(1));
    lmc(&args);
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.contains("#SBATCH --array=0-3"), "{text}");
    assert!(
        text.contains("--shard \"${SLURM_ARRAY_TASK_ID}/4\""),
        "{text}"
    );
    assert!(!text.contains("--gres"), "{text}");
}

#[test]
fn a_second_sweep_of_the_same_shard_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop");
    population(&pop, 2, &[]);
    let models = discover_models(std::slice::from_ref(&pop)).unwrap().models;
    let out = dir.path().join("results");
    let results = lmc_sweep::ResultsDir::new(&out);
    let me = lmc_sweep::Holder::current();
    // A live process (this one) holds the whole sweep's lock, as a running `lmc sweep` would.
    let held = lmc_sweep::ShardLock::acquire(&results.shard_lock(Shard::ALL), &me).unwrap();
    let other = lmc_sweep::Holder {
        pid: me.pid + 1,
        ..me.clone()
    };
    let error = lmc_sweep::ShardLock::acquire(&results.shard_lock(Shard::ALL), &other)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("pid {} on {}", me.pid, me.host)),
        "{error}"
    );
    // Another shard of the same sweep is free.
    let shard = Shard { index: 1, count: 2 };
    drop(lmc_sweep::ShardLock::acquire(&results.shard_lock(shard), &other).unwrap());
    let sweep = PreparedSweep::new(
        spec(models, vec![0.0, 0.5, 1.0]),
        &DataDirSearch::only(data_dir()),
    )
    .unwrap();
    let refused = sweep
        .run::<Flex>(&out, Shard::ALL, None, &Default::default(), &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(refused.contains(&format!("pid {}", me.pid)), "{refused}");
    assert!(
        !out.join("pairs.parquet").exists(),
        "the refused sweep did no work"
    );
    drop(held);
    sweep
        .run::<Flex>(&out, Shard::ALL, None, &Default::default(), &mut |_| {})
        .unwrap();
    assert!(
        !results.shard_lock(Shard::ALL).exists(),
        "released when the sweep ends"
    );
}
