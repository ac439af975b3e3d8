#!/usr/bin/python3
"""PyTorch peer of bench-vae: the Wan2.1 VAE decoder (spec section 4.1) on
the CPU, decoding the same latent with the same weights in the official way
(one latent frame per call, a feature cache of the last two input frames of
every causal convolution), timed and with its peak resident memory.

Usage: bench_vae_torch.py WEIGHTS.safetensors LATENT.f32 T H W THREADS OUT.f32
Prints one line: "seconds S cpu C peak_rss_kib K" (wall and CPU seconds of
the decode, peak resident memory of the process).
"""
import json
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CACHE_T = 2


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).reshape(info["shape"]).copy())
    return out


class CausalConv3d(nn.Conv3d):
    """Pads time at the front only; earlier frames come from the cache."""

    def __init__(self, cin, cout, kernel, padding=0, **kw):
        super().__init__(cin, cout, kernel, padding=0, **kw)
        pt, ph, pw = (padding,) * 3 if isinstance(padding, int) else padding
        self.pads = (pw, pw, ph, ph, 2 * pt, 0)

    def forward(self, x, cache=None):
        pads = list(self.pads)
        if cache is not None and pads[4] > 0:
            x = torch.cat([cache, x], dim=2)
            pads[4] -= cache.shape[2]
        return super().forward(F.pad(x, pads))


class RMSNorm(nn.Module):
    def __init__(self, dim, images):
        super().__init__()
        self.scale = dim**0.5
        self.gamma = nn.Parameter(torch.ones((dim, 1, 1) if images else (dim, 1, 1, 1)))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.scale * self.gamma


def cached(conv, x, cache, idx):
    """Runs a causal conv with slot idx[0] of the cache and refills it."""
    i = idx[0]
    keep = x[:, :, -CACHE_T:].clone()
    if keep.shape[2] < 2 and cache[i] is not None:
        keep = torch.cat([cache[i][:, :, -1:], keep], dim=2)
    x = conv(x, cache[i])
    cache[i] = keep
    idx[0] += 1
    return x


class Residual(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.residual = nn.Sequential(
            RMSNorm(cin, False),
            nn.SiLU(),
            CausalConv3d(cin, cout, 3, padding=1),
            RMSNorm(cout, False),
            nn.SiLU(),
            nn.Identity(),
            CausalConv3d(cout, cout, 3, padding=1),
        )
        self.shortcut = CausalConv3d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, cache, idx):
        h = self.shortcut(x)
        for layer in self.residual:
            x = cached(layer, x, cache, idx) if isinstance(layer, CausalConv3d) else layer(x)
        return x + h


class Attention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = RMSNorm(dim, True)
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        b, c, t, h, w = x.shape
        y = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        q, k, v = self.to_qkv(self.norm(y)).reshape(b * t, 1, 3 * c, h * w).permute(0, 1, 3, 2).chunk(3, dim=-1)
        # Debian's PyTorch 1.13 predates F.scaled_dot_product_attention.
        y = torch.softmax(q @ k.transpose(-1, -2) / c**0.5, dim=-1) @ v
        y = self.proj(y.squeeze(1).permute(0, 2, 1).reshape(b * t, c, h, w))
        return x + y.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)


class Upsample(nn.Module):
    def __init__(self, dim, temporal):
        super().__init__()
        self.temporal = temporal
        self.resample = nn.Sequential(nn.Upsample(scale_factor=(2.0, 2.0), mode="nearest-exact"), nn.Conv2d(dim, dim // 2, 3, padding=1))
        if temporal:
            self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))

    def forward(self, x, cache, idx):
        b, c, t, h, w = x.shape
        if self.temporal:
            i = idx[0]
            if cache[i] is None:
                # The first chunk keeps its one frame.
                cache[i] = "first"
            else:
                keep = x[:, :, -CACHE_T:].clone()
                if keep.shape[2] < 2:
                    prev = torch.zeros_like(keep) if isinstance(cache[i], str) else cache[i][:, :, -1:]
                    keep = torch.cat([prev, keep], dim=2)
                x = self.time_conv(x) if isinstance(cache[i], str) else self.time_conv(x, cache[i])
                cache[i] = keep
                x = torch.stack((x[:, :c], x[:, c:]), dim=3).reshape(b, c, t * 2, h, w)
            idx[0] += 1
        t = x.shape[2]
        y = self.resample(x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))
        return y.reshape(b, t, -1, 2 * h, 2 * w).permute(0, 2, 1, 3, 4)


class Decoder(nn.Module):
    def __init__(self, dim=96, z_dim=16):
        super().__init__()
        dims = [dim * 4, dim * 4, dim * 4, dim * 2, dim]
        self.conv1 = CausalConv3d(z_dim, dims[0], 3, padding=1)
        self.middle = nn.Sequential(Residual(dims[0], dims[0]), Attention(dims[0]), Residual(dims[0], dims[0]))
        ups = []
        for i in range(4):
            cin = dims[i] if i == 0 else dims[i] // 2
            for _ in range(3):
                ups.append(Residual(cin, dims[i + 1]))
                cin = dims[i + 1]
            if i < 3:
                ups.append(Upsample(dims[i + 1], temporal=i < 2))
        self.upsamples = nn.Sequential(*ups)
        self.head = nn.Sequential(RMSNorm(dims[4], False), nn.SiLU(), CausalConv3d(dims[4], 3, 3, padding=1))

    def forward(self, x, cache, idx):
        x = cached(self.conv1, x, cache, idx)
        for layer in self.middle:
            x = layer(x) if isinstance(layer, Attention) else layer(x, cache, idx)
        for layer in self.upsamples:
            x = layer(x, cache, idx)
        x = self.head[1](self.head[0](x))
        return cached(self.head[2], x, cache, idx)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.decoder = Decoder()
        self.conv2 = CausalConv3d(16, 16, 1)

    def decode(self, z, mean, inv_std):
        x = self.conv2(z / inv_std.view(1, -1, 1, 1, 1) + mean.view(1, -1, 1, 1, 1))
        cache = [None] * 64
        out = []
        for t in range(x.shape[2]):
            out.append(self.decoder(x[:, :, t : t + 1], cache, [0]))
        return torch.cat(out, dim=2).clamp_(-1, 1)


def main():
    weights, latent, t, h, w, threads, out = sys.argv[1:8]
    t, h, w, threads = int(t), int(h), int(w), int(threads)
    torch.set_num_threads(threads)
    mean = torch.tensor([-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921])
    std = torch.tensor([2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160])
    model = VAE()
    state = read_safetensors(weights)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    del state
    model.eval()
    z = torch.from_numpy(np.fromfile(latent, dtype=np.float32).reshape(1, 16, t, h, w))
    with torch.inference_mode():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        video = model.decode(z, mean, 1.0 / std)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    video.numpy().astype(np.float32).tofile(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("seconds %.3f cpu %.3f peak_rss_kib %d" % (seconds, cpu, peak))


if __name__ == "__main__":
    main()
