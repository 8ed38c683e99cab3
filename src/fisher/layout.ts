/**
 * Parameter layouts: how a flat parameter vector splits into layers (groups) and named
 * parameters, plus the vector and metadata helpers every Fisher representation shares.
 *
 * The flat order is the order of `Sequential.parameters()`: layer by layer, and within a layer
 * its `params()` (weight, then bias), each flattened row-major.
 */
import { fail } from '../core/errors.js';
import type { Sequential } from '../nn/sequential.js';
import type { FisherMeta, ParamGroupLayout, ParamLayout, Representation } from './matrix.js';

/** The layout of a model's parameters (only the layers that own parameters form groups). */
export function layoutOf(model: Sequential): ParamLayout {
  let offset = 0;
  const groups: ParamGroupLayout[] = model.paramGroups().map((g) => {
    const start = offset;
    const params = g.params.map((p) => {
      const entry = { name: `${g.index}.${p.name}`, shape: [...p.tensor.shape], offset, size: p.tensor.size };
      offset += p.tensor.size;
      return entry;
    });
    return { label: g.label, type: g.layer.type, params, offset: start, size: offset - start };
  });
  return { groups, size: offset };
}

export interface GroupSpec {
  label: string;
  type: string;
  params: { name: string; shape: number[] }[];
}

/** A layout from group descriptions, offsets computed (for tests and hand-built matrices). */
export function makeLayout(specs: readonly GroupSpec[]): ParamLayout {
  let offset = 0;
  const groups = specs.map((g) => {
    const start = offset;
    const params = g.params.map((p) => {
      const size = p.shape.reduce((a, b) => a * b, 1);
      const entry = { name: p.name, shape: [...p.shape], offset, size };
      offset += size;
      return entry;
    });
    return { label: g.label, type: g.type, params, offset: start, size: offset - start };
  });
  return { groups, size: offset };
}

/**
 * Checks that a layout is consistent: groups and their parameters contiguous from offset 0,
 * sizes equal to the products of the shapes, labels unique. `code` is the error code to raise
 * (CORRUPT_FILE when the layout was read from a file).
 */
export function validateLayout(layout: ParamLayout, what = 'layout', code: 'INVALID_ARGUMENT' | 'CORRUPT_FILE' = 'INVALID_ARGUMENT'): void {
  const bad = (msg: string): never => fail(code, `${what}: ${msg}`);
  if (layout === null || typeof layout !== 'object' || !Array.isArray(layout.groups)) bad('expected an object with a groups array');
  if (!Number.isInteger(layout.size) || layout.size < 0) bad(`size must be a non-negative integer, got ${String(layout.size)}`);
  let offset = 0;
  const labels = new Set<string>();
  layout.groups.forEach((g, gi) => {
    if (g === null || typeof g !== 'object') bad(`group ${gi} is not an object`);
    if (typeof g.label !== 'string' || typeof g.type !== 'string') bad(`group ${gi} needs string label and type`);
    if (labels.has(g.label)) bad(`group label '${g.label}' appears twice`);
    labels.add(g.label);
    if (g.offset !== offset) bad(`group '${g.label}' starts at ${String(g.offset)}, expected ${offset}`);
    if (!Array.isArray(g.params) || g.params.length === 0) bad(`group '${g.label}' has no parameters`);
    g.params.forEach((p) => {
      if (p === null || typeof p !== 'object' || typeof p.name !== 'string') bad(`group '${g.label}' has a parameter without a name`);
      if (!Array.isArray(p.shape) || p.shape.some((d) => !Number.isInteger(d) || d < 0)) bad(`parameter '${p.name}' has an invalid shape`);
      const size = p.shape.reduce((a, b) => a * b, 1);
      if (p.size !== size) bad(`parameter '${p.name}' has size ${String(p.size)} but shape [${p.shape.join(', ')}] holds ${size}`);
      if (p.offset !== offset) bad(`parameter '${p.name}' starts at ${String(p.offset)}, expected ${offset}`);
      offset += size;
    });
    if (g.size !== offset - g.offset) bad(`group '${g.label}' has size ${String(g.size)} but its parameters hold ${offset - g.offset}`);
  });
  if (offset !== layout.size) bad(`size is ${layout.size} but the groups hold ${offset} parameters`);
}

/** Index of a group given by index or label; the error lists what exists. */
export function resolveGroup(layout: ParamLayout, which: number | string): number {
  const labels = layout.groups.map((g, i) => `${i} '${g.label}'`).join(', ');
  if (typeof which === 'number') {
    if (!Number.isInteger(which) || which < 0 || which >= layout.groups.length) {
      fail('INVALID_ARGUMENT', `no parameter group ${which}: there are ${layout.groups.length} (${labels})`);
    }
    return which;
  }
  const i = layout.groups.findIndex((g) => g.label === which);
  if (i < 0) fail('INVALID_ARGUMENT', `no parameter group labelled '${which}': the groups are ${labels}`);
  return i;
}

/** The layout of group `i` alone, its offsets starting at 0 (names and labels kept). */
export function groupLayout(layout: ParamLayout, i: number): ParamLayout {
  const g = layout.groups[i]!;
  const params = g.params.map((p) => ({ name: p.name, shape: [...p.shape], offset: p.offset - g.offset, size: p.size }));
  return { groups: [{ label: g.label, type: g.type, params, offset: 0, size: g.size }], size: g.size };
}

/** Group `i`'s part of a flat vector, as a view (no copy). */
export function groupView(layout: ParamLayout, v: Float64Array, i: number): Float64Array {
  const g = layout.groups[i]!;
  return v.subarray(g.offset, g.offset + g.size);
}

/** Group `i`'s part of a flat vector, copied. */
export function sliceGroup(layout: ParamLayout, v: Float64Array, i: number): Float64Array {
  return Float64Array.from(groupView(layout, v, i));
}

/** Every group's part of a flat vector, as views. */
export function splitByGroup(layout: ParamLayout, v: Float64Array): Float64Array[] {
  return layout.groups.map((_, i) => groupView(layout, v, i));
}

/** A full-length vector, zero except group `i`, which holds `part`. */
export function embedGroup(layout: ParamLayout, i: number, part: Float64Array): Float64Array {
  const g = layout.groups[i]!;
  if (part.length !== g.size) fail('SHAPE', `group '${g.label}' has ${g.size} parameters, got a vector of ${part.length}`);
  const out = new Float64Array(layout.size);
  out.set(part, g.offset);
  return out;
}

/** Throws SHAPE / NON_FINITE unless `v` is a finite Float64Array of length n. */
export function checkVector(v: Float64Array, n: number, what: string): void {
  if (!(v instanceof Float64Array)) fail('DTYPE', `${what}: expected a Float64Array, got ${v === null ? 'null' : (v as object).constructor?.name ?? typeof v}`);
  if (v.length !== n) fail('SHAPE', `${what}: expected a vector of ${n} values (one per parameter), got ${v.length}`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(v[i]!)) fail('NON_FINITE', `${what}: entry ${i} is ${v[i]}`);
}

/** A copy of `meta` describing `representation`, with extra notes appended. */
export function deriveMeta(meta: FisherMeta, representation: Representation, ...notes: string[]): FisherMeta {
  return { ...meta, representation, notes: [...meta.notes, ...notes] };
}

export function cloneLayout(layout: ParamLayout): ParamLayout {
  return {
    groups: layout.groups.map((g) => ({ ...g, params: g.params.map((p) => ({ ...p, shape: [...p.shape] })) })),
    size: layout.size,
  };
}

const META_FIELDS: Record<string, string> = {
  estimator: 'string', representation: 'string', likelihood: 'string', numInputs: 'number', mode: 'string',
  dtype: 'string', backend: 'string', wallSeconds: 'number', scaling: 'string',
};

/** Checks the fields of a FisherMeta read from a file. */
export function validateMeta(meta: unknown, what: string): FisherMeta {
  if (meta === null || typeof meta !== 'object') fail('CORRUPT_FILE', `${what}: meta must be an object`);
  const m = meta as Record<string, unknown>;
  for (const [k, t] of Object.entries(META_FIELDS)) {
    if (typeof m[k] !== t) fail('CORRUPT_FILE', `${what}: meta.${k} must be a ${t}, got ${typeof m[k]}`);
  }
  if (!Array.isArray(m.notes) || m.notes.some((s) => typeof s !== 'string')) fail('CORRUPT_FILE', `${what}: meta.notes must be an array of strings`);
  if (m.labelsPerInput !== null && typeof m.labelsPerInput !== 'number') fail('CORRUPT_FILE', `${what}: meta.labelsPerInput must be a number or null`);
  if (m.seed !== null && typeof m.seed !== 'number') fail('CORRUPT_FILE', `${what}: meta.seed must be a number or null`);
  return { ...(m as unknown as FisherMeta), notes: [...(m.notes as string[])] };
}

/** The `format` tag and version of a serialised Fisher matrix (see serialize.ts). */
export const FISHER_FORMAT = 'fimkit-fisher';
export const FISHER_FORMAT_VERSION = 1;

/** The fields every serialised representation starts with. */
export function jsonHeader(representation: Representation, layout: ParamLayout, meta: FisherMeta): Record<string, unknown> {
  return { format: FISHER_FORMAT, version: FISHER_FORMAT_VERSION, representation, layout: cloneLayout(layout), meta: { ...meta, notes: [...meta.notes] } };
}
