// The environment contract every fimkit RL environment implements: Gymnasium's API semantics
// (reset(seed) → observation; step(action) → observation, reward, terminated, truncated), so
// that trajectories can be compared step for step with Gymnasium's own and so that RL users
// find what they expect. Classic-control environments live in ./classic, MuJoCo ones in
// ./mujoco; both register themselves in ./registry.ts. Observations and continuous actions are
// float64, as Gymnasium's are (CartPole and the MuJoCo envs return float64 arrays there too,
// or float32 ones whose values are reproduced to within rounding).

/** A discrete action space {0, …, n−1}, or a box of float64 values with per-coordinate bounds. */
export type Space =
  | { readonly kind: 'discrete'; readonly n: number }
  | {
      readonly kind: 'box';
      readonly shape: readonly number[];
      /** Per-coordinate bounds, ±Infinity where unbounded. */
      readonly low: Float64Array;
      readonly high: Float64Array;
    };

/** An action: an integer for a discrete space, a float64 vector for a box. */
export type Action = number | Float64Array;

export interface ResetResult {
  readonly observation: Float64Array;
  readonly info: Record<string, unknown>;
}

export interface StepResult {
  readonly observation: Float64Array;
  readonly reward: number;
  /** The episode ended inside the MDP (pole fell, robot unhealthy): no bootstrap from here. */
  readonly terminated: boolean;
  /** The episode was cut by the time limit: the value of `observation` should be bootstrapped. */
  readonly truncated: boolean;
  readonly info: Record<string, unknown>;
}

export interface Env {
  /** Gymnasium id, e.g. 'CartPole-v1'. */
  readonly id: string;
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  /** The TimeLimit of the registered Gymnasium env (500 for CartPole-v1); null where none. */
  readonly maxEpisodeSteps: number | null;
  /**
   * Starts an episode. With a seed the env's generator is re-seeded (fimkit's Rng, so reset
   * noise is reproducible within fimkit though not bitwise equal to numpy's draws); without one
   * it continues its stream, as Gymnasium does.
   */
  reset(seed?: number): ResetResult;
  /** Advances one step; validates the action (shape, range, integer) with a named error. */
  step(action: Action): StepResult;
  /**
   * The full simulator state (for classic control the state vector; for MuJoCo qpos ++ qvel and
   * the time), and its inverse: used by the conformance tests to start from Gymnasium's states.
   */
  getState(): Float64Array;
  setState(state: Float64Array): void;
  close(): void;
}

/**
 * N copies stepped together, with auto-reset in the same call (Stable-Baselines3's VecEnv
 * convention): when copy i ends, `observations` row i is already the first observation of its
 * next episode and `finalObservations[i]` holds the last observation of the ended one, which is
 * what bootstrapping on truncation needs.
 */
export interface VecStepResult {
  /** [num, obsDim] row-major. */
  readonly observations: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** finalObservations[i] is set where copy i ended at this step, else null. */
  readonly finalObservations: (Float64Array | null)[];
  /** Return and length of each episode that ended at this step (for logging). */
  readonly episodes: { readonly index: number; readonly return: number; readonly length: number }[];
}

export interface VecEnv {
  readonly id: string;
  readonly num: number;
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  /** Seeds copy i with seed + i. */
  reset(seed?: number): Float64Array;
  /** actions: one per copy; a discrete space takes Int32Array[num], a box Float64Array[num·actDim]. */
  step(actions: Int32Array | Float64Array): VecStepResult;
  close(): void;
}

/** A registered environment: how to make one copy (MuJoCo ones load a WebAssembly module first). */
export interface EnvSpec {
  readonly id: string;
  /** 'classic' or 'mujoco': MuJoCo envs are skipped with a named reason where WebAssembly cannot load. */
  readonly family: 'classic' | 'mujoco';
  readonly maxEpisodeSteps: number | null;
  make(): Promise<Env>;
}
