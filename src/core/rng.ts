/**
 * Seeded, splittable random numbers. Draws are made in TypeScript whatever the backend, so the
 * same seed gives bit-identical samples on native, wasm and ts.
 *
 * Generator: xoshiro128** (32-bit arithmetic only, fast in JS). Seeding and key derivation go
 * through a 32-bit avalanche hash, so `derive(k)` gives streams that are independent of each
 * other and of how many draws the parent has made (the jax-style "fold in" of a key).
 */

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

function hashWords(words: readonly number[]): [number, number, number, number] {
  let h = 0x9e3779b9;
  const out: number[] = [];
  for (let lane = 0; lane < 4; lane++) {
    let acc = mix32(h + lane * 0x7f4a7c15);
    for (const w of words) acc = mix32((acc ^ (w >>> 0)) + 0x85ebca6b);
    out.push(acc);
    h = acc;
  }
  if ((out[0]! | out[1]! | out[2]! | out[3]!) === 0) out[0] = 1; // xoshiro forbids the all-zero state
  return out as [number, number, number, number];
}

function seedWords(seed: number | string): number[] {
  if (typeof seed === 'string') {
    const w: number[] = [seed.length];
    for (let i = 0; i < seed.length; i++) w.push(seed.charCodeAt(i));
    return w;
  }
  if (!Number.isFinite(seed) || !Number.isInteger(seed) || Math.abs(seed) > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`RNG seed must be a safe integer or a string, got ${seed}`);
  }
  const neg = seed < 0 ? 1 : 0;
  const a = Math.abs(seed);
  return [a >>> 0, Math.floor(a / 4294967296) >>> 0, neg];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The words this stream was created from; `derive` hashes these, not the moving state. */
  private readonly key: readonly number[];
  private splits = 0;

  constructor(seed: number | string | readonly number[] = 0) {
    this.key = Array.isArray(seed) ? [...(seed as readonly number[])] : seedWords(seed as number | string);
    [this.s0, this.s1, this.s2, this.s3] = hashWords(this.key);
  }

  /** A child stream determined by this stream's seed and `k` alone. */
  derive(k: number | string): Rng {
    return new Rng([...this.key, 0x51ed270b, ...seedWords(k)]);
  }

  /** The next independent child stream (the i-th call gives derive-like child i). */
  split(): Rng {
    return new Rng([...this.key, 0x2545f491, this.splits++]);
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform double in (0, 1): safe for log. */
  uniformOpen(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return u;
  }

  /** Uniform integer in [0, n), unbiased (rejection). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`int(n) needs 1 ≤ n ≤ 2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** Standard normal draw (Box–Muller, both halves used in turn). */
  private spare: number | null = null;
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = this.uniformOpen();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillUniform<T extends Float32Array | Float64Array>(out: T, lo = 0, hi = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  bernoulli(p: number): number {
    return this.uniform() < p ? 1 : 0;
  }

  /** Index drawn from unnormalised non-negative weights `w[off .. off+n)`. */
  categorical(w: ArrayLike<number>, off = 0, n = w.length - off): number {
    let total = 0;
    for (let i = 0; i < n; i++) total += w[off + i]!;
    let u = this.uniform() * total;
    for (let i = 0; i < n; i++) {
      u -= w[off + i]!;
      if (u < 0) return i;
    }
    // Rounding left u ≥ 0: return the last category with positive weight.
    for (let i = n - 1; i >= 0; i--) if (w[off + i]! > 0) return i;
    return n - 1;
  }

  /** Poisson draw: inversion for small rates, Hörmann's PTRS transformed rejection above 10. */
  poisson(lambda: number): number {
    if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new RangeError(`poisson rate must be finite and ≥ 0, got ${lambda}`);
    if (lambda === 0) return 0;
    if (lambda < 10) {
      let k = 0;
      let p = Math.exp(-lambda);
      let s = p;
      const u = this.uniform();
      while (u > s && k < 1000) {
        k++;
        p *= lambda / k;
        s += p;
      }
      return k;
    }
    const slam = Math.sqrt(lambda);
    const loglam = Math.log(lambda);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const U = this.uniform() - 0.5;
      const V = this.uniform();
      const us = 0.5 - Math.abs(U);
      const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
      if (us >= 0.07 && V <= vr) return k;
      if (k < 0 || (us < 0.013 && V > us)) continue;
      if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
    }
  }

  /** Snapshot of the generator state, for checkpoints. */
  getState(): number[] {
    return [this.s0, this.s1, this.s2, this.s3, this.splits, this.spare === null ? NaN : this.spare];
  }

  setState(s: readonly number[]): void {
    [this.s0, this.s1, this.s2, this.s3, this.splits] = s as [number, number, number, number, number];
    this.spare = s[5] === undefined || Number.isNaN(s[5]) ? null : s[5];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const logFactTable: number[] = [0];
/** log(k!) exactly for small k, Stirling series beyond. */
export function logFactorial(k: number): number {
  if (k < 256) {
    while (logFactTable.length <= k) logFactTable.push(logFactTable[logFactTable.length - 1]! + Math.log(logFactTable.length));
    return logFactTable[k]!;
  }
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x * x);
}
