/**
 * Public API of the data module. dataset.ts, idx.ts, tabular.ts and synthetic.ts are
 * browser-safe; files.ts, mnist.ts, embedded.ts and resolve.ts need Node (fs, zlib, crypto).
 * Browser code should import the browser-safe modules directly rather than this index.
 */
export * from './dataset.js';
export * from './idx.js';
export * from './tabular.js';
export * from './synthetic.js';
export * from './files.js';
export * from './mnist.js';
export * from './embedded.js';
export * from './resolve.js';
