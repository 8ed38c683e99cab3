export * from './layers.js';
export * from './sequential.js';
export * from './format.js';
export * from './io.js';
