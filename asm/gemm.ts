// AssemblyScript SIMD GEMM for the wasm backend: C = alpha·op(A)·op(B) + beta·C on matrices
// that the TypeScript side has copied into linear memory (pointers are byte addresses).
//
// Structure (the classic packed, cache-blocked GEMM):
//   for each NC-column block of op(B), for each KC-deep slice:
//     pack the KC×NC block of op(B) into NR-wide column panels (zero padded)
//     for each MC-row block of op(A):
//       pack the MC×KC block of alpha·op(A) into MR-tall row panels (zero padded)
//       for every (NR panel, MR panel) pair run the MR×NR register-blocked micro-kernel.
// Transposes are absorbed by the packing routines, so the micro-kernel only sees one layout.
// Two builds come from this source: plain SIMD (mul then add) and relaxed SIMD, where
// ASC_FEATURE_RELAXED_SIMD turns every multiply-add into one fused relaxed_madd.

// ------------------------------------------------------------------ float32: 5×8 tiles
// 5×8 keeps 10 accumulators + 2 B vectors + 1 broadcast A in registers (13 of the 15 an x64
// engine can give out); measured in cache on Zen 3 it beats 4×8 by ~8% (46 vs 43 GFLOP/s
// relaxed, 35 vs 34 plain). The k loop is not unrolled: unrolling made the optimizer keep both
// iterations' B vectors live and the kernel fell to ~21 GFLOP/s.

const MR_F32: i32 = 5;
const NR_F32: i32 = 8;
const MC_F32: i32 = 120; // a multiple of MR_F32: packed A panels are padded to whole tiles
const KC_F32: i32 = 256;
const NC_F32: i32 = 2048; // a multiple of NR_F32

// ------------------------------------------------------------------ float64: 4×4 tiles

const MR_F64: i32 = 4;
const NR_F64: i32 = 4;
const MC_F64: i32 = 64; // a multiple of MR_F64
const KC_F64: i32 = 256;
const NC_F64: i32 = 1024; // a multiple of NR_F64

// Packed blocks are padded to whole tiles, so their sizes are rounded up to MR / NR multiples.
const PACKED_A_F32: i32 = ((MC_F32 + MR_F32 - 1) / MR_F32) * MR_F32 * KC_F32;
const PACKED_B_F32: i32 = ((NC_F32 + NR_F32 - 1) / NR_F32) * NR_F32 * KC_F32;
const PACKED_A_F64: i32 = ((MC_F64 + MR_F64 - 1) / MR_F64) * MR_F64 * KC_F64;
const PACKED_B_F64: i32 = ((NC_F64 + NR_F64 - 1) / NR_F64) * NR_F64 * KC_F64;

// Scratch tile for partial edge tiles (the micro-kernel always computes a full tile). It lives
// in the caller's workspace, not in static data, because the multi-threaded backend runs one
// gemm per thread over the same shared memory, each with its own workspace.
const TILE_BYTES_F32: i32 = MR_F32 * NR_F32 * 4;
const TILE_BYTES_F64: i32 = MR_F64 * NR_F64 * 8;

/**
 * Bytes of workspace gemm_f32 needs at `work` (packed A block, packed B block, edge tile).
 * `work` must be 16-byte aligned. Threads sharing one memory each need their own workspace.
 */
export function gemmWorkBytes_f32(): i32 {
  return (PACKED_A_F32 + PACKED_B_F32) * 4 + TILE_BYTES_F32;
}
export function gemmWorkBytes_f64(): i32 {
  return (PACKED_A_F64 + PACKED_B_F64) * 8 + TILE_BYTES_F64;
}

// @ts-ignore: decorator
@inline function madd_f32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function madd_f64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/** C (m×n, row stride ldc elements) = beta·C, with beta = 0 meaning overwrite with zeros. */
function scaleC_f32(c: usize, m: i32, n: i32, ldc: i32, beta: f32): void {
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * <usize>ldc) << 2);
    if (beta == 0) memory.fill(row, 0, <usize>n << 2);
    else if (beta != 1) for (let j = 0; j < n; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) * beta);
  }
}

function scaleC_f64(c: usize, m: i32, n: i32, ldc: i32, beta: f64): void {
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * <usize>ldc) << 3);
    if (beta == 0) memory.fill(row, 0, <usize>n << 3);
    else if (beta != 1) for (let j = 0; j < n; j++) store<f64>(row + (<usize>j << 3), load<f64>(row + (<usize>j << 3)) * beta);
  }
}

/**
 * Packs alpha·op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row panels: panel q holds rows
 * q·MR .. q·MR+MR−1 as kc consecutive groups of MR values (rows past mc are zero).
 */
function packA_f32(transA: bool, a: usize, lda: i32, i0: i32, p0: i32, mc: i32, kc: i32, alpha: f32, dst: usize): void {
  const splatAlpha = f32x4.splat(alpha);
  for (let ir = 0; ir < mc; ir += MR_F32) {
    const mr = min(MR_F32, mc - ir);
    if (transA) {
      // Stored A is k×m: the MR values of one depth index are contiguous.
      for (let p = 0; p < kc; p++) {
        const src = a + ((<usize>(p0 + p) * <usize>lda + <usize>(i0 + ir)) << 2);
        if (mr == MR_F32) {
          v128.store(dst, f32x4.mul(v128.load(src), splatAlpha));
          store<f32>(dst, alpha * load<f32>(src, 16), 16);
        } else {
          for (let r = 0; r < MR_F32; r++) store<f32>(dst + (<usize>r << 2), r < mr ? alpha * load<f32>(src + (<usize>r << 2)) : 0);
        }
        dst += MR_F32 << 2;
      }
    } else {
      const row0 = a + ((<usize>(i0 + ir) * <usize>lda + <usize>p0) << 2);
      const ldaBytes = <usize>lda << 2;
      if (mr == MR_F32) {
        for (let p = 0; p < kc; p++) {
          const src = row0 + (<usize>p << 2);
          store<f32>(dst, alpha * load<f32>(src));
          store<f32>(dst, alpha * load<f32>(src + ldaBytes), 4);
          store<f32>(dst, alpha * load<f32>(src + 2 * ldaBytes), 8);
          store<f32>(dst, alpha * load<f32>(src + 3 * ldaBytes), 12);
          store<f32>(dst, alpha * load<f32>(src + 4 * ldaBytes), 16);
          dst += MR_F32 << 2;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR_F32; r++) {
            store<f32>(dst + (<usize>r << 2), r < mr ? alpha * load<f32>(row0 + <usize>r * ldaBytes + (<usize>p << 2)) : 0);
          }
          dst += MR_F32 << 2;
        }
      }
    }
  }
}

/**
 * Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column panels: panel q holds columns
 * q·NR .. q·NR+NR−1 as kc consecutive groups of NR values (columns past nc are zero).
 */
function packB_f32(transB: bool, b: usize, ldb: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR_F32) {
    const nr = min(NR_F32, nc - jr);
    if (!transB) {
      for (let p = 0; p < kc; p++) {
        const src = b + ((<usize>(p0 + p) * <usize>ldb + <usize>(j0 + jr)) << 2);
        if (nr == NR_F32) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
        } else {
          for (let c = 0; c < NR_F32; c++) store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(src + (<usize>c << 2)) : 0);
        }
        dst += NR_F32 << 2;
      }
    } else {
      // Stored B is n×k: column j of op(B) is row j of B.
      const ldbBytes = <usize>ldb << 2;
      const col0 = b + ((<usize>(j0 + jr) * <usize>ldb + <usize>p0) << 2);
      for (let p = 0; p < kc; p++) {
        const src = col0 + (<usize>p << 2);
        for (let c = 0; c < NR_F32; c++) store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(src + <usize>c * ldbBytes) : 0);
        dst += NR_F32 << 2;
      }
    }
  }
}

/**
 * C[0..mr, 0..nr] += Apanel · Bpanel over kc steps, with 10 f32x4 accumulators (5 rows × 8
 * columns). Kept as its own function (not inlined) so the engine's optimizing tier picks it up
 * after a few calls even while the first large gemm call is still running.
 */
function kernel_f32(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  const end = pa + (<usize>(kc * MR_F32) << 2);
  while (pa < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd_f32(a, b0, c00); c01 = madd_f32(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd_f32(a, b0, c10); c11 = madd_f32(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd_f32(a, b0, c20); c21 = madd_f32(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd_f32(a, b0, c30); c31 = madd_f32(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd_f32(a, b0, c40); c41 = madd_f32(a, b1, c41);
    pa += MR_F32 << 2;
    pb += NR_F32 << 2;
  }
  if (mr == MR_F32 && nr == NR_F32) {
    v128.store(c, f32x4.add(v128.load(c), c00)); v128.store(c, f32x4.add(v128.load(c, 16), c01), 16);
    c += ldcBytes;
    v128.store(c, f32x4.add(v128.load(c), c10)); v128.store(c, f32x4.add(v128.load(c, 16), c11), 16);
    c += ldcBytes;
    v128.store(c, f32x4.add(v128.load(c), c20)); v128.store(c, f32x4.add(v128.load(c, 16), c21), 16);
    c += ldcBytes;
    v128.store(c, f32x4.add(v128.load(c), c30)); v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
    c += ldcBytes;
    v128.store(c, f32x4.add(v128.load(c), c40)); v128.store(c, f32x4.add(v128.load(c, 16), c41), 16);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  v128.store(tile, c40, 128); v128.store(tile, c41, 144);
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * ldcBytes;
    const t = tile + (<usize>(i * NR_F32) << 2);
    for (let j = 0; j < nr; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) + load<f32>(t + (<usize>j << 2)));
  }
}

/**
 * C = alpha·op(A)·op(B) + beta·C in float32. op(A) is m×k, op(B) is k×n; lda/ldb/ldc are the
 * row strides (in elements) of the stored matrices; `work` has gemmWorkBytes_f32() bytes.
 */
export function gemm_f32(
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, work: usize,
): void {
  if (m <= 0 || n <= 0) return;
  scaleC_f32(c, m, n, ldc, beta);
  if (k <= 0 || alpha == 0) return;
  const packedA = work;
  const packedB = work + (<usize>PACKED_A_F32 << 2);
  const tile = packedB + (<usize>PACKED_B_F32 << 2);
  const ldcBytes = <usize>ldc << 2;
  for (let jc = 0; jc < n; jc += NC_F32) {
    const nc = min(NC_F32, n - jc);
    for (let pc = 0; pc < k; pc += KC_F32) {
      const kc = min(KC_F32, k - pc);
      packB_f32(transB, b, ldb, pc, jc, kc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC_F32) {
        const mc = min(MC_F32, m - ic);
        packA_f32(transA, a, lda, ic, pc, mc, kc, alpha, packedA);
        for (let jr = 0; jr < nc; jr += NR_F32) {
          const nr = min(NR_F32, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 2);
          const cCol = c + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < mc; ir += MR_F32) {
            const mr = min(MR_F32, mc - ir);
            kernel_f32(kc, packedA + (<usize>(ir * kc) << 2), pb, cCol + <usize>(ic + ir) * ldcBytes, ldcBytes, mr, nr, tile);
          }
        }
      }
    }
  }
}

// ------------------------------------------------------------------ float64

function packA_f64(transA: bool, a: usize, lda: i32, i0: i32, p0: i32, mc: i32, kc: i32, alpha: f64, dst: usize): void {
  const splatAlpha = f64x2.splat(alpha);
  for (let ir = 0; ir < mc; ir += MR_F64) {
    const mr = min(MR_F64, mc - ir);
    if (transA) {
      for (let p = 0; p < kc; p++) {
        const src = a + ((<usize>(p0 + p) * <usize>lda + <usize>(i0 + ir)) << 3);
        if (mr == MR_F64) {
          v128.store(dst, f64x2.mul(v128.load(src), splatAlpha));
          v128.store(dst, f64x2.mul(v128.load(src, 16), splatAlpha), 16);
        } else {
          for (let r = 0; r < MR_F64; r++) store<f64>(dst + (<usize>r << 3), r < mr ? alpha * load<f64>(src + (<usize>r << 3)) : 0);
        }
        dst += MR_F64 << 3;
      }
    } else {
      const row0 = a + ((<usize>(i0 + ir) * <usize>lda + <usize>p0) << 3);
      const ldaBytes = <usize>lda << 3;
      if (mr == MR_F64) {
        for (let p = 0; p < kc; p++) {
          const src = row0 + (<usize>p << 3);
          store<f64>(dst, alpha * load<f64>(src));
          store<f64>(dst, alpha * load<f64>(src + ldaBytes), 8);
          store<f64>(dst, alpha * load<f64>(src + 2 * ldaBytes), 16);
          store<f64>(dst, alpha * load<f64>(src + 3 * ldaBytes), 24);
          dst += MR_F64 << 3;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR_F64; r++) {
            store<f64>(dst + (<usize>r << 3), r < mr ? alpha * load<f64>(row0 + <usize>r * ldaBytes + (<usize>p << 3)) : 0);
          }
          dst += MR_F64 << 3;
        }
      }
    }
  }
}

function packB_f64(transB: bool, b: usize, ldb: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR_F64) {
    const nr = min(NR_F64, nc - jr);
    if (!transB) {
      for (let p = 0; p < kc; p++) {
        const src = b + ((<usize>(p0 + p) * <usize>ldb + <usize>(j0 + jr)) << 3);
        if (nr == NR_F64) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
        } else {
          for (let c = 0; c < NR_F64; c++) store<f64>(dst + (<usize>c << 3), c < nr ? load<f64>(src + (<usize>c << 3)) : 0);
        }
        dst += NR_F64 << 3;
      }
    } else {
      const ldbBytes = <usize>ldb << 3;
      const col0 = b + ((<usize>(j0 + jr) * <usize>ldb + <usize>p0) << 3);
      for (let p = 0; p < kc; p++) {
        const src = col0 + (<usize>p << 3);
        for (let c = 0; c < NR_F64; c++) store<f64>(dst + (<usize>c << 3), c < nr ? load<f64>(src + <usize>c * ldbBytes) : 0);
        dst += NR_F64 << 3;
      }
    }
  }
}

/** 4×4 float64 tile: 8 f64x2 accumulators (not unrolled, as for float32). */
function kernel_f64(kc: i32, pa: usize, pb: usize, c: usize, ldcBytes: usize, mr: i32, nr: i32, tile: usize): void {
  let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
  const end = pa + (<usize>(kc * MR_F64) << 3);
  while (pa < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load64_splat(pa);
    c00 = madd_f64(a, b0, c00); c01 = madd_f64(a, b1, c01);
    a = v128.load64_splat(pa, 8);
    c10 = madd_f64(a, b0, c10); c11 = madd_f64(a, b1, c11);
    a = v128.load64_splat(pa, 16);
    c20 = madd_f64(a, b0, c20); c21 = madd_f64(a, b1, c21);
    a = v128.load64_splat(pa, 24);
    c30 = madd_f64(a, b0, c30); c31 = madd_f64(a, b1, c31);
    pa += MR_F64 << 3;
    pb += NR_F64 << 3;
  }
  if (mr == MR_F64 && nr == NR_F64) {
    v128.store(c, f64x2.add(v128.load(c), c00)); v128.store(c, f64x2.add(v128.load(c, 16), c01), 16);
    c += ldcBytes;
    v128.store(c, f64x2.add(v128.load(c), c10)); v128.store(c, f64x2.add(v128.load(c, 16), c11), 16);
    c += ldcBytes;
    v128.store(c, f64x2.add(v128.load(c), c20)); v128.store(c, f64x2.add(v128.load(c, 16), c21), 16);
    c += ldcBytes;
    v128.store(c, f64x2.add(v128.load(c), c30)); v128.store(c, f64x2.add(v128.load(c, 16), c31), 16);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let i = 0; i < mr; i++) {
    const row = c + <usize>i * ldcBytes;
    const t = tile + (<usize>(i * NR_F64) << 3);
    for (let j = 0; j < nr; j++) store<f64>(row + (<usize>j << 3), load<f64>(row + (<usize>j << 3)) + load<f64>(t + (<usize>j << 3)));
  }
}

export function gemm_f64(
  transA: bool, transB: bool, m: i32, n: i32, k: i32, alpha: f64,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f64, c: usize, ldc: i32, work: usize,
): void {
  if (m <= 0 || n <= 0) return;
  scaleC_f64(c, m, n, ldc, beta);
  if (k <= 0 || alpha == 0) return;
  const packedA = work;
  const packedB = work + (<usize>PACKED_A_F64 << 3);
  const tile = packedB + (<usize>PACKED_B_F64 << 3);
  const ldcBytes = <usize>ldc << 3;
  for (let jc = 0; jc < n; jc += NC_F64) {
    const nc = min(NC_F64, n - jc);
    for (let pc = 0; pc < k; pc += KC_F64) {
      const kc = min(KC_F64, k - pc);
      packB_f64(transB, b, ldb, pc, jc, kc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC_F64) {
        const mc = min(MC_F64, m - ic);
        packA_f64(transA, a, lda, ic, pc, mc, kc, alpha, packedA);
        for (let jr = 0; jr < nc; jr += NR_F64) {
          const nr = min(NR_F64, nc - jr);
          const pb = packedB + (<usize>(jr * kc) << 3);
          const cCol = c + (<usize>(jc + jr) << 3);
          for (let ir = 0; ir < mc; ir += MR_F64) {
            const mr = min(MR_F64, mc - ir);
            kernel_f64(kc, packedA + (<usize>(ir * kc) << 3), pb, cCol + <usize>(ic + ir) * ldcBytes, ldcBytes, mr, nr, tile);
          }
        }
      }
    }
  }
}
