/* test_elem.c: tests of the elementwise reference kernels (kernels/ref/binary.c,
 * kernels/ref/elementwise.c): broadcasting against a naive nested-loop formula, fused clamps,
 * floor modulo signs, integer division by zero, CAST conversions and the unary math. */
#include <math.h>
#include <stdint.h>

#include "kernels/ref/activations.h"
#include "kernels/ref/binary.h"
#include "kernels/ref/elementwise.h"
#include "tc_test.h"

/* Independent scalar formulas (double precision where that cannot change the float result). */
static double ref_f(tc_binop op, double x, double y) {
  switch (op) {
  case TC_BINOP_ADD: return (float)(x + y);
  case TC_BINOP_SUB: return (float)(x - y);
  case TC_BINOP_MUL: return (float)(x * y);
  case TC_BINOP_DIV: return (float)(x / y);
  case TC_BINOP_FLOOR_MOD: return x - floor(x / y) * y;
  case TC_BINOP_MAXIMUM: return x > y ? x : y;
  case TC_BINOP_MINIMUM: return x < y ? x : y;
  default: return (float)((float)(x - y) * (float)(x - y));
  }
}

static long long ref_i(tc_binop op, long long x, long long y) {
  switch (op) {
  case TC_BINOP_ADD: return x + y;
  case TC_BINOP_SUB: return x - y;
  case TC_BINOP_MUL: return x * y;
  case TC_BINOP_DIV: return x / y;
  case TC_BINOP_FLOOR_MOD: {
    long long q = x / y;
    if ((x % y != 0) && ((x < 0) != (y < 0))) q--; /* floor division */
    return x - q * y;
  }
  case TC_BINOP_MAXIMUM: return x > y ? x : y;
  case TC_BINOP_MINIMUM: return x < y ? x : y;
  default: return (x - y) * (x - y);
  }
}

TC_TEST(kernel_elem_bcast_init) {
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 3, (const int32_t[]){2, 3, 1}, 2, (const int32_t[]){1, 4}));
  CHECK_EQ(bc.n_dims, 3);
  CHECK_EQ(bc.dims[0], 2);
  CHECK_EQ(bc.dims[1], 3);
  CHECK_EQ(bc.dims[2], 4);
  CHECK_EQ(bc.n_out, 24);
  CHECK_EQ(bc.n_a, 6);
  CHECK_EQ(bc.n_b, 4);
  CHECK_EQ(bc.a_stride[2], 0);
  CHECK_EQ(bc.a_stride[1], 1);
  CHECK_EQ(bc.a_stride[0], 3);
  CHECK_EQ(bc.b_stride[0], 0);
  CHECK_EQ(bc.b_stride[1], 0);
  CHECK_EQ(bc.b_stride[2], 1);
  /* Incompatible shapes and bad ranks are rejected. */
  CHECK(!tc_bcast_init(&bc, 2, (const int32_t[]){2, 3}, 1, (const int32_t[]){4}));
  CHECK(!tc_bcast_init(&bc, 1, (const int32_t[]){-1}, 1, (const int32_t[]){4}));
  CHECK(!tc_bcast_init(&bc, TC_MAX_DIMS + 1, (const int32_t[TC_MAX_DIMS + 1]){0}, 0, NULL));
  /* Rank 0 against rank 0: one element. */
  CHECK(tc_bcast_init(&bc, 0, NULL, 0, NULL));
  CHECK_EQ(bc.n_dims, 0);
  CHECK_EQ(bc.n_out, 1);
  /* A zero-sized axis broadcasts against 1 and gives an empty output. */
  CHECK(tc_bcast_init(&bc, 2, (const int32_t[]){2, 0}, 1, (const int32_t[]){1}));
  CHECK_EQ(bc.n_out, 0);
  CHECK_EQ(bc.dims[1], 0);
}

TC_TEST(kernel_elem_broadcast_3d_2d) {
  /* [2,3,1] + [1,4] -> [2,3,4]: out[i][j][k] = a[i][j] + b[k]. */
  float a[6], b[4], out[24];
  for (int i = 0; i < 6; i++) a[i] = (float)(10 * i);
  for (int k = 0; k < 4; k++) b[k] = 0.5f * (float)k - 1.0f;
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 3, (const int32_t[]){2, 3, 1}, 2, (const int32_t[]){1, 4}));
  tc_f32_binary__ref(TC_BINOP_ADD, &bc, a, b, out, -INFINITY, INFINITY);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 4; k++) CHECK_EQ(out[(i * 3 + j) * 4 + k], a[i * 3 + j] + b[k]);
  CHECK_EQ(out[23], 50.0f + 0.5f);
  /* Reversed operand order: SUB is not symmetric. */
  CHECK(tc_bcast_init(&bc, 2, (const int32_t[]){1, 4}, 3, (const int32_t[]){2, 3, 1}));
  tc_f32_binary__ref(TC_BINOP_SUB, &bc, b, a, out, -INFINITY, INFINITY);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 4; k++) CHECK_EQ(out[(i * 3 + j) * 4 + k], b[k] - a[i * 3 + j]);
}

TC_TEST(kernel_elem_scalar_operand) {
  float a[6] = {1, -2, 3, -4, 5, -6}, s = 2.0f, out[6];
  tc_bcast bc;
  /* Tensor * scalar (rank 0). */
  CHECK(tc_bcast_init(&bc, 2, (const int32_t[]){2, 3}, 0, NULL));
  CHECK_EQ(bc.n_dims, 2);
  tc_f32_binary__ref(TC_BINOP_MUL, &bc, a, &s, out, -INFINITY, INFINITY);
  for (int i = 0; i < 6; i++) CHECK_EQ(out[i], a[i] * 2.0f);
  /* Scalar (shape [1]) - tensor, and scalar / tensor. */
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){1}, 2, (const int32_t[]){2, 3}));
  tc_f32_binary__ref(TC_BINOP_SUB, &bc, &s, a, out, -INFINITY, INFINITY);
  for (int i = 0; i < 6; i++) CHECK_EQ(out[i], 2.0f - a[i]);
  tc_f32_binary__ref(TC_BINOP_DIV, &bc, &s, a, out, -INFINITY, INFINITY);
  for (int i = 0; i < 6; i++) CHECK_EQ(out[i], 2.0f / a[i]);
  /* Both rank 0. */
  float x = 3.0f, y = 4.0f, z = 0.0f;
  CHECK(tc_bcast_init(&bc, 0, NULL, 0, NULL));
  tc_f32_binary__ref(TC_BINOP_SQUARED_DIFFERENCE, &bc, &x, &y, &z, -INFINITY, INFINITY);
  CHECK_EQ(z, 1.0f);
  /* int32 scalar on the left. */
  int32_t ia[4] = {1, 2, 3, 4}, is = 12, iout[4];
  CHECK(tc_bcast_init(&bc, 0, NULL, 1, (const int32_t[]){4}));
  CHECK_EQ(tc_i32_binary__ref(TC_BINOP_DIV, &bc, &is, ia, iout, INT32_MIN, INT32_MAX), 0);
  CHECK_EQ(iout[0], 12);
  CHECK_EQ(iout[1], 6);
  CHECK_EQ(iout[2], 4);
  CHECK_EQ(iout[3], 3);
}

/* Rank 4, broadcast on the middle axes: a [2,1,3,2] against b [2,4,1,2] -> [2,4,3,2], every op,
 * both dtypes, compared with a nested loop over explicit indices. */
TC_TEST(kernel_elem_rank4_middle_broadcast) {
  enum { N = 2, H = 4, W = 3, C = 2 };
  float fa[N * W * C], fb[N * H * C], fo[N * H * W * C];
  int32_t ia[N * W * C], ib[N * H * C], io[N * H * W * C];
  for (int i = 0; i < N * W * C; i++) {
    fa[i] = (float)(i * 7 % 11) - 4.5f;
    ia[i] = i * 7 % 11 - 5;
  }
  for (int i = 0; i < N * H * C; i++) {
    fb[i] = (float)(i * 5 % 9) - 3.25f;
    ib[i] = i * 5 % 9 - 4;
    if (ib[i] == 0) ib[i] = 3;
  }
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 4, (const int32_t[]){N, 1, W, C}, 4, (const int32_t[]){N, H, 1, C}));
  CHECK_EQ(bc.n_out, N * H * W * C);
  for (int op = 0; op < TC_BINOP_COUNT; op++) {
    tc_f32_binary__ref((tc_binop)op, &bc, fa, fb, fo, -INFINITY, INFINITY);
    CHECK_EQ(tc_i32_binary__ref((tc_binop)op, &bc, ia, ib, io, INT32_MIN, INT32_MAX), 0);
    int bad_f = 0, bad_i = 0;
    for (int n = 0; n < N; n++)
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++)
          for (int c = 0; c < C; c++) {
            int o = ((n * H + h) * W + w) * C + c, ai = (n * W + w) * C + c, bi = (n * H + h) * C + c;
            double ef = ref_f((tc_binop)op, fa[ai], fb[bi]);
            if (fabs(fo[o] - ef) > 1e-5 * (1 + fabs(ef))) bad_f++;
            if (io[o] != ref_i((tc_binop)op, ia[ai], ib[bi])) bad_i++;
          }
    CHECK_MSG(bad_f == 0, "op %d: %d float mismatches", op, bad_f);
    CHECK_MSG(bad_i == 0, "op %d: %d int32 mismatches", op, bad_i);
  }
}

TC_TEST(kernel_elem_fused_relu6) {
  float a[5] = {-3, 1, 4, 7, 2.5f}, b[5] = {1, 1, 1, 1, 1}, out[5];
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){5}, 1, (const int32_t[]){5}));
  tc_f32_binary__ref(TC_BINOP_ADD, &bc, a, b, out, 0.0f, 6.0f);
  CHECK_EQ(out[0], 0.0f);
  CHECK_EQ(out[1], 2.0f);
  CHECK_EQ(out[2], 5.0f);
  CHECK_EQ(out[3], 6.0f);
  CHECK_EQ(out[4], 3.5f);
  /* Clamp also on the broadcasting path, and as integers for int32 MUL. */
  int32_t ia[6] = {-2, -1, 0, 1, 2, 3}, ib[2] = {1, 3}, io[6];
  CHECK(tc_bcast_init(&bc, 2, (const int32_t[]){3, 2}, 1, (const int32_t[]){2}));
  tc_i32_binary__ref(TC_BINOP_MUL, &bc, ia, ib, io, 0, 6);
  CHECK_EQ(io[0], 0);
  CHECK_EQ(io[1], 0);
  CHECK_EQ(io[2], 0);
  CHECK_EQ(io[3], 3);
  CHECK_EQ(io[4], 2);
  CHECK_EQ(io[5], 6);
}

TC_TEST(kernel_elem_floor_mod_i32) {
  int32_t a[8] = {-7, 7, -7, 7, 0, 6, INT32_MIN, -1};
  int32_t b[8] = {3, -3, -3, 3, -3, 3, -1, 5};
  int32_t want[8] = {2, -2, -1, 1, 0, 0, 0, 4};
  int32_t out[8];
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){8}, 1, (const int32_t[]){8}));
  CHECK_EQ(tc_i32_binary__ref(TC_BINOP_FLOOR_MOD, &bc, a, b, out, INT32_MIN, INT32_MAX), 0);
  for (int i = 0; i < 8; i++) CHECK_MSG(out[i] == want[i], "%d mod %d = %d, want %d", a[i], b[i], out[i], want[i]);
  /* Division truncates toward zero; INT32_MIN / -1 wraps instead of trapping. */
  CHECK_EQ(tc_i32_binary__ref(TC_BINOP_DIV, &bc, a, b, out, INT32_MIN, INT32_MAX), 0);
  CHECK_EQ(out[0], -2);
  CHECK_EQ(out[1], -2);
  CHECK_EQ(out[2], 2);
  CHECK_EQ(out[6], INT32_MIN);
  CHECK_EQ(out[7], 0);
  /* A zero divisor is reported (count of zeros in b) and nothing is written. */
  int32_t z[2] = {0, 2}, two[2] = {5, 5}, o2[2] = {111, 222};
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){2}, 1, (const int32_t[]){2}));
  CHECK_EQ(tc_i32_binary__ref(TC_BINOP_FLOOR_MOD, &bc, two, z, o2, INT32_MIN, INT32_MAX), 1);
  CHECK_EQ(tc_i32_binary__ref(TC_BINOP_DIV, &bc, two, z, o2, INT32_MIN, INT32_MAX), 1);
  CHECK_EQ(o2[0], 111);
  /* Zero in the dividend is fine; wrap-around on overflowing ADD. */
  CHECK_EQ(tc_i32_binary__ref(TC_BINOP_DIV, &bc, z, two, o2, INT32_MIN, INT32_MAX), 0);
  CHECK_EQ(o2[0], 0);
  CHECK_EQ(o2[1], 0);
  int32_t big[1] = {INT32_MAX}, one[1] = {1}, o1[1];
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){1}, 1, (const int32_t[]){1}));
  tc_i32_binary__ref(TC_BINOP_ADD, &bc, big, one, o1, INT32_MIN, INT32_MAX);
  CHECK_EQ(o1[0], INT32_MIN);
}

TC_TEST(kernel_elem_floor_mod_f32) {
  float a[6] = {-7.5f, 7.5f, -7.5f, 5.0f, -6.0f, 1.25f};
  float b[6] = {2.0f, -2.0f, -2.0f, 2.5f, 3.0f, 0.5f};
  float want[6] = {0.5f, -0.5f, -1.5f, 0.0f, 0.0f, 0.25f};
  float out[6];
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){6}, 1, (const int32_t[]){6}));
  tc_f32_binary__ref(TC_BINOP_FLOOR_MOD, &bc, a, b, out, -INFINITY, INFINITY);
  for (int i = 0; i < 6; i++) CHECK_EQ(out[i], want[i]);
  /* Float modulo by zero is NaN, not an error. */
  float zero = 0.0f, r;
  CHECK(tc_bcast_init(&bc, 0, NULL, 0, NULL));
  tc_f32_binary__ref(TC_BINOP_FLOOR_MOD, &bc, &a[0], &zero, &r, -INFINITY, INFINITY);
  CHECK(isnan(r));
}

TC_TEST(kernel_elem_max_min_nan) {
  /* TFLite's MAXIMUM is (a > b ? a : b): NaN in b is dropped, NaN in a is kept. */
  float a[3] = {NAN, 1.0f, -2.0f}, b[3] = {1.0f, NAN, 3.0f}, out[3];
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){3}, 1, (const int32_t[]){3}));
  tc_f32_binary__ref(TC_BINOP_MAXIMUM, &bc, a, b, out, -INFINITY, INFINITY);
  CHECK(out[0] == 1.0f);
  CHECK(isnan(out[1]));
  CHECK_EQ(out[2], 3.0f);
  tc_f32_binary__ref(TC_BINOP_MINIMUM, &bc, a, b, out, -INFINITY, INFINITY);
  CHECK(out[0] == 1.0f);
  CHECK(isnan(out[1]));
  CHECK_EQ(out[2], -2.0f);
}

TC_TEST(kernel_elem_in_place) {
  float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){4}, 1, (const int32_t[]){4}));
  tc_f32_binary__ref(TC_BINOP_ADD, &bc, a, b, a, -INFINITY, INFINITY);
  CHECK_EQ(a[0], 11.0f);
  CHECK_EQ(a[3], 44.0f);
  float x[3] = {-1, 4, 9};
  tc_f32_sqrt__ref(x + 1, x + 1, 2);
  CHECK_EQ(x[1], 2.0f);
  CHECK_EQ(x[2], 3.0f);
  CHECK_EQ(x[0], -1.0f);
}

TC_TEST(kernel_elem_cast) {
  /* float -> int32 truncates toward zero, also for negatives. */
  float f[7] = {-1.7f, -0.5f, 2.9f, -3.0f, 1e10f, -1e10f, NAN};
  int32_t i32[7];
  CHECK(tc_cast__ref(TC_DTYPE_F32, f, TC_DTYPE_I32, i32, 7));
  CHECK_EQ(i32[0], -1);
  CHECK_EQ(i32[1], 0);
  CHECK_EQ(i32[2], 2);
  CHECK_EQ(i32[3], -3);
  CHECK_EQ(i32[6], 0); /* NaN */
  /* float -> int64 keeps large values exactly. */
  int64_t i64[2];
  CHECK(tc_cast__ref(TC_DTYPE_F32, f + 4, TC_DTYPE_I64, i64, 2));
  CHECK_EQ(i64[0], 10000000000LL);
  CHECK_EQ(i64[1], -10000000000LL);
  /* int32 -> float, int64 -> int32 (low bits), int8 <-> uint8, int16. */
  int32_t iv[4] = {-5, 0, 7, 16777217};
  float fo[4];
  CHECK(tc_cast__ref(TC_DTYPE_I32, iv, TC_DTYPE_F32, fo, 4));
  CHECK_EQ(fo[0], -5.0f);
  CHECK_EQ(fo[2], 7.0f);
  CHECK_EQ(fo[3], 16777216.0f); /* rounds to nearest float */
  int64_t l[2] = {0x100000005LL, -1};
  int32_t lo[2];
  CHECK(tc_cast__ref(TC_DTYPE_I64, l, TC_DTYPE_I32, lo, 2));
  CHECK_EQ(lo[0], 5);
  CHECK_EQ(lo[1], -1);
  int8_t s8[3] = {-1, -128, 127};
  uint8_t u8[3];
  int16_t s16[3];
  CHECK(tc_cast__ref(TC_DTYPE_I8, s8, TC_DTYPE_U8, u8, 3));
  CHECK_EQ(u8[0], 255);
  CHECK_EQ(u8[1], 128);
  CHECK_EQ(u8[2], 127);
  CHECK(tc_cast__ref(TC_DTYPE_U8, u8, TC_DTYPE_I16, s16, 3));
  CHECK_EQ(s16[0], 255);
  CHECK(tc_cast__ref(TC_DTYPE_I8, s8, TC_DTYPE_I16, s16, 3));
  CHECK_EQ(s16[1], -128);
  /* float -> uint8 of a negative value goes through int64 and wraps. */
  float neg = -1.5f;
  uint8_t nu;
  CHECK(tc_cast__ref(TC_DTYPE_F32, &neg, TC_DTYPE_U8, &nu, 1));
  CHECK_EQ(nu, 255);
  /* bool: anything non-zero is true, and reads back as 0/1. */
  float bf[4] = {0.0f, -0.0f, 0.25f, NAN};
  uint8_t bo[4];
  CHECK(tc_cast__ref(TC_DTYPE_F32, bf, TC_DTYPE_BOOL, bo, 4));
  CHECK_EQ(bo[0], 0);
  CHECK_EQ(bo[1], 0);
  CHECK_EQ(bo[2], 1);
  CHECK_EQ(bo[3], 1);
  int32_t bi[3] = {0, -4, 256};
  CHECK(tc_cast__ref(TC_DTYPE_I32, bi, TC_DTYPE_BOOL, bo, 3));
  CHECK_EQ(bo[0], 0);
  CHECK_EQ(bo[1], 1);
  CHECK_EQ(bo[2], 1); /* not the low byte (which is 0) */
  uint8_t bb[2] = {1, 0};
  float fb2[2];
  CHECK(tc_cast__ref(TC_DTYPE_BOOL, bb, TC_DTYPE_F32, fb2, 2));
  CHECK_EQ(fb2[0], 1.0f);
  CHECK_EQ(fb2[1], 0.0f);
  /* Same type copies; unsupported types are refused. */
  int32_t cp[4];
  CHECK(tc_cast__ref(TC_DTYPE_I32, iv, TC_DTYPE_I32, cp, 4));
  CHECK_EQ(cp[3], 16777217);
  CHECK(!tc_cast__ref(TC_DTYPE_STRING, iv, TC_DTYPE_I32, cp, 1));
  CHECK(!tc_cast__ref(TC_DTYPE_F32, f, TC_DTYPE_F16, cp, 1));
  CHECK(tc_cast_supported(TC_DTYPE_BOOL));
  CHECK(!tc_cast_supported(TC_DTYPE_COMPLEX64));
}

TC_TEST(kernel_elem_leaky_relu) {
  float x[4] = {-2.0f, -0.5f, 0.0f, 3.0f}, y[4];
  tc_f32_leaky_relu__ref(x, y, 4, 0.2f);
  CHECK_NEAR(y[0], -0.4f, 1e-7);
  CHECK_NEAR(y[1], -0.1f, 1e-7);
  CHECK_EQ(y[2], 0.0f);
  CHECK_EQ(y[3], 3.0f);
}

TC_TEST(kernel_elem_unary) {
  float x[6] = {-4.0f, -1.5f, -0.25f, 0.0f, 1.0f, 4.0f}, y[6];
  tc_f32_exp__ref(x, y, 6);
  for (int i = 0; i < 6; i++) CHECK_NEAR(y[i], exp(x[i]), 1e-6 * exp(x[i]));
  tc_f32_abs__ref(x, y, 6);
  for (int i = 0; i < 6; i++) CHECK_EQ(y[i], fabs(x[i]));
  tc_f32_neg__ref(x, y, 6);
  for (int i = 0; i < 6; i++) CHECK_EQ(y[i], -x[i]);
  tc_f32_square__ref(x, y, 6);
  CHECK_EQ(y[0], 16.0f);
  CHECK_EQ(y[1], 2.25f);
  CHECK_EQ(y[2], 0.0625f);
  tc_f32_floor__ref(x, y, 6);
  CHECK_EQ(y[1], -2.0f);
  CHECK_EQ(y[2], -1.0f);
  CHECK_EQ(y[3], 0.0f);
  CHECK_EQ(y[4], 1.0f);
  float p[4] = {0.0f, 0.25f, 4.0f, -1.0f}, q[4];
  tc_f32_sqrt__ref(p, q, 4);
  CHECK_EQ(q[1], 0.5f);
  CHECK_EQ(q[2], 2.0f);
  CHECK(isnan(q[3]));
  tc_f32_rsqrt__ref(p, q, 4);
  CHECK(isinf(q[0]) && q[0] > 0);
  CHECK_EQ(q[1], 2.0f);
  CHECK_EQ(q[2], 0.5f);
  CHECK(isnan(q[3]));
  /* hard swish: 0 below -3, x above 3, x (x + 3) / 6 between. */
  float hs[6] = {-4.0f, -3.0f, -1.0f, 0.5f, 3.0f, 10.0f}, hy[6];
  tc_f32_hard_swish__ref(hs, hy, 6);
  CHECK_EQ(hy[0], 0.0f);
  CHECK_EQ(hy[1], 0.0f);
  CHECK_NEAR(hy[2], -1.0 / 3.0, 1e-7);
  CHECK_NEAR(hy[3], 0.5 * 3.5 / 6.0, 1e-7);
  CHECK_EQ(hy[4], 3.0f);
  CHECK_EQ(hy[5], 10.0f);
  /* GELU, erf form and tanh approximation, against double-precision formulas. */
  float g[5] = {-3.0f, -1.0f, 0.0f, 1.0f, 2.5f}, gy[5];
  tc_f32_gelu__ref(g, gy, 5, 0);
  for (int i = 0; i < 5; i++) CHECK_NEAR(gy[i], 0.5 * g[i] * (1 + erf(g[i] / sqrt(2.0))), 2e-6);
  CHECK_NEAR(gy[3], 0.8413447460685429, 1e-6);
  tc_f32_gelu__ref(g, gy, 5, 1);
  for (int i = 0; i < 5; i++) {
    double t = tanh(sqrt(2.0 / 3.14159265358979323846) * (g[i] + 0.044715 * g[i] * g[i] * g[i]));
    CHECK_NEAR(gy[i], 0.5 * g[i] * (1 + t), 2e-6);
  }
  CHECK_NEAR(gy[3], 0.8411919906082768, 1e-6);
  /* int32 ABS / NEG wrap at INT32_MIN. */
  int32_t iv[4] = {-5, 0, 7, INT32_MIN}, io[4];
  tc_i32_abs__ref(iv, io, 4);
  CHECK_EQ(io[0], 5);
  CHECK_EQ(io[2], 7);
  CHECK_EQ(io[3], INT32_MIN);
  tc_i32_neg__ref(iv, io, 4);
  CHECK_EQ(io[0], 5);
  CHECK_EQ(io[2], -7);
  CHECK_EQ(io[3], INT32_MIN);
}

/* ---- op-level tests: a one-operator .tflite built in memory, run through the interpreter --- */

#include <stdlib.h>

#include "tensorc_lite.h"

/* A forward-only FlatBuffers writer: parents are written before their children, so every
 * uoffset (child - slot) is positive; each table's vtable sits just before it. Every table
 * field takes a 4-byte slot (small scalars in its low bytes). */
typedef struct fbw {
  uint8_t b[16384];
  size_t n;
} fbw;

enum { F_ABSENT = 0, F_U8, F_U32, F_OFF };
typedef struct fld {
  int kind;
  uint32_t v;
} fld;

static void w_pad(fbw *w, size_t a, size_t extra) {
  while ((w->n + extra) % a) w->b[w->n++] = 0;
}
static void w_u32_at(fbw *w, size_t pos, uint32_t v) {
  for (int i = 0; i < 4; i++) w->b[pos + i] = (uint8_t)(v >> (8 * i));
}
static void w_u32(fbw *w, uint32_t v) {
  w_u32_at(w, w->n, v);
  w->n += 4;
}
static void w_patch(fbw *w, size_t slot, size_t target) { w_u32_at(w, slot, (uint32_t)(target - slot)); }

/* Writes a table with fields 0..n-1; slots[i] receives the position of field i's slot. */
static size_t w_table(fbw *w, int n, const fld *f, size_t *slots) {
  int present = 0;
  for (int i = 0; i < n; i++) present += f[i].kind != F_ABSENT;
  w_pad(w, 4, 0);
  size_t vt = w->n;
  uint16_t vt_size = (uint16_t)(4 + 2 * n), t_size = (uint16_t)(4 + 4 * present);
  w->b[w->n++] = (uint8_t)vt_size;
  w->b[w->n++] = (uint8_t)(vt_size >> 8);
  w->b[w->n++] = (uint8_t)t_size;
  w->b[w->n++] = (uint8_t)(t_size >> 8);
  for (int i = 0, k = 0; i < n; i++) {
    uint16_t off = f[i].kind == F_ABSENT ? 0 : (uint16_t)(4 + 4 * k++);
    w->b[w->n++] = (uint8_t)off;
    w->b[w->n++] = (uint8_t)(off >> 8);
  }
  w_pad(w, 4, 0);
  size_t t = w->n;
  w_u32(w, (uint32_t)(t - vt));
  for (int i = 0; i < n; i++) {
    if (f[i].kind == F_ABSENT) continue;
    if (slots) slots[i] = w->n;
    w_u32(w, f[i].kind == F_OFF ? 0 : f[i].v);
  }
  return t;
}

/* Vector of n int32; returns its position. */
static size_t w_ivec(fbw *w, int n, const int32_t *v) {
  w_pad(w, 4, 0);
  size_t p = w->n;
  w_u32(w, (uint32_t)n);
  for (int i = 0; i < n; i++) w_u32(w, (uint32_t)v[i]);
  return p;
}

/* Vector of n offsets to be patched; slot i is at return + 4 + 4 i. */
static size_t w_ovec(fbw *w, int n) { return w_ivec(w, n, (const int32_t[16]){0}); }

typedef struct tdesc {
  int type; /* TFLite TensorType: 0 float32, 2 int32, 3 uint8, 4 int64, 6 bool, 9 int8 */
  int n_dims;
  int32_t dims[TC_MAX_DIMS];
  const void *data; /* non-NULL: a constant of data_size bytes */
  size_t data_size;
} tdesc;

typedef struct mdesc {
  int builtin;
  int n_tensors;
  tdesc t[6];
  int n_in, in[4];
  int n_out, out[2];
  int n_opt; /* option fields 0..n_opt-1 */
  fld opt[4];
} mdesc;

/* Serialises the one-operator model: graph inputs are the operator inputs without data,
 * graph outputs the operator outputs. Buffer 0 is the empty sentinel; constant i gets its own. */
static size_t build_model(const mdesc *d, fbw *w) {
  size_t s[8];
  w->n = 0;
  w_u32(w, 0);
  memcpy(w->b + 4, "TFL3", 4);
  w->n = 8;
  size_t root = w_table(w, 5, (const fld[]){{F_U32, 3}, {F_OFF, 0}, {F_OFF, 0}, {F_ABSENT, 0}, {F_OFF, 0}}, s);
  w_u32_at(w, 0, (uint32_t)root);
  size_t m_opcodes = s[1], m_subgraphs = s[2], m_buffers = s[4];
  /* operator_codes */
  size_t v = w_ovec(w, 1);
  w_patch(w, m_opcodes, v);
  size_t oc = w_table(w, 4,
                      (const fld[]){{F_U8, (uint32_t)(d->builtin < 127 ? d->builtin : 127)},
                                    {F_ABSENT, 0}, {F_U32, 1}, {F_U32, (uint32_t)d->builtin}},
                      NULL);
  w_patch(w, v + 4, oc);
  /* subgraphs[0] */
  v = w_ovec(w, 1);
  w_patch(w, m_subgraphs, v);
  size_t sg = w_table(w, 4, (const fld[]){{F_OFF, 0}, {F_OFF, 0}, {F_OFF, 0}, {F_OFF, 0}}, s);
  w_patch(w, v + 4, sg);
  size_t sg_slots[4] = {s[0], s[1], s[2], s[3]};
  size_t tv = w_ovec(w, d->n_tensors);
  w_patch(w, sg_slots[0], tv);
  int n_buf = 1;
  uint32_t buf_of[6] = {0};
  for (int i = 0; i < d->n_tensors; i++) {
    if (d->t[i].data) buf_of[i] = (uint32_t)n_buf++;
    size_t t = w_table(w, 3, (const fld[]){{F_OFF, 0}, {F_U8, (uint32_t)d->t[i].type}, {F_U32, buf_of[i]}}, s);
    w_patch(w, tv + 4 + 4 * (size_t)i, t);
    w_patch(w, s[0], w_ivec(w, d->t[i].n_dims, d->t[i].dims));
  }
  int32_t gin[4], n_gin = 0;
  for (int i = 0; i < d->n_in; i++)
    if (d->in[i] >= 0 && !d->t[d->in[i]].data) gin[n_gin++] = d->in[i];
  w_patch(w, sg_slots[1], w_ivec(w, n_gin, gin));
  w_patch(w, sg_slots[2], w_ivec(w, d->n_out, d->out));
  size_t ov = w_ovec(w, 1);
  w_patch(w, sg_slots[3], ov);
  size_t op = w_table(w, 5,
                      (const fld[]){{F_U32, 0}, {F_OFF, 0}, {F_OFF, 0},
                                    {F_U8, d->n_opt ? 1u : 0u}, {d->n_opt ? F_OFF : F_ABSENT, 0}},
                      s);
  w_patch(w, ov + 4, op);
  size_t op_opt = s[4];
  w_patch(w, s[1], w_ivec(w, d->n_in, d->in));
  w_patch(w, s[2], w_ivec(w, d->n_out, d->out));
  if (d->n_opt) w_patch(w, op_opt, w_table(w, d->n_opt, d->opt, NULL));
  /* buffers */
  size_t bv = w_ovec(w, n_buf);
  w_patch(w, m_buffers, bv);
  w_patch(w, bv + 4, w_table(w, 1, (const fld[]){{F_ABSENT, 0}}, NULL));
  for (int i = 0; i < d->n_tensors; i++) {
    if (!d->t[i].data) continue;
    size_t bt = w_table(w, 1, (const fld[]){{F_OFF, 0}}, s);
    w_patch(w, bv + 4 + 4 * (size_t)buf_of[i], bt);
    w_pad(w, 16, 4); /* the bytes themselves start 16-aligned */
    w_patch(w, s[0], w->n);
    w_u32(w, (uint32_t)d->t[i].data_size);
    memcpy(w->b + w->n, d->t[i].data, d->t[i].data_size);
    w->n += d->t[i].data_size;
  }
  return w->n;
}

/* Builds, loads, creates and prepares; then sets inputs (in graph-input order), invokes and
 * reads output 0. Returns the first failing status; the message goes to err. */
static tc_status run_model(const mdesc *d, const void *const *inputs, const size_t *in_sizes,
                           void *out, size_t out_size, char *err, size_t err_size) {
  static fbw w; /* 16 KiB: keep it off the stack; the model borrows it until destroyed */
  void *bytes = NULL;
  tc_model *m = NULL;
  tc_interp *it = NULL;
  size_t n = build_model(d, &w);
  bytes = aligned_alloc(16, (n + 15) / 16 * 16);
  memcpy(bytes, w.b, n);
  err[0] = '\0';
  tc_status s = tc_model_load_memory(bytes, n, NULL, &m);
  if (s) {
    snprintf(err, err_size, "%s", tc_model_errmsg(m));
    goto done;
  }
  s = tc_interp_create(m, NULL, &it);
  if (!s) s = tc_interp_prepare(it);
  for (int i = 0; !s && i < tc_interp_input_count(it); i++) s = tc_interp_set_input(it, i, inputs[i], in_sizes[i]);
  if (!s) s = tc_interp_invoke(it);
  if (!s && out) s = tc_interp_get_output(it, 0, out, out_size);
  if (s && it) snprintf(err, err_size, "%s", tc_interp_errmsg(it));
done:
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
  return s;
}

#define TT_F32 0
#define TT_I32 2
#define TT_U8 3
#define TT_I64 4
#define TT_BOOL 6

static tdesc td(int type, int n_dims, const int32_t *dims) {
  tdesc t = {type, n_dims, {0}, NULL, 0};
  for (int i = 0; i < n_dims; i++) t.dims[i] = dims[i];
  return t;
}

/* A two-input, one-output operator: tensors 0, 1 -> 2. */
static mdesc binary_model(int builtin, tdesc a, tdesc b, tdesc out, int act) {
  mdesc d = {builtin, 3, {a, b, out}, 2, {0, 1}, 1, {2}, 0, {{0, 0}}};
  if (act >= 0) {
    d.n_opt = 1;
    d.opt[0] = (fld){F_U8, (uint32_t)act};
  }
  return d;
}

TC_TEST(kernel_elem_op_add_broadcast_relu6) {
  /* ADD [2,3,1] + [1,4] with fused RELU6 (3); the file's output shape is deliberately wrong
   * ([1]): prepare must give it the broadcast shape [2,3,4]. */
  float a[6] = {-2, -1, 0, 1, 2, 3}, b[4] = {-1, 0, 2, 4}, out[24];
  mdesc d = binary_model(0, td(TT_F32, 3, (const int32_t[]){2, 3, 1}),
                         td(TT_F32, 2, (const int32_t[]){1, 4}), td(TT_F32, 1, (const int32_t[]){1}), 3);
  char err[256];
  tc_status s = run_model(&d, (const void *[]){a, b}, (const size_t[]){sizeof a, sizeof b}, out,
                          sizeof out, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  for (int i = 0; i < 6 && s == TC_OK; i++)
    for (int k = 0; k < 4; k++) {
      float v = a[i] + b[k];
      CHECK_EQ(out[i * 4 + k], v < 0 ? 0 : (v > 6 ? 6 : v));
    }
}

TC_TEST(kernel_elem_op_int32_const_operand) {
  /* FLOOR_MOD int32 [4] against a constant scalar [] (no options table at all). */
  int32_t a[4] = {-7, 7, -1, 6}, three = 3, out[4];
  mdesc d = binary_model(95, td(TT_I32, 1, (const int32_t[]){4}), td(TT_I32, 0, NULL),
                         td(TT_I32, 1, (const int32_t[]){4}), -1);
  d.t[1].data = &three;
  d.t[1].data_size = 4;
  char err[256];
  tc_status s = run_model(&d, (const void *[]){a}, (const size_t[]){sizeof a}, out, sizeof out,
                          err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_EQ(out[0], 2);
  CHECK_EQ(out[1], 1);
  CHECK_EQ(out[2], 2);
  CHECK_EQ(out[3], 0);
  /* MUL int32 with RELU (1): negatives clamp to 0. */
  d = binary_model(18, td(TT_I32, 1, (const int32_t[]){4}), td(TT_I32, 1, (const int32_t[]){1}),
                   td(TT_I32, 1, (const int32_t[]){4}), 1);
  d.t[1].data = &three;
  d.t[1].data_size = 4;
  s = run_model(&d, (const void *[]){a}, (const size_t[]){sizeof a}, out, sizeof out, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[1], 21);
  CHECK_EQ(out[2], 0);
  CHECK_EQ(out[3], 18);
}

TC_TEST(kernel_elem_op_errors) {
  char err[256];
  float f[6] = {0};
  int32_t i6[6] = {1, 2, 3, 4, 5, 6}, z6[6] = {1, 1, 0, 1, 1, 1}, o6[6];
  /* Shapes that do not broadcast: the message names both. */
  mdesc d = binary_model(0, td(TT_F32, 2, (const int32_t[]){2, 3}), td(TT_F32, 1, (const int32_t[]){4}),
                         td(TT_F32, 2, (const int32_t[]){2, 3}), 0);
  tc_status s = run_model(&d, (const void *[]){f, f}, (const size_t[]){24, 16}, NULL, 0, err, sizeof err);
  CHECK(s != TC_OK);
  CHECK_STR_CONTAINS(err, "[2, 3]");
  CHECK_STR_CONTAINS(err, "[4]");
  /* Mismatched dtypes between the inputs, and between inputs and output. */
  d = binary_model(41, td(TT_F32, 1, (const int32_t[]){6}), td(TT_I32, 1, (const int32_t[]){6}),
                   td(TT_F32, 1, (const int32_t[]){6}), 0);
  s = run_model(&d, (const void *[]){f, i6}, (const size_t[]){24, 24}, NULL, 0, err, sizeof err);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(err, "input 1");
  d = binary_model(41, td(TT_F32, 1, (const int32_t[]){6}), td(TT_F32, 1, (const int32_t[]){6}),
                   td(TT_I32, 1, (const int32_t[]){6}), 0);
  s = run_model(&d, (const void *[]){f, f}, (const size_t[]){24, 24}, NULL, 0, err, sizeof err);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(err, "output");
  /* An unsupported dtype (uint8 ADD) and an unsupported fused activation (TANH = 4). */
  uint8_t u[6] = {0};
  d = binary_model(0, td(TT_U8, 1, (const int32_t[]){6}), td(TT_U8, 1, (const int32_t[]){6}),
                   td(TT_U8, 1, (const int32_t[]){6}), 0);
  s = run_model(&d, (const void *[]){u, u}, (const size_t[]){6, 6}, NULL, 0, err, sizeof err);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(err, "uint8");
  d = binary_model(0, td(TT_F32, 1, (const int32_t[]){6}), td(TT_F32, 1, (const int32_t[]){6}),
                   td(TT_F32, 1, (const int32_t[]){6}), 4);
  s = run_model(&d, (const void *[]){f, f}, (const size_t[]){24, 24}, NULL, 0, err, sizeof err);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(err, "activation");
  /* int32 DIV and FLOOR_MOD by zero fail at invoke with a runtime error, not a crash. */
  d = binary_model(42, td(TT_I32, 1, (const int32_t[]){6}), td(TT_I32, 1, (const int32_t[]){6}),
                   td(TT_I32, 1, (const int32_t[]){6}), 0);
  s = run_model(&d, (const void *[]){i6, z6}, (const size_t[]){24, 24}, o6, sizeof o6, err, sizeof err);
  CHECK_EQ(s, TC_ERR_RUNTIME);
  CHECK_STR_CONTAINS(err, "division by zero");
  d.builtin = 95;
  s = run_model(&d, (const void *[]){i6, z6}, (const size_t[]){24, 24}, o6, sizeof o6, err, sizeof err);
  CHECK_EQ(s, TC_ERR_RUNTIME);
  CHECK_STR_CONTAINS(err, "modulo by zero");
  /* Without the zero the same graph divides, truncating toward zero. */
  int32_t two[6] = {2, -2, 2, -2, 4, 4};
  d.builtin = 42;
  s = run_model(&d, (const void *[]){i6, two}, (const size_t[]){24, 24}, o6, sizeof o6, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_EQ(o6[0], 0);
  CHECK_EQ(o6[1], -1);
  CHECK_EQ(o6[2], 1);
  CHECK_EQ(o6[5], 1);
  /* CAST to a type it cannot produce (string = TFLite type 5). */
  mdesc c = {53, 2, {td(TT_F32, 1, (const int32_t[]){6}), td(5, 1, (const int32_t[]){6})}, 1, {0}, 1, {1}, 0, {{0, 0}}};
  s = run_model(&c, (const void *[]){f}, (const size_t[]){24}, NULL, 0, err, sizeof err);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(err, "cast");
  /* A float-only unary op on int32. */
  mdesc e = {47, 2, {td(TT_I32, 1, (const int32_t[]){6}), td(TT_I32, 1, (const int32_t[]){6})}, 1, {0}, 1, {1}, 0, {{0, 0}}};
  s = run_model(&e, (const void *[]){i6}, (const size_t[]){24}, NULL, 0, err, sizeof err);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(err, "int32");
}

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

TC_TEST(kernel_elem_op_unary_options) {
  char err[256];
  float x[5] = {-2.0f, -0.5f, 0.0f, 1.0f, 3.0f}, y[5];
  /* LEAKY_RELU with alpha = 0.1 from LeakyReluOptions. */
  mdesc d = {98, 2, {td(TT_F32, 1, (const int32_t[]){5}), td(TT_F32, 1, (const int32_t[]){5})}, 1, {0}, 1, {1}, 1, {{F_U32, f32_bits(0.1f)}}};
  tc_status s = run_model(&d, (const void *[]){x}, (const size_t[]){sizeof x}, y, sizeof y, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_NEAR(y[0], -0.2, 1e-6);
  CHECK_NEAR(y[1], -0.05, 1e-6);
  CHECK_EQ(y[3], 1.0f);
  CHECK_EQ(y[4], 3.0f);
  /* GELU: approximate = true picks the tanh form, absent options the erf form. */
  d.builtin = 150;
  d.opt[0] = (fld){F_U8, 1};
  s = run_model(&d, (const void *[]){x}, (const size_t[]){sizeof x}, y, sizeof y, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_NEAR(y[3], 0.8411919906082768, 1e-6);
  d.n_opt = 0;
  s = run_model(&d, (const void *[]){x}, (const size_t[]){sizeof x}, y, sizeof y, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_NEAR(y[3], 0.8413447460685429, 1e-6);
  /* NEG on int32 (builtin 59), HARD_SWISH on float. */
  int32_t iv[3] = {5, -6, 0}, io[3];
  mdesc n = {59, 2, {td(TT_I32, 1, (const int32_t[]){3}), td(TT_I32, 1, (const int32_t[]){3})}, 1, {0}, 1, {1}, 0, {{0, 0}}};
  s = run_model(&n, (const void *[]){iv}, (const size_t[]){sizeof iv}, io, sizeof io, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_EQ(io[0], -5);
  CHECK_EQ(io[1], 6);
  d.builtin = 117;
  s = run_model(&d, (const void *[]){x}, (const size_t[]){sizeof x}, y, sizeof y, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_NEAR(y[1], -0.5 * 2.5 / 6.0, 1e-7);
  CHECK_EQ(y[4], 3.0f);
}

TC_TEST(kernel_elem_op_cast) {
  char err[256];
  /* float32 [2,2] -> int32, negatives truncate toward zero. */
  float x[4] = {-2.7f, -0.2f, 0.9f, 3.5f};
  int32_t y[4];
  mdesc d = {53, 2, {td(TT_F32, 2, (const int32_t[]){2, 2}), td(TT_I32, 2, (const int32_t[]){2, 2})}, 1, {0}, 1, {1}, 0, {{0, 0}}};
  tc_status s = run_model(&d, (const void *[]){x}, (const size_t[]){sizeof x}, y, sizeof y, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_EQ(y[0], -2);
  CHECK_EQ(y[1], 0);
  CHECK_EQ(y[2], 0);
  CHECK_EQ(y[3], 3);
  /* int64 -> bool. */
  int64_t l[3] = {0, -9, 1LL << 40};
  uint8_t b[3];
  d.t[0] = td(TT_I64, 1, (const int32_t[]){3});
  d.t[1] = td(TT_BOOL, 1, (const int32_t[]){3});
  s = run_model(&d, (const void *[]){l}, (const size_t[]){sizeof l}, b, sizeof b, err, sizeof err);
  CHECK_MSG(s == TC_OK, "status %d: %s", (int)s, err);
  CHECK_EQ(b[0], 0);
  CHECK_EQ(b[1], 1);
  CHECK_EQ(b[2], 1);
}
