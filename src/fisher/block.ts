/**
 * Block-diagonal Fisher: one dense float64 block per parameter group (layer), size_l × size_l,
 * row-major; the cross-layer blocks are taken as zero.
 */
import { fail } from '../core/errors.js';
import { encodeFloatArray } from '../io/base64.js';
import { checkDenseSize, checkMemory, DenseFisher } from './dense.js';
import { checkDamping, checkSymmetric, choleskyInPlace, choleskySolve, dot, matVec, spdInverse } from './linalg.js';
import { checkVector, deriveMeta, groupLayout, jsonHeader, resolveGroup, validateLayout } from './layout.js';
import type { FisherMatrix, FisherMeta, ParamLayout } from './matrix.js';

/** Throws TOO_LARGE unless the blocks for these group sizes fit in the dense memory limit. */
export function checkBlockSizes(sizes: readonly number[], what: string): void {
  const bytes = sizes.reduce((s, n) => s + n * n * 8, 0);
  checkMemory(bytes, `${what}: per-layer blocks of sizes ${sizes.join(', ')}`, 'use the kfac, diag or matfree representation instead');
}

export class BlockFisher implements FisherMatrix {
  readonly representation = 'block' as const;
  readonly layout: ParamLayout;
  readonly meta: FisherMeta;
  readonly size: number;
  private readonly blocks: Float64Array[];
  private factors: { damping: number; l: Float64Array[] } | null = null;

  /** One row-major block per layout group; adopted (not copied) and symmetrised in place. */
  constructor(blocks: Float64Array[], layout: ParamLayout, meta: FisherMeta) {
    validateLayout(layout, 'block Fisher layout');
    if (!Array.isArray(blocks) || blocks.length !== layout.groups.length) {
      fail('SHAPE', `block Fisher: the layout has ${layout.groups.length} parameter groups, got ${Array.isArray(blocks) ? blocks.length : typeof blocks} blocks`);
    }
    checkBlockSizes(layout.groups.map((g) => g.size), 'block Fisher');
    blocks.forEach((b, i) => {
      const g = layout.groups[i]!;
      if (!(b instanceof Float64Array)) fail('DTYPE', `block Fisher: block ${i} ('${g.label}') must be a Float64Array`);
      if (b.length !== g.size * g.size) fail('SHAPE', `block Fisher: group '${g.label}' has ${g.size} parameters, so its block needs ${g.size * g.size} values, got ${b.length}`);
      checkSymmetric(b, g.size, `block Fisher block '${g.label}'`);
    });
    this.blocks = blocks;
    this.layout = layout;
    this.meta = meta.representation === 'block' ? meta : deriveMeta(meta, 'block');
    this.size = layout.size;
  }

  /** A copy of block i (row-major). */
  block(which: number | string): Float64Array {
    return Float64Array.from(this.blocks[resolveGroup(this.layout, which)]!);
  }

  mv(v: Float64Array): Float64Array {
    checkVector(v, this.size, 'block Fisher mv');
    const out = new Float64Array(this.size);
    this.layout.groups.forEach((g, i) => {
      matVec(this.blocks[i]!, g.size, v.subarray(g.offset, g.offset + g.size), out.subarray(g.offset, g.offset + g.size));
    });
    return out;
  }

  vMv(v: Float64Array): number {
    return dot(v, this.mv(v));
  }

  trace(): number {
    let s = 0;
    this.layout.groups.forEach((g, i) => {
      for (let r = 0; r < g.size; r++) s += this.blocks[i]![r * g.size + r]!;
    });
    return s;
  }

  diag(): Float64Array {
    const d = new Float64Array(this.size);
    this.layout.groups.forEach((g, i) => {
      for (let r = 0; r < g.size; r++) d[g.offset + r] = this.blocks[i]![r * g.size + r]!;
    });
    return d;
  }

  solve(v: Float64Array, damping: number): Float64Array {
    checkVector(v, this.size, 'block Fisher solve');
    checkDamping(damping);
    if (!this.factors || this.factors.damping !== damping) {
      const l = this.layout.groups.map((g, i) => {
        const a = Float64Array.from(this.blocks[i]!);
        for (let r = 0; r < g.size; r++) a[r * g.size + r]! += damping;
        return choleskyInPlace(a, g.size, `block '${g.label}' of the block Fisher + ${damping}·I`);
      });
      this.factors = { damping, l };
    }
    const out = new Float64Array(this.size);
    this.layout.groups.forEach((g, i) => {
      out.set(choleskySolve(this.factors!.l[i]!, g.size, v.subarray(g.offset, g.offset + g.size)), g.offset);
    });
    return out;
  }

  inverse(damping: number): BlockFisher {
    checkDamping(damping);
    const inv = this.layout.groups.map((g, i) => spdInverse(this.blocks[i]!, g.size, damping, `block '${g.label}' of the block Fisher + ${damping}·I`));
    return new BlockFisher(inv, this.layout, deriveMeta(this.meta, 'block', `inverse: (M + ${damping}·I)⁻¹, block by block`));
  }

  layer(which: number | string): DenseFisher {
    const i = resolveGroup(this.layout, which);
    return new DenseFisher(Float64Array.from(this.blocks[i]!), groupLayout(this.layout, i), deriveMeta(this.meta, 'dense', `block of parameter group '${this.layout.groups[i]!.label}'`));
  }

  toDense(): Float64Array {
    checkDenseSize(this.size, 'block Fisher toDense');
    const P = this.size;
    const m = new Float64Array(P * P);
    this.layout.groups.forEach((g, i) => {
      const b = this.blocks[i]!;
      for (let r = 0; r < g.size; r++) m.set(b.subarray(r * g.size, (r + 1) * g.size), (g.offset + r) * P + g.offset);
    });
    return m;
  }

  toJSON(): unknown {
    return { ...jsonHeader('block', this.layout, this.meta), blocks: this.blocks.map((b) => encodeFloatArray(b)) };
  }
}
