#!/usr/bin/env python3
"""PyTorch peer for bench/train: the same Qwen2 shape trained with the same
threads (forward, backward, AdamW), tokens/s as the median of several steps.
usage: torch_peer.py THREADS BATCH SEQ STEPS
The caller sets OPENBLAS_NUM_THREADS and OMP_WAIT_POLICY=PASSIVE before Python
starts, so torch's thread pools do not fight over the cores."""
import sys, time, statistics
import torch
import torch.nn as nn
import torch.nn.functional as F

T_threads, B, T, steps = (int(x) for x in sys.argv[1:5])
torch.set_num_threads(T_threads)
torch.set_num_interop_threads(1)
torch.manual_seed(0)
V, H, I, L, nh, nkv = 4096, 384, 1024, 6, 6, 2
hd = H // nh

class RMSNorm(nn.Module):
    def __init__(s, n, eps=1e-6):
        super().__init__(); s.w = nn.Parameter(torch.ones(n)); s.eps = eps
    def forward(s, x):
        return s.w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + s.eps))

inv = 1.0 / (1e6 ** (torch.arange(0, hd, 2).float() / hd))
ang = torch.arange(T).float()[:, None] * inv[None]
emb = torch.cat([ang, ang], -1)
COS, SIN = emb.cos(), emb.sin()
def rot(x):
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * COS + torch.cat([-x2, x1], -1) * SIN
MASK = torch.full((T, T), float("-inf")).triu(1)

class Layer(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1, s.ln2 = RMSNorm(H), RMSNorm(H)
        s.q, s.k, s.v = nn.Linear(H, nh * hd), nn.Linear(H, nkv * hd), nn.Linear(H, nkv * hd)
        s.o = nn.Linear(nh * hd, H, bias=False)
        s.g, s.u, s.d = nn.Linear(H, I, bias=False), nn.Linear(H, I, bias=False), nn.Linear(I, H, bias=False)
    def forward(s, x):
        b = x.shape[0]
        h = s.ln1(x)
        q = rot(s.q(h).view(b, T, nh, hd).transpose(1, 2))
        k = rot(s.k(h).view(b, T, nkv, hd).transpose(1, 2)).repeat_interleave(nh // nkv, 1)
        v = s.v(h).view(b, T, nkv, hd).transpose(1, 2).repeat_interleave(nh // nkv, 1)
        a = torch.softmax(q @ k.transpose(-1, -2) * hd ** -0.5 + MASK, -1) @ v
        x = x + s.o(a.transpose(1, 2).reshape(b, T, nh * hd))
        h = s.ln2(x)
        return x + s.d(F.silu(s.g(h)) * s.u(h))

class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, H)
        s.layers = nn.ModuleList([Layer() for _ in range(L)])
        s.norm = RMSNorm(H)
    def forward(s, ids):
        x = s.emb(ids)
        for l in s.layers:
            x = l(x)
        return s.norm(x) @ s.emb.weight.T   # tied head

m = Model()
opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01)
ids = torch.randint(0, V, (B, T))
times = []
for s in range(steps + 1):
    t0 = time.perf_counter()
    logits = m(ids)
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    dt = time.perf_counter() - t0
    if s > 0:
        times.append(dt)
med = statistics.median(times)
print(f"torch {torch.__version__}: {B*T/med:.0f} tokens/s, step {med:.3f} s (median of {steps}), {torch.get_num_threads()} threads")
print(f"RESULT tokens_per_s={B*T/med:.1f}")
