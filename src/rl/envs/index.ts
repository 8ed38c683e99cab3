// The environments layer: the contract, spaces, the registry of every env by Gymnasium id,
// the classic-control and MuJoCo envs, the vectorised wrapper and SB3-style normalisation. (MuJoCo
// envs load their WebAssembly module on first make; the file helpers of normalize-file.ts need Node
// and are not here.)
export type { Action, Env, EnvSpec, ResetResult, Space, StepResult, VecEnv, VecStepResult } from './types.js';
export { boxSpace, checkAction, clipAction, describeSpace, discreteSpace, spaceSize } from './spaces.js';
export { ENV_SPECS, envSpec, makeEnv } from './registry.js';
export {
  AcrobotEnv,
  CartPoleEnv,
  CLASSIC_ENV_SPECS,
  ClassicEnv,
  MountainCarContinuousEnv,
  MountainCarEnv,
  PendulumEnv,
  angleNormalize,
} from './classic/index.js';
export {
  AntEnv,
  HalfCheetahEnv,
  HopperEnv,
  HumanoidEnv,
  InvertedDoublePendulumEnv,
  InvertedPendulumEnv,
  MUJOCO_ENV_SPECS,
  MujocoEnv,
  PusherEnv,
  ReacherEnv,
  SwimmerEnv,
  Walker2dEnv,
  makeMujocoEnv,
  mujocoUnavailableReason,
  type MujocoEnvOptions,
} from './mujoco/index.js';
export { SyncVecEnv, makeVecEnv } from './vector.js';
export { RunningMeanStd, VecNormalize, type VecNormalizeOptions, type VecNormalizeState } from './normalize.js';
