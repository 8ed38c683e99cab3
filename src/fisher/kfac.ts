/**
 * KFAC: per layer, the Fisher block approximated by a Kronecker product of two small factors
 * ("Optimizing Neural Networks with Kronecker-factored Approximate Curvature"; for convolutions,
 * "A Kronecker-factored approximate Fisher matrix for convolution layers").
 *
 * Convention. A dense layer has weight W [out, in] and bias b [out]; its parameters in layout
 * order are (vec_rowmajor(W), b). With the augmented input ā = (a, 1) (length in+1 when the layer
 * has a bias, else ā = a) and g the gradient of the loss-like output column with respect to the
 * layer's pre-activation output,
 *     A = E[ā āᵀ]  (na × na, na = in + [bias]),      G = E[g gᵀ]  (out × out),
 * and the layer's block is  F_l ≈ scale · (A ⊗ G)  in the sense
 *     F[(j,k), (j',k')] = scale · G[j,j'] · A[k,k'],
 * where (j,k) indexes W[j,k] and the bias b[j] is treated as W[j, in], column `in` of the
 * augmented weight W̄ = [W | b]. A vector v of the layer is therefore reshaped into
 * V̄ [out, na] (row j: W[j, :] then b[j]), and
 *     F_l v  ↔  scale · G · V̄ · A      (two gemms; A and G are symmetric),
 * mapped back to (vec(W), b) order.
 *
 * Conv2d layers: W [out, in, kh, kw] is read as [out, in·kh·kw] (row-major flattening, the
 * column order of im2col), A is built from im2col patch columns (plus the constant 1 for the
 * bias) and G from the output gradients at every spatial position. With A and G averaged over
 * samples × positions, the "KFC" approximation of the block is positions · (A ⊗ G): the engine
 * computes A, G and the multiplier and passes the multiplier here as `scale` (also N for a
 * 'sum'-scaled Fisher); this class only stores block = scale·(A ⊗ G).
 *
 * Two storage forms per layer:
 *   'factors': (A, G, scale) as above. Eigendecompositions A = Q_A Λ_A Q_Aᵀ, G = Q_G Λ_G Q_Gᵀ are
 *              computed lazily on the first solve or exact inverse and cached.
 *   'eigen':   block = (Q_A ⊗ Q_G) · diag(D) · (Q_A ⊗ Q_G)ᵀ, i.e.
 *              F[(j,k),(j',k')] = Σ_{p,q} Q_G[j,p] Q_A[k,q] D[p,q] Q_G[j',p] Q_A[k',q],
 *              with D [out, na]. A 'factors' layer is the case D[p,q] = scale·λ_G[p]·λ_A[q].
 *
 * Inverses with damping λ (`inverse(λ, { method })`):
 *   'exact' (default): (scale·A⊗G + λI)⁻¹ = (Q_A⊗Q_G) · diag(1/(scale·λ_G[p]·λ_A[q] + λ)) ·
 *              (Q_A⊗Q_G)ᵀ, an 'eigen' layer; solve() uses the same formula.
 *   'factored': the classical factored Tikhonov damping with π-correction,
 *              scale·A⊗G + λI ≈ scale·(A + π·c·I) ⊗ (G + (c/π)·I),  c = √(λ/scale),
 *              π = √((tr A / na) / (tr G / out))  (π = 1 if either trace is 0),
 *              whose inverse is again a Kronecker product: a 'factors' layer with
 *              A' = (A + π c I)⁻¹, G' = (G + (c/π) I)⁻¹, scale' = 1/scale. It is cheaper (two
 *              Cholesky inverses, no eigendecomposition) but differs from the exact damped
 *              inverse by the cross terms scale·c·(π I⊗G + A⊗I/π).
 */
import { fail } from '../core/errors.js';
import { encodeFloatArray } from '../io/base64.js';
import { checkDenseSize } from './dense.js';
import { checkDamping, checkSymmetric, dampingAdvice, dot, matMul, spdInverse, symmetricEigen, type SymmetricEigen } from './linalg.js';
import { checkVector, deriveMeta, groupLayout, jsonHeader, resolveGroup, validateLayout } from './layout.js';
import type { FisherMatrix, FisherMeta, ParamGroupLayout, ParamLayout } from './matrix.js';

/** Kronecker factors of one layer: block = scale·(A ⊗ G). */
export interface KfacFactorLayer {
  form?: 'factors';
  /** na × na row-major, na = in (+1 with a bias). */
  A: Float64Array;
  /** out × out row-major. */
  G: Float64Array;
  /** Positive multiplier (default 1). */
  scale?: number;
}

/** One layer in eigenbasis form: block = (Q_A ⊗ Q_G)·diag(D)·(Q_A ⊗ Q_G)ᵀ. */
export interface KfacEigenLayer {
  form: 'eigen';
  /** na × na orthogonal, columns are the basis vectors. */
  QA: Float64Array;
  /** out × out orthogonal. */
  QG: Float64Array;
  /** out × na row-major: D[p·na + q] pairs column p of Q_G with column q of Q_A. */
  D: Float64Array;
}

export type KfacLayerInput = KfacFactorLayer | KfacEigenLayer;

export interface KfacInverseOptions {
  method?: 'exact' | 'factored';
}

/** Shape of one KFAC layer, read from its layout group (weight [out, …], optional bias [out]). */
export interface KfacDims {
  out: number;
  /** Weight columns (in, or in·kh·kw for conv). */
  inW: number;
  hasBias: boolean;
  /** Rows/columns of A: inW + (hasBias ? 1 : 0). */
  na: number;
}

export function kfacDims(g: ParamGroupLayout): KfacDims {
  const [w, b, ...rest] = g.params;
  if (!w || rest.length > 0 || w.shape.length < 2) {
    fail('SHAPE', `KFAC: group '${g.label}' must hold a weight [out, …] and optionally a bias [out], got ${g.params.map((p) => `${p.name} [${p.shape.join(', ')}]`).join(', ')}`);
  }
  const out = w.shape[0]!;
  const inW = out === 0 ? 0 : w.size / out;
  if (b && (b.shape.length !== 1 || b.shape[0] !== out)) fail('SHAPE', `KFAC: group '${g.label}' has bias shape [${b.shape.join(', ')}], expected [${out}]`);
  const hasBias = b !== undefined;
  return { out, inW, hasBias, na: inW + (hasBias ? 1 : 0) };
}

interface LayerState {
  dims: KfacDims;
  label: string;
  form: 'factors' | 'eigen';
  A: Float64Array | null;
  G: Float64Array | null;
  scale: number;
  eig: { A: SymmetricEigen; G: SymmetricEigen } | null;
  QA: Float64Array | null;
  QG: Float64Array | null;
  D: Float64Array | null;
}

/** Reshapes a layer's (vec(W), b) segment into the augmented [out, na] matrix V̄. */
function toAugmented(seg: Float64Array, d: KfacDims): Float64Array {
  if (!d.hasBias) return Float64Array.from(seg);
  const v = new Float64Array(d.out * d.na);
  for (let j = 0; j < d.out; j++) {
    v.set(seg.subarray(j * d.inW, (j + 1) * d.inW), j * d.na);
    v[j * d.na + d.inW] = seg[d.out * d.inW + j]!;
  }
  return v;
}

/** Inverse of toAugmented, written into `out` (the layer's segment of a full vector). */
function fromAugmented(v: Float64Array, d: KfacDims, out: Float64Array): void {
  if (!d.hasBias) {
    out.set(v);
    return;
  }
  for (let j = 0; j < d.out; j++) {
    out.set(v.subarray(j * d.na, j * d.na + d.inW), j * d.inW);
    out[d.out * d.inW + j] = v[j * d.na + d.inW]!;
  }
}

/** Index in the layer's (vec(W), b) segment of augmented entry (j, k). */
function segIndex(d: KfacDims, j: number, k: number): number {
  return k < d.inW ? j * d.inW + k : d.out * d.inW + j;
}

function eigenOf(s: LayerState): { A: SymmetricEigen; G: SymmetricEigen } {
  if (!s.eig) s.eig = { A: symmetricEigen(s.A!, s.dims.na), G: symmetricEigen(s.G!, s.dims.out) };
  return s.eig;
}

/** The layer's spectrum D [out, na] and basis (Q_G, Q_A), whatever the form. */
function spectral(s: LayerState): { QA: Float64Array; QG: Float64Array; D: Float64Array } {
  if (s.form === 'eigen') return { QA: s.QA!, QG: s.QG!, D: s.D! };
  const e = eigenOf(s);
  const { out, na } = s.dims;
  const D = new Float64Array(out * na);
  for (let p = 0; p < out; p++) for (let q = 0; q < na; q++) D[p * na + q] = s.scale * e.G.values[p]! * e.A.values[q]!;
  return { QA: e.A.vectors, QG: e.G.vectors, D };
}

/** Y = Q_G · (Q_Gᵀ · V̄ · Q_A ⊙ W) · Q_Aᵀ: a product in the Kronecker eigenbasis with weights W. */
function eigenbasisApply(V: Float64Array, QA: Float64Array, QG: Float64Array, W: Float64Array, d: KfacDims): Float64Array {
  const { out, na } = d;
  const t = matMul(QG, V, out, out, na, true, false);
  const u = matMul(t, QA, out, na, na);
  for (let i = 0; i < u.length; i++) u[i]! *= W[i]!;
  const t2 = matMul(QG, u, out, out, na);
  return matMul(t2, QA, out, na, na, false, true);
}

function checkFactorSquare(m: Float64Array, n: number, what: string): void {
  if (!(m instanceof Float64Array)) fail('DTYPE', `${what} must be a Float64Array`);
  if (m.length !== n * n) fail('SHAPE', `${what} must be ${n}×${n} = ${n * n} values, got ${m.length}`);
}

export class KfacFisher implements FisherMatrix {
  readonly representation = 'kfac' as const;
  readonly layout: ParamLayout;
  readonly meta: FisherMeta;
  readonly size: number;
  private readonly layers: LayerState[];

  /**
   * One entry per layout group, in order. Arrays are adopted, not copied; factors are made
   * exactly symmetric in place (they must be symmetric up to rounding).
   */
  constructor(layers: KfacLayerInput[], layout: ParamLayout, meta: FisherMeta) {
    validateLayout(layout, 'KFAC layout');
    if (!Array.isArray(layers) || layers.length !== layout.groups.length) {
      fail('SHAPE', `KFAC: the layout has ${layout.groups.length} parameter groups, got ${Array.isArray(layers) ? layers.length : typeof layers} layers of factors`);
    }
    this.layers = layers.map((input, i) => {
      const g = layout.groups[i]!;
      const dims = kfacDims(g);
      const where = `KFAC layer '${g.label}'`;
      if (input.form === 'eigen') {
        checkFactorSquare(input.QA, dims.na, `${where}: Q_A`);
        checkFactorSquare(input.QG, dims.out, `${where}: Q_G`);
        if (!(input.D instanceof Float64Array) || input.D.length !== dims.out * dims.na) {
          fail('SHAPE', `${where}: D must be a Float64Array of ${dims.out}×${dims.na} = ${dims.out * dims.na} values`);
        }
        for (const [name, arr] of [['Q_A', input.QA], ['Q_G', input.QG], ['D', input.D]] as const) {
          for (let k = 0; k < arr.length; k++) if (!Number.isFinite(arr[k]!)) fail('NON_FINITE', `${where}: ${name}[${k}] is ${arr[k]}`);
        }
        return { dims, label: g.label, form: 'eigen', A: null, G: null, scale: 1, eig: null, QA: input.QA, QG: input.QG, D: input.D };
      }
      checkFactorSquare(input.A, dims.na, `${where}: A (${dims.hasBias ? `in ${dims.inW} + 1 for the bias` : `in ${dims.inW}`})`);
      checkFactorSquare(input.G, dims.out, `${where}: G (out ${dims.out})`);
      checkSymmetric(input.A, dims.na, `${where}: A`);
      checkSymmetric(input.G, dims.out, `${where}: G`);
      const scale = input.scale ?? 1;
      if (!Number.isFinite(scale) || scale <= 0) fail('INVALID_ARGUMENT', `${where}: scale must be a positive number, got ${scale}`);
      return { dims, label: g.label, form: 'factors', A: input.A, G: input.G, scale, eig: null, QA: null, QG: null, D: null };
    });
    this.layout = layout;
    this.meta = meta.representation === 'kfac' ? meta : deriveMeta(meta, 'kfac');
    this.size = layout.size;
  }

  /** The stored data of layer i (arrays are the internal ones: do not modify). */
  factors(which: number | string): KfacLayerInput {
    const s = this.layers[resolveGroup(this.layout, which)]!;
    return s.form === 'eigen' ? { form: 'eigen', QA: s.QA!, QG: s.QG!, D: s.D! } : { form: 'factors', A: s.A!, G: s.G!, scale: s.scale };
  }

  private segment(v: Float64Array, i: number): Float64Array {
    const g = this.layout.groups[i]!;
    return v.subarray(g.offset, g.offset + g.size);
  }

  mv(v: Float64Array): Float64Array {
    checkVector(v, this.size, 'KFAC mv');
    const out = new Float64Array(this.size);
    this.layers.forEach((s, i) => {
      const d = s.dims;
      const V = toAugmented(this.segment(v, i), d);
      let Y: Float64Array;
      if (s.form === 'factors') {
        Y = matMul(matMul(s.G!, V, d.out, d.out, d.na), s.A!, d.out, d.na, d.na);
        if (s.scale !== 1) for (let k = 0; k < Y.length; k++) Y[k]! *= s.scale;
      } else {
        Y = eigenbasisApply(V, s.QA!, s.QG!, s.D!, d);
      }
      fromAugmented(Y, d, this.segment(out, i));
    });
    return out;
  }

  vMv(v: Float64Array): number {
    return dot(v, this.mv(v));
  }

  trace(): number {
    let t = 0;
    for (const s of this.layers) {
      if (s.form === 'factors') {
        let ta = 0;
        let tg = 0;
        for (let k = 0; k < s.dims.na; k++) ta += s.A![k * s.dims.na + k]!;
        for (let j = 0; j < s.dims.out; j++) tg += s.G![j * s.dims.out + j]!;
        t += s.scale * ta * tg;
      } else {
        for (let k = 0; k < s.D!.length; k++) t += s.D![k]!;
      }
    }
    return t;
  }

  diag(): Float64Array {
    const out = new Float64Array(this.size);
    this.layers.forEach((s, i) => {
      const d = s.dims;
      const aug = new Float64Array(d.out * d.na);
      if (s.form === 'factors') {
        // diag(A ⊗ G)[(j,k)] = G[j,j]·A[k,k]
        for (let j = 0; j < d.out; j++) {
          const gj = s.scale * s.G![j * d.out + j]!;
          for (let k = 0; k < d.na; k++) aug[j * d.na + k] = gj * s.A![k * d.na + k]!;
        }
      } else {
        // diag[(j,k)] = Σ_{p,q} Q_G[j,p]² D[p,q] Q_A[k,q]²
        const qg2 = s.QG!.map((x) => x * x);
        const qa2 = s.QA!.map((x) => x * x);
        aug.set(matMul(matMul(qg2, s.D!, d.out, d.out, d.na), qa2, d.out, d.na, d.na, false, true));
      }
      fromAugmented(aug, d, this.segment(out, i));
    });
    return out;
  }

  /** 1/(D + damping) for layer s, refusing a spectrum that is not positive after damping. */
  private dampedInverseSpectrum(s: LayerState, D: Float64Array, damping: number): Float64Array {
    let maxAbs = 0;
    let min = Infinity;
    for (let k = 0; k < D.length; k++) {
      maxAbs = Math.max(maxAbs, Math.abs(D[k]!));
      min = Math.min(min, D[k]!);
    }
    const threshold = D.length * Number.EPSILON * maxAbs;
    if (!(min + damping > threshold)) {
      fail(
        'INVALID_ARGUMENT',
        `KFAC layer '${s.label}' + ${damping}·I is not positive definite: the smallest eigenvalue of its block is ${min.toExponential(3)}` +
          ` (needs to exceed ${threshold.toExponential(2)} after damping). Use ${dampingAdvice(min, threshold)}.`,
      );
    }
    const W = new Float64Array(D.length);
    for (let k = 0; k < D.length; k++) W[k] = 1 / (D[k]! + damping);
    return W;
  }

  /** Exact (block + damping·I)⁻¹ v, layer by layer, in the eigenbasis of the factors. */
  solve(v: Float64Array, damping: number): Float64Array {
    checkVector(v, this.size, 'KFAC solve');
    checkDamping(damping);
    const out = new Float64Array(this.size);
    this.layers.forEach((s, i) => {
      const { QA, QG, D } = spectral(s);
      const W = this.dampedInverseSpectrum(s, D, damping);
      const Y = eigenbasisApply(toAugmented(this.segment(v, i), s.dims), QA, QG, W, s.dims);
      fromAugmented(Y, s.dims, this.segment(out, i));
    });
    return out;
  }

  inverse(damping: number, opts: KfacInverseOptions = {}): KfacFisher {
    checkDamping(damping);
    const method = opts.method ?? 'exact';
    if (method !== 'exact' && method !== 'factored') fail('INVALID_ARGUMENT', `KFAC inverse method must be 'exact' or 'factored', got '${String(method)}'`);
    if (method === 'exact') {
      const layers: KfacLayerInput[] = this.layers.map((s) => {
        const { QA, QG, D } = spectral(s);
        return { form: 'eigen', QA, QG, D: this.dampedInverseSpectrum(s, D, damping) };
      });
      return new KfacFisher(layers, this.layout, deriveMeta(this.meta, 'kfac', `inverse: exact (block + ${damping}·I)⁻¹ per layer, in the Kronecker eigenbasis`));
    }
    const layers: KfacLayerInput[] = this.layers.map((s) => {
      if (s.form !== 'factors') {
        fail('INVALID_ARGUMENT', `KFAC layer '${s.label}' is stored in eigenbasis form (e.g. an exact inverse), which has no Kronecker factors to damp: use method 'exact'`);
      }
      const { na, out } = s.dims;
      let ta = 0;
      let tg = 0;
      for (let k = 0; k < na; k++) ta += s.A![k * na + k]!;
      for (let j = 0; j < out; j++) tg += s.G![j * out + j]!;
      const pi = ta > 0 && tg > 0 ? Math.sqrt((ta / na) / (tg / out)) : 1;
      const c = Math.sqrt(damping / s.scale);
      return {
        form: 'factors',
        A: spdInverse(s.A!, na, pi * c, `KFAC layer '${s.label}': A + ${(pi * c).toExponential(3)}·I (factored damping)`),
        G: spdInverse(s.G!, out, c / pi, `KFAC layer '${s.label}': G + ${(c / pi).toExponential(3)}·I (factored damping)`),
        scale: 1 / s.scale,
      };
    });
    return new KfacFisher(layers, this.layout, deriveMeta(this.meta, 'kfac', `inverse: factored damping ${damping} with π-correction, ((A + π√(λ/s)I)⁻¹ ⊗ (G + √(λ/s)/π I)⁻¹)/s per layer`));
  }

  layer(which: number | string): KfacFisher {
    const i = resolveGroup(this.layout, which);
    const s = this.layers[i]!;
    const sub = new KfacFisher([this.factors(i)], groupLayout(this.layout, i), deriveMeta(this.meta, 'kfac', `block of parameter group '${s.label}'`));
    sub.layers[0]!.eig = s.eig; // share the cached eigendecompositions
    return sub;
  }

  toDense(): Float64Array {
    checkDenseSize(this.size, 'KFAC toDense');
    const P = this.size;
    const m = new Float64Array(P * P);
    this.layers.forEach((s, i) => {
      const d = s.dims;
      const off = this.layout.groups[i]!.offset;
      if (s.form === 'factors') {
        for (let j = 0; j < d.out; j++) {
          for (let k = 0; k < d.na; k++) {
            const row = (off + segIndex(d, j, k)) * P + off;
            for (let j2 = 0; j2 < d.out; j2++) {
              const gjj = s.scale * s.G![j * d.out + j2]!;
              for (let k2 = 0; k2 < d.na; k2++) m[row + segIndex(d, j2, k2)] = gjj * s.A![k * d.na + k2]!;
            }
          }
        }
      } else {
        // Column by column: the block applied to each unit vector of the augmented layout.
        const e = new Float64Array(d.out * d.na);
        const colSeg = new Float64Array(d.out * d.na);
        for (let c = 0; c < e.length; c++) {
          e.fill(0);
          e[c] = 1;
          const y = eigenbasisApply(e, s.QA!, s.QG!, s.D!, d);
          fromAugmented(y, d, colSeg);
          const col = off + segIndex(d, Math.floor(c / d.na), c % d.na);
          for (let r = 0; r < colSeg.length; r++) m[(off + r) * P + col] = colSeg[r]!;
        }
        // The block is symmetric; the four gemms per column leave last-bit differences.
        const n = this.layout.groups[i]!.size;
        for (let r = 0; r < n; r++) {
          for (let c = r + 1; c < n; c++) {
            const avg = 0.5 * (m[(off + r) * P + off + c]! + m[(off + c) * P + off + r]!);
            m[(off + r) * P + off + c] = avg;
            m[(off + c) * P + off + r] = avg;
          }
        }
      }
    });
    return m;
  }

  toJSON(): unknown {
    return {
      ...jsonHeader('kfac', this.layout, this.meta),
      layers: this.layers.map((s) =>
        s.form === 'factors'
          ? { form: 'factors', scale: s.scale, A: encodeFloatArray(s.A!), G: encodeFloatArray(s.G!) }
          : { form: 'eigen', QA: encodeFloatArray(s.QA!), QG: encodeFloatArray(s.QG!), D: encodeFloatArray(s.D!) },
      ),
    };
  }
}
