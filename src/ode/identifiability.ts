// How well do the data determine each parameter? From the forward sensitivities, the Fisher
// information of the estimated parameters under the Gaussian noise model, its eigen-decomposition
// in log-parameter coordinates (eigenvectors with relatively tiny eigenvalues are parameter
// combinations the observed states cannot determine, named as products of powers), the
// Cramér–Rao lower bounds with Wald confidence intervals, and optionally the profile of the
// least-squares loss along each parameter.
import type { ObservedData, OdeModel } from './model.js';
import { symmetricEigen } from '../fisher/linalg.js';
import { checkModel, trueParams, unknownIndices } from './define.js';
import { OdeDataError, OdeModelError } from './errors.js';
import { solveOde, type OdeMethod } from './solve.js';
import { profileLeastSquares, type LossProfile } from './fit.js';

export interface IdentifiabilityOptions {
  /** Parameters analysed (default: the model's unknown ones). */
  wrt?: readonly number[] | 'unknown';
  /** Where the information is evaluated: every parameter (default: the model's values). */
  params?: Float64Array;
  /**
   * The noise model (default: the data's). At level 0 the information is infinite; the analysis
   * then uses `nominalLevel` (default 0.01) so the eigen-structure and relative bounds are still
   * meaningful (the bounds scale linearly with the level).
   */
  noise?: ObservedData['noise'];
  nominalLevel?: number;
  /**
   * Eigenvalues below relTol·λ_max flag a non-identifiable combination (default 1e-12: a
   * structural degeneracy gives ratios near the solver's accuracy squared, ~1e-16; weaker ones are
   * left to the Cramér–Rao bounds, which grow as 1/√λ). A parameter with weight ≥ 0.05 in a
   * flagged direction gets an infinite bound.
   */
  relTol?: number;
  /** Include the σ(θ) term of the Gaussian information under multiplicative noise (default true). */
  varianceTerm?: boolean;
  method?: OdeMethod;
  rtol?: number;
  /** Loss profiles along each parameter (re-fitting the others; costly): points and log half-span. */
  profile?: { points?: number; span?: number };
}

export interface ParameterBound {
  readonly name: string;
  readonly index: number;
  readonly value: number;
  /** Cramér–Rao lower bound on the standard deviation of an unbiased estimate (Infinity: not identifiable). */
  readonly sd: number;
  /** sd / |value|. */
  readonly relSd: number;
  /** 95 % Wald interval value ± 1.96·sd. */
  readonly ci95: readonly [number, number];
  /** Whether the parameter has weight in a flagged (non-identifiable) direction. */
  readonly identifiable: boolean;
}

export interface Combination {
  readonly eigenvalue: number;
  /** λ / λ_max. */
  readonly relEigenvalue: number;
  /** Unit eigenvector in log-parameter coordinates, by parameter. */
  readonly weights: readonly { name: string; weight: number }[];
  /** The undetermined combination as a product of powers, e.g. 'a^1 · b^-1'. */
  readonly expression: string;
}

export interface IdentifiabilityReport {
  readonly wrt: readonly number[];
  readonly names: readonly string[];
  /** Fisher information in the parameters' own units, np×np row-major. */
  readonly fisher: Float64Array;
  /** Fisher information in log-parameter coordinates (F_log = D·F·D, D = diag θ). */
  readonly fisherLog: Float64Array;
  /** Eigenvalues of F_log, ascending, and the eigenvectors (columns, row-major). */
  readonly eigenvalues: Float64Array;
  readonly eigenvectors: Float64Array;
  readonly conditionNumber: number;
  readonly parameters: readonly ParameterBound[];
  /** Combinations the data cannot determine (eigenvalues below relTol·λ_max). */
  readonly nonIdentifiable: readonly Combination[];
  readonly noise: { kind: 'multiplicative' | 'additive'; level: number; nominal: boolean };
  readonly profiles?: readonly LossProfile[];
  /** Short text naming what is and is not identifiable. */
  readonly summary: string;
}

function formatPower(w: number): string {
  const r = Math.round(w * 100) / 100;
  return Number.isInteger(r) ? String(r) : r.toFixed(2);
}

export function identifiability(model: OdeModel, data: ObservedData, opts: IdentifiabilityOptions = {}): IdentifiabilityReport {
  checkModel(model);
  const wrt = opts.wrt === undefined || opts.wrt === 'unknown' ? unknownIndices(model) : [...opts.wrt];
  if (wrt.length === 0) throw new OdeModelError(`'${model.name}': no parameters to analyse`);
  const p = opts.params ?? trueParams(model);
  const noise0 = opts.noise ?? data.noise ?? { kind: 'multiplicative' as const, level: 0 };
  const nominal = !(noise0.level > 0);
  const level = nominal ? (opts.nominalLevel ?? 0.01) : noise0.level;
  if (!(level > 0)) throw new OdeDataError('bad-option', `noise level must be positive, got ${level}`);
  const kind = noise0.kind;
  const np = wrt.length;
  const n = model.states.length;
  const m = data.observed.length;
  const sol = solveOde(model, { times: data.times, t0: model.tspan[0], params: p, method: opts.method ?? 'auto', rtol: opts.rtol ?? 1e-9, sensitivities: wrt });
  const S = sol.sensitivities!;
  const F = new Float64Array(np * np);
  const varianceTerm = opts.varianceTerm ?? true;
  for (let i = 0; i < data.times.length; i++) {
    for (let j = 0; j < m; j++) {
      if (Number.isNaN(data.values[i * m + j]!)) continue;
      const s = data.observed[j]!;
      const u = sol.states[i * n + s]!;
      // Σ = σ² with σ = level·|u(θ)| (multiplicative) or level·scale_j (additive).
      const sigma = kind === 'additive' ? level * (noise0.scale?.[j] ?? 1) : level * Math.abs(u);
      if (!(sigma > 0)) continue; // an exactly-zero state under multiplicative noise carries no noise model
      const row = (i * n + s) * np;
      // Gaussian information: (∂u/∂θ)(∂u/∂θ)ᵀ/σ² + ½(∂σ²/∂θ)(∂σ²/∂θ)ᵀ/σ⁴; with σ = ε|u| the
      // second term is 2(∂u/∂θ)(∂u/∂θ)ᵀ/u².
      const w = 1 / (sigma * sigma) + (kind === 'multiplicative' && varianceTerm ? 2 / (u * u) : 0);
      for (let a = 0; a < np; a++) for (let b = 0; b < np; b++) F[a * np + b]! += w * S[row + a]! * S[row + b]!;
    }
  }
  const theta = wrt.map((j) => p[j]!);
  const Flog = Float64Array.from(F, (v, q) => v * theta[Math.floor(q / np)]! * theta[q % np]!);
  const { values, vectors } = symmetricEigen(Flog, np);
  const lmax = Math.max(values[np - 1]!, 0);
  const relTol = opts.relTol ?? 1e-12;
  const flagged: number[] = [];
  for (let c = 0; c < np; c++) if (!(values[c]! > relTol * lmax)) flagged.push(c);
  const names = wrt.map((j) => model.parameters[j]!.name);
  const nonIdentifiable: Combination[] = flagged.map((c) => {
    const v = Array.from({ length: np }, (_, r) => vectors[r * np + c]!);
    const big = Math.max(...v.map(Math.abs));
    // Normalise so the largest weight is +1, then name the parameters carrying real weight.
    const sign = v[v.findIndex((x) => Math.abs(x) === big)]! < 0 ? -1 : 1;
    const terms = v.map((x, r) => ({ name: names[r]!, w: (sign * x) / big })).filter((t) => Math.abs(t.w) >= 0.05);
    return {
      eigenvalue: values[c]!,
      relEigenvalue: lmax > 0 ? values[c]! / lmax : 0,
      weights: v.map((x, r) => ({ name: names[r]!, weight: x })),
      expression: terms.map((t) => `${t.name}^${formatPower(t.w)}`).join(' · '),
    };
  });
  // Cramér–Rao: Var(log θ_k) ≥ (F_log⁻¹)_kk = Σ_c q_kc²/λ_c; a flagged direction makes it infinite
  // for every parameter with weight in it.
  const parameters: ParameterBound[] = wrt.map((j, k) => {
    let varLog = 0;
    let inIdentifiable = true;
    for (let c = 0; c < np; c++) {
      const q = vectors[k * np + c]!;
      if (flagged.includes(c) && Math.abs(q) >= 0.05) { varLog = Infinity; inIdentifiable = false; }
      else varLog += values[c]! > 0 ? (q * q) / values[c]! : q === 0 ? 0 : Infinity;
    }
    const relSd = Math.sqrt(varLog);
    const value = p[j]!;
    const sd = relSd * Math.abs(value);
    return { name: names[k]!, index: j, value, sd, relSd, ci95: [value - 1.96 * sd, value + 1.96 * sd] as const, identifiable: inIdentifiable };
  });
  const profiles = opts.profile
    ? wrt.map((j) => profileLeastSquares(model, data, j, { wrt, centre: p, ...(opts.method ? { method: opts.method } : {}), points: opts.profile!.points ?? 7, span: opts.profile!.span ?? Math.log(1.5) }))
    : undefined;
  const bad = parameters.filter((q) => !q.identifiable).map((q) => q.name);
  const summary = nonIdentifiable.length === 0
    ? `all ${np} parameters are locally identifiable from the observed states (${data.observed.map((s) => model.states[s]).join(', ')}); condition number ${(lmax / values[0]!).toExponential(2)}`
    : `not identifiable from the observed states (${data.observed.map((s) => model.states[s]).join(', ')}): ${nonIdentifiable.map((c) => c.expression).join('; ')} ` +
      `(each is undetermined; parameters affected: ${bad.join(', ')})`;
  return {
    wrt, names, fisher: F, fisherLog: Flog, eigenvalues: values, eigenvectors: vectors,
    conditionNumber: values[0]! > 0 ? lmax / values[0]! : Infinity,
    parameters, nonIdentifiable, noise: { kind, level, nominal }, ...(profiles ? { profiles } : {}), summary,
  };
}
