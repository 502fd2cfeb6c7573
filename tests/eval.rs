//! `lmc eval`: one row per example with the MNLI → HANS collapse, HANS cells on stdout, and data
//! files given by path.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::backend::Flex;
use lmc_bert::{BertConfig, BertInput, random_classifier, save_classifier};
use lmc_data::{
    BatchOrder, BatchPlan, DatasetFormat, HansFilter, Logits, NliLabelOrder, PairTokenizer, Subset,
    collapse_nli_logits_to_hans,
};
use lmc_sweep::read_parquet;

#[path = "transformers/python.rs"]
mod transformers_reference;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn tiny_mnli_model(dir: &Path) -> lmc_bert::BertClassifier<Flex> {
    let cache = lmc_bert::pretrained::default_cache_dir().expect("set LMC_CACHE_DIR or HOME");
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache).unwrap();
    let config = BertConfig {
        max_position_embeddings: 128,
        ..BertConfig::sized(30522, 32, 2, 2, 64)
    };
    let model = random_classifier::<Flex>(&config, 3, 7, &Default::default());
    let labels = ["entailment", "neutral", "contradiction"].map(String::from);
    save_classifier(&model, &config, &labels, dir).unwrap();
    lmc_bert::copy_tokenizer_files(&minilm, dir).unwrap();
    model
}

/// Runs `lmc eval --task mnli --model MODEL --out OUT` with `args`; fails the test with its
/// stderr when it fails, else returns its stdout.
fn lmc_eval(model: &Path, out: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(["eval", "--task", "mnli", "--model"])
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn hans_rows_carry_collapsed_logits_and_stdout_the_six_cells() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    let model = tiny_mnli_model(&model_dir);
    let out = dir.path().join("preds.parquet");
    let data = data_dir().display().to_string();
    let stdout = lmc_eval(
        &model_dir,
        &out,
        &["--set", "hans", "--subset", "90", "--data-dir", &data],
    );
    assert!(stdout.contains("accuracy "), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("hans ")).count(),
        6,
        "{stdout}"
    );

    let df = read_parquet(&out).unwrap();
    assert_eq!(df.height(), 90);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "index",
            "label",
            "prediction",
            "loss",
            "logit_0",
            "logit_1",
            "heuristic",
            "subcase"
        ]
    );

    // The same 90 examples, evaluated by hand: raw MNLI logits, then the collapse.
    let hans = DatasetFormat::Hans
        .load(&data_dir().join("hans/heuristics_evaluation_set.regenerated.txt"))
        .unwrap()
        .filter_hans(&HansFilter::default())
        .unwrap()
        .subset(Subset::ShuffledFirst {
            seed: lmc_data::task::HANS_SUBSET_SEED,
            count: 90,
        })
        .unwrap();
    let tokenized = PairTokenizer::from_model_dir(&model_dir, 128)
        .unwrap()
        .encode_dataset(&hans)
        .unwrap();
    let plan = BatchPlan::new(&tokenized, 90, BatchOrder::Sequential).unwrap();
    let batch = plan
        .tensors::<Flex>(&tokenized, &Default::default())
        .next()
        .unwrap()
        .unwrap();
    let raw = model.forward(BertInput {
        input_ids: batch.input_ids,
        token_type_ids: batch.token_type_ids,
        attention_mask: batch.attention_mask,
    });
    let expected =
        collapse_nli_logits_to_hans(&Logits::from_tensor(raw).unwrap(), NliLabelOrder::GLUE)
            .unwrap();
    let column = |name: &str| -> Vec<f32> {
        let c = df.column(name).unwrap();
        c.f32().unwrap().into_no_null_iter().collect()
    };
    let (l0, l1) = (column("logit_0"), column("logit_1"));
    for (i, row) in expected.rows().enumerate() {
        assert!(
            (row[0] - l0[i]).abs() < 1e-4 && (row[1] - l1[i]).abs() < 1e-4,
            "row {i}"
        );
    }
    let index: Vec<u32> = df
        .column("index")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let expected_index: Vec<u32> = hans.examples.iter().map(|e| e.index as u32).collect();
    assert_eq!(index, expected_index);
}

#[test]
fn a_data_file_given_by_path_is_scored_with_its_task_set() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    tiny_mnli_model(&model_dir);
    let file = data_dir().join("glue/MNLI/dev_mismatched.sample_1k.tsv");
    let out = dir.path().join("mm.parquet");
    lmc_eval(
        &model_dir,
        &out,
        &["--set", &format!("{}:25", file.display())],
    );
    let df = read_parquet(&out).unwrap();
    assert_eq!(df.height(), 25);
    assert!(df.column("logit_2").is_ok() && df.column("heuristic").is_err());

    let missing = Command::new(env!("CARGO_BIN_EXE_lmc"))
        .args(["eval", "--task", "mnli", "--set", "nope", "--model"])
        .arg(&model_dir)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("`nope`"),
        "{stderr}"
    );
}

#[test]
fn empty_and_non_utf8_files_and_a_file_in_the_output_path_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    tiny_mnli_model(&model_dir);
    let eval = |set: &Path, out: Option<&Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lmc"));
        command
            .args(["eval", "--task", "mnli", "--model"])
            .arg(&model_dir)
            .arg("--set")
            .arg(set);
        if let Some(out) = out {
            command.arg("--out").arg(out);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };

    let empty = dir.path().join("empty.tsv");
    std::fs::write(&empty, "").unwrap();
    let stderr = eval(&empty, None);
    assert!(
        stderr.contains(&format!("{}: the file is empty", empty.display())),
        "{stderr}"
    );

    let latin1 = dir.path().join("latin1.tsv");
    std::fs::write(
        &latin1,
        b"index\tsentence1\tsentence2\tgold_label\n0\tcaf\xe9\tok\tneutral\n",
    )
    .unwrap();
    let stderr = eval(&latin1, None);
    assert!(
        stderr.contains(&format!("{}:2: invalid UTF-8", latin1.display())),
        "{stderr}"
    );

    let file = dir.path().join("results");
    std::fs::write(&file, "a file").unwrap();
    let set = data_dir().join("glue/MNLI/dev_mismatched.sample_1k.tsv");
    let stderr = eval(&set, Some(&file.join("x.parquet")));
    assert!(
        stderr.contains(&format!("{} is a file, not a directory", file.display())),
        "{stderr}"
    );
}

/// all-MiniLM-L6-v2 with a fixed head on 48 MNLI pairs, beside transformers on the same CPU: in f32
/// within 1e-4 of transformers fp32; in bf16 mixed precision no further from transformers fp32
/// than transformers' own bf16 autocast is (with a quarter's allowance: the two round at
/// different points).
#[test]
fn f32_and_bf16_logits_sit_where_transformers_own_runs_do() {
    let Some(python) = transformers_reference::python_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    transformers_reference::minilm_classifier(&model, 7, 0.2);
    let pairs = dir.path().join("pairs.tsv");
    transformers_reference::mnli_pairs(&data_dir(), 48, &pairs);
    let pairs_arg = pairs.display().to_string();
    let lmc = |precision: &str| {
        let out = dir.path().join(format!("{precision}.parquet"));
        lmc_eval(
            &model,
            &out,
            &[
                "--backend",
                "cpu",
                "--precision",
                precision,
                "--set",
                &pairs_arg,
            ],
        );
        transformers_reference::lmc_logits(&out)
    };
    let (fp32, versions) =
        transformers_reference::transformers_logits(&python, &model, &pairs, "f32");
    let (bf16, _) = transformers_reference::transformers_logits(&python, &model, &pairs, "bf16");
    let lmc_f32 = transformers_reference::difference(&lmc("f32"), &fp32);
    let lmc_bf16 = transformers_reference::difference(&lmc("bf16"), &fp32);
    let own_bf16 = transformers_reference::difference(&bf16, &fp32);
    eprintln!(
        "{versions}, 48 pairs, largest |logit| {:.3}; |Δ| to transformers fp32 (largest, mean): \
         lmc f32 {:.2e} {:.2e}, lmc bf16 {:.2e} {:.2e}, transformers bf16 {:.2e} {:.2e}",
        lmc_f32.scale,
        lmc_f32.largest,
        lmc_f32.mean,
        lmc_bf16.largest,
        lmc_bf16.mean,
        own_bf16.largest,
        own_bf16.mean
    );
    assert!(lmc_f32.scale > 0.1, "the logits say nothing: {lmc_f32:?}");
    assert!(lmc_f32.largest <= 1e-4, "f32: {lmc_f32:?}");
    assert!(
        lmc_bf16.mean <= 1.25 * own_bf16.mean,
        "bf16: lmc {lmc_bf16:?}, transformers' own {own_bf16:?}"
    );
}
