"""PyTorch + transformers baseline for `cargo xtask bench model`.

Same workload as crates/bert/benches/throughput.rs: a randomly initialised
BertForSequenceClassification with all-MiniLM-L6-v2's configuration, 3 labels, batch 32 of
full-length random token ids, inference (eval, no_grad) and training steps (forward, backward,
AdamW step), timed after one warm-up step. Prints one JSON line per case.
"""
import argparse
import json
import time

import torch
from transformers import BertConfig, BertForSequenceClassification

BATCH = 32


def make_batch(seq, generator):
    ids = torch.randint(1000, 29000, (BATCH, seq), generator=generator)
    ids[:, 0] = 101
    ids[:, -1] = 102
    types = (torch.arange(seq) >= seq // 2).long().expand(BATCH, seq).contiguous()
    mask = torch.ones(BATCH, seq, dtype=torch.long)
    labels = torch.arange(BATCH) % 3
    return ids, types, mask, labels


def report(mode, seq, steps, seconds, threads):
    print(json.dumps({
        "framework": f"PyTorch {torch.__version__} eager",
        "model": "all-MiniLM-L6-v2 architecture",
        "mode": mode, "batch": BATCH, "seq_len": seq, "threads": threads,
        "steps": steps, "seconds": seconds, "examples_per_s": steps * BATCH / seconds,
    }), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True, help="config.json of all-MiniLM-L6-v2")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = BertConfig.from_json_file(args.config)
    config.num_labels = 3
    generator = torch.Generator().manual_seed(1)
    for seq in (128, 32):
        ids, types, mask, labels = make_batch(seq, generator)
        model = BertForSequenceClassification(config).eval()
        with torch.inference_mode():
            model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            start = time.perf_counter()
            for _ in range(args.steps * 2):
                model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits.sum().item()
            report("inference", seq, args.steps * 2, time.perf_counter() - start, args.threads)

        model = BertForSequenceClassification(config).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, eps=1e-6, weight_decay=0.01)

        def step():
            loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss.item()

        step()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        report("train", seq, args.steps, time.perf_counter() - start, args.threads)


if __name__ == "__main__":
    main()
