#!/usr/bin/python3
"""PyTorch peer of bench-dit: the Wan DiT forward pass (spec section 2, the
official wan/modules/model.py) on the CPU in float32, on the weights and
inputs bench-dit wrote, timed and with its peak resident memory.

Usage: bench_dit_torch.py WEIGHTS.safetensors INPUTS.safetensors T THREADS OUT.f32

The weights stay BF16 in a copy-on-write mapping of the file and each layer's
are upcast to float32 just before it runs, so the resident weights are the
file's size, as in the engine. The inputs file holds "x" [C, F, H, W] and
"context" [rows, 4096] in F32. Prints one line, "seconds S peak_rss_kib K",
and writes the velocity [C, F, H, W] to OUT.f32 as raw float32.
"""

import json
import math
import mmap
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

EPS = 1e-6
TEXT_LEN = 512
ROPE_MAX_POS = 1024


def open_safetensors(path):
    """Returns {name: tensor} viewing the file's mapping, and the mapping."""
    dtypes = {"BF16": torch.bfloat16, "F32": torch.float32, "F16": torch.float16}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        # ACCESS_COPY gives a writable (copy-on-write) view that torch.frombuffer
        # accepts without copying; nothing is ever written to it.
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    tensors = {}
    base = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        count = (end - start) // torch.tensor([], dtype=dtype).element_size()
        t = torch.frombuffer(mapping, dtype=dtype, count=count, offset=base + start)
        tensors[name] = t.reshape(info["shape"])
    return tensors, mapping


def f32(weights, name):
    return weights[name].float()


def linear(weights, prefix, x):
    return F.linear(x, f32(weights, prefix + ".weight"), f32(weights, prefix + ".bias"))


def layer_norm(x):
    return F.layer_norm(x, x.shape[-1:], eps=EPS)


def rms_norm(x, weight):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + EPS) * weight


def sinusoidal_embedding_1d(dim, position):
    half = dim // 2
    position = position.type(torch.float64)
    sinusoid = torch.outer(position, torch.pow(10000, -torch.arange(half).to(position).div(half)))
    return torch.cat([torch.cos(sinusoid), torch.sin(sinusoid)], dim=1)


def rope_params(max_seq_len, dim, theta=10000):
    freqs = torch.outer(
        torch.arange(max_seq_len), 1.0 / torch.pow(theta, torch.arange(0, dim, 2).to(torch.float64).div(dim))
    )
    return torch.polar(torch.ones_like(freqs), freqs)


def rope_freqs(head_dim):
    d = head_dim
    return torch.cat(
        [
            rope_params(ROPE_MAX_POS, d - 4 * (d // 6)),
            rope_params(ROPE_MAX_POS, 2 * (d // 6)),
            rope_params(ROPE_MAX_POS, 2 * (d // 6)),
        ],
        dim=1,
    )


def rope_table(freqs, f, h, w, head_dim):
    """The per-token rotations [L, 1, head_dim / 2] of the official rope_apply."""
    c = head_dim // 2
    parts = freqs.split([c - 2 * (c // 3), c // 3, c // 3], dim=1)
    return torch.cat(
        [
            parts[0][:f].view(f, 1, 1, -1).expand(f, h, w, -1),
            parts[1][:h].view(1, h, 1, -1).expand(f, h, w, -1),
            parts[2][:w].view(1, 1, w, -1).expand(f, h, w, -1),
        ],
        dim=-1,
    ).reshape(f * h * w, 1, -1)


def rope_apply(x, table, heads):
    seq_len = x.shape[0]
    xc = torch.view_as_complex(x.to(torch.float64).reshape(seq_len, heads, -1, 2))
    return torch.view_as_real(xc * table).flatten(1).float()


def attention(q, k, v, heads):
    """softmax(q·kᵀ/√d)·v, one head at a time so the scores of a long
    sequence need L² floats, not heads·L²."""
    lq, dim = q.shape
    d = dim // heads
    scale = 1.0 / math.sqrt(d)
    out = torch.empty_like(q)
    for h in range(heads):
        cols = slice(h * d, (h + 1) * d)
        scores = torch.matmul(q[:, cols], k[:, cols].t()).mul_(scale)
        out[:, cols] = torch.matmul(torch.softmax(scores, dim=-1), v[:, cols])
        del scores
    return out


def block(weights, i, x, e0, context, rope, heads):
    p = "blocks.%d." % i
    m = (f32(weights, p + "modulation") + e0).chunk(6, dim=1)
    m = [t.squeeze(1) for t in m]

    n = layer_norm(x) * (1 + m[1]) + m[0]
    q = rms_norm(linear(weights, p + "self_attn.q", n), f32(weights, p + "self_attn.norm_q.weight"))
    k = rms_norm(linear(weights, p + "self_attn.k", n), f32(weights, p + "self_attn.norm_k.weight"))
    v = linear(weights, p + "self_attn.v", n)
    a = attention(rope_apply(q, rope, heads), rope_apply(k, rope, heads), v, heads)
    x = x + linear(weights, p + "self_attn.o", a) * m[2]

    n = F.layer_norm(x, x.shape[-1:], f32(weights, p + "norm3.weight"), f32(weights, p + "norm3.bias"), EPS)
    q = rms_norm(linear(weights, p + "cross_attn.q", n), f32(weights, p + "cross_attn.norm_q.weight"))
    k = rms_norm(linear(weights, p + "cross_attn.k", context), f32(weights, p + "cross_attn.norm_k.weight"))
    v = linear(weights, p + "cross_attn.v", context)
    x = x + linear(weights, p + "cross_attn.o", attention(q, k, v, heads))

    n = layer_norm(x) * (1 + m[4]) + m[3]
    h = F.gelu(linear(weights, p + "ffn.0", n), approximate="tanh")
    return x + linear(weights, p + "ffn.2", h) * m[5]


def forward(weights, x, t, context):
    dim = weights["head.modulation"].shape[-1]
    heads = dim // 128
    layers = 1 + max(int(name.split(".")[1]) for name in weights if name.startswith("blocks."))
    out_dim = weights["head.head.weight"].shape[0] // 4
    freq_dim = weights["time_embedding.0.weight"].shape[1]
    c, f, hh, ww = x.shape
    gh, gw = hh // 2, ww // 2

    tokens = F.conv3d(x[None], f32(weights, "patch_embedding.weight"), f32(weights, "patch_embedding.bias"),
                      stride=(1, 2, 2))
    tokens = tokens.flatten(2).transpose(1, 2)[0]

    sin = sinusoidal_embedding_1d(freq_dim, torch.tensor([t])).float()
    e = linear(weights, "time_embedding.2", F.silu(linear(weights, "time_embedding.0", sin)))
    e0 = linear(weights, "time_projection.1", F.silu(e)).unflatten(1, (6, dim))

    padded = torch.zeros(TEXT_LEN, context.shape[1])
    padded[: context.shape[0]] = context
    ctx = linear(weights, "text_embedding.2",
                 F.gelu(linear(weights, "text_embedding.0", padded), approximate="tanh"))

    rope = rope_table(rope_freqs(dim // heads), f, gh, gw, dim // heads)
    for i in range(layers):
        tokens = block(weights, i, tokens, e0, ctx, rope, heads)

    hm = (f32(weights, "head.modulation") + e.unsqueeze(1)).chunk(2, dim=1)
    y = linear(weights, "head.head", layer_norm(tokens) * (1 + hm[1].squeeze(1)) + hm[0].squeeze(1))
    y = y.view(f, gh, gw, 1, 2, 2, out_dim)
    y = torch.einsum("fhwpqrc->cfphqwr", y)
    return y.reshape(out_dim, f, hh, ww)


def main():
    weights_path, inputs_path, t, threads, out_path = sys.argv[1:6]
    torch.set_num_threads(int(threads))
    weights, _weights_map = open_safetensors(weights_path)
    inputs, _inputs_map = open_safetensors(inputs_path)
    x = inputs["x"].clone()
    context = inputs["context"].clone()
    with torch.inference_mode():
        start = time.perf_counter()
        y = forward(weights, x, int(t), context)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(out_path, "wb") as f:
        f.write(y.contiguous().numpy().tobytes())
    print("seconds %.6f peak_rss_kib %d" % (seconds, peak), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
