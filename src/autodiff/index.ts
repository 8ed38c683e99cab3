export * from './ops.js';
export { grad, backward, valueAndGrad, hvp, jvp, type GradOptions } from './grad.js';
export { noGrad, isGradEnabled, withGradMode } from './tape.js';
export { numericalGradient, numericalDirectional, maxRelativeError } from './check.js';
