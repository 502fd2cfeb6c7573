"""PyTorch + transformers baseline for `cargo xtask bench model` and `lmc bench`.

Same workload as lmc_train::throughput (crates/train/src/throughput.rs): a randomly initialised
BertForSequenceClassification of the given configuration, 3 labels, batch 32 of full-length
random token ids, inference (eval, inference_mode) and training steps (forward, backward,
global-norm clipping at 1.0, AdamW step), timed after one warm-up step, each ending with a
value read back to the host. With `--batches FILE…` (written by lmc's throughput bench), it then
times one training step per real batch of each file, each padded to its longest row as lmc pads
it, after a warm-up step on the first batch. Prints one JSON line per case.

    python3 bert_throughput.py --config all-MiniLM-L6-v2/config.json            # CPU, 2 threads
    python3 bert_throughput.py --config bert-base --device cuda --seq 128        # a GPU
"""
import argparse
import json
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

BATCH = 32


def make_batch(seq, generator, device):
    ids = torch.randint(1000, 29000, (BATCH, seq), generator=generator)
    ids[:, 0] = 101
    ids[:, -1] = 102
    types = (torch.arange(seq) >= seq // 2).long().expand(BATCH, seq).contiguous()
    mask = torch.ones(BATCH, seq, dtype=torch.long)
    labels = torch.arange(BATCH) % 3
    return tuple(t.to(device) for t in (ids, types, mask, labels))


def report(mode, seq, steps, seconds, threads, model_name, device):
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__} eager ({device})",
        "model": model_name,
        "mode": mode, "batch": BATCH, "seq_len": seq, "threads": threads,
        "steps": steps, "seconds": seconds, "examples_per_s": steps * BATCH / seconds,
    }), flush=True)


def padded(batch, device):
    """Tensors of one real batch, padded with id 0, type 0 and mask 0 to its longest row."""
    rows = batch["input_ids"]
    width = max(len(row) for row in rows)
    pad = lambda values: [row + [0] * (width - len(row)) for row in values]
    ids = torch.tensor(pad(rows))
    types = torch.tensor(pad(batch["token_type_ids"]))
    mask = torch.tensor(pad([[1] * len(row) for row in rows]))
    labels = torch.tensor(batch["labels"])
    return tuple(t.to(device) for t in (ids, types, mask, labels))


def training_step(config, device):
    """A fresh model in training mode and its update: forward with labels, backward, global-norm
    clipping at 1.0, AdamW (lmc's recipe constants); returns the loss as a Python float."""
    model = BertForSequenceClassification(config).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, eps=1e-6, weight_decay=0.01)

    def step(ids, types, mask, labels):
        loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()

    return step


def time_real_batches(path, config, threads, device):
    with open(path) as file:
        data = json.load(file)
    batches = [padded(batch, device) for batch in data["batches"]]
    step = training_step(config, device)
    step(*batches[0])
    start = time.perf_counter()
    for batch in batches:
        step(*batch)
    seconds = time.perf_counter() - start
    examples = sum(len(batch[3]) for batch in batches)
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__} eager ({device})",
        "mode": "train", "task": data["task"], "threads": threads,
        "batches": len(batches), "examples": examples,
        "tokens": sum(int(batch[2].sum()) for batch in batches),
        "padded_tokens": sum(batch[2].numel() for batch in batches),
        "seconds": seconds, "examples_per_s": examples / seconds,
    }), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True,
                        help="a config.json, or `minilm-l6` / `bert-base` for the shape of "
                             "all-MiniLM-L6-v2 / bert-base-uncased (as `lmc bench --config`)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--seq", type=int, nargs="*", default=[128, 32])
    parser.add_argument("--batches", nargs="*", default=[],
                        help="JSON files of real batches written by lmc's throughput bench")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.config == "bert-base":
        config, model_name = BertConfig(), "bert-base"
    elif args.config == "minilm-l6":
        config = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                            intermediate_size=1536)
        model_name = "minilm-l6"
    else:
        config, model_name = BertConfig.from_json_file(args.config), "all-MiniLM-L6-v2 architecture"
    config.num_labels = 3
    generator = torch.Generator().manual_seed(1)
    for seq in args.seq:
        ids, types, mask, labels = make_batch(seq, generator, args.device)
        model = BertForSequenceClassification(config).to(args.device).eval()
        with torch.inference_mode():
            model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            start = time.perf_counter()
            for _ in range(args.steps * 2):
                model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits.sum().item()
            report("inference", seq, args.steps * 2, time.perf_counter() - start, args.threads,
                   model_name, args.device)

        step = training_step(config, args.device)
        step(ids, types, mask, labels)
        start = time.perf_counter()
        for _ in range(args.steps):
            step(ids, types, mask, labels)
        report("train", seq, args.steps, time.perf_counter() - start, args.threads,
               model_name, args.device)

    for path in args.batches:
        time_real_batches(path, config, args.threads, args.device)


if __name__ == "__main__":
    main()
