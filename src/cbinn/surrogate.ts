/**
 * The CBINN surrogate t ↦ û(t): an MLP on time features with a per-state output transform.
 *
 * Features of the scaled time τ = (t − t0)/(t1 − t0) ∈ [0, 1]: [τ, sin(kπτ), cos(kπτ)] for
 * k = 1..K (K = 0: τ alone). Output transforms (per state j, NN_j the network's output):
 *   'scaled':  û_j = u0_j + s_j·NN_j(t),     hard IC: û_j = u0_j + s_j·(NN_j(t) − NN_j(t0))
 *   'log':     û_j = u0_j·exp(NN_j(t)),      hard IC: û_j = u0_j·exp(NN_j(t) − NN_j(t0))
 * with s_j the model's typical magnitude of state j. The log form keeps û > 0 and gives every
 * decade the same weight (for states spanning many decades). The hard initial condition
 * subtracts the network's own value at t0 rather than multiplying by τ: a factor τ would force
 * outputs of order Δu/τ right after t0, where fast transients need them largest.
 *
 * dû/dt comes from fimkit's reverse mode with the graph recorded, so the ODE residual built from
 * it can be differentiated again w.r.t. the weights and the ODE parameters. The features are a
 * fixed function of t, so the time derivative is the forward-mode product J_φ(û)·φ'(t), formed
 * by the double-vjp construction: G = J_φᵀU for a zero cotangent U that requires a gradient, then
 * dû/dt = ∂⟨G, φ'⟩/∂U. Both passes record their graphs (createGraph).
 */
import { fail } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { Rng } from '../core/rng.js';
import * as F from '../autodiff/ops.js';
import { grad } from '../autodiff/grad.js';
import { isGradEnabled, withGradMode } from '../autodiff/tape.js';
import { buildModel, mlpSpec, type ActivationName, type Sequential } from '../nn/index.js';

export type OutputTransform = 'scaled' | 'log';

export interface SurrogateOptions {
  /** Hidden layer widths. Default [64, 64, 64]. */
  hidden?: readonly number[];
  /** Hidden activation (smooth ones only: the residual needs derivatives). Default 'tanh'. */
  activation?: ActivationName;
  /** Fourier feature count K. Default 4. */
  fourier?: number;
  /** Output transform. Default 'scaled'. */
  output?: OutputTransform;
  /** Enforce û(t0) = u0 exactly. Default true. */
  hardIc?: boolean;
}

export interface ResolvedSurrogateOptions {
  hidden: number[];
  activation: ActivationName;
  fourier: number;
  output: OutputTransform;
  hardIc: boolean;
}

export function resolveSurrogateOptions(o: SurrogateOptions = {}): ResolvedSurrogateOptions {
  const r = {
    hidden: [...(o.hidden ?? [64, 64, 64])],
    activation: o.activation ?? 'tanh',
    fourier: o.fourier ?? 4,
    output: o.output ?? 'scaled',
    hardIc: o.hardIc ?? true,
  };
  if (r.hidden.length === 0 || r.hidden.some((h) => !Number.isInteger(h) || h < 1)) fail('INVALID_ARGUMENT', `surrogate hidden widths must be positive integers, got [${r.hidden.join(', ')}]`);
  if (!Number.isInteger(r.fourier) || r.fourier < 0) fail('INVALID_ARGUMENT', `Fourier feature count must be an integer ≥ 0, got ${r.fourier}`);
  if (r.activation === 'relu' || r.activation === 'leaky-relu' || r.activation === 'identity') {
    fail('INVALID_ARGUMENT', `surrogate activation '${r.activation}' has no useful second derivative; use tanh, sigmoid, softplus or gelu`);
  }
  if (r.output !== 'scaled' && r.output !== 'log') fail('INVALID_ARGUMENT', `unknown output transform '${String(r.output)}' (scaled, log)`);
  return r;
}

export class Surrogate {
  readonly net: Sequential;
  readonly opts: ResolvedSurrogateOptions;
  readonly nStates: number;
  private readonly u0Row: Tensor;
  private readonly scaleRow: Tensor;
  private readonly logU0Row: Tensor | null;

  constructor(
    readonly t0: number,
    readonly t1: number,
    readonly u0: Float64Array,
    readonly scales: Float64Array,
    opts: SurrogateOptions,
    rng: Rng,
  ) {
    if (!(t1 > t0)) fail('INVALID_ARGUMENT', `surrogate time span [${t0}, ${t1}] is empty`);
    this.opts = resolveSurrogateOptions(opts);
    this.nStates = u0.length;
    if (scales.length !== this.nStates) fail('SHAPE', `${scales.length} scales for ${this.nStates} states`);
    if (this.opts.output === 'log' && u0.some((v) => !(v > 0))) fail('INVALID_ARGUMENT', `log-state outputs need a positive initial state, got [${[...u0].join(', ')}]`);
    const nf = 1 + 2 * this.opts.fourier;
    this.net = buildModel(mlpSpec([nf, ...this.opts.hidden, this.nStates], this.opts.activation), rng, 'float64');
    this.u0Row = new Tensor(Float64Array.from(u0), [1, this.nStates]);
    this.scaleRow = new Tensor(Float64Array.from(scales), [1, this.nStates]);
    this.logU0Row = this.opts.output === 'log' ? new Tensor(Float64Array.from(u0, Math.log), [1, this.nStates]) : null;
  }

  get featureCount(): number {
    return 1 + 2 * this.opts.fourier;
  }

  parameters(): Tensor[] {
    return this.net.parameters();
  }

  /** Features φ(t) [N, F] and their time derivatives φ'(t) [N, F] (plain constants). */
  features(times: Float64Array): { phi: Float64Array; dphi: Float64Array } {
    const K = this.opts.fourier;
    const nf = this.featureCount;
    const span = this.t1 - this.t0;
    const phi = new Float64Array(times.length * nf);
    const dphi = new Float64Array(times.length * nf);
    for (let i = 0; i < times.length; i++) {
      const tau = (times[i]! - this.t0) / span;
      const o = i * nf;
      phi[o] = tau;
      dphi[o] = 1 / span;
      for (let k = 1; k <= K; k++) {
        const w = k * Math.PI;
        phi[o + 2 * k - 1] = Math.sin(w * tau);
        phi[o + 2 * k] = Math.cos(w * tau);
        dphi[o + 2 * k - 1] = (w / span) * Math.cos(w * tau);
        dphi[o + 2 * k] = (-w / span) * Math.sin(w * tau);
      }
    }
    return { phi, dphi };
  }

  /** û from the features (the output transform included, so its time dependence is differentiated too). */
  private fromFeatures(phi: Tensor): Tensor {
    let z = this.net.forward(phi);
    if (this.opts.hardIc) {
      const { phi: phi0 } = this.features(Float64Array.of(this.t0));
      z = F.sub(z, this.net.forward(new Tensor(phi0, [1, this.featureCount])));
    }
    if (this.opts.output === 'log') return F.exp(F.add(z, this.logU0Row!));
    return F.add(F.mul(z, this.scaleRow), this.u0Row);
  }

  /** û(t) [N, S], without the time derivative. */
  predict(times: Float64Array): Tensor {
    const { phi } = this.features(times);
    return this.fromFeatures(new Tensor(phi, [times.length, this.featureCount]));
  }

  /**
   * û(t) and dû/dt, both [N, S] and differentiable w.r.t. the network weights. The forward pass
   * is recorded even inside noGrad (dû/dt is itself a gradient); outside the caller's mode the
   * results are detached, so evaluation under noGrad keeps no graph.
   */
  predictWithDerivative(times: Float64Array): { u: Tensor; dudt: Tensor } {
    if (!isGradEnabled()) {
      const r = withGradMode(true, () => this.derivativeRecorded(times));
      return { u: r.u.detach(), dudt: r.dudt.detach() };
    }
    return this.derivativeRecorded(times);
  }

  private derivativeRecorded(times: Float64Array): { u: Tensor; dudt: Tensor } {
    const n = times.length;
    const { phi, dphi } = this.features(times);
    const phiT = new Tensor(phi, [n, this.featureCount], true);
    const u = this.fromFeatures(phiT);
    const cot = new Tensor(new Float64Array(n * this.nStates), [n, this.nStates], true);
    const [g] = grad(u, [phiT], { gradOutputs: [cot], createGraph: true });
    const [dudt] = grad(g!, [cot], { gradOutputs: [new Tensor(dphi, [n, this.featureCount])], createGraph: true });
    return { u, dudt: dudt! };
  }
}
