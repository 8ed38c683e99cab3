/**
 * PPO with the clipped surrogate ("Proximal Policy Optimization Algorithms"): `epochs` passes
 * over the rollout in shuffled minibatches; per minibatch the actor maximises
 * mean(min(ρÂ, clip(ρ, 1 ± ε)Â)) + c_ent·H with ρ = π/π_old and advantages normalised per
 * minibatch, and the critic takes one step on the (optionally clipped) value loss.
 */
import type { Rng } from '../../core/rng.js';
import { Tensor } from '../../core/tensor.js';
import * as F from '../../autodiff/ops.js';
import { grad } from '../../autodiff/grad.js';
import { Adam } from '../../optim/adam.js';
import type { ActorCritic } from '../policy.js';
import type { AlgoName, RlHyper } from './config.js';
import { clipGlobalNorm, criticStep, gatherRows, normalized, scheduleFactor, type Algorithm, type AlgoState, type Batch, type UpdateStats } from './common.js';

export class PPO implements Algorithm {
  readonly name: AlgoName = 'ppo';
  private readonly actorOpt: Adam;
  private readonly criticOpt: Adam;
  private updates = 0;
  private factor = 1;

  constructor(private readonly policy: ActorCritic, private readonly h: RlHyper) {
    this.actorOpt = new Adam({ lr: h.actorLr, eps: 1e-5 });
    this.criticOpt = new Adam({ lr: h.criticLr, eps: 1e-5 });
  }

  setProgress(fraction: number): void {
    this.factor = scheduleFactor(this.h.lrSchedule, fraction);
  }

  update(batch: Batch, rng: Rng): UpdateStats {
    const t0 = performance.now();
    const h = this.h;
    const p = this.policy;
    const r = batch.rollout;
    const eps = h.clipRange * this.factor;
    this.actorOpt.lr = h.actorLr * this.factor;
    this.criticOpt.lr = h.criticLr * this.factor;
    const params = p.actorParams();
    const before = p.getFlat();
    const mb = Math.min(h.minibatchSize, batch.size);
    let entropy = 0;
    let valueLoss = 0;
    let gradNorm = 0;
    let clipped = 0;
    let seen = 0;
    for (let e = 0; e < h.epochs; e++) {
      const perm = rng.permutation(batch.size);
      for (let s = 0; s + mb <= batch.size; s += mb) {
        const idx = perm.subarray(s, s + mb);
        const n = idx.length;
        const obs = p.obsTensor(gatherRows(r.obs, r.obsDim, idx), n);
        const acts = gatherRows(r.actions, r.actDim, idx);
        const adv = h.normalizeAdvantage ? normalized(batch.advantages, idx) : Float64Array.from(idx, (i) => batch.advantages[i]!);
        const oldLp = Float64Array.from(idx, (i) => r.logProbs[i]!);
        const { logProb, entropy: ent } = p.logProbAndEntropy(obs, acts);
        // The clipped objective per sample is ρ·Â where ρ is inside the clip range or the clip
        // does not bind, else the constant clip(ρ)·Â (no gradient): select with a mask.
        const ratio = F.exp(F.sub(logProb, constant(p, oldLp)));
        const rd = ratio.data;
        const mask = new Float64Array(n);
        const fixed = new Float64Array(n);
        for (let b = 0; b < n; b++) {
          const rho = rd[b]!;
          const A = adv[b]!;
          const c = Math.min(1 + eps, Math.max(1 - eps, rho));
          if (c * A < rho * A) { mask[b] = 0; fixed[b] = c * A; clipped++; } else { mask[b] = A; fixed[b] = 0; }
        }
        seen += n;
        let obj = F.mean(F.add(F.mul(ratio, constant(p, mask)), constant(p, fixed)));
        const H = F.mean(ent);
        if (h.entCoef > 0) obj = F.add(obj, F.scale(H, h.entCoef));
        const gs = grad(F.neg(obj), params);
        gradNorm = clipGlobalNorm(gs.map((g) => g.data), h.maxGradNorm);
        this.actorOpt.step(params, gs);
        entropy = H.item();
        valueLoss = criticStep(p, this.criticOpt, r.obs, r.obsDim, batch.returns, r.values, idx, h.maxGradNorm, h.clipRangeVf);
      }
    }
    const after = p.getFlat();
    let s2 = 0;
    for (let i = 0; i < after.length; i++) s2 += (after[i]! - before[i]!) ** 2;
    this.updates++;
    return { valueLoss, entropy, kl: NaN, gradNorm, stepNorm: Math.sqrt(s2), clipFraction: seen ? clipped / seen : 0, seconds: (performance.now() - t0) / 1000 };
  }

  state(): AlgoState {
    return { name: this.name, updates: this.updates, optimizers: { actor: this.actorOpt.state(), critic: this.criticOpt.state() } };
  }

  loadState(s: AlgoState): void {
    this.actorOpt.loadState(s.optimizers.actor!);
    this.criticOpt.loadState(s.optimizers.critic!);
    this.updates = s.updates;
  }
}

function constant(p: ActorCritic, v: Float64Array): Tensor {
  const d = p.dtype === 'float64' ? v : Float32Array.from(v);
  return new Tensor(d, [v.length]);
}
