#!/usr/bin/env python3
"""One table from `trainer bench --json` and `anchor_diffrax.py --json` files
taken in the same run (bench/compare.sh): figures as min-max over the
rounds, ratios diffrax / nagode (above 1: nagode faster), and the goals of
issue 13. Standard library only."""

from __future__ import annotations

import argparse
import json

# diffrax's trajectories have 64 steps (the anchor's data); nagode's rows
# carry their own step counts.
DIFFRAX_STEPS = 64
DIFFRAX_BATCH = 256


def load(paths):
    return [json.load(open(p)) for p in paths]


def nagode_figures(run):
    """name -> value for one `trainer bench --json` report."""
    f = {}
    for r in run["training"]:
        f[f"train {r['solver']}"] = r["fused_ms"]
    for r in run["inference"]:
        f[f"one {r['model']}"] = r["runtime_us"] / r["steps"]
        f[f"host {r['model']}"] = r["host_layers_us"] / r["steps"]
    for r in run["batch"]:
        f[f"batch {r['solver']}"] = r["batch_ms"] * 1e3 / (r["windows"] * r["steps"])
        f[f"batch-seq {r['solver']}"] = r["sequential_ms"] * 1e3 / (r["windows"] * r["steps"])
    return f


def diffrax_figures(run):
    """name -> value for one anchor_diffrax.py --json file."""
    f = {}
    for r in run["results"]:
        s = r["solver"]
        f[f"train {s}"] = r["iter_median_ms"]
        f[f"one {s}"] = r["infer_one_jaxjit_median_us"] / DIFFRAX_STEPS
        f[f"batch {s}"] = r["infer_batch256_median_ms"] * 1e3 / (DIFFRAX_BATCH * DIFFRAX_STEPS)
    return f


def span(values, digits):
    lo, hi = min(values), max(values)
    if f"{lo:.{digits}f}" == f"{hi:.{digits}f}":
        return f"{lo:.{digits}f}"
    return f"{lo:.{digits}f}–{hi:.{digits}f}"


# (label, nagode key, diffrax key, unit, digits, goal on nagode's figure or None)
ROWS = [
    ("training iteration, NAG (nagode) / Euler (diffrax)", "train nag", "train euler", "ms", 3, 0.7),
    ("training iteration, Euler", "train euler", "train euler", "ms", 3, None),
    ("training iteration, RK4", "train rk4", "train rk4", "ms", 3, None),
    ("one window (batch 1) on HostLayers, NAG / Euler, per step", "host nag", "one euler", "µs", 3, 0.15),
    ("one window (batch 1) on HostLayers, RK4, per step", "host rk4", "one rk4", "µs", 3, None),
    ("one window (batch 1) on Net (the chip's code), NAG / Euler, per step", "one nag", "one euler", "µs", 3, None),
    ("batch of 256, NAG / Euler, per step per trajectory", "batch nag", "batch euler", "µs", 3, "diffrax"),
    ("batch of 256, RK4, per step per trajectory", "batch rk4", "batch rk4", "µs", 3, "diffrax"),
    ("256 one after another (1 thread, HostLayers), NAG / Euler, per step", "batch-seq nag", "batch euler", "µs", 3, None),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nagode", nargs="+", required=True, help="trainer bench --json files")
    ap.add_argument("--diffrax", nargs="+", required=True, help="anchor_diffrax.py --json files")
    a = ap.parse_args()
    ng = [nagode_figures(r) for r in load(a.nagode)]
    dx = [diffrax_figures(r) for r in load(a.diffrax)]
    threads = {r["threads"] for r in load(a.nagode)}
    env = load(a.diffrax)[0]["env"]
    print(f"nagode: trainer bench ({len(ng)} round(s), batch on {'/'.join(map(str, sorted(threads)))} threads); "
          f"diffrax {env['diffrax']}, jax {env['jax']}, {env['dtype']} on {env['device']}, {env['cpu_count']} CPUs")
    print()
    print("| work | nagode | JAX + diffrax | diffrax / nagode | goal |")
    print("|---|---|---|---|---|")
    for label, nk, dk, unit, digits, goal in ROWS:
        if not all(nk in f for f in ng) or not all(dk in f for f in dx):
            continue
        nv = [f[nk] for f in ng]
        dv = [f[dk] for f in dx]
        # Ratios pair the rounds in order (round i of each was taken back to back).
        ratios = [d / n for n, d in zip(nv, dv)]
        if goal is None:
            verdict = ""
        elif goal == "diffrax":
            verdict = "≥ diffrax: " + ("met" if min(ratios) >= 1 else "not met")
        else:
            verdict = f"≤ {goal} {unit}: " + ("met" if max(nv) <= goal else "not met")
        print(f"| {label} | {span(nv, digits)} {unit} | {span(dv, digits)} {unit} | "
              f"{span(ratios, 1)}× | {verdict} |")


if __name__ == "__main__":
    main()
