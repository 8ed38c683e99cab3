// The ODE model contract: one definition of a system's right-hand side, written once against a
// small arithmetic interface (`Arith`) and evaluated with plain numbers (the solvers), with dual
// numbers (Jacobians for the stiff solver and the variational equations of the sensitivities),
// and with autodiff Tensors (the CBINN residual, where the states are network outputs and the
// unknown parameters are trainable). A model defined in TypeScript or compiled from an
// expression file therefore needs no hand-written Jacobian.

/** The arithmetic a right-hand side may use. T is number, a dual number, or an autodiff Tensor. */
export interface Arith<T> {
  const(c: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  neg(a: T): T;
  /** a^p for a constant exponent p (a > 0 where p is not an integer). */
  powc(a: T, p: number): T;
  exp(a: T): T;
  log(a: T): T;
}

export interface OdeParameter {
  readonly name: string;
  /** The true value (synthetic data are generated with it). */
  readonly value: number;
  /** Bounds for estimation, lo < hi; positive parameters are estimated in log space when lo > 0. */
  readonly lo: number;
  readonly hi: number;
  /** Known parameters are fixed at `value`; unknown ones are estimated. */
  readonly known: boolean;
  readonly description?: string;
}

/** A term of the right-hand side that can be declared missing (learned by a network). */
export interface MissingTerm {
  readonly name: string;
  /** The state equation it enters, additively. */
  readonly state: number;
  /** Human-readable true formula, e.g. 'rho*E*T/(eta + T)'. */
  readonly formula: string;
  /** The term's value, generic like the right-hand side. */
  term<T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T;
}

export interface OdeModel {
  readonly name: string;
  readonly description: string;
  /** State names, in order. */
  readonly states: readonly string[];
  readonly parameters: readonly OdeParameter[];
  /**
   * The full right-hand side du/dt = f(t, u, p) (known part plus every missing term).
   * p holds every parameter in `parameters` order, known and unknown.
   */
  rhs<T>(ar: Arith<T>, t: T, u: readonly T[], p: readonly T[]): T[];
  /** Terms that can be declared missing; rhs = knownRhs + Σ missing terms. */
  readonly missing: readonly MissingTerm[];
  readonly initialState: Float64Array;
  readonly tspan: readonly [number, number];
  /** Typical magnitude of each state (for loss and output scaling). */
  readonly scales: Float64Array;
  /** True where the system is stiff: the explicit solver refuses it with a named error. */
  readonly stiff: boolean;
}

/**
 * Measurements of some states at some times: what CBINN, the least-squares baseline and the
 * identifiability analysis are fitted to. values is [times.length × observed.length] row-major,
 * NaN where a measurement is missing.
 */
export interface ObservedData {
  readonly times: Float64Array;
  /** Indices into the model's states of the observed columns. */
  readonly observed: readonly number[];
  readonly values: Float64Array;
  /** The noise the data were made with (synthetic data), for the Fisher information and Cramér–Rao. */
  readonly noise?: {
    readonly kind: 'multiplicative' | 'additive';
    readonly level: number;
    /**
     * Additive noise only: per observed column, the scale the level multiplies (σ_j = level·scale[j];
     * synthetic data use the standard deviation of the noise-free column). Absent: scale 1.
     */
    readonly scale?: readonly number[];
  };
}
