// The classic-control environments ported from Gymnasium's published dynamics.
import type { EnvSpec } from '../types.js';

export const CLASSIC_ENV_SPECS: readonly EnvSpec[] = [];
