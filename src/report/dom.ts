/**
 * The DOM that charts render into. Observable Plot builds SVG with a document's
 * createElementNS; in a browser that is the page's document, in Node a light DOM (linkedom)
 * that ./node-dom.ts registers (the Node entry and report/files.ts import it).
 */
import { fail } from '../core/errors.js';

let registered: Document | undefined;

/** Makes `doc` the document charts render into (Node: a linkedom document). */
export function setChartDocument(doc: Document): void {
  registered = doc;
}

export function chartDocument(): Document {
  if (registered) return registered;
  if (typeof document !== 'undefined') return document;
  return fail('INVALID_ARGUMENT', "charts need a DOM: in Node import 'fimkit' (its entry registers one) or call setChartDocument() with a document");
}
