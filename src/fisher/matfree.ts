/**
 * A Fisher matrix known only through callbacks: v ↦ M·v (required), and optionally its exact
 * diagonal and trace. Nothing of size P² is ever stored.
 *
 * - solve: conjugate gradients on (M + damping·I); not converging within maxIter is an error
 *   naming the residual reached.
 * - inverse(λ): a MatrixFreeFisher whose mat-vec is that CG solve.
 * - trace: the exact callback if given, else the sum of the diagonal callback, else a Hutchinson
 *   estimate Σ_s z_sᵀ M z_s / S over S Rademacher probes (seeded, so repeatable). That case is
 *   an estimate, and the matrix's meta.notes says so (with the number of probes) from the start.
 * - diag without a callback: exact, from P mat-vecs with unit vectors (each costs one mat-vec).
 * - layer(i): the restricted mat-vec (zero-pad, M·v, take the group's part).
 * - toDense: P mat-vecs (small P only).
 * Matrix-free matrices hold functions, so they cannot be serialised: toJSON() throws.
 */
import { fail } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { checkDenseSize } from './dense.js';
import { checkDamping, conjugateGradient, defaultCgMaxIter, dot, type CgResult } from './linalg.js';
import { checkVector, deriveMeta, groupLayout, resolveGroup, validateLayout } from './layout.js';
import type { FisherMatrix, FisherMeta, ParamLayout } from './matrix.js';

export interface MatrixFreeCallbacks {
  mv(v: Float64Array): Float64Array;
  diag?(): Float64Array;
  trace?(): number;
}

export interface MatrixFreeOptions {
  /** CG relative tolerance on ‖(M + λI)x − v‖/‖v‖ (default 1e-8). */
  cgTol?: number;
  /** CG iteration limit (default min(max(2P, 50), 2000)). */
  cgMaxIter?: number;
  /** Rademacher probes for the Hutchinson trace estimate (default 64). */
  traceProbes?: number;
  /** Seed of the probes (default 0). */
  traceSeed?: number;
}

export interface TraceEstimate {
  value: number;
  /** Standard error of the estimate (0 when exact). */
  stdError: number;
  /** Probes used; 0 when the trace is exact. */
  probes: number;
}

export class MatrixFreeFisher implements FisherMatrix {
  readonly representation = 'matfree' as const;
  readonly layout: ParamLayout;
  readonly meta: FisherMeta;
  readonly size: number;
  private readonly cb: MatrixFreeCallbacks;
  private readonly opts: Required<MatrixFreeOptions>;
  /** The last CG solve's statistics (iterations, residual). */
  lastSolve: CgResult | null = null;

  constructor(callbacks: MatrixFreeCallbacks, layout: ParamLayout, meta: FisherMeta, opts: MatrixFreeOptions = {}) {
    validateLayout(layout, 'matrix-free Fisher layout');
    if (!callbacks || typeof callbacks.mv !== 'function') fail('INVALID_ARGUMENT', 'matrix-free Fisher needs an mv(v) callback');
    if (callbacks.diag !== undefined && typeof callbacks.diag !== 'function') fail('INVALID_ARGUMENT', 'matrix-free Fisher: diag must be a function');
    if (callbacks.trace !== undefined && typeof callbacks.trace !== 'function') fail('INVALID_ARGUMENT', 'matrix-free Fisher: trace must be a function');
    const P = layout.size;
    this.opts = {
      cgTol: opts.cgTol ?? 1e-8,
      cgMaxIter: opts.cgMaxIter ?? defaultCgMaxIter(P),
      traceProbes: opts.traceProbes ?? 64,
      traceSeed: opts.traceSeed ?? 0,
    };
    if (!Number.isInteger(this.opts.traceProbes) || this.opts.traceProbes < 1) fail('INVALID_ARGUMENT', `traceProbes must be a positive integer, got ${this.opts.traceProbes}`);
    this.cb = callbacks;
    this.layout = layout;
    this.size = P;
    const base = meta.representation === 'matfree' ? meta : deriveMeta(meta, 'matfree');
    this.meta = this.traceIsEstimated()
      ? deriveMeta(base, 'matfree', `trace() is a Hutchinson estimate from ${this.opts.traceProbes} Rademacher probes (seed ${this.opts.traceSeed}), not exact`)
      : base;
  }

  private traceIsEstimated(): boolean {
    return !this.cb.trace && !this.cb.diag;
  }

  mv(v: Float64Array): Float64Array {
    checkVector(v, this.size, 'matrix-free Fisher mv');
    const y = this.cb.mv(v);
    if (!(y instanceof Float64Array) || y.length !== this.size) {
      fail('SHAPE', `matrix-free Fisher: the mv callback returned ${y instanceof Float64Array ? `${y.length} values` : String(y)}, expected a Float64Array of ${this.size}`);
    }
    return y;
  }

  vMv(v: Float64Array): number {
    return dot(v, this.mv(v));
  }

  diag(): Float64Array {
    if (this.cb.diag) {
      const d = this.cb.diag();
      if (!(d instanceof Float64Array) || d.length !== this.size) fail('SHAPE', `matrix-free Fisher: the diag callback returned ${d instanceof Float64Array ? d.length : String(d)} values, expected ${this.size}`);
      return Float64Array.from(d);
    }
    const d = new Float64Array(this.size);
    const e = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) {
      e[i] = 1;
      d[i] = this.mv(e)[i]!;
      e[i] = 0;
    }
    return d;
  }

  /** The trace and, when it is a Hutchinson estimate, its standard error. */
  traceEstimate(): TraceEstimate {
    if (this.cb.trace) return { value: this.cb.trace(), stdError: 0, probes: 0 };
    if (this.cb.diag) return { value: this.diag().reduce((a, b) => a + b, 0), stdError: 0, probes: 0 };
    const S = this.opts.traceProbes;
    const rng = new Rng(this.opts.traceSeed).derive('hutchinson');
    const z = new Float64Array(this.size);
    let mean = 0;
    let m2 = 0;
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < this.size; i++) z[i] = rng.bernoulli(0.5) ? 1 : -1;
      const x = this.vMv(z);
      const delta = x - mean;
      mean += delta / (s + 1);
      m2 += delta * (x - mean);
    }
    const variance = S > 1 ? m2 / (S - 1) : 0;
    return { value: mean, stdError: Math.sqrt(variance / S), probes: S };
  }

  trace(): number {
    return this.traceEstimate().value;
  }

  /** CG on (M + damping·I)x = v; returns the solution and the solver's statistics. */
  solveWithInfo(v: Float64Array, damping: number): CgResult {
    checkVector(v, this.size, 'matrix-free Fisher solve');
    checkDamping(damping);
    const apply = (x: Float64Array): Float64Array => {
      const y = this.mv(x);
      if (damping !== 0) for (let i = 0; i < y.length; i++) y[i]! += damping * x[i]!;
      return y;
    };
    const r = conjugateGradient(apply, v, { tol: this.opts.cgTol, maxIter: this.opts.cgMaxIter }, `matrix-free Fisher + ${damping}·I`);
    this.lastSolve = r;
    return r;
  }

  solve(v: Float64Array, damping: number): Float64Array {
    const r = this.solveWithInfo(v, damping);
    if (!r.converged) {
      fail(
        'INVALID_ARGUMENT',
        `conjugate gradients on the matrix-free Fisher + ${damping}·I did not converge: relative residual ${r.relResidual.toExponential(3)} after ${r.iterations} iterations ` +
          `(tolerance ${this.opts.cgTol}). Use more damping (a better-conditioned system) or raise cgMaxIter / cgTol.`,
      );
    }
    return r.x;
  }

  inverse(damping: number): MatrixFreeFisher {
    checkDamping(damping);
    return new MatrixFreeFisher(
      { mv: (v) => this.solve(v, damping) },
      this.layout,
      deriveMeta(this.meta, 'matfree', `inverse: (M + ${damping}·I)⁻¹ applied by conjugate gradients (tolerance ${this.opts.cgTol})`),
      this.opts,
    );
  }

  layer(which: number | string): MatrixFreeFisher {
    const i = resolveGroup(this.layout, which);
    const g = this.layout.groups[i]!;
    const P = this.size;
    const parentDiag = this.cb.diag;
    const callbacks: MatrixFreeCallbacks = {
      mv: (v) => {
        const full = new Float64Array(P);
        full.set(v, g.offset);
        return this.mv(full).slice(g.offset, g.offset + g.size);
      },
    };
    if (parentDiag) callbacks.diag = () => this.diag().slice(g.offset, g.offset + g.size);
    // The parent's note about its own trace estimate does not carry over; the block adds its own.
    const meta = { ...this.meta, notes: this.meta.notes.filter((n) => !n.startsWith('trace() is a Hutchinson estimate')) };
    return new MatrixFreeFisher(callbacks, groupLayout(this.layout, i), deriveMeta(meta, 'matfree', `block of parameter group '${g.label}'`), this.opts);
  }

  toDense(): Float64Array {
    checkDenseSize(this.size, 'matrix-free Fisher toDense');
    const P = this.size;
    const m = new Float64Array(P * P);
    const e = new Float64Array(P);
    for (let c = 0; c < P; c++) {
      e[c] = 1;
      const col = this.mv(e);
      e[c] = 0;
      for (let r = 0; r < P; r++) m[r * P + c] = col[r]!;
    }
    // M is symmetric; average the two triangles so round-off in the callback does not show.
    for (let i = 0; i < P; i++) {
      for (let j = i + 1; j < P; j++) {
        const a = 0.5 * (m[i * P + j]! + m[j * P + i]!);
        m[i * P + j] = a;
        m[j * P + i] = a;
      }
    }
    return m;
  }

  toJSON(): unknown {
    return fail(
      'INVALID_ARGUMENT',
      'a matrix-free Fisher holds functions, not values, and cannot be serialised: save a materialised representation instead (e.g. new DenseFisher(m.toDense(), m.layout, m.meta) for small models, or new DiagFisher(m.diag(), m.layout, m.meta))',
    );
  }
}
