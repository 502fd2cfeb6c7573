"""Compares the per-update training loss and gradient norm of the one run in each of two
population folders (`lmc finetune --out A` and `--out B`, e.g. the same run on the CPU and on a
GPU).

    python3 compare_losses.py POPULATION_A POPULATION_B [--tolerance 1e-3] [--norm-tolerance 1e-2]

Prints both columns and exits with status 1 when a loss differs by more than the tolerance
(absolute, in nats) or a gradient norm by more than the norm tolerance (relative).
"""
import argparse
import csv
import pathlib
import sys


def losses(population):
    runs = [p for p in pathlib.Path(population).iterdir() if (p / "metrics.csv").is_file()]
    if len(runs) != 1:
        sys.exit(f"{population}: expected one run with a metrics.csv, found {len(runs)}")
    with open(runs[0] / "metrics.csv", newline="") as f:
        return [(int(row["step"]), float(row["loss"]), float(row["grad_norm"]))
                for row in csv.DictReader(f)]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-3)
    parser.add_argument("--norm-tolerance", type=float, default=1e-2)
    args = parser.parse_args()
    a, b = losses(args.a), losses(args.b)
    if [row[0] for row in a] != [row[0] for row in b]:
        sys.exit(f"the runs have different updates: {len(a)} vs {len(b)}")
    worst_loss = worst_norm = 0.0
    for (step, loss_a, norm_a), (_, loss_b, norm_b) in zip(a, b):
        loss_diff = abs(loss_a - loss_b)
        norm_diff = abs(norm_a - norm_b) / max(abs(norm_a), 1e-12)
        worst_loss, worst_norm = max(worst_loss, loss_diff), max(worst_norm, norm_diff)
        print(f"update {step}: loss {loss_a:.6f} {loss_b:.6f} |diff| {loss_diff:.2e}; "
              f"grad norm {norm_a:.6f} {norm_b:.6f} rel. diff {norm_diff:.2e}")
    ok = worst_loss <= args.tolerance and worst_norm <= args.norm_tolerance
    print(f"{'agree' if ok else 'DIFFER'}: largest loss difference {worst_loss:.2e} "
          f"(tolerance {args.tolerance:g}), largest relative grad-norm difference "
          f"{worst_norm:.2e} (tolerance {args.norm_tolerance:g})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
