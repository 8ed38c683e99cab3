// CBINN: biology-informed networks for ODE parameter estimation and missing-physics discovery.
export { tensorArith } from './arith.js';
export { BoundedParams, type ParamInit } from './params.js';
export { Surrogate, resolveSurrogateOptions, type SurrogateOptions, type OutputTransform } from './surrogate.js';
export { CbinnProblem, type CbinnProblemOptions, type LossWeights, type LossParts, type ResidualScaling } from './problem.js';
export { trainCbinn, resolveTrainOptions, type CbinnTrainOptions, type CbinnTrainState, type CbinnTrainHooks, type CbinnTrainResult, type LossRecord, type CbinnPhase } from './fit.js';
export { stlsq, sindyRecover, buildLibrary, type SindyOptions, type SindyResult, type SindyTerm, type LibraryColumn } from './sindy.js';
