"""Throughput of the golden model (``make bench``).

Reports lane-steps per second of :func:`apsq_rae.golden.apsq_accumulate` on a weight-stationary
workload (every address at step i before any at step i+1) of at least 1e7 lane-steps, for each
group size, and transactions per second of the transaction-level :class:`apsq_rae.golden.Engine`.
"""

import argparse
import time

import numpy as np

from . import Engine, apsq_accumulate


def bench_accumulate(lanes, addresses, steps, group_size, rng, repeats=3):
    """Best of ``repeats`` runs (the first pays for page faults and cold caches)."""
    tiles = rng.integers(-2 ** 31, 2 ** 31, size=(steps, addresses, lanes), dtype=np.int64)
    exps = rng.integers(20, 28, size=steps)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        apsq_accumulate(tiles, exps, group_size)
        best = min(best, time.perf_counter() - start)
    return tiles.size / best


def bench_engine(lanes, transactions, rng):
    eng = Engine(lanes=lanes)
    eng.configure(4)
    addresses = eng.capacity()
    tiles = rng.integers(-2 ** 31, 2 ** 31, size=(transactions, lanes), dtype=np.int64)
    steps = transactions // addresses
    start = time.perf_counter()
    k = 0
    for step in range(steps):
        for addr in range(addresses):
            eng.push(addr, step, step == steps - 1, 24, tiles[k])
            k += 1
    return k / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m apsq_rae.golden.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=int, default=16)
    parser.add_argument("--addresses", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=160)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    total = args.lanes * args.addresses * args.steps
    print(f"golden.apsq_accumulate, weight-stationary, {args.lanes} lanes x {args.addresses} "
          f"addresses x {args.steps} steps = {total:.2e} lane-steps (goal: 5e7 per second)")
    for gs in (1, 2, 3, 4, 8):
        rate = bench_accumulate(args.lanes, args.addresses, args.steps, gs, rng)
        print(f"  group size {gs}: {rate:.3g} lane-steps/s (best of 3)")
    rate = bench_engine(args.lanes, 20000, rng)
    print(f"golden.Engine (transaction-level, {args.lanes} lanes): {rate:.3g} transactions/s")


if __name__ == "__main__":
    main()
