// The MuJoCo locomotion environments, on the official MuJoCo WebAssembly build (mujoco-js).
import type { EnvSpec } from '../types.js';

export const MUJOCO_ENV_SPECS: readonly EnvSpec[] = [];
