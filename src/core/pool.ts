/**
 * Buffer recycling for hot loops. A training or estimation step allocates the same set of
 * intermediate arrays every time; fresh typed arrays cost page faults, zeroing by the kernel
 * and garbage collection (together more than the elementwise work itself on the native
 * backend). Inside `scope.run(fn)` every tensor buffer comes from the scope; `scope.recycle()`
 * then hands all of them (except those backing tensors the caller keeps) back for the next step.
 *
 * Opt-in and explicit: a tensor created inside a scope must not be read after `recycle()`
 * unless it was passed in `keep`. Outside any scope, allocation is the plain typed-array kind.
 */
import { allocArray, dtypeOfArray, type DType, type FloatArray } from './dtype.js';
import type { Tensor } from './tensor.js';

let active: BufferScope | null = null;

export class BufferScope {
  private owned: FloatArray[] = [];
  private readonly free = new Map<string, FloatArray[]>();
  /** Arrays handed out as the leading part of a larger free buffer, and that buffer. */
  private readonly bases = new Map<FloatArray, FloatArray>();

  /**
   * An array of `n` elements owned by this scope: zero-filled, or with `zero` false, holding
   * whatever a previous user left (for outputs a kernel overwrites entirely). A free buffer of
   * exactly n elements is reused first, else the leading n elements of the smallest larger free
   * one of the dtype: the short last batch of a stream then reuses the full batches' buffers
   * instead of allocating a second set.
   */
  alloc(dtype: DType, n: number, zero = true): FloatArray {
    let a = this.free.get(key(dtype, n))?.pop();
    if (!a) {
      const base = this.takeLarger(dtype, n);
      if (base) {
        a = base.subarray(0, n);
        this.bases.set(a, base);
      }
    }
    if (a) {
      if (zero) a.fill(0);
    } else {
      a = allocArray(dtype, n);
    }
    this.owned.push(a);
    return a;
  }

  /** Removes and returns the smallest free buffer of `dtype` longer than n, if any. */
  private takeLarger(dtype: DType, n: number): FloatArray | null {
    let best: FloatArray[] | null = null;
    let bestLength = Infinity;
    for (const list of this.free.values()) {
      const a = list[list.length - 1];
      if (a === undefined || a.length <= n || a.length >= bestLength || dtypeOfArray(a) !== dtype) continue;
      best = list;
      bestLength = a.length;
    }
    return best ? best.pop()! : null;
  }

  /** Runs `fn` with this scope supplying every tensor buffer. */
  run<T>(fn: () => T): T {
    const prev = active;
    active = this;
    try {
      return fn();
    } finally {
      active = prev;
    }
  }

  /** Returns the buffers allocated since the last recycle to the free lists, except those of `keep`. */
  recycle(keep: readonly Tensor[] = []): void {
    const kept = new Set<FloatArray>(keep.map((t) => t.data));
    const still: FloatArray[] = [];
    for (const view of this.owned) {
      if (kept.has(view)) {
        still.push(view);
        continue;
      }
      const a = this.bases.get(view) ?? view;
      this.bases.delete(view);
      const k = key(dtypeOfArray(a), a.length);
      let list = this.free.get(k);
      if (!list) this.free.set(k, (list = []));
      list.push(a);
    }
    this.owned = still;
  }

  private readonly children = new Map<string, BufferScope>();

  /**
   * A nested scope kept by this one (the same object on every call with `key`): inner loops
   * recycle it per step while this scope's buffers stay live, and its pool survives with ours.
   */
  child(key: string): BufferScope {
    let c = this.children.get(key);
    if (!c) this.children.set(key, (c = new BufferScope()));
    return c;
  }

  /** Bytes held for reuse (for memory reports). */
  get pooledBytes(): number {
    let b = 0;
    for (const list of this.free.values()) for (const a of list) b += a.byteLength;
    for (const c of this.children.values()) b += c.pooledBytes;
    return b;
  }
}

/** Scratch kept between calls above this size is dropped (the next call allocates afresh). */
const PERSISTENT_SCRATCH_MAX_BYTES = 512 * 2 ** 20;
const persistent = new Map<string, BufferScope>();
const busy = new Set<string>();

/**
 * Runs `fn` with the library's persistent scratch scope for `purpose`: the buffers of one call
 * are reused by the next, as a caching allocator does, so a call over a single batch does not
 * pay for fresh pages (here about 0.4 ms per MiB, more than the arithmetic of a Fisher pass).
 * The pool is at most about one batch's scratch; `releaseScratch()` hands it back. A re-entrant
 * call (from a progress callback) gets a fresh scope.
 */
export function withPersistentScope<T>(purpose: string, fn: (scope: BufferScope) => T): T {
  if (busy.has(purpose)) return fn(new BufferScope());
  let scope = persistent.get(purpose);
  if (!scope) persistent.set(purpose, (scope = new BufferScope()));
  busy.add(purpose);
  try {
    return fn(scope);
  } finally {
    busy.delete(purpose);
    scope.recycle();
    if (scope.pooledBytes > PERSISTENT_SCRATCH_MAX_BYTES) persistent.delete(purpose);
  }
}

/** Drops the scratch kept between calls (see withPersistentScope). */
export function releaseScratch(): void {
  persistent.clear();
}

function key(dtype: DType, n: number): string {
  return `${dtype}:${n}`;
}

/** The scope supplying tensor buffers right now (null outside any). */
export function currentScope(): BufferScope | null {
  return active;
}

/**
 * Storage that the caller overwrites entirely before reading (a gemm with beta 0, an im2col):
 * from the active scope without the zero fill, or fresh.
 */
export function allocScratch(dtype: DType, n: number): FloatArray {
  return active ? active.alloc(dtype, n, false) : allocArray(dtype, n);
}

/** Zero-filled storage for a new tensor: from the active scope if there is one. */
export function allocTensorData(dtype: DType, n: number): FloatArray {
  return active ? active.alloc(dtype, n) : allocArray(dtype, n);
}
