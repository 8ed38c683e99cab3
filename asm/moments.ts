// AssemblyScript kernel for the closed-form variances' per-(input, unit) moments: the
// projected second and fourth moments of stacked directions (stackedMoments in
// src/core/backend.ts, whose ts reference and native kernel this follows operation for
// operation: sums in f64 over the slots in ascending order, no fused multiply-add).
// Pointers are byte addresses; `acc` is scratch for 4·count doubles.

/** Two consecutive values of a T array at byte address p, as f64 lanes. */
// @ts-ignore: decorator
@inline function load2<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return f64x2.promote_low_f32x4(v128.load64_zero(p));
  return v128.load(p);
}

// @ts-ignore: decorator
@inline function loadValue<T>(p: usize): f64 {
  if (sizeof<T>() == 4) return <f64>load<f32>(p);
  return load<f64>(p);
}

// @ts-ignore: decorator
@inline function storeValue<T>(p: usize, v: f64): void {
  if (sizeof<T>() == 4) store<f32>(p, <f32>v);
  else store<f64>(p, v);
}

// @ts-ignore: decorator
@inline function stackedMoments<T>(
  src: usize, B: i32, slots: i32, count: i32, coef: usize, kappa: f64, scale: usize, fourth: i32,
  out: usize, off: i32, ld: i32, acc: usize,
): void {
  const size = <usize>sizeof<T>();
  const s1 = acc;
  const s2 = acc + (<usize>count << 3);
  const s4 = acc + (<usize>count << 4);
  const sq = acc + <usize>count * 24;
  const stride = 3 * slots + 1;
  for (let b = 0; b < B; b++) {
    const cb = coef + (<usize>(b * stride) << 3);
    const gamma = load<f64>(cb + (<usize>(3 * slots) << 3));
    memory.fill(acc, 0, <usize>count << 5);
    for (let r = 0; r < slots; r++) {
      const row = src + <usize>(r * B + b) * <usize>count * size;
      const w = load<f64>(cb + (<usize>r << 3));
      const q = load<f64>(cb + (<usize>(slots + r) << 3));
      const rho = load<f64>(cb + (<usize>(2 * slots + r) << 3));
      const wv = f64x2.splat(w), qv = f64x2.splat(q), rv = f64x2.splat(rho);
      let j = 0;
      for (; j + 2 <= count; j += 2) {
        const x = load2<T>(row + <usize>j * size);
        const x2 = f64x2.mul(x, x);
        const px = f64x2.mul(wv, x2);
        const o = <usize>j << 3;
        v128.store(s1 + o, f64x2.add(v128.load(s1 + o), f64x2.mul(rv, x)));
        v128.store(s2 + o, f64x2.add(v128.load(s2 + o), px));
        if (fourth) {
          v128.store(s4 + o, f64x2.add(v128.load(s4 + o), f64x2.mul(f64x2.mul(qv, x2), x2)));
          if (kappa != 0) v128.store(sq + o, f64x2.add(v128.load(sq + o), f64x2.mul(px, px)));
        }
      }
      for (; j < count; j++) {
        const x = loadValue<T>(row + <usize>j * size);
        const x2 = x * x;
        const px = w * x2;
        const o = <usize>j << 3;
        store<f64>(s1 + o, load<f64>(s1 + o) + rho * x);
        store<f64>(s2 + o, load<f64>(s2 + o) + px);
        if (fourth) {
          store<f64>(s4 + o, load<f64>(s4 + o) + q * x2 * x2);
          if (kappa != 0) store<f64>(sq + o, load<f64>(sq + o) + px * px);
        }
      }
    }
    const ob = out + <usize>(off + b * ld) * size;
    for (let j = 0; j < count; j++) {
      const o = <usize>j << 3;
      const a1 = load<f64>(s1 + o);
      const a2 = a1 * a1;
      let m2 = load<f64>(s2 + o) + gamma * a2;
      const c = scale != 0 ? loadValue<T>(scale + <usize>(b * count + j) * size) : 1.0;
      if (!fourth) {
        if (scale != 0) m2 *= c * c;
        storeValue<T>(ob + <usize>j * size, m2);
        continue;
      }
      let m4 = load<f64>(s4 + o) + gamma * a2 * a2;
      if (kappa != 0) {
        const e = m2 * m2 - load<f64>(sq + o);
        m4 += kappa * (e < 0 ? 0 : e);
      }
      if (scale != 0) {
        const c2 = c * c;
        m2 *= c2;
        m4 *= c2 * c2;
      }
      const v = m4 - m2 * m2;
      storeValue<T>(ob + <usize>j * size, m2);
      storeValue<T>(ob + <usize>(count + j) * size, m2 * m2);
      storeValue<T>(ob + <usize>(2 * count + j) * size, v < 0 ? 0 : v);
    }
  }
}

export function stackedMoments_f32(
  src: usize, B: i32, slots: i32, count: i32, coef: usize, kappa: f64, scale: usize, fourth: i32,
  out: usize, off: i32, ld: i32, acc: usize,
): void {
  stackedMoments<f32>(src, B, slots, count, coef, kappa, scale, fourth, out, off, ld, acc);
}

export function stackedMoments_f64(
  src: usize, B: i32, slots: i32, count: i32, coef: usize, kappa: f64, scale: usize, fourth: i32,
  out: usize, off: i32, ld: i32, acc: usize,
): void {
  stackedMoments<f64>(src, B, slots, count, coef, kappa, scale, fourth, out, off, ld, acc);
}
