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

`--precision` matches `lmc bench --precision`: f32 (PyTorch's default, strict fp32 matmuls),
tf32 (TF32 matmuls) or bf16 (`torch.autocast(dtype=torch.bfloat16)` around forward and loss, f32
weights and optimizer). `--lerp` also times `torch.lerp` over all parameters of two models, as
`lmc bench --mode lerp` times lmc's on-device interpolation.
"""
import contextlib
import argparse
import json
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

BATCH = 32
PRECISION = "f32"


def set_precision(precision, device):
    """Matmul precision for the process, and the autocast context of forward passes."""
    global PRECISION
    PRECISION = precision
    tf32 = precision != "f32"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32


def autocast(device):
    if PRECISION == "bf16":
        return torch.autocast(device_type=device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def make_batch(seq, generator, device, batch=BATCH):
    ids = torch.randint(1000, 29000, (batch, seq), generator=generator)
    ids[:, 0] = 101
    ids[:, -1] = 102
    types = (torch.arange(seq) >= seq // 2).long().expand(batch, seq).contiguous()
    mask = torch.ones(batch, seq, dtype=torch.long)
    labels = torch.arange(batch) % 3
    return tuple(t.to(device) for t in (ids, types, mask, labels))


def report(mode, seq, steps, seconds, threads, model_name, device, batch=BATCH):
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__} eager ({device})",
        "model": model_name, "precision": PRECISION,
        "mode": mode, "batch": batch, "seq_len": seq, "threads": threads,
        "steps": steps, "seconds": seconds, "examples_per_s": steps * batch / seconds,
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
        with autocast(device):
            loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask,
                         labels=labels).loss
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


def time_lerp(config, steps, model_name, device):
    """torch.lerp over every parameter of two models, one kernel per tensor, as an interpolated
    model's weights are formed; every result is kept until the device has finished."""
    a = [p.detach() for p in BertForSequenceClassification(config).to(device).parameters()]
    b = [p.detach() for p in BertForSequenceClassification(config).to(device).parameters()]
    parameters = sum(p.numel() for p in a)
    [torch.lerp(x, y, 0.5) for x, y in zip(a, b)]
    torch.cuda.synchronize() if device == "cuda" else None
    start = time.perf_counter()
    kept = [[torch.lerp(x, y, 0.1 + 0.8 * i / steps) for x, y in zip(a, b)] for i in range(steps)]
    torch.cuda.synchronize() if device == "cuda" else None
    seconds = time.perf_counter() - start
    del kept
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__} eager ({device})", "model": model_name,
        "mode": "lerp", "parameters": parameters, "steps": steps, "seconds": seconds,
        "bytes_per_s": 12 * parameters * steps / seconds,
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
    parser.add_argument("--precision", choices=["f32", "tf32", "bf16"], default="f32")
    parser.add_argument("--batch", type=int, default=BATCH, help="examples per batch")
    parser.add_argument("--modes", nargs="*", default=["inference", "train"],
                        choices=["inference", "train"])
    parser.add_argument("--lerp", action="store_true",
                        help="also time torch.lerp over the parameters of two models")
    args = parser.parse_args()
    set_precision(args.precision, args.device)
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
        ids, types, mask, labels = make_batch(seq, generator, args.device, args.batch)
        if "inference" in args.modes:
            model = BertForSequenceClassification(config).to(args.device).eval()
            with torch.inference_mode(), autocast(args.device):
                model(input_ids=ids, token_type_ids=types, attention_mask=mask)
                start = time.perf_counter()
                for _ in range(args.steps * 2):
                    logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
                    logits.float().sum().item()
                report("inference", seq, args.steps * 2, time.perf_counter() - start,
                       args.threads, model_name, args.device, args.batch)
            del model

        if "train" in args.modes:
            step = training_step(config, args.device)
            step(ids, types, mask, labels)
            start = time.perf_counter()
            for _ in range(args.steps):
                step(ids, types, mask, labels)
            report("train", seq, args.steps, time.perf_counter() - start, args.threads,
                   model_name, args.device, args.batch)
            del step

    if args.lerp:
        time_lerp(config, args.steps, model_name, args.device)

    for path in args.batches:
        time_real_batches(path, config, args.threads, args.device)


if __name__ == "__main__":
    main()
