"""Models for the GPU checks (benches/gpu/check.sh), small enough to travel to a GPU machine
that takes 64 MiB in all: all-MiniLM-L6-v2 rounded to float16, with the word-embedding rows of
every token that the checks never feed set to zero, so that the file packs to a fraction of its
size. On the checks' inputs (CoLA's three files and the 48 MNLI pairs of `pairs48.tsv`) the model
computes exactly what the float16-rounded all-MiniLM-L6-v2 computes, and fine-tuning on CoLA
updates exactly the same weights: a row that is never looked up gets no gradient and changes
nothing. Needs numpy, safetensors and tokenizers.

    python3 benches/gpu/prepare_models.py MINILM_DIR DATA_DIR OUT_DIR

writes OUT_DIR/minilm (the encoder: `lmc finetune --model`, and the model lmc installs when
it is placed in the lmc cache) and OUT_DIR/pairs48.tsv (the first 48 rows of MNLI
validation_matched, in its own format). numerics.py adds the classifier head on the GPU machine.
"""
import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
from tokenizers import Tokenizer

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]
PAIRS = 48


def cola_sentences(data_dir):
    for name in ["in_domain_train.tsv", "in_domain_dev.tsv", "out_of_domain_dev.tsv"]:
        with open(data_dir / "glue" / "CoLA" / name, newline="") as file:
            for row in csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE):
                yield row[3]


def mnli_pairs(data_dir):
    path = data_dir / "glue" / "MNLI" / "dev_matched.reconstructed.tsv"
    with open(path, newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[0], rows[1 : PAIRS + 1]


def main():
    minilm, data_dir, out = (Path(arg) for arg in sys.argv[1:4])
    tokenizer = Tokenizer.from_file(str(minilm / "tokenizer.json"))
    used = set(range(0, 1000))  # [PAD], [unused…], [UNK], [CLS], [SEP], [MASK] and the rest below 1000
    for sentence in cola_sentences(data_dir):
        used.update(tokenizer.encode(sentence).ids)
    header, pairs = mnli_pairs(data_dir)
    for row in pairs:
        used.update(tokenizer.encode(row[1], row[2]).ids)

    tensors = load_file(str(minilm / "model.safetensors"))
    embeddings = tensors["embeddings.word_embeddings.weight"]
    keep = np.zeros(embeddings.shape[0], dtype=bool)
    keep[sorted(used)] = True
    embeddings = np.where(keep[:, None], embeddings, 0.0)
    tensors["embeddings.word_embeddings.weight"] = embeddings
    encoder = {
        name: value.astype(np.float16)
        for name, value in tensors.items()
        if value.dtype == np.float32
    }
    config = json.loads((minilm / "config.json").read_text())

    plain = out / "minilm"
    plain.mkdir(parents=True, exist_ok=True)
    save_file(encoder, str(plain / "model.safetensors"))
    (plain / "config.json").write_text(json.dumps(config, indent=2))
    for name in TOKENIZER_FILES:
        shutil.copy(minilm / name, plain / name)

    with open(out / "pairs48.tsv", "w") as file:
        for row in [header, *pairs]:
            file.write("\t".join(row) + "\n")
    print(f"{keep.sum()} of {len(keep)} word-embedding rows kept; wrote {plain}, "
          f"{out / 'pairs48.tsv'}")


if __name__ == "__main__":
    main()
