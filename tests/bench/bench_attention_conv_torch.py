#!/usr/bin/python3
"""PyTorch peer for bench-attention-conv: times attention and conv3d on the CPU
for the same shapes.

Usage: bench_attention_conv_torch.py THREADS

bench-attention-conv runs it with Debian's /usr/bin/python3 (python3-torch)
and talks to it with the line protocol of bench_peer.py. A shape is one of
  attn:NAME:LQ:LK:HEADS:DIM:KIND   KIND: plain (1/sqrt(DIM) scale) or t5
                                   (no scale, a per-head bias and a key mask)
  conv:NAME:CIN:COUT:KT:KH:KW:H:W  one output frame of a causal conv3d
                                   (KT input frames, spatial padding KH//2, KW//2)
with the one variant "run"; "ready HOW" names the PyTorch function used.
"""

import math
import sys

import bench_peer

# Queries per call of the attention fallback that materialises the scores,
# so that 32,760 tokens need 32,760 × 4,096 floats at a time, not 32,760².
QUERY_CHUNK = 4096


def attention_fn(torch, F, lq, lk, heads, dim, kind):
    q = torch.rand(1, heads, lq, dim) * 2 - 1
    k = torch.rand(1, heads, lk, dim) * 2 - 1
    v = torch.rand(1, heads, lk, dim) * 2 - 1

    if kind == "t5":
        bias = torch.rand(1, heads, lq, lk) * 2 - 1
        mask = torch.zeros(lk)
        mask[lk // 2 :] = torch.finfo(torch.float32).min

        def t5():
            # umT5's own formulation: unscaled logits, bias and mask, fp32 softmax.
            logits = torch.matmul(q, k.transpose(-1, -2)) + bias + mask
            return torch.matmul(torch.softmax(logits, dim=-1), v)

        return t5, "matmul+softmax (as umT5)"

    sdpa = getattr(F, "scaled_dot_product_attention", None)
    if sdpa is not None:
        return (lambda: sdpa(q, k, v)), "F.scaled_dot_product_attention"

    private = F._scaled_dot_product_attention

    def chunked():
        for q0 in range(0, lq, QUERY_CHUNK):
            private(q[:, :, q0 : q0 + QUERY_CHUNK], k, v)

    return chunked, "F._scaled_dot_product_attention (torch %s, %d-query chunks)" % (
        torch.__version__,
        QUERY_CHUNK,
    )


def conv_fn(torch, F, cin, cout, kt, kh, kw, h, w):
    x = torch.rand(1, cin, kt, h, w) * 2 - 1
    weight = (torch.rand(cout, cin, kt, kh, kw) * 2 - 1) / math.sqrt(cin * kt * kh * kw)
    bias = torch.rand(cout) * 2 - 1
    return (lambda: F.conv3d(x, weight, bias, padding=(0, kh // 2, kw // 2))), "F.conv3d"


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
        fields = spec.split(":")
        if fields[0] == "attn":
            lq, lk, heads, dim = (int(x) for x in fields[2:6])
            fn, how = attention_fn(torch, F, lq, lk, heads, dim, fields[6])
        elif fields[0] == "conv":
            fn, how = conv_fn(torch, F, *(int(x) for x in fields[2:9]))
        else:
            raise ValueError("unknown spec " + spec)
        return how, {"run": fn}

    with torch.inference_mode():
        return bench_peer.serve(setup)


if __name__ == "__main__":
    sys.exit(main())
