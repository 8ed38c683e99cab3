/**
 * One interface for every representation of a Fisher (or any curvature) matrix: dense, diagonal,
 * per-layer block-diagonal, KFAC and matrix-free. Vectors are flat Float64Arrays in parameter
 * order (the order of `Sequential.parameters()`), described by a ParamLayout. Values are held in
 * float64 whatever the compute dtype: accumulation over many samples needs it.
 */

export type Representation = 'dense' | 'diag' | 'block' | 'kfac' | 'matfree';
export const REPRESENTATIONS: readonly Representation[] = ['dense', 'diag', 'block', 'kfac', 'matfree'];

export type EstimatorName = 'exact' | 'i1' | 'i2' | 'empirical' | 'hessian';
export const ESTIMATORS: readonly EstimatorName[] = ['exact', 'i1', 'i2', 'empirical', 'hessian'];

export interface ParamEntry {
  /** e.g. "0.weight" */
  name: string;
  shape: number[];
  /** Offset of this parameter in the flat vector. */
  offset: number;
  size: number;
}

export interface ParamGroupLayout {
  /** e.g. "0:dense" */
  label: string;
  /** Layer type ("dense", "conv2d"). */
  type: string;
  params: ParamEntry[];
  offset: number;
  size: number;
}

export interface ParamLayout {
  groups: ParamGroupLayout[];
  size: number;
}

/** Provenance every result carries. */
export interface FisherMeta {
  estimator: EstimatorName;
  representation: Representation;
  likelihood: string;
  /** Labels drawn per input (Monte Carlo estimators), null where labels are not sampled. */
  labelsPerInput: number | null;
  numInputs: number;
  /** 'joint': inputs from the data; 'conditional': one fixed input. */
  mode: 'joint' | 'conditional';
  seed: number | null;
  dtype: 'float32' | 'float64';
  backend: string;
  wallSeconds: number;
  /** 'mean': averaged over every (input, label) term; 'sum': summed. */
  scaling: 'mean' | 'sum';
  /** Notes such as "piecewise-linear network: Î2 equals the exact FIM on the diagonal". */
  notes: string[];
}

export interface FisherMatrix {
  readonly representation: Representation;
  readonly layout: ParamLayout;
  readonly meta: FisherMeta;
  /** M·v */
  mv(v: Float64Array): Float64Array;
  /** vᵀ·M·v */
  vMv(v: Float64Array): number;
  trace(): number;
  diag(): Float64Array;
  /** (M + damping·I)⁻¹ v */
  solve(v: Float64Array, damping: number): Float64Array;
  /** (M + damping·I)⁻¹ in the same representation (KFAC: the damped Kronecker inverse, see docs). */
  inverse(damping: number): FisherMatrix;
  /** The block of one parameter group (layer), by index or label, with a layout of its own. */
  layer(which: number | string): FisherMatrix;
  /** Dense P×P row-major; throws TOO_LARGE (saying how much memory it would need) above a limit. */
  toDense(): Float64Array;
  toJSON(): unknown;
}
