// Loading the official MuJoCo WebAssembly build (the optional npm package mujoco-js) once per
// process, lazily: nothing is loaded until the first MuJoCo env is made, so users of the rest of
// fimkit never pay its ~11 MB or its start-up time, and an install without the package (or a
// runtime without WebAssembly) still works: making a MuJoCo env then throws a named error.
//
// Only the handful of calls the environments use are typed here, as a structural subset of the
// package's own declarations, so that fimkit's types do not depend on an optional package.
import { FimkitError } from '../../../core/errors.js';

/** A float64 or int view into the module's heap (re-read after every allocation: growth detaches it). */
type HeapF64 = Float64Array;

export interface MjOptionLike {
  timestep: number;
  integrator: number;
  disableflags: number;
}

/** mjtDisableBit.mjDSBL_AUTORESET: MuJoCo's silent reset of a simulation that went bad. */
export const MJ_DSBL_AUTORESET = 1 << 16;
/** MuJoCo's mjMAXVAL: a qpos/qvel/qacc entry beyond it counts as diverged (mj_checkPos and co.). */
export const MJ_MAXVAL = 1e10;

export interface MjModelLike {
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;
  readonly nbody: number;
  readonly opt: MjOptionLike;
  readonly body_mass: HeapF64;
  readonly body_inertia: HeapF64;
  readonly qpos0: HeapF64;
  readonly jnt_range: HeapF64;
  readonly jnt_type: Int32Array;
  readonly jnt_limited: Uint8Array;
  readonly jnt_stiffness: HeapF64;
  readonly dof_damping: HeapF64;
  readonly dof_armature: HeapF64;
  readonly actuator_gear: HeapF64;
  readonly actuator_ctrlrange: HeapF64;
  delete(): void;
}

export interface MjDataLike {
  time: number;
  /** Number of active contacts. */
  readonly ncon: number;
  readonly qpos: HeapF64;
  readonly qvel: HeapF64;
  readonly ctrl: HeapF64;
  readonly act: HeapF64;
  readonly xpos: HeapF64;
  readonly xipos: HeapF64;
  readonly cinert: HeapF64;
  readonly cvel: HeapF64;
  readonly qfrc_actuator: HeapF64;
  readonly site_xpos: HeapF64;
  readonly qfrc_constraint: HeapF64;
  readonly cfrc_ext: HeapF64;
  delete(): void;
}

export interface MujocoModule {
  FS: {
    writeFile(path: string, data: string): void;
    unlink(path: string): void;
  };
  MjModel: { loadFromXML(path: string): MjModelLike };
  MjData: new (model: MjModelLike) => MjDataLike;
  mj_step(m: MjModelLike, d: MjDataLike): void;
  mj_forward(m: MjModelLike, d: MjDataLike): void;
  mj_resetData(m: MjModelLike, d: MjDataLike): void;
  mj_rnePostConstraint(m: MjModelLike, d: MjDataLike): void;
  mj_name2id(m: MjModelLike, type: number, name: string): number;
  mj_versionString(): string;
}

let loading: Promise<MujocoModule> | null = null;

/** Why MuJoCo cannot load here, or null where nothing stands in the way before trying. */
function precheck(): string | null {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
    return 'this JavaScript runtime has no WebAssembly';
  }
  return null;
}

/**
 * The MuJoCo WebAssembly module, loaded on first use and shared by every env of the process.
 * Throws a FimkitError (code BACKEND) naming the reason where it cannot load; a failed load is
 * not cached, so a later call tries again.
 */
export function loadMujoco(): Promise<MujocoModule> {
  if (loading) return loading;
  const why = precheck();
  if (why) return Promise.reject(unavailable(why));
  loading = (async () => {
    let factory: (arg?: object) => Promise<unknown>;
    try {
      const mod = (await import('mujoco-js')) as unknown as { default: (arg?: object) => Promise<unknown> };
      factory = mod.default;
    } catch (e) {
      throw unavailable(`the optional package mujoco-js is not installed or cannot be imported (${(e as Error).message})`);
    }
    try {
      return (await factory()) as MujocoModule;
    } catch (e) {
      throw unavailable(`mujoco-js failed to instantiate its WebAssembly module (${(e as Error).message})`);
    }
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

function unavailable(reason: string): FimkitError {
  return new FimkitError('BACKEND', `MuJoCo environments are unavailable: ${reason}. Install it with \`npm install mujoco-js\` (an optional dependency of fimkit) in a runtime with WebAssembly.`);
}

/** Resolves to null where MuJoCo loads, else to the reason it does not (for tests to skip with). */
export async function mujocoUnavailableReason(): Promise<string | null> {
  try {
    await loadMujoco();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

let modelCounter = 0;

/** Compiles an MJCF string into a model through the module's in-memory file system. */
export function compileModel(mj: MujocoModule, xml: string, name: string): MjModelLike {
  const path = `/fimkit-${name}-${modelCounter++}.xml`;
  mj.FS.writeFile(path, xml);
  try {
    return mj.MjModel.loadFromXML(path);
  } catch (e) {
    throw new FimkitError('MODEL_FORMAT', `MuJoCo could not compile the ${name} model: ${(e as Error)?.message ?? String(e)}`);
  } finally {
    mj.FS.unlink(path);
  }
}
