// The MuJoCo locomotion environments, on the official MuJoCo WebAssembly build (mujoco-js),
// written to Gymnasium's v5 definitions. The module loads on the first make(); where it cannot
// (the optional package is absent, or no WebAssembly), make() rejects with a FimkitError (code
// BACKEND) that says so.
import type { Env, EnvSpec } from '../types.js';
import type { MujocoEnv } from './env.js';
import {
  AntEnv,
  HalfCheetahEnv,
  HopperEnv,
  HumanoidEnv,
  InvertedDoublePendulumEnv,
  InvertedPendulumEnv,
  PusherEnv,
  ReacherEnv,
  SwimmerEnv,
  Walker2dEnv,
  type AntOptions,
  type DoublePendulumOptions,
  type ForwardOptions,
  type HealthyOptions,
  type HopperOptions,
  type HumanoidOptions,
  type PusherOptions,
  type ReacherOptions,
} from './locomotion.js';
import type { MujocoCommonOptions } from './env.js';
import { loadMujoco, type MujocoModule } from './wasm.js';

export { MujocoEnv } from './env.js';
export type { MujocoCommonOptions } from './env.js';
export * from './locomotion.js';
export { loadMujoco, mujocoUnavailableReason } from './wasm.js';

/** Options per env id (each the v5 constructor's arguments, camelCased). */
export interface MujocoEnvOptions {
  'InvertedPendulum-v5': MujocoCommonOptions;
  'Hopper-v5': HopperOptions;
  'Walker2d-v5': HealthyOptions;
  'HalfCheetah-v5': ForwardOptions;
  'Swimmer-v5': ForwardOptions;
  'InvertedDoublePendulum-v5': DoublePendulumOptions;
  'Reacher-v5': ReacherOptions;
  'Ant-v5': AntOptions;
  'Humanoid-v5': HumanoidOptions;
  'Pusher-v5': PusherOptions;
}

const CONSTRUCTORS: { [K in keyof MujocoEnvOptions]: (mj: MujocoModule, o: MujocoEnvOptions[K]) => MujocoEnv } = {
  'InvertedPendulum-v5': (mj, o) => new InvertedPendulumEnv(mj, o),
  'Hopper-v5': (mj, o) => new HopperEnv(mj, o),
  'Walker2d-v5': (mj, o) => new Walker2dEnv(mj, o),
  'HalfCheetah-v5': (mj, o) => new HalfCheetahEnv(mj, o),
  'Swimmer-v5': (mj, o) => new SwimmerEnv(mj, o),
  'InvertedDoublePendulum-v5': (mj, o) => new InvertedDoublePendulumEnv(mj, o),
  'Reacher-v5': (mj, o) => new ReacherEnv(mj, o),
  'Ant-v5': (mj, o) => new AntEnv(mj, o),
  'Humanoid-v5': (mj, o) => new HumanoidEnv(mj, o),
  'Pusher-v5': (mj, o) => new PusherEnv(mj, o),
};

/** Makes a MuJoCo env with non-default options (the registry's make() uses the v5 defaults). */
export async function makeMujocoEnv<K extends keyof MujocoEnvOptions>(id: K, options: MujocoEnvOptions[K] = {}): Promise<MujocoEnv> {
  const mj = await loadMujoco();
  return CONSTRUCTORS[id](mj, options);
}

function spec(id: keyof MujocoEnvOptions, maxEpisodeSteps = 1000): EnvSpec {
  return { id, family: 'mujoco', maxEpisodeSteps, make: (): Promise<Env> => makeMujocoEnv(id) };
}

export const MUJOCO_ENV_SPECS: readonly EnvSpec[] = [
  spec('InvertedPendulum-v5'),
  spec('Hopper-v5'),
  spec('HalfCheetah-v5'),
  spec('Walker2d-v5'),
  spec('Swimmer-v5'),
  spec('InvertedDoublePendulum-v5'),
  spec('Reacher-v5', 50),
  spec('Ant-v5'),
  spec('Humanoid-v5'),
  spec('Pusher-v5', 100),
];
