export * from './trainer.js';
export * from './checkpoint.js';
export * from './evaluate.js';
export * from './progress.js';
