// One table of every environment fimkit knows, by Gymnasium id.
import { fail } from '../../core/errors.js';
import { CLASSIC_ENV_SPECS } from './classic/index.js';
import { MUJOCO_ENV_SPECS } from './mujoco/index.js';
import type { Env, EnvSpec } from './types.js';

export const ENV_SPECS: readonly EnvSpec[] = [...CLASSIC_ENV_SPECS, ...MUJOCO_ENV_SPECS];

export function envSpec(id: string): EnvSpec {
  const spec = ENV_SPECS.find((s) => s.id === id);
  if (!spec) {
    fail('INVALID_ARGUMENT', `unknown environment '${id}'; known: ${ENV_SPECS.map((s) => s.id).join(', ') || '(none)'}`);
  }
  return spec;
}

export function makeEnv(id: string): Promise<Env> {
  return envSpec(id).make();
}
