/*
 * fimkit native backend: an N-API addon over CBLAS (OpenBLAS) plus fused elementwise kernels.
 *
 * Arrays are used in place (zero-copy): each typed array's backing store is read through
 * napi_get_typedarray_info. Every kernel checks that the arrays it touches are long enough for
 * the sizes it was given, so a wrong shape raises an error instead of reading out of bounds.
 * Errors are raised as instances of the error class registered by `setErrorClass`
 * (FimkitError(code, message) on the TypeScript side).
 */
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- scalar functions (double) */

/* Codes of `Unary` in src/core/backend.ts. */
enum {
  U_IDENTITY = 0, U_RELU, U_LEAKY_RELU, U_SIGMOID, U_TANH, U_SOFTPLUS, U_LOG_SIGMOID, U_GELU,
  U_EXP, U_LOG, U_SQUARE, U_SQRT, U_ABS, U_NEG, U_RECIPROCAL, U_COUNT
};

static const double INV_SQRT_2PI = 0.3989422804014327;

static inline double sigmoid_d(double x) {
  if (x >= 0) return 1 / (1 + exp(-x));
  const double e = exp(x);
  return e / (1 + e);
}
/* Derivatives of the logistic function are polynomials in s = σ(x), evaluated by Horner in the
 * same order as src/core/scalar.ts: σ' = s − s², σ'' = s − 3s² + 2s³. */
static inline double dsigmoid_d(double x) { const double s = sigmoid_d(x); return (-1 * s + 1) * s; }
static inline double d2sigmoid_d(double x) { const double s = sigmoid_d(x); return ((2 * s - 3) * s + 1) * s; }
static inline double softplus_d(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static inline double normal_cdf_d(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
static inline double normal_pdf_d(double x) { return INV_SQRT_2PI * exp(-0.5 * x * x); }
static inline double sign_d(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; /* keeps ±0 and NaN */ }
/* tanh' = 1 − t², tanh'' = −2t + 2t³ (Horner, as in scalar.ts). */
static inline double dtanh_d(double x) { const double t = tanh(x); return (-1 * t + 0) * t + 1; }
static inline double d2tanh_d(double x) { const double t = tanh(x); return ((2 * t + 0) * t - 2) * t; }

/*
 * Expands LOOP(expr) for the (op, order) pair, where expr is f^(order) written in terms of the
 * double `x` (and `alpha`, the leaky-relu slope). Unknown pairs make the enclosing kernel
 * return 0 so the caller can fall back to the reference implementation.
 */
#define UNARY_DISPATCH(op, order, LOOP)                                             \
  switch ((op) * 3 + (order)) {                                                      \
    case U_IDENTITY * 3 + 0: LOOP(x) break;                                          \
    case U_IDENTITY * 3 + 1: LOOP(1.0) break;                                        \
    case U_IDENTITY * 3 + 2: LOOP(0.0) break;                                        \
    case U_RELU * 3 + 0: LOOP(x > 0 ? x : 0.0) break;                                \
    case U_RELU * 3 + 1: LOOP(x > 0 ? 1.0 : 0.0) break;                              \
    case U_RELU * 3 + 2: LOOP(0.0) break;                                            \
    case U_LEAKY_RELU * 3 + 0: LOOP(x > 0 ? x : alpha * x) break;                    \
    case U_LEAKY_RELU * 3 + 1: LOOP(x > 0 ? 1.0 : alpha) break;                      \
    case U_LEAKY_RELU * 3 + 2: LOOP(0.0) break;                                      \
    case U_SIGMOID * 3 + 0: LOOP(sigmoid_d(x)) break;                                \
    case U_SIGMOID * 3 + 1: LOOP(dsigmoid_d(x)) break;                               \
    case U_SIGMOID * 3 + 2: LOOP(d2sigmoid_d(x)) break;                              \
    case U_TANH * 3 + 0: LOOP(tanh(x)) break;                                        \
    case U_TANH * 3 + 1: LOOP(dtanh_d(x)) break;                                     \
    case U_TANH * 3 + 2: LOOP(d2tanh_d(x)) break;                                    \
    case U_SOFTPLUS * 3 + 0: LOOP(softplus_d(x)) break;                              \
    case U_SOFTPLUS * 3 + 1: LOOP(sigmoid_d(x)) break;                               \
    case U_SOFTPLUS * 3 + 2: LOOP(dsigmoid_d(x)) break;                              \
    /* log σ(x) = −softplus(−x): derivatives −(−1)^n softplus^(n)(−x). */            \
    case U_LOG_SIGMOID * 3 + 0: LOOP(-softplus_d(-x)) break;                         \
    case U_LOG_SIGMOID * 3 + 1: LOOP(sigmoid_d(-x)) break;                           \
    case U_LOG_SIGMOID * 3 + 2: LOOP(-dsigmoid_d(-x)) break;                         \
    /* gelu = xΦ(x): gelu' = Φ + xφ, gelu'' = 2φ − x²φ. */                          \
    case U_GELU * 3 + 0: LOOP(x * normal_cdf_d(x)) break;                            \
    case U_GELU * 3 + 1: LOOP(x * normal_pdf_d(x) + normal_cdf_d(x)) break;          \
    case U_GELU * 3 + 2: LOOP(x * (-x * normal_pdf_d(x)) + 2 * normal_pdf_d(x)) break; \
    case U_EXP * 3 + 0:                                                              \
    case U_EXP * 3 + 1:                                                              \
    case U_EXP * 3 + 2: LOOP(exp(x)) break;                                          \
    case U_LOG * 3 + 0: LOOP(log(x)) break;                                          \
    case U_LOG * 3 + 1: LOOP(1 / x) break;                                           \
    case U_LOG * 3 + 2: LOOP(-1 / pow(x, 2.0)) break;                                \
    case U_SQUARE * 3 + 0: LOOP(x * x) break;                                        \
    case U_SQUARE * 3 + 1: LOOP(2 * x) break;                                        \
    case U_SQUARE * 3 + 2: LOOP(2.0) break;                                          \
    case U_SQRT * 3 + 0: LOOP(sqrt(x)) break;                                        \
    case U_SQRT * 3 + 1: LOOP(0.5 * pow(x, -0.5)) break;                             \
    case U_SQRT * 3 + 2: LOOP(-0.25 * pow(x, -1.5)) break;                           \
    case U_ABS * 3 + 0: LOOP(fabs(x)) break;                                         \
    case U_ABS * 3 + 1: LOOP(sign_d(x)) break;                                       \
    case U_ABS * 3 + 2: LOOP(0.0) break;                                             \
    case U_NEG * 3 + 0: LOOP(-x) break;                                              \
    case U_NEG * 3 + 1: LOOP(-1.0) break;                                            \
    case U_NEG * 3 + 2: LOOP(0.0) break;                                             \
    case U_RECIPROCAL * 3 + 0: LOOP(1 / x) break;                                    \
    case U_RECIPROCAL * 3 + 1: LOOP(-1 * pow(x, -2.0)) break;                        \
    case U_RECIPROCAL * 3 + 2: LOOP(2 * pow(x, -3.0)) break;                         \
    default: return 0;                                                               \
  }

/* Kernels stay out of line: inlined into the large argument-parsing functions, gcc gave up
 * vectorizing their loops (the float32 relu loop ran 7x slower). */
#define KERNEL static __attribute__((noinline))
/* Compute-bound kernels get an AVX2 clone picked at load time where the CPU has it (x86-64 with
 * ifunc support); the build stays portable. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TARGET_CLONES
#endif

typedef struct {
  long batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW;
} Geometry;

#define T float
#define FN(name) name##_f32
#include "kernels.h"
#undef T
#undef FN

#define T double
#define FN(name) name##_f64
#include "kernels.h"
#undef T
#undef FN

/* ---------------------------------------------------------------- N-API plumbing */

typedef struct {
  napi_ref errorClass; /* FimkitError constructor, set from TypeScript */
} AddonData;

static void throw_error(napi_env env, const char* code, const char* fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  AddonData* data = NULL;
  napi_get_instance_data(env, (void**)&data);
  napi_value ctor = NULL;
  if (data && data->errorClass) napi_get_reference_value(env, data->errorClass, &ctor);
  if (ctor) {
    napi_value argv[2], err;
    napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &argv[0]);
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &argv[1]);
    if (napi_new_instance(env, ctor, 2, argv, &err) == napi_ok) {
      napi_throw(env, err);
      return;
    }
  }
  napi_throw_error(env, code, msg);
}

enum { DT_NONE = -1, DT_F32 = 0, DT_F64 = 1 };

typedef struct {
  void* data;
  size_t length;
  int dtype;
} Arr;

static const char* dtype_name(int dt) { return dt == DT_F32 ? "float32" : dt == DT_F64 ? "float64" : "none"; }

/* Reads a Float32Array / Float64Array argument (or null when `nullable`). */
static bool get_array(napi_env env, napi_value v, const char* fn, const char* name, bool nullable, Arr* out) {
  out->data = NULL;
  out->length = 0;
  out->dtype = DT_NONE;
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok) return false;
  if (!isTyped) {
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (nullable && (t == napi_null || t == napi_undefined)) return true;
    throw_error(env, "DTYPE", "%s: %s must be a Float32Array or Float64Array%s", fn, name, nullable ? " or null" : "");
    return false;
  }
  napi_typedarray_type type;
  napi_value buffer;
  size_t byteOffset;
  if (napi_get_typedarray_info(env, v, &type, &out->length, &out->data, &buffer, &byteOffset) != napi_ok) return false;
  if (type == napi_float32_array) out->dtype = DT_F32;
  else if (type == napi_float64_array) out->dtype = DT_F64;
  else {
    throw_error(env, "DTYPE", "%s: %s must be a Float32Array or Float64Array, got another typed array", fn, name);
    return false;
  }
  return true;
}

static bool same_dtype(napi_env env, const char* fn, const Arr* ref, const char* refName, const Arr* a, const char* name) {
  if (a->dtype == DT_NONE || a->dtype == ref->dtype) return true;
  throw_error(env, "DTYPE", "%s: %s is %s but %s is %s; all arrays of one call must share a dtype", fn, name,
              dtype_name(a->dtype), refName, dtype_name(ref->dtype));
  return false;
}

static bool need_length(napi_env env, const char* fn, const Arr* a, const char* name, size_t need) {
  if (a->length >= need) return true;
  throw_error(env, "SHAPE", "%s: %s has %zu elements but the given sizes need %zu", fn, name, a->length, need);
  return false;
}

static bool get_double(napi_env env, napi_value v, const char* fn, const char* name, double* out) {
  if (napi_get_value_double(env, v, out) == napi_ok) return true;
  throw_error(env, "INVALID_ARGUMENT", "%s: %s must be a number", fn, name);
  return false;
}

/* A non-negative integer below 2^53 (sizes, strides, offsets). */
static bool get_size(napi_env env, napi_value v, const char* fn, const char* name, size_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d != floor(d) || d > 9007199254740992.0) {
    throw_error(env, "INVALID_ARGUMENT", "%s: %s must be a non-negative integer", fn, name);
    return false;
  }
  *out = (size_t)d;
  return true;
}

static bool get_int(napi_env env, napi_value v, const char* fn, const char* name, long* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != floor(d) || fabs(d) > 4.0e15) {
    throw_error(env, "INVALID_ARGUMENT", "%s: %s must be an integer", fn, name);
    return false;
  }
  *out = (long)d;
  return true;
}

static bool get_bool(napi_env env, napi_value v, bool* out) {
  napi_value b;
  if (napi_coerce_to_bool(env, v, &b) != napi_ok) return false;
  return napi_get_value_bool(env, b, out) == napi_ok;
}

#define ARGS(n)                                                                  \
  size_t argc = (n);                                                             \
  napi_value argv[(n) > 0 ? (n) : 1];                                            \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL; \
  if (argc < (n)) {                                                              \
    throw_error(env, "INVALID_ARGUMENT", "%s: expected %d arguments, got %zu", FNAME, (n), argc); \
    return NULL;                                                                 \
  }

/* `return 0` is both a null napi_value and `false`, so TRY works in either kind of helper. */
#define TRY(x) \
  if (!(x)) return 0
/* For helpers returning nothing (an error is already pending). */
#define TRY_VOID(x) \
  if (!(x)) return

/* ---------------------------------------------------------------- gemm */

/* Checks a stored rows×cols matrix at `off` with row stride `ld` fits in the array. */
static bool check_matrix(napi_env env, const char* fn, const char* name, const Arr* a, size_t off, size_t ld,
                         size_t rows, size_t cols) {
  if (rows == 0 || cols == 0) return true;
  if (ld < cols) {
    throw_error(env, "SHAPE", "%s: leading dimension of %s is %zu but its stored rows have %zu columns", fn, name, ld, cols);
    return false;
  }
  const size_t need = off + (rows - 1) * ld + cols;
  if (a->length < need) {
    throw_error(env, "SHAPE",
                "%s: %s (%zu elements) is too short for a %zux%zu matrix at offset %zu with leading dimension %zu (needs %zu)",
                fn, name, a->length, rows, cols, off, ld, need);
    return false;
  }
  return true;
}

/* C = beta·C over a rows×cols window (the product term is empty); beta = 0 overwrites, so NaN
 * in C does not survive. */
static void scale_matrix(const Arr* c, size_t off, size_t ld, size_t rows, size_t cols, double beta) {
  for (size_t i = 0; i < rows; i++) {
    if (c->dtype == DT_F32) {
      float* row = (float*)c->data + off + i * ld;
      for (size_t j = 0; j < cols; j++) row[j] = beta == 0 ? 0.0f : (float)(beta * (double)row[j]);
    } else {
      double* row = (double*)c->data + off + i * ld;
      for (size_t j = 0; j < cols; j++) row[j] = beta == 0 ? 0.0 : beta * row[j];
    }
  }
}

/* gemm and gemmBatched are defined with the thread helpers below (one mechanism for both). */

/* syrk(n, k, alpha, a, aOff, lda, beta, c, cOff, ldc): C = alpha·AᵀA + beta·C for A stored k×n.
 * CBLAS updates one triangle (half the multiply-adds of gemm); the other is mirrored here so
 * callers always get the full symmetric matrix. */
#define FNAME "syrk"
static napi_value Syrk(napi_env env, napi_callback_info info) {
  ARGS(10);
  size_t n, k, aOff, lda, cOff, ldc;
  double alpha, beta;
  Arr a, c;
  TRY(get_size(env, argv[0], FNAME, "n", &n));
  TRY(get_size(env, argv[1], FNAME, "k", &k));
  TRY(get_double(env, argv[2], FNAME, "alpha", &alpha));
  TRY(get_array(env, argv[3], FNAME, "a", false, &a));
  TRY(get_size(env, argv[4], FNAME, "aOff", &aOff));
  TRY(get_size(env, argv[5], FNAME, "lda", &lda));
  TRY(get_double(env, argv[6], FNAME, "beta", &beta));
  TRY(get_array(env, argv[7], FNAME, "c", false, &c));
  TRY(get_size(env, argv[8], FNAME, "cOff", &cOff));
  TRY(get_size(env, argv[9], FNAME, "ldc", &ldc));
  TRY(same_dtype(env, FNAME, &c, "c", &a, "a"));
  TRY(check_matrix(env, FNAME, "c", &c, cOff, ldc, n, n));
  if (n == 0) return NULL;
  TRY(check_matrix(env, FNAME, "a", &a, aOff, lda, k, n));
  if (n > INT32_MAX || k > INT32_MAX || lda > INT32_MAX || ldc > INT32_MAX) {
    throw_error(env, "TOO_LARGE", "syrk: sizes and leading dimensions must be below 2^31 for CBLAS");
    return NULL;
  }
  const bool empty = k == 0 || alpha == 0;
  if (empty) scale_matrix(&c, cOff, ldc, n, n, beta);
  if (c.dtype == DT_F32) {
    float* C = (float*)c.data + cOff;
    if (!empty) cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)k, (float)alpha, (const float*)a.data + aOff, (int)lda, (float)beta, C, (int)ldc);
    for (size_t i = 1; i < n; i++) for (size_t j = 0; j < i; j++) C[i * ldc + j] = C[j * ldc + i];
  } else {
    double* C = (double*)c.data + cOff;
    if (!empty) cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)k, alpha, (const double*)a.data + aOff, (int)lda, beta, C, (int)ldc);
    for (size_t i = 1; i < n; i++) for (size_t j = 0; j < i; j++) C[i * ldc + j] = C[j * ldc + i];
  }
  return NULL;
}
#undef FNAME

/* ---------------------------------------------------------------- elementwise */

static bool get_op(napi_env env, napi_value v, const char* fn, long count, long* op) {
  TRY(get_int(env, v, fn, "op", op));
  if (*op < 0 || *op >= count) {
    throw_error(env, "INVALID_ARGUMENT", "%s: unknown op code %ld", fn, *op);
    return false;
  }
  return true;
}

/* unary(op, order, alpha, x, out) → true when handled (orders 0–2), false to fall back. */
#define FNAME "unary"
static napi_value Unary(napi_env env, napi_callback_info info) {
  ARGS(5);
  long op, order;
  double alpha;
  Arr x, out;
  TRY(get_op(env, argv[0], FNAME, U_COUNT, &op));
  TRY(get_int(env, argv[1], FNAME, "order", &order));
  TRY(get_double(env, argv[2], FNAME, "alpha", &alpha));
  TRY(get_array(env, argv[3], FNAME, "x", false, &x));
  TRY(get_array(env, argv[4], FNAME, "out", false, &out));
  TRY(same_dtype(env, FNAME, &x, "x", &out, "out"));
  TRY(need_length(env, FNAME, &out, "out", x.length));
  int handled = 0;
  if (order >= 0 && order <= 2) {
    handled = x.dtype == DT_F32 ? unary_f32((int)op, (int)order, alpha, x.data, out.data, x.length)
                                : unary_f64((int)op, (int)order, alpha, x.data, out.data, x.length);
  }
  napi_value r;
  napi_get_boolean(env, handled != 0, &r);
  return r;
}
#undef FNAME

#define FNAME "unaryMul"
static napi_value UnaryMul(napi_env env, napi_callback_info info) {
  ARGS(6);
  long op, order;
  double alpha;
  Arr x, g, out;
  TRY(get_op(env, argv[0], FNAME, U_COUNT, &op));
  TRY(get_int(env, argv[1], FNAME, "order", &order));
  TRY(get_double(env, argv[2], FNAME, "alpha", &alpha));
  TRY(get_array(env, argv[3], FNAME, "x", false, &x));
  TRY(get_array(env, argv[4], FNAME, "g", false, &g));
  TRY(get_array(env, argv[5], FNAME, "out", false, &out));
  TRY(same_dtype(env, FNAME, &x, "x", &g, "g"));
  TRY(same_dtype(env, FNAME, &x, "x", &out, "out"));
  TRY(need_length(env, FNAME, &g, "g", x.length));
  TRY(need_length(env, FNAME, &out, "out", x.length));
  int handled = 0;
  if (order >= 0 && order <= 2) {
    handled = x.dtype == DT_F32 ? unaryMul_f32((int)op, (int)order, alpha, x.data, g.data, out.data, x.length)
                                : unaryMul_f64((int)op, (int)order, alpha, x.data, g.data, out.data, x.length);
  }
  napi_value r;
  napi_get_boolean(env, handled != 0, &r);
  return r;
}
#undef FNAME

#define FNAME "binary"
static napi_value BinaryOp(napi_env env, napi_callback_info info) {
  ARGS(4);
  long op;
  Arr a, b, out;
  TRY(get_op(env, argv[0], FNAME, 4, &op));
  TRY(get_array(env, argv[1], FNAME, "a", false, &a));
  TRY(get_array(env, argv[2], FNAME, "b", false, &b));
  TRY(get_array(env, argv[3], FNAME, "out", false, &out));
  TRY(same_dtype(env, FNAME, &out, "out", &a, "a"));
  TRY(same_dtype(env, FNAME, &out, "out", &b, "b"));
  TRY(need_length(env, FNAME, &a, "a", out.length));
  TRY(need_length(env, FNAME, &b, "b", out.length));
  if (out.dtype == DT_F32) binary_f32((int)op, a.data, b.data, out.data, out.length);
  else binary_f64((int)op, a.data, b.data, out.data, out.length);
  return NULL;
}
#undef FNAME

#define FNAME "axpby"
static napi_value Axpby(napi_env env, napi_callback_info info) {
  ARGS(5);
  double alpha, beta;
  Arr x, y, out;
  TRY(get_double(env, argv[0], FNAME, "alpha", &alpha));
  TRY(get_array(env, argv[1], FNAME, "x", false, &x));
  TRY(get_double(env, argv[2], FNAME, "beta", &beta));
  TRY(get_array(env, argv[3], FNAME, "y", true, &y));
  TRY(get_array(env, argv[4], FNAME, "out", false, &out));
  TRY(same_dtype(env, FNAME, &out, "out", &x, "x"));
  TRY(same_dtype(env, FNAME, &out, "out", &y, "y"));
  TRY(need_length(env, FNAME, &x, "x", out.length));
  if (y.data) TRY(need_length(env, FNAME, &y, "y", out.length));
  if (out.dtype == DT_F32) axpby_f32(alpha, x.data, beta, y.data, out.data, out.length);
  else axpby_f64(alpha, x.data, beta, y.data, out.data, out.length);
  return NULL;
}
#undef FNAME

/* addRowVectorAct(x, v|null, rows, cols, act, alpha, pre|null, out) */
#define FNAME "addRowVectorAct"
static napi_value AddRowVectorAct(napi_env env, napi_callback_info info) {
  ARGS(8);
  Arr x, v, pre, out;
  size_t rows, cols;
  long act;
  double alpha;
  TRY(get_array(env, argv[0], FNAME, "x", false, &x));
  TRY(get_array(env, argv[1], FNAME, "v", true, &v));
  TRY(get_size(env, argv[2], FNAME, "rows", &rows));
  TRY(get_size(env, argv[3], FNAME, "cols", &cols));
  TRY(get_op(env, argv[4], FNAME, U_COUNT, &act));
  TRY(get_double(env, argv[5], FNAME, "alpha", &alpha));
  TRY(get_array(env, argv[6], FNAME, "pre", true, &pre));
  TRY(get_array(env, argv[7], FNAME, "out", false, &out));
  TRY(same_dtype(env, FNAME, &x, "x", &v, "v"));
  TRY(same_dtype(env, FNAME, &x, "x", &pre, "pre"));
  TRY(same_dtype(env, FNAME, &x, "x", &out, "out"));
  TRY(need_length(env, FNAME, &x, "x", rows * cols));
  TRY(need_length(env, FNAME, &out, "out", rows * cols));
  if (v.data) TRY(need_length(env, FNAME, &v, "v", cols));
  if (pre.data) TRY(need_length(env, FNAME, &pre, "pre", rows * cols));
  if (x.dtype == DT_F32) addRowVectorAct_f32(x.data, v.data, rows, cols, (int)act, alpha, pre.data, out.data);
  else addRowVectorAct_f64(x.data, v.data, rows, cols, (int)act, alpha, pre.data, out.data);
  return NULL;
}
#undef FNAME

/* Shared argument reading for the row kernels (x, rows, cols, ..., out). */
static bool rows_args(napi_env env, napi_value* argv, const char* fn, int outIndex, size_t outNeedPerRow, bool perRow,
                      Arr* x, size_t* rows, size_t* cols, Arr* out) {
  TRY(get_array(env, argv[0], fn, "x", false, x));
  TRY(get_size(env, argv[1], fn, "rows", rows));
  TRY(get_size(env, argv[2], fn, "cols", cols));
  TRY(get_array(env, argv[outIndex], fn, "out", false, out));
  TRY(same_dtype(env, fn, x, "x", out, "out"));
  TRY(need_length(env, fn, x, "x", *rows * *cols));
  TRY(need_length(env, fn, out, "out", perRow ? *rows * outNeedPerRow : *cols));
  return true;
}

/* sumRows / sumSquaredRows(x, rows, cols, beta, out). */
static napi_value column_sums(napi_env env, napi_callback_info info, const char* FNAME, int squared) {
  ARGS(5);
  Arr x, out;
  size_t rows, cols;
  double beta;
  TRY(rows_args(env, argv, FNAME, 4, 0, false, &x, &rows, &cols, &out));
  TRY(get_double(env, argv[3], FNAME, "beta", &beta));
  int ok = x.dtype == DT_F32 ? sumRows_f32(x.data, rows, cols, beta, out.data, squared) : sumRows_f64(x.data, rows, cols, beta, out.data, squared);
  if (!ok) throw_error(env, "TOO_LARGE", "%s: out of memory for %zu accumulators", FNAME, cols);
  return NULL;
}
static napi_value SumRows(napi_env env, napi_callback_info info) { return column_sums(env, info, "sumRows", 0); }
static napi_value SumSquaredRows(napi_env env, napi_callback_info info) { return column_sums(env, info, "sumSquaredRows", 1); }

/* accumulate(x, out, off): out is always float64. */
#define FNAME "accumulate"
static napi_value Accumulate(napi_env env, napi_callback_info info) {
  ARGS(3);
  Arr x, out;
  size_t off;
  TRY(get_array(env, argv[0], FNAME, "x", false, &x));
  TRY(get_array(env, argv[1], FNAME, "out", false, &out));
  TRY(get_size(env, argv[2], FNAME, "off", &off));
  if (out.dtype != DT_F64) {
    throw_error(env, "DTYPE", "%s: out must be a Float64Array (the running sums), got %s", FNAME, dtype_name(out.dtype));
    return NULL;
  }
  TRY(need_length(env, FNAME, &out, "out", off + x.length));
  if (x.dtype == DT_F32) accumulate_f32(x.data, x.length, (double*)out.data + off);
  else accumulate_f64(x.data, x.length, (double*)out.data + off);
  return NULL;
}
#undef FNAME

/* ---------------------------------------------------------------- threads for per-input kernels */

/* A per-input kernel over inputs [b0, b1) with `scratch` bytes of its own. */
typedef void (*RangeFn)(void* task, size_t b0, size_t b1, void* scratch);

typedef struct {
  RangeFn fn;
  void* task;
  size_t b0, b1;
  void* scratch;
} RangeJob;

static void* run_range(void* raw) {
  RangeJob* j = raw;
  j->fn(j->task, j->b0, j->b1, j->scratch);
  return NULL;
}

/* Below this many values per thread a thread start (tens of microseconds) costs more than it saves. */
#define MIN_VALUES_PER_THREAD ((size_t)1 << 17)

/*
 * Runs fn over inputs [0, B) split into contiguous ranges, one per BLAS thread (the BLAS threads
 * sleep while these kernels run, so the cores are free), each with its own scratch. `perInput`
 * is the values one input reads. Falls back to fewer threads, down to the caller's alone, when
 * the work is small or a thread cannot start; returns false only when scratch cannot be had.
 */
static bool parallel_inputs(size_t B, size_t perInput, RangeFn fn, void* task, size_t scratchBytes) {
  enum { MAX_THREADS = 16 };
  size_t n = (size_t)openblas_get_num_threads();
  if (n > MAX_THREADS) n = MAX_THREADS;
  const size_t byWork = (B * perInput) / MIN_VALUES_PER_THREAD;
  if (n > byWork) n = byWork;
  if (n > B) n = B;
  if (n < 1) n = 1;
  char* scratch = malloc(n * (scratchBytes ? scratchBytes : 1));
  if (!scratch) return false;
  RangeJob jobs[MAX_THREADS];
  pthread_t ids[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (size_t t = 0; t < n; t++) {
    jobs[t] = (RangeJob){fn, task, B * t / n, B * (t + 1) / n, scratch + t * scratchBytes};
    if (t > 0) started[t] = pthread_create(&ids[t], NULL, run_range, &jobs[t]) == 0;
  }
  run_range(&jobs[0]);
  for (size_t t = 1; t < n; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    else run_range(&jobs[t]);
  }
  free(scratch);
  return true;
}

typedef struct {
  void* src;
  int dtype;
  size_t B, slots, count;
  const double* coef;
  double kappa;
  void* scale;
  int fourth;
  void* out;
  size_t off, ld;
} MomentsTask;

static void run_moments(void* raw, size_t b0, size_t b1, void* scratch) {
  MomentsTask* k = raw;
  if (k->dtype == DT_F32)
    stackedMoments_f32(k->src, k->B, b0, b1, k->slots, k->count, k->coef, k->kappa, k->scale, k->fourth, k->out, k->off, k->ld, scratch);
  else
    stackedMoments_f64(k->src, k->B, b0, b1, k->slots, k->count, k->coef, k->kappa, k->scale, k->fourth, k->out, k->off, k->ld, scratch);
}

/* ---------------------------------------------------------------- batched small gemms */

typedef struct {
  int f32;
  enum CBLAS_TRANSPOSE ta, tb;
  int m, n, k, lda, ldb, ldc;
  double alpha, beta;
  const char *a, *b;
  char* c;
  size_t strideA, strideB, strideC; /* bytes */
} GemmBatchTask;

static void run_gemm_batch(void* raw, size_t i0, size_t i1, void* scratch) {
  (void)scratch;
  const GemmBatchTask* t = raw;
  for (size_t i = i0; i < i1; i++) {
    const void* a = t->a + i * t->strideA;
    const void* b = t->b + i * t->strideB;
    void* c = t->c + i * t->strideC;
    if (t->f32) cblas_sgemm(CblasRowMajor, t->ta, t->tb, t->m, t->n, t->k, (float)t->alpha, a, t->lda, b, t->ldb, (float)t->beta, c, t->ldc);
    else cblas_dgemm(CblasRowMajor, t->ta, t->tb, t->m, t->n, t->k, t->alpha, a, t->lda, b, t->ldb, t->beta, c, t->ldc);
  }
}

/* Below this many multiply-adds OpenBLAS runs a gemm on the calling thread alone, so products of
 * a batch can run on several threads at once without nesting its own threads. */
#define BLAS_SINGLE_THREAD_MADDS ((size_t)1 << 18)

/* The arguments of gemm, and of gemmBatched with a stride after each matrix's offset and ld. */
typedef struct {
  bool transA, transB;
  size_t m, n, k, aOff, lda, sA, bOff, ldb, sB, cOff, ldc, sC, count;
  double alpha, beta;
  Arr a, b, c;
} GemmArgs;

static bool gemm_args(napi_env env, napi_value* argv, const char* fn, bool batched, GemmArgs* g) {
  size_t i = 0;
  g->sA = g->sB = g->sC = 0;
  g->count = 1;
  TRY(get_bool(env, argv[i++], &g->transA));
  TRY(get_bool(env, argv[i++], &g->transB));
  TRY(get_size(env, argv[i++], fn, "m", &g->m));
  TRY(get_size(env, argv[i++], fn, "n", &g->n));
  TRY(get_size(env, argv[i++], fn, "k", &g->k));
  TRY(get_double(env, argv[i++], fn, "alpha", &g->alpha));
  TRY(get_array(env, argv[i++], fn, "a", false, &g->a));
  TRY(get_size(env, argv[i++], fn, "aOff", &g->aOff));
  TRY(get_size(env, argv[i++], fn, "lda", &g->lda));
  if (batched) TRY(get_size(env, argv[i++], fn, "strideA", &g->sA));
  TRY(get_array(env, argv[i++], fn, "b", false, &g->b));
  TRY(get_size(env, argv[i++], fn, "bOff", &g->bOff));
  TRY(get_size(env, argv[i++], fn, "ldb", &g->ldb));
  if (batched) TRY(get_size(env, argv[i++], fn, "strideB", &g->sB));
  TRY(get_double(env, argv[i++], fn, "beta", &g->beta));
  TRY(get_array(env, argv[i++], fn, "c", false, &g->c));
  TRY(get_size(env, argv[i++], fn, "cOff", &g->cOff));
  TRY(get_size(env, argv[i++], fn, "ldc", &g->ldc));
  if (batched) {
    TRY(get_size(env, argv[i++], fn, "strideC", &g->sC));
    TRY(get_size(env, argv[i++], fn, "count", &g->count));
  }
  return true;
}

/*
 * C_i = alpha·op(A_i)·op(B_i) + beta·C_i for i < count, the i-th matrices at offset + i·stride
 * (gemm: count 1). Small products whose outputs do not overlap are shared out over the BLAS
 * threads (one gemm per entry each); others run one after another, OpenBLAS threading each.
 */
static void run_gemm(napi_env env, const char* fn, GemmArgs* g) {
  const size_t m = g->m, n = g->n, k = g->k, count = g->count;
  TRY_VOID(same_dtype(env, fn, &g->c, "c", &g->a, "a"));
  TRY_VOID(same_dtype(env, fn, &g->c, "c", &g->b, "b"));
  if (count == 0) return;
  /* The last entry reaches furthest: checking it and the first covers all of them. */
  const size_t lastC = g->cOff + (count - 1) * g->sC;
  TRY_VOID(check_matrix(env, fn, "c", &g->c, g->cOff, g->ldc, m, n));
  TRY_VOID(check_matrix(env, fn, "c", &g->c, lastC, g->ldc, m, n));
  if (m == 0 || n == 0) return;
  if (k == 0 || g->alpha == 0) {
    for (size_t i = 0; i < count; i++) scale_matrix(&g->c, g->cOff + i * g->sC, g->ldc, m, n, g->beta);
    return;
  }
  const size_t ar = g->transA ? k : m, ac = g->transA ? m : k, br = g->transB ? n : k, bc = g->transB ? k : n;
  TRY_VOID(check_matrix(env, fn, "a", &g->a, g->aOff, g->lda, ar, ac));
  TRY_VOID(check_matrix(env, fn, "a", &g->a, g->aOff + (count - 1) * g->sA, g->lda, ar, ac));
  TRY_VOID(check_matrix(env, fn, "b", &g->b, g->bOff, g->ldb, br, bc));
  TRY_VOID(check_matrix(env, fn, "b", &g->b, g->bOff + (count - 1) * g->sB, g->ldb, br, bc));
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || g->lda > INT32_MAX || g->ldb > INT32_MAX || g->ldc > INT32_MAX) {
    throw_error(env, "TOO_LARGE", "%s: sizes and leading dimensions must be below 2^31 for CBLAS", fn);
    return;
  }
  const size_t bytes = g->c.dtype == DT_F32 ? sizeof(float) : sizeof(double);
  GemmBatchTask task = {
    g->c.dtype == DT_F32, g->transA ? CblasTrans : CblasNoTrans, g->transB ? CblasTrans : CblasNoTrans,
    (int)m, (int)n, (int)k, (int)g->lda, (int)g->ldb, (int)g->ldc, g->alpha, g->beta,
    (const char*)g->a.data + g->aOff * bytes, (const char*)g->b.data + g->bOff * bytes, (char*)g->c.data + g->cOff * bytes,
    g->sA * bytes, g->sB * bytes, g->sC * bytes,
  };
  const size_t madds = m * n * k;
  /* Entries write disjoint windows of C when consecutive ones start at least a window apart. */
  const bool disjoint = g->sC >= (m - 1) * g->ldc + n;
  /* Without scratch for the threads (none is needed here) the batch runs on this thread. */
  if (!(count > 1 && disjoint && madds < BLAS_SINGLE_THREAD_MADDS && parallel_inputs(count, madds, run_gemm_batch, &task, 0)))
    run_gemm_batch(&task, 0, count, NULL);
}

#define FNAME "gemm"
static napi_value Gemm(napi_env env, napi_callback_info info) {
  ARGS(16);
  GemmArgs g;
  TRY(gemm_args(env, argv, FNAME, false, &g));
  run_gemm(env, FNAME, &g);
  return NULL;
}
#undef FNAME

/* gemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB, beta,
 * c, cOff, ldc, strideC, count) */
#define FNAME "gemmBatched"
static napi_value GemmBatched(napi_env env, napi_callback_info info) {
  ARGS(20);
  GemmArgs g;
  TRY(gemm_args(env, argv, FNAME, true, &g));
  run_gemm(env, FNAME, &g);
  return NULL;
}
#undef FNAME

/* stackedMoments(src, B, slots, count, coef, kappa, scale|null, fourth, out, off, ld) */
#define FNAME "stackedMoments"
static napi_value StackedMoments(napi_env env, napi_callback_info info) {
  ARGS(11);
  Arr src, coef, scale, out;
  size_t B, slots, count, off, ld;
  double kappa;
  bool fourth;
  TRY(get_array(env, argv[0], FNAME, "src", false, &src));
  TRY(get_size(env, argv[1], FNAME, "B", &B));
  TRY(get_size(env, argv[2], FNAME, "slots", &slots));
  TRY(get_size(env, argv[3], FNAME, "count", &count));
  TRY(get_array(env, argv[4], FNAME, "coef", false, &coef));
  TRY(get_double(env, argv[5], FNAME, "kappa", &kappa));
  TRY(get_array(env, argv[6], FNAME, "scale", true, &scale));
  TRY(get_bool(env, argv[7], &fourth));
  TRY(get_array(env, argv[8], FNAME, "out", false, &out));
  TRY(get_size(env, argv[9], FNAME, "off", &off));
  TRY(get_size(env, argv[10], FNAME, "ld", &ld));
  if (coef.dtype != DT_F64) {
    throw_error(env, "DTYPE", "%s: coef must be a Float64Array, got %s", FNAME, dtype_name(coef.dtype));
    return NULL;
  }
  TRY(same_dtype(env, FNAME, &src, "src", &scale, "scale"));
  TRY(same_dtype(env, FNAME, &src, "src", &out, "out"));
  const size_t width = (fourth ? 3 : 1) * count;
  if (ld < width) {
    throw_error(env, "SHAPE", "%s: row stride %zu of out is below the %zu values written per input", FNAME, ld, width);
    return NULL;
  }
  TRY(need_length(env, FNAME, &src, "src", slots * B * count));
  TRY(need_length(env, FNAME, &coef, "coef", B * (3 * slots + 1)));
  if (scale.data) TRY(need_length(env, FNAME, &scale, "scale", B * count));
  if (B == 0 || count == 0) return NULL;
  TRY(need_length(env, FNAME, &out, "out", off + (B - 1) * ld + width));
  MomentsTask task = {src.data, src.dtype, B, slots, count, coef.data, kappa, scale.data, fourth, out.data, off, ld};
  if (!parallel_inputs(B, slots * count, run_moments, &task, 4 * count * sizeof(double)))
    throw_error(env, "TOO_LARGE", "%s: out of memory for %zu accumulators", FNAME, 4 * count);
  return NULL;
}
#undef FNAME

#define FNAME "sumCols"
static napi_value SumCols(napi_env env, napi_callback_info info) {
  ARGS(4);
  Arr x, out;
  size_t rows, cols;
  TRY(rows_args(env, argv, FNAME, 3, 1, true, &x, &rows, &cols, &out));
  if (x.dtype == DT_F32) sumCols_f32(x.data, rows, cols, out.data);
  else sumCols_f64(x.data, rows, cols, out.data);
  return NULL;
}
#undef FNAME

#define FNAME "softmaxRows"
static napi_value SoftmaxRows(napi_env env, napi_callback_info info) {
  ARGS(4);
  Arr x, out;
  size_t rows, cols;
  TRY(rows_args(env, argv, FNAME, 3, 0, true, &x, &rows, &cols, &out));
  TRY(need_length(env, FNAME, &out, "out", rows * cols));
  if (x.dtype == DT_F32) softmaxRows_f32(x.data, rows, cols, out.data);
  else softmaxRows_f64(x.data, rows, cols, out.data);
  return NULL;
}
#undef FNAME

#define FNAME "logSumExpRows"
static napi_value LogSumExpRows(napi_env env, napi_callback_info info) {
  ARGS(4);
  Arr x, out;
  size_t rows, cols;
  TRY(rows_args(env, argv, FNAME, 3, 1, true, &x, &rows, &cols, &out));
  if (x.dtype == DT_F32) logSumExpRows_f32(x.data, rows, cols, out.data);
  else logSumExpRows_f64(x.data, rows, cols, out.data);
  return NULL;
}
#undef FNAME

/* im2col(x, batch, channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW, out)
 * and col2im with the same argument order (cols first). */
static bool geometry_args(napi_env env, napi_value* argv, const char* fn, Geometry* g) {
  static const char* names[12] = {"batch", "channels", "height", "width", "kernelH", "kernelW",
                                  "strideH", "strideW", "padH", "padW", "outH", "outW"};
  long* fields[12] = {&g->batch, &g->channels, &g->height, &g->width, &g->kernelH, &g->kernelW,
                      &g->strideH, &g->strideW, &g->padH, &g->padW, &g->outH, &g->outW};
  for (int i = 0; i < 12; i++) {
    TRY(get_int(env, argv[1 + i], fn, names[i], fields[i]));
    const long min = (i == 6 || i == 7) ? 1 : 0;
    if (*fields[i] < min || *fields[i] > (1L << 31)) {
      throw_error(env, "INVALID_ARGUMENT", "%s: geometry.%s = %ld is out of range", fn, names[i], *fields[i]);
      return false;
    }
  }
  return true;
}

static napi_value conv_layout(napi_env env, napi_callback_info info, bool toColumns, const char* FNAME) {
  ARGS(14);
  Geometry g;
  Arr src, out;
  TRY(get_array(env, argv[0], FNAME, toColumns ? "x" : "cols", false, &src));
  TRY(geometry_args(env, argv, FNAME, &g));
  TRY(get_array(env, argv[13], FNAME, "out", false, &out));
  TRY(same_dtype(env, FNAME, &src, toColumns ? "x" : "cols", &out, "out"));
  const size_t image = (size_t)g.batch * g.channels * g.height * g.width;
  const size_t columns = (size_t)g.batch * g.outH * g.outW * g.channels * g.kernelH * g.kernelW;
  TRY(need_length(env, FNAME, &src, toColumns ? "x" : "cols", toColumns ? image : columns));
  TRY(need_length(env, FNAME, &out, "out", toColumns ? columns : image));
  if (toColumns) {
    if (src.dtype == DT_F32) im2col_f32(src.data, &g, out.data);
    else im2col_f64(src.data, &g, out.data);
  } else {
    if (src.dtype == DT_F32) col2im_f32(src.data, &g, out.data);
    else col2im_f64(src.data, &g, out.data);
  }
  return NULL;
}
static napi_value Im2col(napi_env env, napi_callback_info info) { return conv_layout(env, info, true, "im2col"); }
static napi_value Col2im(napi_env env, napi_callback_info info) { return conv_layout(env, info, false, "col2im"); }

#define FNAME "adamStep"
static napi_value AdamStep(napi_env env, napi_callback_info info) {
  ARGS(10);
  Arr param, grad, m, v;
  double lr, beta1, beta2, eps, wd, step;
  TRY(get_array(env, argv[0], FNAME, "param", false, &param));
  TRY(get_array(env, argv[1], FNAME, "grad", false, &grad));
  TRY(get_array(env, argv[2], FNAME, "m", false, &m));
  TRY(get_array(env, argv[3], FNAME, "v", false, &v));
  TRY(get_double(env, argv[4], FNAME, "lr", &lr));
  TRY(get_double(env, argv[5], FNAME, "beta1", &beta1));
  TRY(get_double(env, argv[6], FNAME, "beta2", &beta2));
  TRY(get_double(env, argv[7], FNAME, "eps", &eps));
  TRY(get_double(env, argv[8], FNAME, "wd", &wd));
  TRY(get_double(env, argv[9], FNAME, "step", &step));
  TRY(same_dtype(env, FNAME, &param, "param", &grad, "grad"));
  TRY(same_dtype(env, FNAME, &param, "param", &m, "m"));
  TRY(same_dtype(env, FNAME, &param, "param", &v, "v"));
  TRY(need_length(env, FNAME, &grad, "grad", param.length));
  TRY(need_length(env, FNAME, &m, "m", param.length));
  TRY(need_length(env, FNAME, &v, "v", param.length));
  if (param.dtype == DT_F32) adamStep_f32(param.data, grad.data, m.data, v.data, param.length, lr, beta1, beta2, eps, wd, step);
  else adamStep_f64(param.data, grad.data, m.data, v.data, param.length, lr, beta1, beta2, eps, wd, step);
  return NULL;
}
#undef FNAME

/* ---------------------------------------------------------------- configuration */

#define FNAME "setErrorClass"
static napi_value SetErrorClass(napi_env env, napi_callback_info info) {
  ARGS(1);
  AddonData* data = NULL;
  napi_get_instance_data(env, (void**)&data);
  if (!data) return NULL;
  if (data->errorClass) napi_delete_reference(env, data->errorClass);
  data->errorClass = NULL;
  napi_create_reference(env, argv[0], 1, &data->errorClass);
  return NULL;
}
#undef FNAME

#define FNAME "setThreads"
static napi_value SetThreads(napi_env env, napi_callback_info info) {
  ARGS(1);
  size_t n;
  TRY(get_size(env, argv[0], FNAME, "threads", &n));
  if (n < 1 || n > 1024) {
    throw_error(env, "INVALID_ARGUMENT", "setThreads: thread count must be between 1 and 1024, got %zu", n);
    return NULL;
  }
  openblas_set_num_threads((int)n);
  return NULL;
}
#undef FNAME

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_create_int32(env, openblas_get_num_threads(), &r);
  return r;
}

static napi_value BlasConfig(napi_env env, napi_callback_info info) {
  (void)info;
  char buf[512];
  snprintf(buf, sizeof buf, "%s (core %s)", openblas_get_config(), openblas_get_corename());
  napi_value r;
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &r);
  return r;
}

static void free_data(napi_env env, void* raw, void* hint) {
  (void)hint;
  AddonData* data = raw;
  if (data->errorClass) napi_delete_reference(env, data->errorClass);
  free(data);
}

NAPI_MODULE_INIT() {
  AddonData* data = calloc(1, sizeof(AddonData));
  if (data) napi_set_instance_data(env, data, free_data, NULL);
  napi_property_descriptor props[] = {
    {"gemm", NULL, Gemm, NULL, NULL, NULL, napi_enumerable, NULL},
    {"syrk", NULL, Syrk, NULL, NULL, NULL, napi_enumerable, NULL},
    {"gemmBatched", NULL, GemmBatched, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unary", NULL, Unary, NULL, NULL, NULL, napi_enumerable, NULL},
    {"unaryMul", NULL, UnaryMul, NULL, NULL, NULL, napi_enumerable, NULL},
    {"binary", NULL, BinaryOp, NULL, NULL, NULL, napi_enumerable, NULL},
    {"axpby", NULL, Axpby, NULL, NULL, NULL, napi_enumerable, NULL},
    {"addRowVectorAct", NULL, AddRowVectorAct, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumRows", NULL, SumRows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumSquaredRows", NULL, SumSquaredRows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"accumulate", NULL, Accumulate, NULL, NULL, NULL, napi_enumerable, NULL},
    {"stackedMoments", NULL, StackedMoments, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sumCols", NULL, SumCols, NULL, NULL, NULL, napi_enumerable, NULL},
    {"softmaxRows", NULL, SoftmaxRows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"logSumExpRows", NULL, LogSumExpRows, NULL, NULL, NULL, napi_enumerable, NULL},
    {"im2col", NULL, Im2col, NULL, NULL, NULL, napi_enumerable, NULL},
    {"col2im", NULL, Col2im, NULL, NULL, NULL, napi_enumerable, NULL},
    {"adamStep", NULL, AdamStep, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setErrorClass", NULL, SetErrorClass, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"blasConfig", NULL, BlasConfig, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
