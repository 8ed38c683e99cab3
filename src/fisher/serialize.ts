/**
 * Serialised Fisher matrices: `m.toJSON()` gives a plain object
 *   { format: 'fimkit-fisher', version: 1, representation, layout, meta, ...data }
 * whose float64 arrays are base64 little-endian bytes (exact round trip), and
 * `fisherFromJSON(json)` rebuilds the matrix, checking every field. Data per representation:
 *   dense   matrix: P×P row-major
 *   diag    diagonal: P
 *   block   blocks: one size_l×size_l array per layout group
 *   kfac    layers: { form: 'factors', scale, A, G } | { form: 'eigen', QA, QG, D } per group
 * Matrix-free matrices hold functions and are not serialisable. Browser-safe; the file helpers
 * are in files.ts.
 */
import { fail } from '../core/errors.js';
import { decodeFloatArray, type EncodedArray } from '../io/base64.js';
import { BlockFisher } from './block.js';
import { DenseFisher } from './dense.js';
import { DiagFisher } from './diag.js';
import { KfacFisher, kfacDims, type KfacLayerInput } from './kfac.js';
import { FISHER_FORMAT, FISHER_FORMAT_VERSION, validateLayout, validateMeta } from './layout.js';
import { REPRESENTATIONS, type FisherMatrix, type ParamLayout, type Representation } from './matrix.js';

function decodeF64(e: unknown, length: number, what: string): Float64Array {
  if (e === null || typeof e !== 'object') fail('CORRUPT_FILE', `${what}: expected an encoded array, got ${e === null ? 'null' : typeof e}`);
  const a = decodeFloatArray(e as EncodedArray, what);
  if (!(a instanceof Float64Array)) fail('CORRUPT_FILE', `${what}: expected float64 values, got ${(e as EncodedArray).dtype}`);
  if (a.length !== length) fail('CORRUPT_FILE', `${what}: expected ${length} values, got ${a.length}`);
  return a;
}

/** Rebuilds a Fisher matrix from `toJSON()` output (or its JSON.parse). */
export function fisherFromJSON(json: unknown, what = 'Fisher matrix'): FisherMatrix {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('CORRUPT_FILE', `${what}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  if (o.format !== FISHER_FORMAT) fail('CORRUPT_FILE', `${what}: format is ${JSON.stringify(o.format)}, expected '${FISHER_FORMAT}'`);
  if (o.version !== FISHER_FORMAT_VERSION) fail('CORRUPT_FILE', `${what}: format version ${JSON.stringify(o.version)} is not supported (this fimkit reads version ${FISHER_FORMAT_VERSION})`);
  const rep = o.representation as Representation;
  if (!REPRESENTATIONS.includes(rep)) fail('CORRUPT_FILE', `${what}: unknown representation ${JSON.stringify(o.representation)}`);
  const layout = o.layout as ParamLayout;
  validateLayout(layout, `${what}: layout`, 'CORRUPT_FILE');
  const meta = validateMeta(o.meta, what);
  const P = layout.size;
  switch (rep) {
    case 'dense':
      return new DenseFisher(decodeF64(o.matrix, P * P, `${what}: matrix`), layout, meta);
    case 'diag':
      return new DiagFisher(decodeF64(o.diagonal, P, `${what}: diagonal`), layout, meta);
    case 'block': {
      if (!Array.isArray(o.blocks) || o.blocks.length !== layout.groups.length) fail('CORRUPT_FILE', `${what}: expected ${layout.groups.length} blocks`);
      const blocks = layout.groups.map((g, i) => decodeF64((o.blocks as unknown[])[i], g.size * g.size, `${what}: block '${g.label}'`));
      return new BlockFisher(blocks, layout, meta);
    }
    case 'kfac': {
      if (!Array.isArray(o.layers) || o.layers.length !== layout.groups.length) fail('CORRUPT_FILE', `${what}: expected ${layout.groups.length} KFAC layers`);
      const layers = layout.groups.map((g, i): KfacLayerInput => {
        const l = (o.layers as unknown[])[i] as Record<string, unknown> | null;
        const where = `${what}: KFAC layer '${g.label}'`;
        if (l === null || typeof l !== 'object') fail('CORRUPT_FILE', `${where}: expected an object`);
        const d = kfacDims(g);
        if (l.form === 'factors') {
          if (typeof l.scale !== 'number') fail('CORRUPT_FILE', `${where}: scale must be a number`);
          return { form: 'factors', scale: l.scale, A: decodeF64(l.A, d.na * d.na, `${where}: A`), G: decodeF64(l.G, d.out * d.out, `${where}: G`) };
        }
        if (l.form === 'eigen') {
          return { form: 'eigen', QA: decodeF64(l.QA, d.na * d.na, `${where}: QA`), QG: decodeF64(l.QG, d.out * d.out, `${where}: QG`), D: decodeF64(l.D, d.out * d.na, `${where}: D`) };
        }
        return fail('CORRUPT_FILE', `${where}: unknown form ${JSON.stringify(l.form)}`);
      });
      return new KfacFisher(layers, layout, meta);
    }
    case 'matfree':
      return fail('CORRUPT_FILE', `${what}: a matrix-free Fisher cannot be stored (it holds functions, not values)`);
  }
}
