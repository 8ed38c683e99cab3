// The classic-control environments ported from Gymnasium's published dynamics.
import type { EnvSpec } from '../types.js';
import { CartPoleEnv } from './cartpole.js';

export { ClassicEnv } from './base.js';
export { CartPoleEnv } from './cartpole.js';

export const CLASSIC_ENV_SPECS: readonly EnvSpec[] = [
  { id: 'CartPole-v1', family: 'classic', maxEpisodeSteps: 500, make: async () => new CartPoleEnv() },
];
