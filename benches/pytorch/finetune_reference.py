"""PyTorch + transformers reference fine-tuning for `cargo xtask agreement`.

Runs lmc's recipe (crates/train) in a plain PyTorch loop on the same examples, so that lmc's
in-domain metric can be compared with the reference stack's:

- data: the same files and the same selection as lmc-data / lmc-train. MNLI offline: the
  reconstructed validation_matched, whose first 1,000 rows of a SplitMix64 + Fisher-Yates shuffle
  (seed 2023) are held out for evaluation, the rest (in file order) are the train set. CoLA: the
  in-domain train file, evaluated on in_domain_dev. `--train-examples N` keeps the first N of
  the same shuffle (seed 2023) of the train set, as lmc's `train_examples`.
- model: BertForSequenceClassification from the checkpoint directory (new head N(0, 0.02)).
- recipe: AdamW (betas 0.9/0.999, eps 1e-6, weight decay 0.01 on matrices only), linear warm-up
  over ceil(warmup_ratio * total) updates then linear decay to 0, global gradient-norm clipping,
  dropout from config.json, pairs truncated longest_first to max_length, each batch padded to
  its longest row, a fresh shuffle of the train set every epoch.

Prints one JSON line per seed with the in-domain metric (accuracy for MNLI, Matthews
correlation for CoLA), and a final line with the mean.
"""
import argparse
import json
import math
import os
import time

import torch
from transformers import AutoTokenizer, BertForSequenceClassification

MASK64 = (1 << 64) - 1
OFFLINE_SPLIT_SEED = 2023
TRAIN_SUBSET_SEED = 2023
MNLI_LABELS = ["entailment", "neutral", "contradiction"]


class SplitMix64:
    """lmc-data's generator (crates/data/src/rng.rs), bit for bit."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, bound):
        threshold = ((1 << 64) - bound) % bound
        while True:
            draw = self.next_u64()
            if draw >= threshold:
                return draw % bound


def shuffled_indices(length, seed):
    order = list(range(length))
    rng = SplitMix64(seed)
    for i in range(length - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def read_cola(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 4:
                rows.append(((fields[3], None), int(fields[1])))
    return rows


def read_mnli(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        a, b, y = header.index("sentence1"), header.index("sentence2"), header.index("gold_label")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == len(header) and fields[y] in MNLI_LABELS:
                rows.append(((fields[a], fields[b]), MNLI_LABELS.index(fields[y])))
    return rows


def load_task(task, data_dir):
    if task == "cola":
        train = read_cola(os.path.join(data_dir, "glue/CoLA/in_domain_train.tsv"))
        evaluation = read_cola(os.path.join(data_dir, "glue/CoLA/in_domain_dev.tsv"))
        return train, evaluation, 2
    full = read_mnli(os.path.join(data_dir, "glue/MNLI/dev_matched.reconstructed.tsv"))
    order = shuffled_indices(len(full), OFFLINE_SPLIT_SEED)
    held_out, rest = sorted(order[:1000]), sorted(order[1000:])
    return [full[i] for i in rest], [full[i] for i in held_out], 3


def encode(tokenizer, rows, max_length):
    firsts = [r[0][0] for r in rows]
    seconds = [r[0][1] for r in rows]
    if all(s is None for s in seconds):
        enc = tokenizer(firsts, truncation=True, max_length=max_length)
    else:
        enc = tokenizer(firsts, seconds, truncation="longest_first", max_length=max_length)
    return [
        (enc["input_ids"][i], enc["token_type_ids"][i], rows[i][1]) for i in range(len(rows))
    ]


def collate(examples):
    width = max(len(e[0]) for e in examples)
    ids = torch.zeros(len(examples), width, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, (i, t, _) in enumerate(examples):
        ids[row, : len(i)] = torch.tensor(i)
        types[row, : len(t)] = torch.tensor(t)
        mask[row, : len(i)] = 1
    labels = torch.tensor([e[2] for e in examples])
    return ids, types, mask, labels


def matthews(predictions, labels):
    tp = sum(1 for p, y in zip(predictions, labels) if p == 1 and y == 1)
    tn = sum(1 for p, y in zip(predictions, labels) if p == 0 and y == 0)
    fp = sum(1 for p, y in zip(predictions, labels) if p == 1 and y == 0)
    fn = sum(1 for p, y in zip(predictions, labels) if p == 0 and y == 1)
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return 0.0 if denominator == 0 else (tp * tn - fp * fn) / denominator


def evaluate(model, examples, batch_size):
    model.eval()
    predictions = []
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            ids, types, mask, _ = collate(examples[start : start + batch_size])
            logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
            predictions.extend(logits.argmax(-1).tolist())
    return predictions


def finetune(args, seed, train, evaluation, num_labels):
    torch.manual_seed(seed)
    model = BertForSequenceClassification.from_pretrained(args.model_dir, num_labels=num_labels)
    matrices = [p for n, p in model.named_parameters() if p.dim() >= 2]
    others = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": matrices, "weight_decay": args.weight_decay},
            {"params": others, "weight_decay": 0.0},
        ],
        lr=args.learning_rate,
        betas=(0.9, 0.999),
        eps=1e-6,
    )
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = math.ceil(args.warmup_ratio * total)

    def lr_factor(step):
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    generator = torch.Generator().manual_seed(seed)
    started = time.time()
    losses = []
    for _ in range(args.epochs):
        model.train()
        order = torch.randperm(len(train), generator=generator).tolist()
        for start in range(0, len(order), args.batch_size):
            ids, types, mask, labels = collate([train[i] for i in order[start : start + args.batch_size]])
            loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss
            if not torch.isfinite(loss):
                raise SystemExit(f"seed {seed}: non-finite loss {loss.item()} at update {len(losses)}")
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
    seconds = time.time() - started
    predictions = evaluate(model, evaluation, args.batch_size)
    labels = [e[2] for e in evaluation]
    accuracy = sum(p == y for p, y in zip(predictions, labels)) / len(labels)
    metric = matthews(predictions, labels) if num_labels == 2 and args.task == "cola" else accuracy
    return {
        "framework": f"PyTorch {torch.__version__} + transformers",
        "task": args.task,
        "seed": seed,
        "metric_name": "matthews_correlation" if args.task == "cola" else "accuracy",
        "metric": metric,
        "accuracy": accuracy,
        "updates": total,
        "final_loss": sum(losses[-10:]) / len(losses[-10:]),
        "train_seconds": seconds,
        "train_examples_per_s": len(train) * args.epochs / seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["cola", "mnli"], required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--train-examples", type=int)
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--warmup-ratio", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train, evaluation, num_labels = load_task(args.task, args.data_dir)
    if args.train_examples is not None:
        order = shuffled_indices(len(train), TRAIN_SUBSET_SEED)
        train = [train[i] for i in order[: args.train_examples]]
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    train = encode(tokenizer, train, args.max_length)
    evaluation = encode(tokenizer, evaluation, args.max_length)
    metrics = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        result = finetune(args, seed, train, evaluation, num_labels)
        metrics.append(result["metric"])
        print(json.dumps(result), flush=True)
    print(json.dumps({"task": args.task, "mean_metric": sum(metrics) / len(metrics), "seeds": len(metrics)}))


if __name__ == "__main__":
    main()
