/**
 * fimkit — the public API (Node entry): everything in the browser entry, plus what needs the
 * file system (model files, dataset files and downloads, file checkpoints, atomic writes).
 */
import './report/node-dom.js'; // charts render into a linkedom document in Node
export * from './browser.js';
export * from './nn/io.js';
export * from './data/files.js';
export * from './data/mnist.js';
export * from './data/embedded.js';
export * from './data/resolve.js';
export * from './fisher/files.js';
export * from './report/files.js';
export { FileCheckpointStore } from './train/checkpoint-file.js';
export { writeFileAtomic, writeJsonAtomic } from './io/atomic.js';
export { loadObservedCsv } from './ode/data-file.js';
export { loadModelFile as loadOdeModelFile } from './ode/user-file.js';
export * from './nn/import/files.js';
