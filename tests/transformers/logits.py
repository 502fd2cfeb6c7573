"""transformers' CPU logits of a sequence-pair classifier on the pairs of an MNLI-format TSV (a
header, then premise and hypothesis in columns 1 and 2, as GLUE's MNLI files and
dev_matched.reconstructed.tsv have them), for the tests of tests/transformers/python.rs.

    python logits.py MODEL_DIR PAIRS_TSV [f32|bf16]

f32 (the default) runs the model in fp32; bf16 in fp32 under torch's bf16 autocast.
prints one JSON object: {"logits": [[...], ...], "torch": VERSION, "transformers": VERSION}.
The inputs are tokenised by the model directory's own tokenizer, truncated at 128 tokens, as
`lmc eval --max-length 128` does.
"""
import csv
import json
import sys

import torch
import transformers
from transformers import AutoTokenizer, BertForSequenceClassification

MAX_LENGTH = 128


def main():
    model_dir, pairs_path = sys.argv[1:3]
    precision = sys.argv[3] if len(sys.argv) > 3 else "f32"
    if precision not in ("f32", "bf16"):
        sys.exit(f"precision {precision}: f32 or bf16")
    with open(pairs_path, newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = BertForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32).eval()
    encoded = tokenizer([row[1] for row in rows], [row[2] for row in rows], truncation=True,
                        max_length=MAX_LENGTH, padding=True, return_tensors="pt")
    with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16"):
        logits = model(**encoded).logits.float()
    print(json.dumps({"logits": logits.double().tolist(), "torch": torch.__version__,
                      "transformers": transformers.__version__}))


if __name__ == "__main__":
    main()
