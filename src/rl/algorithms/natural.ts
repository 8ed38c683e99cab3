/**
 * Natural-gradient actor-critics behind one implementation: the actor direction is d = M⁻¹g
 * for a curvature M of the policy, then a step along d; the critic is regressed separately.
 *
 *   trpo      M = exact Fisher on the batch (fimkit's matrix-free F·v) + damping·I, solved by
 *             conjugate gradients; step √(2δ/dᵀMd), then a backtracking line search that accepts
 *             the first step with mean KL ≤ δ and an improved surrogate ("Trust Region Policy
 *             Optimization").
 *   npg       the same direction and KL-radius step, no line search ("A Natural Policy Gradient").
 *   kfac-npg  M = fimkit's KFAC of the exact Fisher (+ damping), solved exactly per layer
 *             (ACKTR-style, "Scalable trust-region method for deep reinforcement learning using
 *             Kronecker-factored approximation"), KL-radius step.
 *   diag-npg  M = the diagonal of the exact Fisher (+ damping), KL-radius step.
 *   smac      M = λI + uuᵀ with u the score ∇log π(a_j|s_j) of one sampled pair, inverted by
 *             Sherman–Morrison in O(d); with smRank = k > 1, M = λI + UᵀU/k inverted by Woodbury.
 *             Step: KL radius (default), fixed η, or d fed to Adam in place of the gradient.
 *
 * The log-std of a Gaussian head is part of θ; its Fisher block is 2·I (see ../policy.ts).
 * For smac, every `fidelityEvery` updates the rank-k curvature is compared with the exact Fisher
 * F on the same batch along the update direction: dᵀF̂d versus dᵀ(F + λI)d and the cosine between
 * F̂⁻¹g and (F + λI)⁻¹g (CG on fimkit's matrix-free F·v).
 */
import { fail } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';
import { conjugateGradient } from '../../fisher/linalg.js';
import { Adam } from '../../optim/adam.js';
import { tensorsLike, type ActorCritic } from '../policy.js';
import { smDirection, woodburyDirection } from '../sm.js';
import type { AlgoName, RlHyper } from './config.js';
import {
  allIndices, clipGlobalNorm, dot, fitCritic, gatherRows, norm, normalized, policyGradient, scheduleFactor, shuffledChunks, surrogate,
  type Algorithm, type AlgoState, type Batch, type FisherFidelity, type UpdateStats,
} from './common.js';

type NaturalName = 'trpo' | 'npg' | 'smac' | 'kfac-npg' | 'diag-npg';

export class NaturalActorCritic implements Algorithm {
  private readonly criticOpt: Adam;
  /** SMAC with step rule 'adam' only. */
  private readonly actorOpt: Adam | null;
  private updates = 0;
  private factor = 1;
  /** Figures of the Fisher-fidelity checks so far (SMAC). */
  readonly fidelity: FisherFidelity[] = [];

  constructor(readonly name: NaturalName & AlgoName, private readonly policy: ActorCritic, private readonly h: RlHyper) {
    if (name === 'smac' && !(Number.isFinite(h.smLambda) && h.smLambda > 0)) fail('INVALID_ARGUMENT', `SMAC damping λ must be a finite number > 0, got ${h.smLambda}`);
    this.criticOpt = new Adam({ lr: h.criticLr, eps: 1e-5 });
    this.actorOpt = name === 'smac' && h.smStep === 'adam' ? new Adam({ lr: h.actorLr, eps: 1e-5 }) : null;
  }

  setProgress(fraction: number): void {
    this.factor = scheduleFactor(this.h.lrSchedule, fraction);
  }

  update(batch: Batch, rng: Rng): UpdateStats {
    const t0 = performance.now();
    const h = this.h;
    const p = this.policy;
    const r = batch.rollout;
    const before = p.getFlat();
    const oldDist = p.distParams(r.obs, batch.size);
    const oldLogStd = p.logStd ? Float64Array.from(p.logStd.data) : null;
    let entropy = 0;
    let gradNorm = 0;
    let lineSearch: number | undefined;
    let fid: FisherFidelity | undefined;
    const chunks = this.name === 'smac' && h.smMinibatches > 1 ? shuffledChunks(batch.size, h.smMinibatches, rng) : [allIndices(batch.size)];
    for (const idx of chunks) {
      const adv = h.normalizeAdvantage ? normalized(batch.advantages, idx) : Float64Array.from(idx, (i) => batch.advantages[i]!);
      const pg = policyGradient(p, batch, idx, adv, h.entCoef);
      const g = pg.g;
      entropy = pg.entropy;
      gradNorm = norm(g);
      const n = idx.length;
      const obs = gatherRows(r.obs, r.obsDim, idx);
      const acts = gatherRows(r.actions, r.actDim, idx);
      let d: Float64Array;
      let U: Float64Array | null = null;
      let k = 1;
      let lambda = h.damping;
      if (this.name === 'smac') {
        lambda = h.smLambda;
        ({ U, k } = this.sampleScores(obs, acts, n, rng));
        d = k === 1 ? smDirection(g, U, lambda) : woodburyDirection(g, U, k, lambda);
        if (h.fidelityEvery > 0 && this.updates % h.fidelityEvery === 0 && !fid) fid = this.measureFidelity(obs, acts, n, g, d, lambda);
      } else if (this.name === 'trpo' || this.name === 'npg') {
        const Fm = p.fisher(obs, acts, n, 'matfree');
        d = conjugateGradient((v) => addScaled(Fm.mv(v), v, h.damping), g, { maxIter: h.cgIters, tol: 1e-10 }, 'policy Fisher + damping').x;
      } else {
        const Fm = p.fisher(obs, acts, n, this.name === 'kfac-npg' ? 'kfac' : 'diag');
        d = Fm.solve(g, h.damping);
      }
      const gd = dot(g, d);
      if (!(gd > 0) || !Number.isFinite(gd)) {
        // Zero gradient (or a numerically useless direction): no actor step on this minibatch.
        continue;
      }
      if (this.name === 'smac' && h.smStep === 'adam') {
        const params = p.actorParams();
        const neg = d.map((x) => -x);
        clipGlobalNorm([neg], h.smClip);
        this.actorOpt!.lr = h.actorLr * this.factor;
        this.actorOpt!.step(params, tensorsLike(params, neg));
        continue;
      }
      const eta = this.name === 'smac' && h.smStep === 'fixed' ? h.smEta * this.factor : Math.sqrt((2 * h.maxKl) / gd);
      const step = d.map((x) => eta * x);
      if (this.name === 'smac') clipGlobalNorm([step], h.smClip);
      const start = p.getFlat();
      if (this.name === 'trpo') {
        lineSearch = this.lineSearch(start, step, obs, acts, n, adv, oldDist, oldLogStd, batch, idx);
      } else {
        p.setFlat(start.map((x, i) => x + step[i]!));
      }
    }
    const after = p.getFlat();
    let s2 = 0;
    for (let i = 0; i < after.length; i++) s2 += (after[i]! - before[i]!) ** 2;
    const kl = p.meanKl(r.obs, batch.size, oldDist, oldLogStd);
    if (!Number.isFinite(kl)) fail('NON_FINITE', `${this.name}: the policy diverged (mean KL after update ${this.updates} is ${kl})`);
    this.criticOpt.lr = h.criticLr * this.factor;
    const valueLoss = fitCritic(p, this.criticOpt, batch, h.criticEpochs, h.criticMinibatches, h.maxGradNorm, rng);
    this.updates++;
    return { valueLoss, entropy, kl, gradNorm, stepNorm: Math.sqrt(s2), lineSearch, fidelity: fid, seconds: (performance.now() - t0) / 1000 };
  }

  /** The k scores that make the low-rank curvature, per smUSource. */
  private sampleScores(obs: Float64Array, acts: Int32Array | Float64Array, n: number, rng: Rng): { U: Float64Array; k: number } {
    const h = this.h;
    const p = this.policy;
    if (h.smUSource === 'first') {
      const k = Math.min(h.smRank, n);
      return { U: p.scores(obs.subarray(0, k * p.obsDim), acts.subarray(0, k * (p.head === 'categorical' ? 1 : p.outDim)), k), k };
    }
    const k = Math.min(h.smRank, n);
    // Distinct indices drawn uniformly from the minibatch.
    const perm = rng.permutation(n).subarray(0, k);
    const aw = p.head === 'categorical' ? 1 : p.outDim;
    const S = p.scores(gatherRows(obs, p.obsDim, perm), gatherRows(acts, aw, perm), k);
    if (h.smUSource === 'random') return { U: S, k };
    // 'mean': one vector, the mean of the k sampled scores.
    const P = S.length / k;
    const u = new Float64Array(P);
    for (let j = 0; j < k; j++) for (let i = 0; i < P; i++) u[i]! += S[j * P + i]! / k;
    return { U: u, k: 1 };
  }

  private measureFidelity(obs: Float64Array, acts: Int32Array | Float64Array, n: number, g: Float64Array, d: Float64Array, lambda: number): FisherFidelity {
    const Fm = this.policy.fisher(obs, acts, n, 'matfree');
    const apply = (v: Float64Array): Float64Array => addScaled(Fm.mv(v), v, lambda);
    const quadExact = dot(d, apply(d));
    const cg = conjugateGradient(apply, g, { tol: 1e-6, maxIter: 50 }, 'policy Fisher + λI');
    const cos = (a: Float64Array, b: Float64Array): number => dot(a, b) / (norm(a) * norm(b) + 1e-300);
    return {
      update: this.updates,
      quadLowRank: dot(g, d),
      quadExact,
      cosine: cos(d, cg.x),
      cosineToGradient: cos(d, g),
      exactCosineToGradient: cos(cg.x, g),
      cgResidual: cg.relResidual,
    };
  }

  /**
   * Backtracking from the full step: accept θ₀ + β^j·step at the first j with mean KL ≤ δ and a
   * surrogate above the current one; if none is accepted, θ stays at θ₀. Returns j, or −1.
   */
  private lineSearch(start: Float64Array, step: Float64Array, obs: Float64Array, acts: Int32Array | Float64Array, n: number, adv: Float64Array,
    oldDist: Float64Array, oldLogStd: Float64Array | null, batch: Batch, idx: ArrayLike<number>): number {
    const p = this.policy;
    const h = this.h;
    const oldLp = Float64Array.from(idx, (i) => batch.rollout.logProbs[i]!);
    const base = surrogate(p, obs, acts, oldLp, adv, n);
    const oldSub = idx.length === batch.size ? oldDist : gatherRows(oldDist, p.outDim, idx);
    let coef = 1;
    for (let j = 0; j < h.lineSearchSteps; j++) {
      p.setFlat(start.map((x, i) => x + coef * step[i]!));
      const kl = p.meanKl(obs, n, oldSub, oldLogStd);
      const s = surrogate(p, obs, acts, oldLp, adv, n);
      if (Number.isFinite(kl) && kl <= h.maxKl && s > base) return j;
      coef *= h.backtrackRatio;
    }
    p.setFlat(start);
    return -1;
  }

  state(): AlgoState {
    const optimizers: AlgoState['optimizers'] = { critic: this.criticOpt.state() };
    if (this.actorOpt) optimizers.actor = this.actorOpt.state();
    return { name: this.name, updates: this.updates, optimizers };
  }

  loadState(s: AlgoState): void {
    this.criticOpt.loadState(s.optimizers.critic!);
    if (this.actorOpt && s.optimizers.actor) this.actorOpt.loadState(s.optimizers.actor);
    this.updates = s.updates;
  }
}

function addScaled(y: Float64Array, v: Float64Array, c: number): Float64Array {
  if (c !== 0) for (let i = 0; i < y.length; i++) y[i] = y[i]! + c * v[i]!;
  return y;
}
