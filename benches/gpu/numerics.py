"""CUDA numerics of lmc against transformers on the same inputs (benches/gpu/check.sh).

    python3 numerics.py head ENCODER_DIR OUT_DIR [SEED]
        all-MiniLM-L6-v2 (as prepare_models.py wrote it) with a seeded 3-class head (seed 7
        unless given), under BertForSequenceClassification's names, for `lmc eval` and
        transformers alike.
    python3 numerics.py compare HEAD_DIR PAIRS_TSV NAME=LMC_PARQUET...
        transformers' logits on the pairs in fp32 (strict), tf32 and bf16 autocast on CUDA, and
        the largest |Δ logit| of each run, lmc's (`lmc eval --out`) and transformers' own,
        against transformers fp32. Prints a Markdown table and one JSON line per run.

The issue's bar: lmc f32 within 1e-4 of transformers fp32; lmc tf32 and bf16 no further from
transformers fp32 than transformers' own tf32 and bf16 runs.

With NUMERICS_DEVICE=cpu, `compare` runs transformers on the CPU instead (fp32 and bf16
autocast; TF32 is a GPU format), for lmc's CPU runs.
"""
import csv
import json
import os
import shutil
import sys
from pathlib import Path

HEAD_SEED = 7
MAX_LENGTH = 128
DEVICE = os.environ.get("NUMERICS_DEVICE", "cuda")
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]


def head(encoder_dir, out, seed=HEAD_SEED):
    import numpy as np
    from safetensors.numpy import load_file, save_file

    encoder_dir, out = Path(encoder_dir), Path(out)
    tensors = {f"bert.{name}": value for name, value in load_file(encoder_dir / "model.safetensors").items()}
    config = json.loads((encoder_dir / "config.json").read_text())
    rng = np.random.default_rng(seed)
    hidden = config["hidden_size"]
    tensors["classifier.weight"] = (rng.standard_normal((3, hidden)) * 0.2).astype(np.float16)
    tensors["classifier.bias"] = (rng.standard_normal(3) * 0.1).astype(np.float16)
    config.update(
        architectures=["BertForSequenceClassification"],
        num_labels=3,
        id2label={"0": "entailment", "1": "neutral", "2": "contradiction"},
        label2id={"entailment": 0, "neutral": 1, "contradiction": 2},
    )
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "model.safetensors"))
    (out / "config.json").write_text(json.dumps(config, indent=2))
    for name in TOKENIZER_FILES:
        shutil.copy(encoder_dir / name, out / name)


def transformers_logits(head_dir, pairs, precision):
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    tf32 = precision != "f32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    tokenizer = AutoTokenizer.from_pretrained(head_dir)
    model = BertForSequenceClassification.from_pretrained(head_dir, torch_dtype=torch.float32)
    model = model.to(DEVICE).eval()
    encoded = tokenizer([p[0] for p in pairs], [p[1] for p in pairs], truncation=True,
                        max_length=MAX_LENGTH, padding=True, return_tensors="pt").to(DEVICE)
    with torch.inference_mode():
        if precision == "bf16":
            with torch.autocast(DEVICE, dtype=torch.bfloat16):
                logits = model(**encoded).logits
        else:
            logits = model(**encoded).logits
    return logits.float().cpu().numpy()


def compare(head_dir, pairs_path, runs):
    import numpy as np
    import pandas as pd
    import torch

    with open(pairs_path, newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    pairs = [(row[1], row[2]) for row in rows]
    reference = transformers_logits(head_dir, pairs, "f32")
    scale = float(np.abs(reference).max())
    results = {}
    for precision in ["tf32", "bf16"] if DEVICE == "cuda" else ["bf16"]:
        results[f"transformers {precision}"] = transformers_logits(head_dir, pairs, precision)
    for name, path in runs:
        frame = pd.read_parquet(path).sort_values("index")
        columns = sorted((c for c in frame.columns if c.startswith("logit_")),
                         key=lambda c: int(c.split("_")[1]))
        results[f"lmc {name}"] = frame[columns].to_numpy(dtype=np.float64)
    device = torch.cuda.get_device_name() if DEVICE == "cuda" else "CPU"
    print(f"{len(pairs)} MNLI pairs, {device}, torch {torch.__version__}; "
          f"largest |logit| of transformers fp32: {scale:.4f}")
    print("| run | max abs diff vs transformers fp32 | mean abs diff | same argmax |")
    print("|---|---|---|---|")
    for name, logits in results.items():
        if logits.shape != reference.shape:
            print(f"| {name} | shape {logits.shape} vs {reference.shape} | | |")
            continue
        diff = np.abs(logits - reference)
        agree = int((logits.argmax(1) == reference.argmax(1)).sum())
        print(f"| {name} | {diff.max():.3e} | {diff.mean():.3e} | {agree}/{len(pairs)} |")
        print(json.dumps({"numerics": name, "pairs": len(pairs), "max_abs_diff": float(diff.max()),
                          "mean_abs_diff": float(diff.mean()), "same_argmax": agree,
                          "reference_scale": scale}), flush=True)


def main():
    if sys.argv[1] == "head":
        head(sys.argv[2], sys.argv[3], *(int(seed) for seed in sys.argv[4:5]))
    elif sys.argv[1] == "compare":
        runs = [arg.split("=", 1) for arg in sys.argv[4:]]
        compare(sys.argv[2], sys.argv[3], runs)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
