// The classic-control environments ported from Gymnasium's published dynamics (its
// gymnasium/envs/classic_control sources, Gymnasium 1.x), with the TimeLimits they are
// registered with.
import type { EnvSpec } from '../types.js';
import { AcrobotEnv } from './acrobot.js';
import { CartPoleEnv } from './cartpole.js';
import { MountainCarContinuousEnv } from './continuous_mountain_car.js';
import { MountainCarEnv } from './mountain_car.js';
import { PendulumEnv } from './pendulum.js';

export { ClassicEnv } from './base.js';
export { AcrobotEnv } from './acrobot.js';
export { CartPoleEnv } from './cartpole.js';
export { MountainCarContinuousEnv } from './continuous_mountain_car.js';
export { MountainCarEnv } from './mountain_car.js';
export { PendulumEnv, angleNormalize } from './pendulum.js';

export const CLASSIC_ENV_SPECS: readonly EnvSpec[] = [
  { id: 'CartPole-v1', family: 'classic', maxEpisodeSteps: 500, make: async () => new CartPoleEnv() },
  { id: 'Acrobot-v1', family: 'classic', maxEpisodeSteps: 500, make: async () => new AcrobotEnv() },
  { id: 'MountainCar-v0', family: 'classic', maxEpisodeSteps: 200, make: async () => new MountainCarEnv() },
  { id: 'MountainCarContinuous-v0', family: 'classic', maxEpisodeSteps: 999, make: async () => new MountainCarContinuousEnv() },
  { id: 'Pendulum-v1', family: 'classic', maxEpisodeSteps: 200, make: async () => new PendulumEnv() },
];
