#!/usr/bin/env python3
"""Per-sample gradients with PyTorch on this machine, the side-by-side reference of
bench/persample.ts (same MLP 784-512-256-10, relu, categorical likelihood, uniform inputs).

  python3 bench/pytorch_persample.py [--batch 256,1024] [--dtype float32] [--threads 2] [--reps 3]

Times, per batch size (median of --reps after one warm-up):
  pass       one gradient of the summed loss (loss.backward)
  vmap       functorch vmap(grad): the [B, P] per-sample gradients
  hooks      a per-sample extension written with hooks: each Linear's input a_b (forward hook)
             and output gradient δ_b (full backward hook) give δ_b a_bᵀ, written into one [B, P]
  norms      per-sample norms from the hooks, ||δ_b||²·(||a_b||² + 1), not materialised
  clipped    DP-SGD clipped sum from the hooks: Σ_b min(1, C/n_b) δ_b a_bᵀ (one einsum per layer)
Prints one JSON object per batch size on stdout (read by bench/persample-compare.mjs).
Debian: apt-get install python3-torch. Not part of npm test.
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from functorch import grad as fgrad, vmap, make_functional
except ImportError:  # torch >= 2 ships it as torch.func
    from torch.func import grad as fgrad, vmap, functional_call
    make_functional = None


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', default='256,1024')
    ap.add_argument('--dtype', default='float32')
    ap.add_argument('--threads', type=int, default=int(os.environ.get('OMP_NUM_THREADS', '2')))
    ap.add_argument('--reps', type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)).to(dtype)
    params = list(model.parameters())
    P = sum(p.numel() for p in params)
    linears = [m for m in model if isinstance(m, nn.Linear)]

    for B in [int(b) for b in args.batch.split(',')]:
        x = torch.rand(B, 784, dtype=dtype)
        y = torch.randint(0, 10, (B,))

        def plain():
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y, reduction='sum').backward()

        if make_functional is not None:
            fmodel, fparams = make_functional(model)

            def loss1(ps, xb, yb):
                return F.cross_entropy(fmodel(ps, xb.unsqueeze(0)), yb.unsqueeze(0), reduction='sum')

            def vm():
                gs = vmap(fgrad(loss1), in_dims=(None, 0, 0))(fparams, x, y)
                return torch.cat([g.reshape(B, -1) for g in gs], 1)
        else:
            pdict = {k: v.detach() for k, v in model.named_parameters()}

            def loss1(ps, xb, yb):
                return F.cross_entropy(functional_call(model, ps, (xb.unsqueeze(0),)), yb.unsqueeze(0), reduction='sum')

            def vm():
                gs = vmap(fgrad(loss1), in_dims=(None, 0, 0))(pdict, x, y)
                return torch.cat([g.reshape(B, -1) for g in gs.values()], 1)

        acts, deltas = {}, {}
        hs = []
        for m in linears:
            hs.append(m.register_forward_hook(lambda mod, inp, out: acts.__setitem__(mod, inp[0].detach())))
            hs.append(m.register_full_backward_hook(lambda mod, gin, gout: deltas.__setitem__(mod, gout[0].detach())))

        def capture():
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y, reduction='sum').backward()

        def hooks():
            capture()
            out = torch.empty(B, P, dtype=dtype)
            off = 0
            for m in linears:
                a, d = acts[m], deltas[m]
                o, i = m.weight.shape
                torch.bmm(d.unsqueeze(2), a.unsqueeze(1), out=out[:, off:off + o * i].view(B, o, i))
                off += o * i
                out[:, off:off + o] = d
                off += o
            return out

        def norms():
            capture()
            sq = torch.zeros(B, dtype=dtype)
            for m in linears:
                a, d = acts[m], deltas[m]
                sq += (d * d).sum(1) * ((a * a).sum(1) + 1)
            return sq.sqrt()

        def clipped(C=1.0):
            n = norms()
            s = torch.clamp(C / n, max=1.0)
            return [torch.einsum('b,bo,bi->oi', s, deltas[m], acts[m]) for m in linears] + [(s[:, None] * deltas[m]).sum(0) for m in linears]

        # The three per-sample routes agree (a check that the timed code computes the same thing).
        ref = vm()
        h = hooks()
        # vmap's parameter order is weight, bias per layer, as the hook layout is.
        assert torch.allclose(ref, h, rtol=1e-3, atol=1e-5), 'vmap and hooks disagree'
        res = {
            'batch': B, 'dtype': args.dtype, 'threads': args.threads, 'params': P, 'torch': torch.__version__,
            'passMs': median_time(plain, max(args.reps, 5)),
            'vmapMs': median_time(vm, args.reps),
            'hooksMs': median_time(hooks, args.reps),
            'normsMs': median_time(norms, args.reps),
            'clippedMs': median_time(clipped, args.reps),
            'loadAverage': os.getloadavg()[0],
        }
        for hd in hs:
            hd.remove()
        print(json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
