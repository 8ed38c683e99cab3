export * from './common.js';
export * from './onnx.js';
export * from './tfjs.js';
export * from './detect.js';
