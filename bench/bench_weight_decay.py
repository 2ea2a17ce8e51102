"""Overhead of ridgeway.nn's L2 penalty vs the optimizer's own weight_decay, per training step.

One training step of an MLP (forward, backward, SGD-with-momentum step) on CPU, in three
variants that minimize the same objective ``loss + wd/2 * ||w||^2`` (biases excluded):

* ``weight_decay``: ``torch.optim.SGD(param_groups(model, wd))``: the optimizer's own decay;
* ``add_grad_``: ``SGD(weight_decay=0)`` plus ``WeightDecayPenalty(model, wd).add_grad_()`` after
  ``backward()`` (foreach kernels, no autograd graph), with the penalty value logged without
  grad every ``--log-every`` steps;
* ``autograd``: ``loss + l2_penalty(model, wd)`` through autograd (the textbook way).

Variants are interleaved (rotating the order each round), each timed as the median over
repeats of a block of steps.

    python bench/bench_weight_decay.py            # 10M parameters
    python bench/bench_weight_decay.py --tiny     # seconds, for CI
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch

from ridgeway.nn import WeightDecayPenalty, l2_penalty, param_groups

VARIANTS = ("weight_decay", "add_grad_", "autograd")


def build(width: int, depth: int, n_in: int) -> torch.nn.Module:
    layers: list[torch.nn.Module] = [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
    for _ in range(depth - 1):
        layers += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers)


def make_step(variant: str, model: torch.nn.Module, wd: float, log_every: int):
    """A closure running one training step of ``variant``."""
    groups = param_groups(model, wd if variant == "weight_decay" else 0.0)
    opt = torch.optim.SGD(groups, lr=1e-4, momentum=0.9)
    penalty = WeightDecayPenalty(model, wd)
    mse = torch.nn.MSELoss()
    count = [0]

    def step(X: torch.Tensor, y: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss = mse(model(X), y)
        if variant == "autograd":
            loss = loss + l2_penalty(model, wd)
        loss.backward()
        if variant == "add_grad_":
            penalty.add_grad_()
            count[0] += 1
            if count[0] % log_every == 0:
                penalty.value()
        opt.step()

    return step


def time_block(step, X, y, steps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(steps):
        step(X, y)
    return (time.perf_counter() - t0) / steps


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="small model, few steps (CI smoke)")
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--depth", type=int, default=3, help="hidden layers")
    parser.add_argument("--n-in", type=int, default=768)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=1, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=30, help="timed blocks per variant")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args(argv)
    if args.tiny:
        args.width, args.depth, args.n_in, args.batch_size = 64, 2, 32, 32
        args.steps, args.repeats = 3, 3
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = build(args.width, args.depth, args.n_in)
    n_params = sum(p.numel() for p in model.parameters())
    X = torch.randn(args.batch_size, args.n_in)
    y = torch.randn(args.batch_size, 1)
    steps = {v: make_step(v, model, 1e-4, args.log_every) for v in VARIANTS}
    for v in VARIANTS:  # warm-up
        time_block(steps[v], X, y, 2)
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for r in range(args.repeats):
        order = VARIANTS[r % 3:] + VARIANTS[: r % 3]  # interleaved, rotating the order
        for v in order:
            times[v].append(time_block(steps[v], X, y, args.steps))
    med = {v: statistics.median(t) for v, t in times.items()}
    iqr = {v: statistics.quantiles(t, n=4) if len(t) > 1 else [t[0]] * 3
           for v, t in times.items()}
    result = {
        "params": n_params, "batch_size": args.batch_size, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "machine": platform.processor() or platform.machine(),
        "median_step_s": med, "quartiles_step_s": iqr,
        "ratio_add_grad_": med["add_grad_"] / med["weight_decay"],
        "ratio_autograd": med["autograd"] / med["weight_decay"],
    }
    print(f"MLP with {n_params / 1e6:.2f}M parameters, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"median of {args.repeats} blocks of {args.steps} step(s), interleaved")
    for v in VARIANTS:
        ratio = med[v] / med["weight_decay"]
        q1, _, q3 = iqr[v]
        print(f"  {v:<13} {1e3 * med[v]:9.2f} ms/step  (quartiles {1e3 * q1:.1f}-"
              f"{1e3 * q3:.1f})   ratio {ratio:.3f}")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
