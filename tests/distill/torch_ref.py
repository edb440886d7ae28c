#!/usr/bin/env python3
"""An independent PyTorch implementation of the Hugging Face Qwen2/Llama forward
(written from the maths in ARCHITECTURE §4, not from our C code), used to check
`retort model logits` and `retort model step` number by number.

usage: torch_ref.py RETORT WORKDIR
Creates tiny Qwen2 and Llama (llama3 RoPE scaling) checkpoints with retort,
then compares logits, the loss and the weights after one AdamW step.
Exit 77 (meson's skip) when torch cannot be imported or installed."""
import json, math, os, struct, subprocess, sys

def ensure_torch():
    try:
        import torch  # noqa
        return True
    except ImportError:
        pass
    # Debian's python3-torch lives under /usr/bin/python3; a pyenv or venv
    # python3 earlier in PATH does not see it
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    r = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-torch"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0:
        return False
    try:
        import torch  # noqa
        return True
    except ImportError:
        return False

if not ensure_torch():
    print("SKIP: python3-torch is not importable and apt-get install python3-torch failed")
    sys.exit(77)
import torch
torch.set_num_threads(1)

def load_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        b0, b1 = v["data_offsets"]
        raw = bytearray(data[b0:b1])
        if v["dtype"] == "F32":
            t = torch.frombuffer(raw, dtype=torch.float32)
        elif v["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.bfloat16).float()
        else:
            raise ValueError(v["dtype"])
        out[k] = t.reshape(v["shape"]).clone()
    return out

def rope_inv_freq(cfg, hd):
    theta = cfg.get("rope_theta") or cfg.get("rope_parameters", {}).get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type", rs.get("type")) == "llama3":
        factor, low, high, orig = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        low_wl, high_wl = orig / low, orig / high
        wl = 2 * math.pi / inv
        inv_l = torch.where(wl > low_wl, inv / factor, inv)
        smooth = (orig / wl - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wl < high_wl) * ~(wl > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv

def forward(cfg, W, ids, dtype=torch.float64):
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads", nh)
    hd = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    T = len(ids)
    P = {k: v.to(dtype) for k, v in W.items()}
    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
    def lin(x, name, bias=True):
        y = x @ P[name + ".weight"].T
        if bias and (name + ".bias") in P:
            y = y + P[name + ".bias"]
        return y
    inv = rope_inv_freq(cfg, hd)
    ang = torch.arange(T).float()[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)
    def rot(x):  # x [heads, T, hd]
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin
    x = P["model.embed_tokens.weight"][torch.tensor(ids)]
    mask = torch.full((T, T), float("-inf"), dtype=dtype).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rms(x, P[p + "input_layernorm.weight"])
        q = lin(h, p + "self_attn.q_proj").view(T, nh, hd).transpose(0, 1)
        k = lin(h, p + "self_attn.k_proj").view(T, nkv, hd).transpose(0, 1)
        v = lin(h, p + "self_attn.v_proj").view(T, nkv, hd).transpose(0, 1)
        q, k = rot(q), rot(k)
        k = k.repeat_interleave(nh // nkv, 0)
        v = v.repeat_interleave(nh // nkv, 0)
        a = torch.softmax(q @ k.transpose(1, 2) * hd ** -0.5 + mask, -1) @ v
        x = x + lin(a.transpose(0, 1).reshape(T, nh * hd), p + "self_attn.o_proj")
        h = rms(x, P[p + "post_attention_layernorm.weight"])
        x = x + lin(torch.nn.functional.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, P["model.norm.weight"])
    head = P["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else P["lm_head.weight"]
    return x @ head.T, P

def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print("FAILED:", " ".join(cmd), r.stderr)
        sys.exit(1)
    return r.stdout

failures = 0
def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures += 1

def compare(retort, work, name, cfgfile=None):
    d = os.path.join(work, name)
    if cfgfile:
        run([retort, "model", "init", "--model", cfgfile, "--out", d, "--seed", "7", "--init-std", "0.2"])
    else:
        run([retort, "model", "init", "--preset", "tiny", "--out", d, "--seed", "7", "--init-std", "0.2"])
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = load_st(os.path.join(d, "model.safetensors"))
    names = set(W)
    check(("lm_head.weight" in names) == (not cfg["tie_word_embeddings"]), f"{name}: lm_head present iff untied")
    ids = [3, 17, 5, 200, 9, 42, 7, 1, 99, 13, 250, 4]
    ids = [i % cfg["vocab_size"] for i in ids]
    ours = torch.tensor(json.loads(run([retort, "model", "logits", "--model", d, "--ids", ",".join(map(str, ids))])), dtype=torch.float64)
    ref, _ = forward(cfg, W, ids)
    err = (ours - ref).abs().max().item()
    scale = ref.abs().max().item()
    check(ours.shape == ref.shape and err < 1e-4 * max(1.0, scale), f"{name}: logits max abs diff {err:.3g} (max |logit| {scale:.3g})")
    # a 300-token sequence crosses attention's 128-row blocks and reaches positions
    # where llama3's scaled RoPE bands differ visibly from the unscaled ones
    long_ids = [(i * 37 + 11) % cfg["vocab_size"] for i in range(300)]
    ours = torch.tensor(json.loads(run([retort, "model", "logits", "--model", d, "--ids", ",".join(map(str, long_ids))])), dtype=torch.float64)
    ref, _ = forward(cfg, W, long_ids)
    err = (ours - ref).abs().max().item()
    scale = ref.abs().max().item()
    check(ours.shape == ref.shape and err < 1e-4 * max(1.0, scale), f"{name}: 300-token logits max abs diff {err:.3g} (max |logit| {scale:.3g})")

    # one AdamW step with torch.optim.AdamW on the same loss
    mask = [0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0]
    lr = 1e-2
    out = os.path.join(work, name + "-step")
    res = json.loads(run([retort, "model", "step", "--model", d, "--ids", ",".join(map(str, ids)), "--mask",
                          ",".join(map(str, mask)), "--lr", str(lr), "--out", out]))
    Wt = {k: v.double().clone().requires_grad_(True) for k, v in W.items()}
    logits, _ = forward(cfg, Wt, ids)
    tgt = torch.tensor(ids[1:])
    sel = torch.tensor(mask[1:]) == 1
    loss = torch.nn.functional.cross_entropy(logits[:-1][sel], tgt[sel])
    # forward() converts with .to(dtype): a no-op for float64 leaves, so grads flow to Wt
    opt = torch.optim.AdamW(list(Wt.values()), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    opt.zero_grad()
    loss.backward()
    gn = math.sqrt(sum((p.grad ** 2).sum().item() for p in Wt.values()))
    opt.step()
    check(abs(res["loss"] - loss.item()) < 1e-4 * max(1, loss.item()), f"{name}: step loss {res['loss']:.6f} vs torch {loss.item():.6f}")
    check(abs(res["grad_norm"] - gn) < 1e-3 * gn, f"{name}: grad norm {res['grad_norm']:.6f} vs torch {gn:.6f}")
    W2 = load_st(os.path.join(out, "model.safetensors"))
    worst = max((W2[k].double() - Wt[k].detach()).abs().max().item() for k in W2)
    # Adam's first step moves every weight by about lr; a wrong gradient sign moves it 2*lr away
    check(worst < 1e-3 * lr * 100, f"{name}: weights after AdamW step max diff {worst:.3g} (lr {lr})")

retort, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
compare(retort, work, "qwen2-tiny")
llama_cfg = os.path.join(work, "llama-config")
os.makedirs(llama_cfg, exist_ok=True)
json.dump({"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 300, "hidden_size": 48,
           "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 6, "num_key_value_heads": 2,
           "rms_norm_eps": 1e-5, "tie_word_embeddings": False, "max_position_embeddings": 131072,
           "rope_parameters": {"rope_theta": 500000.0, "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
           "dtype": "float32", "hidden_act": "silu"}, open(os.path.join(llama_cfg, "config.json"), "w"))
compare(retort, work, "llama-tiny", llama_cfg)
print(f"torch_ref: {failures} failed")
sys.exit(1 if failures else 0)
