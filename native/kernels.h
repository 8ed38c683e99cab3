/*
 * Elementwise, reduction, convolution-layout and optimizer kernels for one element type.
 * Included twice by fimkit_native.c, with T = float / FN(x) = x##_f32 and T = double /
 * FN(x) = x##_f64, so each dtype gets its own monomorphic loops.
 *
 * Every kernel evaluates in double and rounds once on store, exactly as the TypeScript reference
 * does (JS numbers are doubles): float32 results then agree with it to the last bit or two.
 */

/* out[i] = f^(order)(x[i]). Returns 0 when (op, order) is not implemented here. */
KERNEL int FN(unary)(int op, int order, double alpha, const T* X, T* out, size_t n) {
#define LOOP(expr) \
  for (size_t i = 0; i < n; i++) { const double x = (double)X[i]; (void)x; out[i] = (T)(expr); }
  UNARY_DISPATCH(op, order, LOOP)
#undef LOOP
  (void)alpha;
  return 1;
}

/* out[i] = g[i] · f^(order)(x[i]). */
KERNEL int FN(unaryMul)(int op, int order, double alpha, const T* X, const T* G, T* out, size_t n) {
  if (op == U_RELU && order == 1) {
    /* The reference passes g through untouched where x > 0 and writes 0 elsewhere (even when
     * g is NaN or infinite), not g·0. */
    /* G[i] is loaded unconditionally so the compiler can turn the select into a SIMD blend. */
    for (size_t i = 0; i < n; i++) { const T gi = G[i]; out[i] = X[i] > 0 ? gi : (T)0; }
    return 1;
  }
#define LOOP(expr) \
  for (size_t i = 0; i < n; i++) { const double x = (double)X[i]; (void)x; out[i] = (T)((double)G[i] * (expr)); }
  UNARY_DISPATCH(op, order, LOOP)
#undef LOOP
  (void)alpha;
  return 1;
}

KERNEL void FN(binary)(int op, const T* A, const T* B, T* out, size_t n) {
  switch (op) {
    case 0: for (size_t i = 0; i < n; i++) out[i] = (T)((double)A[i] + (double)B[i]); break;
    case 1: for (size_t i = 0; i < n; i++) out[i] = (T)((double)A[i] - (double)B[i]); break;
    case 2: for (size_t i = 0; i < n; i++) out[i] = (T)((double)A[i] * (double)B[i]); break;
    default: for (size_t i = 0; i < n; i++) out[i] = (T)((double)A[i] / (double)B[i]); break;
  }
}

KERNEL void FN(axpby)(double alpha, const T* X, double beta, const T* Y, T* out, size_t n) {
  if (Y == NULL) for (size_t i = 0; i < n; i++) out[i] = (T)(alpha * (double)X[i] + beta);
  else for (size_t i = 0; i < n; i++) out[i] = (T)(alpha * (double)X[i] + beta * (double)Y[i]);
}

/* z = x + v (broadcast over rows); pre = z when wanted; out = act(z). One pass over memory. */
KERNEL int FN(addRowVectorAct)(const T* X, const T* V, size_t rows, size_t cols, int act, double alpha,
                               T* pre, T* out) {
  const int order = 0;
  if ((act == U_IDENTITY || act == U_RELU) && V) {
    /* The hot case of a dense layer. In T arithmetic the sum is rounded once, exactly as the
     * double sum rounded on store, and relu/identity add no rounding, so the results are the
     * same bits; without the conversions the loops vectorize. */
    for (size_t r = 0; r < rows; r++) {
      const T* xr = X + r * cols;
      T* outr = out + r * cols;
      if (pre) {
        T* prer = pre + r * cols;
        for (size_t c = 0; c < cols; c++) prer[c] = xr[c] + V[c];
        if (act == U_RELU) for (size_t c = 0; c < cols; c++) { const T z = prer[c]; outr[c] = z > 0 ? z : (T)0; }
        else if (outr != prer) memcpy(outr, prer, cols * sizeof(T));
      } else if (act == U_RELU) {
        for (size_t c = 0; c < cols; c++) { const T z = xr[c] + V[c]; outr[c] = z > 0 ? z : (T)0; }
      } else {
        for (size_t c = 0; c < cols; c++) outr[c] = xr[c] + V[c];
      }
    }
    return 1;
  }
  for (size_t r = 0; r < rows; r++) {
    const T* xr = X + r * cols;
    T* outr = out + r * cols;
    T* prer = pre ? pre + r * cols : NULL;
#define LOOP(expr)                                                             \
  for (size_t c = 0; c < cols; c++) {                                          \
    const double x = V ? (double)xr[c] + (double)V[c] : (double)xr[c];         \
    (void)x;                                                                   \
    if (prer) prer[c] = (T)x;                                                  \
    outr[c] = (T)(expr);                                                       \
  }
    UNARY_DISPATCH(act, order, LOOP)
#undef LOOP
  }
  (void)alpha;
  return 1;
}

/* out[c] = beta·out[c] + Σ_r X[r, c] (or Σ_r X[r, c]² with `squared`: the Fisher diagonal's
 * column sums of squared deltas, reading X once), accumulated in double. Columns go in blocks
 * whose accumulators live on the stack: no allocation (a heap buffer of a wide matrix's width
 * came as fresh pages on every call). */
KERNEL int FN(sumRows)(const T* X, size_t rows, size_t cols, double beta, T* out, int squared) {
  enum { BLOCK = 512 };
  double acc[BLOCK];
  for (size_t c0 = 0; c0 < cols; c0 += BLOCK) {
    const size_t w = cols - c0 < BLOCK ? cols - c0 : BLOCK;
    memset(acc, 0, w * sizeof(double));
    for (size_t r = 0; r < rows; r++) {
      const T* xr = X + r * cols + c0;
      if (squared) for (size_t c = 0; c < w; c++) { const double v = (double)xr[c]; acc[c] += v * v; }
      else for (size_t c = 0; c < w; c++) acc[c] += (double)xr[c];
    }
    T* o = out + c0;
    if (beta == 0) for (size_t c = 0; c < w; c++) o[c] = (T)acc[c];
    else for (size_t c = 0; c < w; c++) o[c] = (T)(beta * (double)o[c] + acc[c]);
  }
  return 1;
}

/* out[off + i] += x[i]: per-batch products into float64 running sums. */
KERNEL void FN(accumulate)(const T* X, size_t n, double* out) {
  for (size_t i = 0; i < n; i++) out[i] += (double)X[i];
}

/* Projected moments of stacked directions for inputs b0 ≤ b < b1: see stackedMoments in
 * src/core/backend.ts, whose reference this follows operation for operation. `acc` is scratch
 * for 4·count doubles. The loops run over the contiguous directions of one slot row, so they
 * vectorize. */
TARGET_CLONES KERNEL void FN(stackedMoments)(const T* src, size_t B, size_t b0, size_t b1, size_t slots, size_t count,
                                             const double* coef, double kappa, const T* scale, int fourth, T* out,
                                             size_t off, size_t ld, double* acc) {
  double* s1 = acc;
  double* s2 = acc + count;
  double* s4 = acc + 2 * count;
  double* sq = acc + 3 * count;
  const size_t stride = 3 * slots + 1;
  for (size_t b = b0; b < b1; b++) {
    const double* cb = coef + b * stride;
    const double gamma = cb[3 * slots];
    memset(acc, 0, 4 * count * sizeof(double));
    for (size_t r = 0; r < slots; r++) {
      const T* d = src + (r * B + b) * count;
      const double w = cb[r], q = cb[slots + r], rho = cb[2 * slots + r];
      if (!fourth) {
        for (size_t j = 0; j < count; j++) { const double x = (double)d[j]; s1[j] += rho * x; s2[j] += w * (x * x); }
      } else if (kappa != 0) {
        for (size_t j = 0; j < count; j++) {
          const double x = (double)d[j], x2 = x * x, px = w * x2;
          s1[j] += rho * x; s2[j] += px; s4[j] += q * x2 * x2; sq[j] += px * px;
        }
      } else {
        for (size_t j = 0; j < count; j++) {
          const double x = (double)d[j], x2 = x * x;
          s1[j] += rho * x; s2[j] += w * x2; s4[j] += q * x2 * x2;
        }
      }
    }
    T* o = out + off + b * ld;
    const T* c = scale ? scale + b * count : NULL;
    for (size_t j = 0; j < count; j++) {
      const double a2 = s1[j] * s1[j];
      double m2 = s2[j] + gamma * a2;
      if (!fourth) {
        if (c) m2 *= (double)c[j] * (double)c[j];
        o[j] = (T)m2;
        continue;
      }
      double m4 = s4[j] + gamma * a2 * a2;
      if (kappa != 0) { const double e = m2 * m2 - sq[j]; m4 += kappa * (e < 0 ? 0 : e); } /* NaN passes, as with Math.max */
      if (c) {
        const double c2 = (double)c[j] * (double)c[j];
        m2 *= c2;
        m4 *= c2 * c2;
      }
      const double v = m4 - m2 * m2;
      o[j] = (T)m2;
      o[count + j] = (T)(m2 * m2);
      o[2 * count + j] = (T)(v < 0 ? 0 : v);
    }
  }
}

KERNEL void FN(sumCols)(const T* X, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) {
    const T* xr = X + r * cols;
    double s = 0;
    for (size_t c = 0; c < cols; c++) s += (double)xr[c];
    out[r] = (T)s;
  }
}

/* Row maximum that propagates NaN like Math.max (a plain `>` comparison would skip it). */
static inline double FN(rowMax)(const T* xr, size_t cols) {
  double mx = -INFINITY;
  for (size_t c = 0; c < cols; c++) {
    const double v = (double)xr[c];
    if (v > mx || v != v) { mx = v; if (v != v) break; }
  }
  return mx;
}

KERNEL void FN(softmaxRows)(const T* X, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) {
    const T* xr = X + r * cols;
    T* outr = out + r * cols;
    const double mx = FN(rowMax)(xr, cols);
    double s = 0;
    /* Same rounding as the reference: the stored exponential is rescaled. */
    for (size_t c = 0; c < cols; c++) { const double e = exp((double)xr[c] - mx); outr[c] = (T)e; s += e; }
    const double inv = 1 / s;
    for (size_t c = 0; c < cols; c++) outr[c] = (T)((double)outr[c] * inv);
  }
}

KERNEL void FN(logSumExpRows)(const T* X, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) {
    const T* xr = X + r * cols;
    const double mx = FN(rowMax)(xr, cols);
    if (mx == -INFINITY) { out[r] = (T)-INFINITY; continue; }
    double s = 0;
    for (size_t c = 0; c < cols; c++) s += exp((double)xr[c] - mx);
    out[r] = (T)(mx + log(s));
  }
}

/* Column layout: row = (n, oh, ow), column = (c, kh, kw); zero padding. */
KERNEL void FN(im2col)(const T* X, const Geometry* g, T* out) {
  size_t col = 0;
  for (long n = 0; n < g->batch; n++)
    for (long oh = 0; oh < g->outH; oh++)
      for (long ow = 0; ow < g->outW; ow++)
        for (long c = 0; c < g->channels; c++) {
          const T* plane = X + (size_t)(n * g->channels + c) * (size_t)(g->height * g->width);
          const long iw0 = ow * g->strideW - g->padW;
          const int colsInside = iw0 >= 0 && iw0 + g->kernelW <= g->width;
          for (long kh = 0; kh < g->kernelH; kh++) {
            const long ih = oh * g->strideH - g->padH + kh;
            const int rowInside = ih >= 0 && ih < g->height;
            if (rowInside && colsInside) {
              /* The window row lies inside the image: a contiguous copy, no per-element tests. */
              const T* src = plane + ih * g->width + iw0;
              for (long kw = 0; kw < g->kernelW; kw++) out[col + kw] = src[kw];
              col += (size_t)g->kernelW;
              continue;
            }
            for (long kw = 0; kw < g->kernelW; kw++, col++) {
              const long iw = iw0 + kw;
              out[col] = rowInside && iw >= 0 && iw < g->width ? plane[ih * g->width + iw] : (T)0;
            }
          }
        }
}

/* Adjoint of im2col: out is zeroed, then every column entry is added back to its pixel. */
KERNEL void FN(col2im)(const T* cols, const Geometry* g, T* out) {
  const size_t total = (size_t)(g->batch * g->channels * g->height * g->width);
  memset(out, 0, total * sizeof(T));
  size_t col = 0;
  for (long n = 0; n < g->batch; n++)
    for (long oh = 0; oh < g->outH; oh++)
      for (long ow = 0; ow < g->outW; ow++)
        for (long c = 0; c < g->channels; c++) {
          T* plane = out + (size_t)(n * g->channels + c) * (size_t)(g->height * g->width);
          const long iw0 = ow * g->strideW - g->padW;
          const int colsInside = iw0 >= 0 && iw0 + g->kernelW <= g->width;
          for (long kh = 0; kh < g->kernelH; kh++) {
            const long ih = oh * g->strideH - g->padH + kh;
            const int rowInside = ih >= 0 && ih < g->height;
            if (rowInside && colsInside) {
              /* The window row lies inside the image: contiguous adds, no per-element tests. */
              T* dst = plane + ih * g->width + iw0;
              for (long kw = 0; kw < g->kernelW; kw++) dst[kw] += cols[col + kw];
              col += (size_t)g->kernelW;
              continue;
            }
            for (long kw = 0; kw < g->kernelW; kw++, col++) {
              const long iw = iw0 + kw;
              if (rowInside && iw >= 0 && iw < g->width) plane[ih * g->width + iw] += cols[col];
            }
          }
        }
}

/* Bias-corrected Adam with decoupled weight decay; m and v are stored, the update uses the
 * unrounded moments (as the reference does). */
KERNEL void FN(adamStep)(T* param, const T* grad, T* m, T* v, size_t n, double lr, double beta1,
                         double beta2, double eps, double wd, double step) {
  const double bc1 = 1 - pow(beta1, step);
  const double bc2 = 1 - pow(beta2, step);
  const double decay = 1 - lr * wd;
  for (size_t i = 0; i < n; i++) {
    const double gi = (double)grad[i];
    const double mi = beta1 * (double)m[i] + (1 - beta1) * gi;
    const double vi = beta2 * (double)v[i] + (1 - beta2) * gi * gi;
    m[i] = (T)mi;
    v[i] = (T)vi;
    param[i] = (T)((double)param[i] * decay - (lr * (mi / bc1)) / (sqrt(vi / bc2) + eps));
  }
}
