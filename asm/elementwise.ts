// AssemblyScript kernels for the elementwise work of a training step: bias + activation,
// activation backward, column sums, row softmax / log-sum-exp and the Adam update.
// Pointers are byte addresses in linear memory; the TypeScript side copies arrays in and out.
//
// Arithmetic follows src/core/scalar.ts and the ts backend: transcendental functions are
// evaluated in f64 and float32 results are rounded once when stored. Relu and identity are
// exact in either precision, so they run on 128-bit SIMD lanes directly.
// Functions returning i32 answer 1 when they handled the request and 0 when the caller should
// use the reference implementation instead (an activation not implemented here).

const IDENTITY: i32 = 0;
const RELU: i32 = 1;
const SIGMOID: i32 = 3;
const TANH: i32 = 4;

// @ts-ignore: decorator
@inline function sigmoid(x: f64): f64 {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Activation value f(z) for the codes handled here (sigmoid, tanh). */
// @ts-ignore: decorator
@inline function activate(act: i32, z: f64): f64 {
  return act == SIGMOID ? sigmoid(z) : Math.tanh(z);
}

/** First derivative, written as in scalar.ts: σ' = (−s + 1)·s, tanh' = (−t)·t + 1. */
// @ts-ignore: decorator
@inline function activateDeriv(act: i32, x: f64): f64 {
  if (act == SIGMOID) {
    const s = sigmoid(x);
    return (-1 * s + 1) * s;
  }
  const t = Math.tanh(x);
  return (-1 * t + 0) * t + 1;
}

// ------------------------------------------------------------------ addRowVectorAct

/** out[r, c] = act(x[r, c] + v[c]); pre (when non-zero) receives the pre-activation. */
export function addRowVectorAct_f32(x: usize, v: usize, rows: i32, cols: i32, act: i32, pre: usize, out: usize): i32 {
  if (act != IDENTITY && act != RELU && act != SIGMOID && act != TANH) return 0;
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const o = <usize>(r * cols) << 2;
    if (act == IDENTITY || act == RELU) {
      let c = 0;
      for (; c + 4 <= cols; c += 4) {
        const off = o + (<usize>c << 2);
        let z = v128.load(x + off);
        if (v) z = f32x4.add(z, v128.load(v + (<usize>c << 2)));
        if (pre) v128.store(pre + off, z);
        // relu via compare-and-mask: NaN > 0 is false, giving 0 as in the reference.
        v128.store(out + off, act == RELU ? v128.and(z, f32x4.gt(z, zero)) : z);
      }
      for (; c < cols; c++) {
        const off = o + (<usize>c << 2);
        let z = load<f32>(x + off);
        if (v) z += load<f32>(v + (<usize>c << 2));
        if (pre) store<f32>(pre + off, z);
        store<f32>(out + off, act == RELU ? (z > 0 ? z : 0) : z);
      }
    } else {
      for (let c = 0; c < cols; c++) {
        const off = o + (<usize>c << 2);
        let z = <f64>load<f32>(x + off);
        if (v) z += <f64>load<f32>(v + (<usize>c << 2));
        if (pre) store<f32>(pre + off, <f32>z);
        store<f32>(out + off, <f32>activate(act, z));
      }
    }
  }
  return 1;
}

export function addRowVectorAct_f64(x: usize, v: usize, rows: i32, cols: i32, act: i32, pre: usize, out: usize): i32 {
  if (act != IDENTITY && act != RELU && act != SIGMOID && act != TANH) return 0;
  const zero = f64x2.splat(0);
  for (let r = 0; r < rows; r++) {
    const o = <usize>(r * cols) << 3;
    if (act == IDENTITY || act == RELU) {
      let c = 0;
      for (; c + 2 <= cols; c += 2) {
        const off = o + (<usize>c << 3);
        let z = v128.load(x + off);
        if (v) z = f64x2.add(z, v128.load(v + (<usize>c << 3)));
        if (pre) v128.store(pre + off, z);
        v128.store(out + off, act == RELU ? v128.and(z, f64x2.gt(z, zero)) : z);
      }
      for (; c < cols; c++) {
        const off = o + (<usize>c << 3);
        let z = load<f64>(x + off);
        if (v) z += load<f64>(v + (<usize>c << 3));
        if (pre) store<f64>(pre + off, z);
        store<f64>(out + off, act == RELU ? (z > 0 ? z : 0) : z);
      }
    } else {
      for (let c = 0; c < cols; c++) {
        const off = o + (<usize>c << 3);
        let z = load<f64>(x + off);
        if (v) z += load<f64>(v + (<usize>c << 3));
        if (pre) store<f64>(pre + off, z);
        store<f64>(out + off, activate(act, z));
      }
    }
  }
  return 1;
}

// ------------------------------------------------------------------ unaryMul, order 1

/** out[i] = g[i]·f'(x[i]) for identity, relu, sigmoid and tanh. */
export function unaryMulOrder1_f32(op: i32, x: usize, g: usize, out: usize, n: i32): i32 {
  if (op == IDENTITY) {
    // g·1 = g exactly (NaN and infinities included).
    memory.copy(out, g, <usize>n << 2);
    return 1;
  }
  if (op == RELU) {
    // The reference passes g through where x > 0 and writes 0 elsewhere (not g·0).
    const zero = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const off = <usize>i << 2;
      v128.store(out + off, v128.and(v128.load(g + off), f32x4.gt(v128.load(x + off), zero)));
    }
    for (; i < n; i++) {
      const off = <usize>i << 2;
      store<f32>(out + off, load<f32>(x + off) > 0 ? load<f32>(g + off) : 0);
    }
    return 1;
  }
  if (op != SIGMOID && op != TANH) return 0;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 2;
    store<f32>(out + off, <f32>(<f64>load<f32>(g + off) * activateDeriv(op, <f64>load<f32>(x + off))));
  }
  return 1;
}

export function unaryMulOrder1_f64(op: i32, x: usize, g: usize, out: usize, n: i32): i32 {
  if (op == IDENTITY) {
    memory.copy(out, g, <usize>n << 3);
    return 1;
  }
  if (op == RELU) {
    const zero = f64x2.splat(0);
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const off = <usize>i << 3;
      v128.store(out + off, v128.and(v128.load(g + off), f64x2.gt(v128.load(x + off), zero)));
    }
    for (; i < n; i++) {
      const off = <usize>i << 3;
      store<f64>(out + off, load<f64>(x + off) > 0 ? load<f64>(g + off) : 0);
    }
    return 1;
  }
  if (op != SIGMOID && op != TANH) return 0;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    store<f64>(out + off, load<f64>(g + off) * activateDeriv(op, load<f64>(x + off)));
  }
  return 1;
}

// ------------------------------------------------------------------ reductions

/** out[c] = beta·out[c] + Σ_r x[r, c]; sums accumulate in f64 at `acc` (cols·8 bytes). */
export function sumRows_f32(x: usize, rows: i32, cols: i32, beta: f64, out: usize, acc: usize): void {
  memory.fill(acc, 0, <usize>cols << 3);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * cols) << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
      v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
    }
    for (; c < cols; c++) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + <f64>load<f32>(row + (<usize>c << 2)));
    }
  }
  for (let c = 0; c < cols; c++) {
    const o = out + (<usize>c << 2);
    const s = load<f64>(acc + (<usize>c << 3));
    store<f32>(o, <f32>(beta == 0 ? s : beta * <f64>load<f32>(o) + s));
  }
}

export function sumRows_f64(x: usize, rows: i32, cols: i32, beta: f64, out: usize, acc: usize): void {
  memory.fill(acc, 0, <usize>cols << 3);
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * cols) << 3);
    let c = 0;
    for (; c + 2 <= cols; c += 2) {
      const a = acc + (<usize>c << 3);
      v128.store(a, f64x2.add(v128.load(a), v128.load(row + (<usize>c << 3))));
    }
    for (; c < cols; c++) {
      const a = acc + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + load<f64>(row + (<usize>c << 3)));
    }
  }
  for (let c = 0; c < cols; c++) {
    const o = out + (<usize>c << 3);
    const s = load<f64>(acc + (<usize>c << 3));
    store<f64>(o, beta == 0 ? s : beta * load<f64>(o) + s);
  }
}

/** Row maximum that propagates NaN like Math.max. */
// @ts-ignore: decorator
@inline function rowMax_f32(row: usize, cols: i32): f64 {
  let mx = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = <f64>load<f32>(row + (<usize>c << 2));
    if (v != v) return v;
    if (v > mx) mx = v;
  }
  return mx;
}

// @ts-ignore: decorator
@inline function rowMax_f64(row: usize, cols: i32): f64 {
  let mx = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = load<f64>(row + (<usize>c << 3));
    if (v != v) return v;
    if (v > mx) mx = v;
  }
  return mx;
}

export function softmaxRows_f32(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2);
    const or = out + (<usize>(r * cols) << 2);
    const mx = rowMax_f32(xr, cols);
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(<f64>load<f32>(xr + (<usize>c << 2)) - mx);
      store<f32>(or + (<usize>c << 2), <f32>e);
      s += e;
    }
    const inv = 1 / s;
    for (let c = 0; c < cols; c++) {
      const o = or + (<usize>c << 2);
      store<f32>(o, <f32>(<f64>load<f32>(o) * inv));
    }
  }
}

export function softmaxRows_f64(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 3);
    const or = out + (<usize>(r * cols) << 3);
    const mx = rowMax_f64(xr, cols);
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(load<f64>(xr + (<usize>c << 3)) - mx);
      store<f64>(or + (<usize>c << 3), e);
      s += e;
    }
    const inv = 1 / s;
    for (let c = 0; c < cols; c++) {
      const o = or + (<usize>c << 3);
      store<f64>(o, load<f64>(o) * inv);
    }
  }
}

export function logSumExpRows_f32(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2);
    const mx = rowMax_f32(xr, cols);
    if (mx == -Infinity) {
      store<f32>(out + (<usize>r << 2), -Infinity);
      continue;
    }
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(<f64>load<f32>(xr + (<usize>c << 2)) - mx);
    store<f32>(out + (<usize>r << 2), <f32>(mx + Math.log(s)));
  }
}

export function logSumExpRows_f64(x: usize, rows: i32, cols: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 3);
    const mx = rowMax_f64(xr, cols);
    if (mx == -Infinity) {
      store<f64>(out + (<usize>r << 3), -Infinity);
      continue;
    }
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(load<f64>(xr + (<usize>c << 3)) - mx);
    store<f64>(out + (<usize>r << 3), mx + Math.log(s));
  }
}

// ------------------------------------------------------------------ Adam

// The update is bound by divisions and square roots, so two f64 lanes at a time; the
// operations and their order are those of the reference (IEEE division and square root are
// exact-rounded, so lanes give the same bits as scalar code).
// @ts-ignore: decorator
@inline function adamLanes(p: v128, g: v128, m: v128, v: v128, b1: v128, c1: v128, b2: v128, c2: v128,
  lr: v128, bc1: v128, bc2: v128, eps: v128, decay: v128, out: usize): void {
  const mi = f64x2.add(f64x2.mul(b1, m), f64x2.mul(c1, g));
  const vi = f64x2.add(f64x2.mul(b2, v), f64x2.mul(f64x2.mul(c2, g), g));
  const step = f64x2.div(f64x2.mul(lr, f64x2.div(mi, bc1)), f64x2.add(f64x2.sqrt(f64x2.div(vi, bc2)), eps));
  v128.store(out, f64x2.sub(f64x2.mul(p, decay), step));
  v128.store(out, mi, 16);
  v128.store(out, vi, 32);
}

// Scratch for one pair of lanes: new param, m, v (48 bytes).
const ADAM_LANES: usize = memory.data(48, 16);

/** Bias-corrected Adam with decoupled weight decay, as the reference backend computes it. */
export function adamStep_f32(param: usize, grad: usize, m: usize, v: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, wd: f64, step: f64): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const decay = 1 - lr * wd;
  const vb1 = f64x2.splat(beta1), vc1 = f64x2.splat(1 - beta1), vb2 = f64x2.splat(beta2), vc2 = f64x2.splat(1 - beta2);
  const vlr = f64x2.splat(lr), vbc1 = f64x2.splat(bc1), vbc2 = f64x2.splat(bc2), veps = f64x2.splat(eps), vdecay = f64x2.splat(decay);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 2;
    adamLanes(
      f64x2.promote_low_f32x4(v128.load64_zero(param + off)), f64x2.promote_low_f32x4(v128.load64_zero(grad + off)),
      f64x2.promote_low_f32x4(v128.load64_zero(m + off)), f64x2.promote_low_f32x4(v128.load64_zero(v + off)),
      vb1, vc1, vb2, vc2, vlr, vbc1, vbc2, veps, vdecay, ADAM_LANES);
    v128.store64_lane(param + off, f32x4.demote_f64x2_zero(v128.load(ADAM_LANES)), 0);
    v128.store64_lane(m + off, f32x4.demote_f64x2_zero(v128.load(ADAM_LANES, 16)), 0);
    v128.store64_lane(v + off, f32x4.demote_f64x2_zero(v128.load(ADAM_LANES, 32)), 0);
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const gi = <f64>load<f32>(grad + off);
    const mi = beta1 * <f64>load<f32>(m + off) + (1 - beta1) * gi;
    const vi = beta2 * <f64>load<f32>(v + off) + (1 - beta2) * gi * gi;
    store<f32>(m + off, <f32>mi);
    store<f32>(v + off, <f32>vi);
    store<f32>(param + off, <f32>(<f64>load<f32>(param + off) * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps)));
  }
}

export function adamStep_f64(param: usize, grad: usize, m: usize, v: usize, n: i32,
  lr: f64, beta1: f64, beta2: f64, eps: f64, wd: f64, step: f64): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const decay = 1 - lr * wd;
  const vb1 = f64x2.splat(beta1), vc1 = f64x2.splat(1 - beta1), vb2 = f64x2.splat(beta2), vc2 = f64x2.splat(1 - beta2);
  const vlr = f64x2.splat(lr), vbc1 = f64x2.splat(bc1), vbc2 = f64x2.splat(bc2), veps = f64x2.splat(eps), vdecay = f64x2.splat(decay);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 3;
    adamLanes(v128.load(param + off), v128.load(grad + off), v128.load(m + off), v128.load(v + off),
      vb1, vc1, vb2, vc2, vlr, vbc1, vbc2, veps, vdecay, ADAM_LANES);
    v128.store(param + off, v128.load(ADAM_LANES));
    v128.store(m + off, v128.load(ADAM_LANES, 16));
    v128.store(v + off, v128.load(ADAM_LANES, 32));
  }
  for (; i < n; i++) {
    const off = <usize>i << 3;
    const gi = load<f64>(grad + off);
    const mi = beta1 * load<f64>(m + off) + (1 - beta1) * gi;
    const vi = beta2 * load<f64>(v + off) + (1 - beta2) * gi * gi;
    store<f64>(m + off, mi);
    store<f64>(v + off, vi);
    store<f64>(param + off, load<f64>(param + off) * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps));
  }
}
