#!/usr/bin/python3
"""PyTorch peer for bench-gemm: times F.linear on the CPU for the same shapes.

Usage: bench_gemm_torch.py THREADS MIN_SECONDS NAME:M:N:K [NAME:M:N:K ...]

Prints one line per shape, "NAME F32_SECONDS BF16_SECONDS", each the best
time of repeated runs (at least three, and at least MIN_SECONDS in all), or
"unavailable REASON" once when PyTorch cannot be imported. bench-gemm runs
it with Debian's /usr/bin/python3 (python3-torch).
"""

import sys
import time


def best_time(fn, min_seconds):
    fn()  # warm-up: first-call allocations and kernel selection
    best = float("inf")
    spent = 0.0
    runs = 0
    while runs < 3 or spent < min_seconds:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        spent += elapsed
        runs += 1
    return best


def main():
    try:
        import torch
        import torch.nn.functional as F
    except Exception as error:  # any import failure means no peer
        print("unavailable", str(error).replace("\n", " "))
        return 0

    threads = int(sys.argv[1])
    min_seconds = float(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with torch.inference_mode():
        for spec in sys.argv[3:]:
            name, m, n, k = spec.split(":")
            m, n, k = int(m), int(n), int(k)
            x = torch.rand(m, k) * 2 - 1
            w = torch.rand(n, k) * 2 - 1
            b = torch.rand(n) * 2 - 1
            f32 = best_time(lambda: F.linear(x, w, b), min_seconds)
            xb, wb, bb = x.bfloat16(), w.bfloat16(), b.bfloat16()
            bf16 = best_time(lambda: F.linear(xb, wb, bb), min_seconds)
            print(name, "%.9f" % f32, "%.9f" % bf16, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
