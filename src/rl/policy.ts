/**
 * Actor and critic for on-policy RL, on fimkit's own networks, likelihoods and Fisher code.
 *
 * The actor is a Sequential MLP (default [64, 64] tanh) whose output h is the likelihood's
 * natural parameter of the action distribution:
 *   - discrete actions: a categorical head, h = logits (the categorical likelihood);
 *   - box actions: a diagonal Gaussian head, h = μ(s), with state-independent log-standard
 *     deviations s ∈ R^A that are trainable parameters of θ (the Gaussian likelihood with a
 *     per-coordinate variance exp(2s), plus its log-std block).
 * θ is laid out flat as (the network's parameters in Sequential order, then s): every
 * natural-gradient algorithm works on that vector. The critic is a separate Sequential MLP
 * obs → V(s).
 *
 * Everything the algorithms need of the policy lives here: differentiable log π(a|s) and
 * entropy, per-sample scores ∇θ log π(a|s) (fimkit's per-sample gradients for the network part,
 * the closed form for s), the policy's Fisher on a batch of states in the dense, matrix-free
 * (F·v), KFAC and diagonal representations (fimkit's Fisher code for the network part, the
 * closed-form block 2·I for s; the μ–s cross block is zero), and the mean KL between two
 * policies for TRPO's line search.
 */
import type { DType } from '../core/dtype.js';
import { fail } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Tensor } from '../core/tensor.js';
import * as F from '../autodiff/ops.js';
import { noGrad } from '../autodiff/tape.js';
import { CategoricalLikelihood } from '../likelihoods/categorical.js';
import { GaussianLikelihood, gaussianLogProbWithLogStd } from '../likelihoods/gaussian.js';
import type { Likelihood } from '../likelihoods/likelihood.js';
import { buildModel, mlpSpec, type Sequential } from '../nn/sequential.js';
import type { ActivationName } from '../nn/layers.js';
import type { Dataset } from '../data/dataset.js';
import { computeFisher } from '../fisher/compute.js';
import { perSampleGradients } from '../fisher/persample.js';
import type { FisherMatrix } from '../fisher/matrix.js';
import type { Space } from './envs/types.js';

export type HeadKind = 'categorical' | 'gaussian';

export interface PolicyConfig {
  /** Hidden layer widths of the actor (default [64, 64]). */
  actorHidden?: number[];
  /** Hidden layer widths of the critic (default [64, 64]). */
  criticHidden?: number[];
  activation?: ActivationName;
  /** Initial log-standard deviation of a Gaussian head (default 0). */
  logStdInit?: number;
  dtype?: DType;
}

/** A Fisher of the policy over its whole θ (network, then log-std), with the operations the
 *  natural-gradient algorithms use. */
export interface PolicyFisher {
  readonly size: number;
  mv(v: Float64Array): Float64Array;
  /** (F + damping·I)⁻¹ v. */
  solve(v: Float64Array, damping: number): Float64Array;
  /** The network part, as fimkit's FisherMatrix (for its metadata and per-layer views). */
  readonly network: FisherMatrix;
}

export type FisherKind = 'matfree' | 'kfac' | 'diag' | 'dense';

export class ActorCritic {
  readonly head: HeadKind;
  readonly obsDim: number;
  /** Number of logits (categorical) or action coordinates (Gaussian). */
  readonly outDim: number;
  readonly actor: Sequential;
  readonly critic: Sequential;
  /** Gaussian head only: the log-standard deviations [A], trainable. */
  readonly logStd: Tensor | null;
  readonly dtype: DType;
  /** Action bounds of a box space (for clipping sampled actions). */
  readonly low: Float64Array | null;
  readonly high: Float64Array | null;

  constructor(observationSpace: Space, actionSpace: Space, rng: Rng, cfg: PolicyConfig = {}) {
    if (observationSpace.kind !== 'box' || observationSpace.shape.length !== 1) {
      fail('INVALID_ARGUMENT', `the policy needs a flat box observation space, got ${observationSpace.kind === 'box' ? `shape [${observationSpace.shape.join(', ')}]` : 'a discrete one'}`);
    }
    this.obsDim = observationSpace.shape[0]!;
    this.dtype = cfg.dtype ?? 'float64';
    const act = cfg.activation ?? 'tanh';
    const ah = cfg.actorHidden ?? [64, 64];
    const ch = cfg.criticHidden ?? [64, 64];
    if (actionSpace.kind === 'discrete') {
      this.head = 'categorical';
      this.outDim = actionSpace.n;
      this.logStd = null;
      this.low = this.high = null;
    } else {
      if (actionSpace.shape.length !== 1) fail('INVALID_ARGUMENT', `the Gaussian head needs a flat action box, got shape [${actionSpace.shape.join(', ')}]`);
      this.head = 'gaussian';
      this.outDim = actionSpace.shape[0]!;
      const s = new Float64Array(this.outDim).fill(cfg.logStdInit ?? 0);
      this.logStd = Tensor.param(this.dtype === 'float64' ? s : Float32Array.from(s), [this.outDim], 'logStd');
      this.low = Float64Array.from(actionSpace.low);
      this.high = Float64Array.from(actionSpace.high);
    }
    this.actor = buildModel(mlpSpec([this.obsDim, ...ah, this.outDim], act), rng.derive('actor'), this.dtype);
    this.critic = buildModel(mlpSpec([this.obsDim, ...ch, 1], act), rng.derive('critic'), this.dtype);
    // Small last layers (as the usual orthogonal-init recipe's gains 0.01 and 1 do): a
    // near-uniform initial policy explores; the value head starts near zero.
    scaleLastLayer(this.actor, 0.01);
    scaleLastLayer(this.critic, 1);
  }

  /** Actor parameters in θ order: the network's, then the log-std. */
  actorParams(): Tensor[] {
    const ps = this.actor.parameters();
    return this.logStd ? [...ps, this.logStd] : ps;
  }

  criticParams(): Tensor[] {
    return this.critic.parameters();
  }

  get numActorParams(): number {
    return this.actorParams().reduce((s, p) => s + p.size, 0);
  }

  /** Size of the network part of θ (θ minus the log-std). */
  get numNetworkParams(): number {
    return this.actor.numParams();
  }

  getFlat(): Float64Array {
    return flatten(this.actorParams());
  }

  setFlat(theta: Float64Array): void {
    unflattenInto(this.actorParams(), theta);
  }

  /** obs as a [B, obsDim] tensor of the policy's dtype. */
  obsTensor(obs: ArrayLike<number>, batch: number): Tensor {
    if (obs.length !== batch * this.obsDim) fail('SHAPE', `${obs.length} observation values for a batch of ${batch} × ${this.obsDim}`);
    const data = this.dtype === 'float64' ? Float64Array.from(obs) : Float32Array.from(obs);
    return new Tensor(data, [batch, this.obsDim]);
  }

  /** Differentiable log π(a_b | s_b) per row [B]. */
  logProb(obs: Tensor, actions: Int32Array | Float64Array): Tensor {
    const h = this.actor.forward(obs);
    if (this.head === 'categorical') return categorical.logProb(h, actions as Int32Array);
    return gaussianLogProbWithLogStd(h, this.logStd!, actions);
  }

  /** Differentiable entropy of π(·|s_b) per row [B]. */
  entropy(obs: Tensor): Tensor {
    const h = this.actor.forward(obs);
    return this.entropyOf(h, obs.shape[0]!);
  }

  /** log π and entropy from one forward pass. */
  logProbAndEntropy(obs: Tensor, actions: Int32Array | Float64Array): { logProb: Tensor; entropy: Tensor } {
    const h = this.actor.forward(obs);
    const logProb = this.head === 'categorical' ? categorical.logProb(h, actions as Int32Array) : gaussianLogProbWithLogStd(h, this.logStd!, actions);
    return { logProb, entropy: this.entropyOf(h, obs.shape[0]!) };
  }

  private entropyOf(h: Tensor, batch: number): Tensor {
    if (this.head === 'categorical') {
      const lp = F.logSoftmax(h);
      return F.neg(F.sumAxis(F.mul(F.exp(lp), lp), 1));
    }
    // Σ_a (s_a + ½ log 2πe), the same for every state.
    const per = F.addScalar(F.sum(this.logStd!), 0.5 * this.outDim * Math.log(2 * Math.PI * Math.E));
    return F.mul(F.constant(ones(this.dtype, batch), [batch]), per);
  }

  /** V(s_b) per row, no graph. */
  values(obs: ArrayLike<number>, batch: number): Float64Array {
    return noGrad(() => Float64Array.from(this.critic.forward(this.obsTensor(obs, batch)).data));
  }

  /** Differentiable V(s) [B]. */
  valueTensor(obs: Tensor): Tensor {
    return F.reshape(this.critic.forward(obs), [obs.shape[0]!]);
  }

  /**
   * Actions for a batch of observations, no graph. Stochastic: sampled from π (the Gaussian's
   * log-prob is that of the unclipped sample; `envActions` are clipped to the box). Deterministic:
   * the mode (argmax logit, or μ).
   */
  act(obs: ArrayLike<number>, batch: number, rng: Rng, deterministic = false): { actions: Int32Array | Float64Array; envActions: Int32Array | Float64Array; logProbs: Float64Array } {
    return noGrad(() => {
      const h = this.actor.forward(this.obsTensor(obs, batch)).data;
      const C = this.outDim;
      const logProbs = new Float64Array(batch);
      if (this.head === 'categorical') {
        const a = new Int32Array(batch);
        const p = new Float64Array(C);
        for (let b = 0; b < batch; b++) {
          let mx = -Infinity;
          for (let c = 0; c < C; c++) mx = Math.max(mx, h[b * C + c]!);
          if (!Number.isFinite(mx)) fail('NON_FINITE', `policy logits for observation ${b} are not finite (the policy diverged)`);
          let z = 0;
          for (let c = 0; c < C; c++) z += p[c] = Math.exp(h[b * C + c]! - mx);
          let k: number;
          if (deterministic) {
            k = 0;
            for (let c = 1; c < C; c++) if (p[c]! > p[k]!) k = c;
          } else k = rng.categorical(p);
          a[b] = k;
          logProbs[b] = h[b * C + k]! - mx - Math.log(z);
        }
        return { actions: a, envActions: a, logProbs };
      }
      const s = this.logStd!.data;
      const a = new Float64Array(batch * C);
      const env = new Float64Array(batch * C);
      let logNorm = 0;
      for (let c = 0; c < C; c++) logNorm += s[c]! + 0.5 * Math.log(2 * Math.PI);
      for (let b = 0; b < batch; b++) {
        let q = 0;
        for (let c = 0; c < C; c++) {
          const mu = h[b * C + c]!;
          if (!Number.isFinite(mu)) fail('NON_FINITE', `policy mean for observation ${b} is ${mu} (the policy diverged)`);
          const z = deterministic ? 0 : rng.normal();
          const x = mu + Math.exp(s[c]!) * z;
          a[b * C + c] = x;
          env[b * C + c] = Math.min(this.high![c]!, Math.max(this.low![c]!, x));
          q += z * z;
        }
        logProbs[b] = -0.5 * q - logNorm;
      }
      return { actions: a, envActions: env, logProbs };
    });
  }

  /** The likelihood of the network output, at the current log-std for a Gaussian head. */
  likelihood(): Likelihood {
    if (this.head === 'categorical') return categorical;
    return new GaussianLikelihood({ variance: Array.from(this.logStd!.data, (s) => Math.exp(2 * s)) });
  }

  /** The batch of states (and actions) as a Dataset, the form fimkit's Fisher code streams. */
  batchDataset(obs: ArrayLike<number>, actions: Int32Array | Float64Array, batch: number): Dataset {
    const inputs = this.dtype === 'float64' ? Float64Array.from(obs) : Float32Array.from(obs);
    if (this.head === 'categorical') {
      return { name: 'rl-batch', length: batch, inputShape: [this.obsDim], inputs, targetKind: 'class', targets: actions as Int32Array, targetDim: 1, numClasses: this.outDim };
    }
    return { name: 'rl-batch', length: batch, inputShape: [this.obsDim], inputs, targetKind: 'real', targets: Float64Array.from(actions), targetDim: this.outDim };
  }

  /**
   * Per-sample scores ∇θ log π(a_b|s_b) as rows of a [B, P] array (P = numActorParams): the
   * network part from fimkit's per-sample gradients, the log-std part in closed form
   * ∂/∂s_a log π = (a_a − μ_a)² e^{−2 s_a} − 1.
   */
  scores(obs: ArrayLike<number>, actions: Int32Array | Float64Array, batch: number): Float64Array {
    const x = this.obsTensor(obs, batch);
    const Pn = this.numNetworkParams;
    const net = perSampleGradients(this.actor, this.likelihood(), x, this.head === 'categorical' ? actions : Float64Array.from(actions));
    if (this.head === 'categorical') return net;
    const A = this.outDim;
    const P = Pn + A;
    const out = new Float64Array(batch * P);
    const mu = noGrad(() => this.actor.forward(x).data);
    const s = this.logStd!.data;
    for (let b = 0; b < batch; b++) {
      out.set(net.subarray(b * Pn, (b + 1) * Pn), b * P);
      for (let a = 0; a < A; a++) {
        const d = (actions[b * A + a]! - mu[b * A + a]!) * Math.exp(-s[a]!);
        out[b * P + Pn + a] = d * d - 1;
      }
    }
    return out;
  }

  /**
   * The policy's Fisher information on a batch of states, E_s E_{a~π}[∇log π ∇log π ᵀ] averaged
   * over the batch, in one of fimkit's representations for the network part; the log-std block
   * is 2·I (exact, state-independent) and the cross block is zero.
   */
  fisher(obs: ArrayLike<number>, actions: Int32Array | Float64Array, batch: number, kind: FisherKind): PolicyFisher {
    const network = computeFisher(this.actor, this.likelihood(), this.batchDataset(obs, actions, batch), {
      estimator: 'exact',
      representation: kind,
      batchSize: Math.max(1, batch),
    });
    const Pn = this.numNetworkParams;
    const A = this.head === 'gaussian' ? this.outDim : 0;
    const size = Pn + A;
    return {
      size,
      network,
      mv(v: Float64Array): Float64Array {
        if (v.length !== size) fail('SHAPE', `policy Fisher mv: vector of ${v.length}, θ has ${size}`);
        const out = new Float64Array(size);
        out.set(network.mv(v.subarray(0, Pn)));
        for (let a = 0; a < A; a++) out[Pn + a] = 2 * v[Pn + a]!;
        return out;
      },
      solve(v: Float64Array, damping: number): Float64Array {
        if (v.length !== size) fail('SHAPE', `policy Fisher solve: vector of ${v.length}, θ has ${size}`);
        const out = new Float64Array(size);
        out.set(network.solve(v.slice(0, Pn), damping));
        for (let a = 0; a < A; a++) out[Pn + a] = v[Pn + a]! / (2 + damping);
        return out;
      },
    };
  }

  /** The action-distribution parameters on a batch, no graph (for KL computations). */
  distParams(obs: ArrayLike<number>, batch: number): Float64Array {
    return noGrad(() => Float64Array.from(this.actor.forward(this.obsTensor(obs, batch)).data));
  }

  /**
   * Mean over the batch of KL(π_old(·|s) ‖ π(·|s)) with π the current parameters; `old` is the
   * output of distParams (and, for a Gaussian head, the old log-std).
   */
  meanKl(obs: ArrayLike<number>, batch: number, old: Float64Array, oldLogStd: Float64Array | null): number {
    const h = this.distParams(obs, batch);
    const C = this.outDim;
    let total = 0;
    if (this.head === 'categorical') {
      const p = new Float64Array(C);
      const q = new Float64Array(C);
      for (let b = 0; b < batch; b++) {
        const lzp = logSoftmaxRow(old, b * C, C, p);
        const lzq = logSoftmaxRow(h, b * C, C, q);
        for (let c = 0; c < C; c++) {
          const lp = old[b * C + c]! - lzp;
          const lq = h[b * C + c]! - lzq;
          total += Math.exp(lp) * (lp - lq);
        }
      }
    } else {
      const s1 = oldLogStd!;
      const s2 = this.logStd!.data;
      for (let b = 0; b < batch; b++) {
        for (let c = 0; c < C; c++) {
          const d = old[b * C + c]! - h[b * C + c]!;
          const v1 = Math.exp(2 * s1[c]!);
          const v2 = Math.exp(2 * s2[c]!);
          total += s2[c]! - s1[c]! + (v1 + d * d) / (2 * v2) - 0.5;
        }
      }
    }
    return total / batch;
  }

  /** Everything needed to restore the policy: actor θ and critic parameters. */
  state(): { actor: number[]; critic: number[] } {
    return { actor: Array.from(this.getFlat()), critic: Array.from(flatten(this.criticParams())) };
  }

  loadState(st: { actor: number[]; critic: number[] }): void {
    if (!st || !Array.isArray(st.actor) || !Array.isArray(st.critic)) fail('CORRUPT_FILE', 'policy state lacks actor/critic parameter lists');
    if (st.actor.length !== this.numActorParams) fail('CORRUPT_FILE', `policy state has ${st.actor.length} actor parameters, this policy has ${this.numActorParams}`);
    const nc = this.critic.numParams();
    if (st.critic.length !== nc) fail('CORRUPT_FILE', `policy state has ${st.critic.length} critic parameters, this policy has ${nc}`);
    this.setFlat(Float64Array.from(st.actor));
    unflattenInto(this.criticParams(), Float64Array.from(st.critic));
  }
}

const categorical = new CategoricalLikelihood();

function ones(dtype: DType, n: number): Float32Array | Float64Array {
  return dtype === 'float64' ? new Float64Array(n).fill(1) : new Float32Array(n).fill(1);
}

function logSoftmaxRow(h: ArrayLike<number>, off: number, C: number, scratch: Float64Array): number {
  let mx = -Infinity;
  for (let c = 0; c < C; c++) mx = Math.max(mx, h[off + c]!);
  let z = 0;
  for (let c = 0; c < C; c++) z += scratch[c] = Math.exp(h[off + c]! - mx);
  return mx + Math.log(z);
}

function scaleLastLayer(model: Sequential, gain: number): void {
  const groups = model.paramGroups();
  const last = groups[groups.length - 1]!;
  for (const p of last.params) {
    const d = p.tensor.data;
    if (p.name === 'bias') d.fill(0);
    else for (let i = 0; i < d.length; i++) d[i] = d[i]! * gain;
  }
}

/** Concatenation of the tensors' data, as float64. */
export function flatten(ts: readonly Tensor[]): Float64Array {
  const n = ts.reduce((s, t) => s + t.size, 0);
  const out = new Float64Array(n);
  let off = 0;
  for (const t of ts) {
    out.set(t.data, off);
    off += t.size;
  }
  return out;
}

/** Writes a flat vector back into the tensors' data, in order. */
export function unflattenInto(ts: readonly Tensor[], v: Float64Array): void {
  const n = ts.reduce((s, t) => s + t.size, 0);
  if (v.length !== n) fail('SHAPE', `flat vector of ${v.length} values for ${n} parameters`);
  let off = 0;
  for (const t of ts) {
    t.data.set(v.subarray(off, off + t.size));
    off += t.size;
  }
}

/** Tensors shaped like `like` holding the slices of a flat vector (e.g. gradients for an optimiser). */
export function tensorsLike(like: readonly Tensor[], v: Float64Array): Tensor[] {
  let off = 0;
  return like.map((t) => {
    const d = t.dtype === 'float64' ? new Float64Array(t.size) : new Float32Array(t.size);
    d.set(v.subarray(off, off + t.size));
    off += t.size;
    return new Tensor(d, t.shape);
  });
}
