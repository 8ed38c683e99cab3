// The ODE layer: models, solvers, sensitivities, synthetic and measured data.
export * from './model.js';
export * from './arith.js';
export * from './errors.js';
export * from './define.js';
export * from './system.js';
export * from './solve.js';
export * from './models/index.js';
export * from './data.js';
export * from './expr.js';
export * from './user.js';
export * from './fit.js';
export * from './identifiability.js';
