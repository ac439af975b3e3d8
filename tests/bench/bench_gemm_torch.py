#!/usr/bin/python3
"""PyTorch peer for bench-gemm: F.linear on the CPU for the same shapes.

Usage: bench_gemm_torch.py THREADS

bench-gemm runs it with Debian's /usr/bin/python3 (python3-torch) and talks
to it with the line protocol of bench_peer.py. A shape is "NAME:M:N:K"; its
variants are "f32" and "bf16" (BF16 in and out).
"""

import sys

import bench_peer


def main():
    try:
        import torch
        import torch.nn.functional as F
    except Exception as error:  # any import failure means no peer
        print("unavailable", str(error).replace("\n", " "), flush=True)
        return 0

    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(0)

    def setup(spec):
        _, m, n, k = spec.split(":")
        m, n, k = int(m), int(n), int(k)
        x = torch.rand(m, k) * 2 - 1
        w = torch.rand(n, k) * 2 - 1
        b = torch.rand(n) * 2 - 1
        xb, wb, bb = x.bfloat16(), w.bfloat16(), b.bfloat16()
        return "F.linear", {
            "f32": lambda: F.linear(x, w, b),
            "bf16": lambda: F.linear(xb, wb, bb),
        }

    with torch.inference_mode():
        return bench_peer.serve(setup)


if __name__ == "__main__":
    sys.exit(main())
