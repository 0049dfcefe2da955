/* test_nn.c: tests of the float neural-network reference kernels (conv2d, depthwise conv2d,
 * fully connected, pooling, softmax, reductions) and their pure shape helpers. Each kernel is
 * checked on small hand-computed cases and on larger shapes against an independent naive
 * formulation written here (explicitly zero-padded input, double accumulation). Prepare-time
 * errors of the op glue are covered by the model-level tests. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/ref/conv2d.h"
#include "kernels/ref/depthwise_conv2d.h"
#include "kernels/ref/fully_connected.h"
#include "kernels/ref/pool.h"
#include "kernels/ref/reduce.h"
#include "kernels/ref/softmax.h"
#include "tc_test.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* Deterministic values in [-1, 1) (a small LCG), so failures reproduce. */
static void fill(float *x, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

/* TensorFlow's SAME/VALID geometry, written out independently of tc__conv_out_size. */
static void geom(int same, int in, int k, int stride, int dil, int *out, int *pad) {
  int eff = (k - 1) * dil + 1;
  *out = same ? (in + stride - 1) / stride : (in - eff) / stride + 1;
  int total = (*out - 1) * stride + eff - in;
  *pad = same && total > 0 ? total / 2 : 0;
}

/* Naive grouped convolution: copies the input into an explicitly zero-padded buffer, then sums in
 * double without any bounds tests. Output clamped to [lo, hi]. */
static void naive_conv(const tc_conv2d_params *p, const float *in, const float *filter,
                       const float *bias, float *out) {
  int eff_h = (p->k_h - 1) * p->dilation_h + 1, eff_w = (p->k_w - 1) * p->dilation_w + 1;
  int ph = (p->out_h - 1) * p->stride_h + eff_h, pw = (p->out_w - 1) * p->stride_w + eff_w;
  if (ph < p->pad_top + p->in_h) ph = p->pad_top + p->in_h;
  if (pw < p->pad_left + p->in_w) pw = p->pad_left + p->in_w;
  float *pad = calloc((size_t)p->batch * ph * pw * p->in_c, sizeof(float));
  for (int b = 0; b < p->batch; b++)
    for (int y = 0; y < p->in_h; y++)
      for (int x = 0; x < p->in_w; x++)
        for (int ch = 0; ch < p->in_c; ch++)
          pad[(((size_t)b * ph + y + p->pad_top) * pw + x + p->pad_left) * p->in_c + ch] =
              in[(((size_t)b * p->in_h + y) * p->in_w + x) * p->in_c + ch];
  int groups = p->in_c / p->filter_c, per = p->out_c / groups;
  for (int b = 0; b < p->batch; b++)
    for (int oy = 0; oy < p->out_h; oy++)
      for (int ox = 0; ox < p->out_w; ox++)
        for (int oc = 0; oc < p->out_c; oc++) {
          double acc = bias ? bias[oc] : 0.0;
          for (int ky = 0; ky < p->k_h; ky++)
            for (int kx = 0; kx < p->k_w; kx++)
              for (int ic = 0; ic < p->filter_c; ic++) {
                int y = oy * p->stride_h + ky * p->dilation_h;
                int x = ox * p->stride_w + kx * p->dilation_w;
                int ch = (oc / per) * p->filter_c + ic;
                acc += (double)pad[(((size_t)b * ph + y) * pw + x) * p->in_c + ch] *
                       filter[(((size_t)oc * p->k_h + ky) * p->k_w + kx) * p->filter_c + ic];
              }
          if (acc < p->act_min) acc = p->act_min;
          if (acc > p->act_max) acc = p->act_max;
          out[(((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] = (float)acc;
        }
  free(pad);
}

/* Runs the kernel and the naive version on random data and compares every element. */
static void conv_case(int batch, int in_h, int in_w, int in_c, int out_c, int filter_c, int k_h,
                      int k_w, int stride_h, int stride_w, int dil_h, int dil_w, int same,
                      int with_bias, float lo, float hi) {
  tc_conv2d_params p = {0};
  p.batch = batch, p.in_h = in_h, p.in_w = in_w, p.in_c = in_c, p.out_c = out_c;
  p.k_h = k_h, p.k_w = k_w, p.filter_c = filter_c, p.stride_h = stride_h, p.stride_w = stride_w;
  p.dilation_h = dil_h, p.dilation_w = dil_w, p.act_min = lo, p.act_max = hi;
  geom(same, in_h, k_h, stride_h, dil_h, &p.out_h, &p.pad_top);
  geom(same, in_w, k_w, stride_w, dil_w, &p.out_w, &p.pad_left);
  size_t n_in = (size_t)batch * in_h * in_w * in_c, n_f = (size_t)out_c * k_h * k_w * filter_c;
  size_t n_out = (size_t)batch * p.out_h * p.out_w * out_c;
  float *in = malloc(n_in * 4), *f = malloc(n_f * 4), *bias = malloc((size_t)out_c * 4);
  float *got = malloc(n_out * 4), *want = malloc(n_out * 4);
  fill(in, n_in, 1), fill(f, n_f, 2), fill(bias, (size_t)out_c, 3);
  tc_f32_conv2d__ref(&p, in, f, with_bias ? bias : NULL, got);
  naive_conv(&p, in, f, with_bias ? bias : NULL, want);
  int bad = 0;
  for (size_t i = 0; i < n_out; i++)
    if (fabs((double)got[i] - want[i]) > 1e-5 && bad++ < 3) CHECK_NEAR(got[i], want[i], 1e-5);
  CHECK_EQ(bad, 0);
  free(in), free(f), free(bias), free(got), free(want);
}

/* ---- conv2d -------------------------------------------------------------------------------- */

TC_TEST(kernel_nn_conv2d_hand) {
  /* 3x3 image 1..9, 3x3 filter of ones, stride 2, SAME: out 2x2 with one padded row/col on the
   * top/left: sums of the 2x2 corners. */
  float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, f[9], out[4];
  for (int i = 0; i < 9; i++) f[i] = 1.0f;
  tc_conv2d_params p = {1, 3, 3, 1, 2, 2, 1, 3, 3, 1, 2, 2, 1, 1, 1, 1, -INFINITY, INFINITY};
  tc_f32_conv2d__ref(&p, in, f, NULL, out);
  CHECK_NEAR(out[0], 12, 0); CHECK_NEAR(out[1], 16, 0);
  CHECK_NEAR(out[2], 24, 0); CHECK_NEAR(out[3], 28, 0);
  /* Bias 0.5 and a RELU_N1_TO_1-like clamp [-1, 20]: 24.5 and 28.5 clamp to 20. */
  float bias = 0.5f;
  p.act_min = -1, p.act_max = 20;
  tc_f32_conv2d__ref(&p, in, f, &bias, out);
  CHECK_NEAR(out[0], 12.5, 0); CHECK_NEAR(out[1], 16.5, 0);
  CHECK_NEAR(out[2], 20, 0); CHECK_NEAR(out[3], 20, 0);
}

TC_TEST(kernel_nn_conv2d_dilation_hand) {
  /* 5x5 image 0..24, 2x2 filter [1, 2; 3, 4], dilation 2, VALID: out 3x3; tap (ky,kx) reads
   * pixel (oy + 2ky, ox + 2kx). out[0,0] = 0*1 + 2*2 + 10*3 + 12*4 = 82. */
  float in[25], f[4] = {1, 2, 3, 4}, out[9];
  for (int i = 0; i < 25; i++) in[i] = (float)i;
  tc_conv2d_params p = {1, 5, 5, 1, 3, 3, 1, 2, 2, 1, 1, 1, 2, 2, 0, 0, -INFINITY, INFINITY};
  tc_f32_conv2d__ref(&p, in, f, NULL, out);
  for (int oy = 0; oy < 3; oy++)
    for (int ox = 0; ox < 3; ox++) {
      float v = in[oy * 5 + ox] * 1 + in[oy * 5 + ox + 2] * 2 + in[(oy + 2) * 5 + ox] * 3 +
                in[(oy + 2) * 5 + ox + 2] * 4;
      CHECK_NEAR(out[oy * 3 + ox], v, 0);
    }
  CHECK_NEAR(out[0], 82, 0);
}

TC_TEST(kernel_nn_conv2d_vs_naive) {
  /* stride 2, SAME, odd sizes (pad split 1 before / 1 after, and 0 / 1) */
  conv_case(1, 7, 9, 3, 4, 3, 3, 3, 2, 2, 1, 1, 1, 1, -INFINITY, INFINITY);
  conv_case(2, 8, 5, 2, 3, 2, 2, 3, 2, 2, 1, 1, 1, 1, -INFINITY, INFINITY);
  /* dilation 2, SAME and VALID, unequal strides */
  conv_case(1, 9, 8, 3, 2, 3, 3, 3, 1, 1, 2, 2, 1, 1, -INFINITY, INFINITY);
  conv_case(1, 10, 9, 2, 5, 2, 3, 2, 2, 1, 2, 3, 0, 0, -INFINITY, INFINITY);
  /* 1x1 conv, batch 2, RELU6 clamp and RELU */
  conv_case(2, 4, 4, 8, 5, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0.0f, 6.0f);
  conv_case(1, 5, 5, 3, 4, 3, 1, 1, 2, 2, 1, 1, 0, 1, 0.0f, INFINITY);
  /* filter larger than the input with SAME padding (every window clipped) */
  conv_case(1, 2, 3, 2, 2, 2, 5, 5, 1, 1, 1, 1, 1, 0, -INFINITY, INFINITY);
  /* grouped: 6 input channels, filter 2 channels (3 groups), 6 outputs */
  conv_case(1, 6, 6, 6, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1, -INFINITY, INFINITY);
  conv_case(2, 5, 7, 4, 4, 1, 3, 3, 2, 2, 1, 1, 0, 1, -1.0f, 1.0f);
}

TC_TEST(kernel_nn_conv2d_grouped_hand) {
  /* 1x1 pixel, 4 input channels [1, 2, 3, 4], filter_c 2 (2 groups), 2 outputs with weights
   * [1, 1] and [1, -1]: output 0 reads channels 0..1 (1+2 = 3), output 1 reads 2..3 (3-4). */
  float in[4] = {1, 2, 3, 4}, f[4] = {1, 1, 1, -1}, out[2];
  tc_conv2d_params p = {1, 1, 1, 4, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1, 0, 0, -INFINITY, INFINITY};
  tc_f32_conv2d__ref(&p, in, f, NULL, out);
  CHECK_NEAR(out[0], 3, 0);
  CHECK_NEAR(out[1], -1, 0);
}

/* ---- depthwise conv2d ---------------------------------------------------------------------- */

TC_TEST(kernel_nn_depthwise_hand) {
  /* 2x2 image, 1 channel [1, 2; 3, 4], multiplier 2, 2x2 filter: channel 0 weights all 1,
   * channel 1 weights [1, 0; 0, -1], VALID: out [1, 1, 1, 2] = {10, 1 - 4}; bias {1, 2}. */
  float in[4] = {1, 2, 3, 4}, f[8] = {1, 1, 1, 0, 1, 0, 1, -1}, bias[2] = {1, 2}, out[2];
  tc_dwconv2d_params p = {1, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 0, 0, -INFINITY, INFINITY};
  tc_f32_depthwise_conv2d__ref(&p, in, f, bias, out);
  CHECK_NEAR(out[0], 11, 0);
  CHECK_NEAR(out[1], -1, 0);
}

/* Depthwise equals a grouped conv with one input channel per group: filter[oc][ky][kx][0] =
 * dw_filter[0][ky][kx][oc]. Checked against naive_conv on random data. */
static void dw_case(int batch, int in_h, int in_w, int in_c, int mult, int k_h, int k_w,
                    int stride_h, int stride_w, int dil_h, int dil_w, int same, float lo, float hi) {
  int out_c = in_c * mult;
  tc_dwconv2d_params p = {0};
  p.batch = batch, p.in_h = in_h, p.in_w = in_w, p.in_c = in_c, p.depth_multiplier = mult;
  p.k_h = k_h, p.k_w = k_w, p.stride_h = stride_h, p.stride_w = stride_w;
  p.dilation_h = dil_h, p.dilation_w = dil_w, p.act_min = lo, p.act_max = hi;
  geom(same, in_h, k_h, stride_h, dil_h, &p.out_h, &p.pad_top);
  geom(same, in_w, k_w, stride_w, dil_w, &p.out_w, &p.pad_left);
  tc_conv2d_params q = {batch,    in_h,     in_w,     in_c,  p.out_h,  p.out_w,    out_c,
                        k_h,      k_w,      1,        stride_h, stride_w, dil_h,   dil_w,
                        p.pad_top, p.pad_left, lo, hi};
  size_t n_in = (size_t)batch * in_h * in_w * in_c, n_f = (size_t)k_h * k_w * out_c;
  size_t n_out = (size_t)batch * p.out_h * p.out_w * out_c;
  float *in = malloc(n_in * 4), *f = malloc(n_f * 4), *fc = malloc(n_f * 4);
  float *bias = malloc((size_t)out_c * 4), *got = malloc(n_out * 4), *want = malloc(n_out * 4);
  fill(in, n_in, 7), fill(f, n_f, 8), fill(bias, (size_t)out_c, 9);
  for (int oc = 0; oc < out_c; oc++)
    for (int t = 0; t < k_h * k_w; t++) fc[(size_t)oc * k_h * k_w + t] = f[(size_t)t * out_c + oc];
  tc_f32_depthwise_conv2d__ref(&p, in, f, bias, got);
  naive_conv(&q, in, fc, bias, want);
  int bad = 0;
  for (size_t i = 0; i < n_out; i++)
    if (fabs((double)got[i] - want[i]) > 1e-5 && bad++ < 3) CHECK_NEAR(got[i], want[i], 1e-5);
  CHECK_EQ(bad, 0);
  free(in), free(f), free(fc), free(bias), free(got), free(want);
}

TC_TEST(kernel_nn_depthwise_vs_naive) {
  dw_case(1, 7, 7, 3, 2, 3, 3, 2, 2, 1, 1, 1, -INFINITY, INFINITY); /* multiplier 2, stride 2 */
  dw_case(2, 6, 5, 4, 1, 3, 3, 1, 1, 1, 1, 1, 0.0f, 6.0f);          /* batch 2, RELU6 */
  dw_case(1, 9, 8, 2, 3, 3, 2, 1, 2, 2, 2, 0, -INFINITY, INFINITY); /* dilation 2, VALID */
  dw_case(1, 5, 6, 3, 2, 3, 3, 1, 1, 2, 1, 1, 0.0f, INFINITY);      /* dilation + SAME */
}

/* ---- fully connected ----------------------------------------------------------------------- */

TC_TEST(kernel_nn_fc_hand) {
  /* batch 2, K 3, N 2: weights [[1, 0, -1], [2, 1, 0]], bias [0.5, -1]. */
  float in[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, -1, 2, 1, 0}, bias[2] = {0.5f, -1}, out[4];
  tc_fc_params p = {2, 3, 2, -INFINITY, INFINITY};
  tc_f32_fully_connected__ref(&p, in, w, bias, out);
  CHECK_NEAR(out[0], -1.5, 0); CHECK_NEAR(out[1], 3, 0);
  CHECK_NEAR(out[2], -1.5, 0); CHECK_NEAR(out[3], 12, 0);
  p.act_min = 0, p.act_max = INFINITY; /* RELU, no bias */
  tc_f32_fully_connected__ref(&p, in, w, NULL, out);
  CHECK_NEAR(out[0], 0, 0); CHECK_NEAR(out[1], 4, 0);
  CHECK_NEAR(out[2], 0, 0); CHECK_NEAR(out[3], 13, 0);
}

TC_TEST(kernel_nn_fc_vs_naive) {
  enum { B = 5, K = 37, N = 11 };
  float in[B * K], w[N * K], bias[N], out[B * N];
  fill(in, B * K, 4), fill(w, N * K, 5), fill(bias, N, 6);
  tc_fc_params p = {B, K, N, -1.0f, 1.0f};
  tc_f32_fully_connected__ref(&p, in, w, bias, out);
  for (int b = 0; b < B; b++)
    for (int o = 0; o < N; o++) {
      double acc = bias[o];
      for (int k = 0; k < K; k++) acc += (double)in[b * K + k] * w[o * K + k];
      acc = acc < -1 ? -1 : (acc > 1 ? 1 : acc);
      CHECK_NEAR(out[b * N + o], acc, 1e-5);
    }
}

TC_TEST(kernel_nn_fc_shape) {
  int32_t dims[8], batch = -1;
  /* [2, 3, 4] with weights [5, 4]: batch 6; keep_num_dims gives [2, 3, 5], else [6, 5]. */
  int32_t in[3] = {2, 3, 4};
  CHECK_EQ(tc_fc_out_shape(3, in, 4, 5, 1, dims, &batch), 3);
  CHECK_EQ(batch, 6);
  CHECK_EQ(dims[0], 2); CHECK_EQ(dims[1], 3); CHECK_EQ(dims[2], 5);
  CHECK_EQ(tc_fc_out_shape(3, in, 4, 5, 0, dims, &batch), 2);
  CHECK_EQ(dims[0], 6); CHECK_EQ(dims[1], 5);
  /* [2, 6] with weights [7, 4]: 12 elements = 3 rows of 4 without keep_num_dims... */
  int32_t in2[2] = {2, 6};
  CHECK_EQ(tc_fc_out_shape(2, in2, 4, 7, 0, dims, &batch), 2);
  CHECK_EQ(batch, 3); CHECK_EQ(dims[0], 3); CHECK_EQ(dims[1], 7);
  /* ...but keep_num_dims needs the last dim to be the depth. */
  CHECK_EQ(tc_fc_out_shape(2, in2, 4, 7, 1, dims, &batch), -1);
  /* 10 elements do not split into rows of 4; depth 0 is invalid. */
  int32_t in3[2] = {2, 5};
  CHECK_EQ(tc_fc_out_shape(2, in3, 4, 7, 0, dims, &batch), -1);
  CHECK_EQ(tc_fc_out_shape(2, in3, 0, 7, 0, dims, &batch), -1);
  /* rank-1 input [4] -> [1, N]; keep_num_dims -> [N] */
  int32_t in4[1] = {4};
  CHECK_EQ(tc_fc_out_shape(1, in4, 4, 3, 0, dims, &batch), 2);
  CHECK_EQ(dims[0], 1); CHECK_EQ(dims[1], 3);
  CHECK_EQ(tc_fc_out_shape(1, in4, 4, 3, 1, dims, &batch), 1);
  CHECK_EQ(dims[0], 3);
}

/* ---- pooling ------------------------------------------------------------------------------- */

TC_TEST(kernel_nn_pool_hand) {
  float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[9];
  /* 2x2 stride 2 SAME on 3x3: total pad 1, all of it after (bottom/right). */
  tc_pool2d_params p = {1, 3, 3, 1, 2, 2, 2, 2, 2, 2, 0, 0, -INFINITY, INFINITY};
  tc_f32_avg_pool2d__ref(&p, in, out);
  CHECK_NEAR(out[0], 3, 0); CHECK_NEAR(out[1], 4.5, 0);
  CHECK_NEAR(out[2], 7.5, 0); CHECK_NEAR(out[3], 9, 0);
  tc_f32_max_pool2d__ref(&p, in, out);
  CHECK_NEAR(out[0], 5, 0); CHECK_NEAR(out[1], 6, 0);
  CHECK_NEAR(out[2], 8, 0); CHECK_NEAR(out[3], 9, 0);
  /* 3x3 stride 1 SAME: pad 1 on every side; averages count only the real pixels. */
  tc_pool2d_params q = {1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, -INFINITY, INFINITY};
  tc_f32_avg_pool2d__ref(&q, in, out);
  CHECK_NEAR(out[0], 3, 1e-6); CHECK_NEAR(out[1], 3.5, 1e-6); CHECK_NEAR(out[2], 4, 1e-6);
  CHECK_NEAR(out[3], 4.5, 1e-6); CHECK_NEAR(out[4], 5, 1e-6); CHECK_NEAR(out[5], 5.5, 1e-6);
  CHECK_NEAR(out[6], 6, 1e-6); CHECK_NEAR(out[7], 6.5, 1e-6); CHECK_NEAR(out[8], 7, 1e-6);
  /* max with a RELU6-style clamp and negative inputs: clamps to [0, 6]. */
  float neg[9] = {-9, -8, -7, -6, -5, -4, -3, -2, -1};
  q.act_min = 0, q.act_max = 6;
  tc_f32_max_pool2d__ref(&q, neg, out);
  for (int i = 0; i < 9; i++) CHECK_NEAR(out[i], 0, 0);
  q.act_min = -INFINITY, q.act_max = INFINITY;
  tc_f32_max_pool2d__ref(&q, neg, out);
  CHECK_NEAR(out[0], -5, 0); CHECK_NEAR(out[4], -1, 0); CHECK_NEAR(out[8], -1, 0);
}

/* Pool on random data against a loop that visits the full window and tests every tap. */
static void pool_case(int batch, int in_h, int in_w, int ch, int fh, int fw, int sh, int sw,
                      int same) {
  tc_pool2d_params p = {0};
  p.batch = batch, p.in_h = in_h, p.in_w = in_w, p.channels = ch, p.filter_h = fh,
  p.filter_w = fw, p.stride_h = sh, p.stride_w = sw, p.act_min = -INFINITY, p.act_max = INFINITY;
  geom(same, in_h, fh, sh, 1, &p.out_h, &p.pad_top);
  geom(same, in_w, fw, sw, 1, &p.out_w, &p.pad_left);
  size_t n_in = (size_t)batch * in_h * in_w * ch, n_out = (size_t)batch * p.out_h * p.out_w * ch;
  float *in = malloc(n_in * 4), *avg = malloc(n_out * 4), *mx = malloc(n_out * 4);
  fill(in, n_in, 11);
  tc_f32_avg_pool2d__ref(&p, in, avg);
  tc_f32_max_pool2d__ref(&p, in, mx);
  int bad = 0;
  for (int b = 0; b < batch; b++)
    for (int oy = 0; oy < p.out_h; oy++)
      for (int ox = 0; ox < p.out_w; ox++)
        for (int c = 0; c < ch; c++) {
          double sum = 0, m = -INFINITY;
          int cnt = 0;
          for (int ky = 0; ky < fh; ky++)
            for (int kx = 0; kx < fw; kx++) {
              int y = oy * sh - p.pad_top + ky, x = ox * sw - p.pad_left + kx;
              if (y < 0 || y >= in_h || x < 0 || x >= in_w) continue;
              double v = in[(((size_t)b * in_h + y) * in_w + x) * ch + c];
              sum += v, cnt++, m = v > m ? v : m;
            }
          size_t o = (((size_t)b * p.out_h + oy) * p.out_w + ox) * ch + c;
          if (fabs(avg[o] - sum / cnt) > 1e-6 || mx[o] != (float)m) bad++;
        }
  CHECK_EQ(bad, 0);
  free(in), free(avg), free(mx);
}

TC_TEST(kernel_nn_pool_vs_naive) {
  pool_case(1, 7, 9, 3, 3, 3, 2, 2, 1);  /* SAME, odd sizes, pad on both sides */
  pool_case(2, 8, 6, 2, 2, 3, 2, 1, 1);  /* even filter: pad only after on rows */
  pool_case(1, 7, 7, 4, 3, 2, 2, 3, 0);  /* VALID */
  pool_case(1, 3, 4, 2, 5, 5, 1, 1, 1);  /* window larger than the image */
  pool_case(1, 7, 7, 5, 7, 7, 1, 1, 0);  /* global pooling */
}

/* ---- softmax ------------------------------------------------------------------------------- */

TC_TEST(kernel_nn_softmax_hand) {
  /* beta 0.5 on [1, 2, 3]: exp(0.5 * (x - 3)) = e^-1, e^-0.5, 1, normalised. */
  float x[3] = {1, 2, 3}, y[3];
  tc_f32_softmax__ref(x, y, 1, 3, 0.5f);
  double e0 = exp(-1.0), e1 = exp(-0.5), s = e0 + e1 + 1.0;
  CHECK_NEAR(y[0], e0 / s, 1e-6); CHECK_NEAR(y[1], e1 / s, 1e-6); CHECK_NEAR(y[2], 1 / s, 1e-6);
  /* huge values stay finite thanks to the max subtraction; equal values give uniform rows */
  float big[4] = {1000, 1001, 5, 5}, out[4];
  tc_f32_softmax__ref(big, out, 2, 2, 1.0f);
  CHECK_NEAR(out[0], 1 / (1 + exp(1.0)), 1e-6); CHECK_NEAR(out[1], 1 / (1 + exp(-1.0)), 1e-6);
  CHECK_NEAR(out[2], 0.5, 0); CHECK_NEAR(out[3], 0.5, 0);
  /* one-element rows are exactly 1; in place works */
  float one[3] = {-7, 0, 42};
  tc_f32_softmax__ref(one, one, 3, 1, 1.0f);
  CHECK_NEAR(one[0], 1, 0); CHECK_NEAR(one[1], 1, 0); CHECK_NEAR(one[2], 1, 0);
}

TC_TEST(kernel_nn_softmax_vs_naive) {
  enum { R = 6, D = 29 };
  float x[R * D], y[R * D];
  fill(x, R * D, 21);
  for (int i = 0; i < R * D; i++) x[i] *= 10.0f;
  tc_f32_softmax__ref(x, y, R, D, 1.7f);
  for (int r = 0; r < R; r++) {
    double s = 0, rowsum = 0;
    for (int i = 0; i < D; i++) s += exp(1.7 * x[r * D + i]);
    for (int i = 0; i < D; i++) {
      CHECK_NEAR(y[r * D + i], exp(1.7 * x[r * D + i]) / s, 1e-6);
      rowsum += y[r * D + i];
    }
    CHECK_NEAR(rowsum, 1.0, 1e-5);
  }
}

/* ---- reductions ---------------------------------------------------------------------------- */

TC_TEST(kernel_nn_reduce_axes_and_shape) {
  uint32_t mask = 0xdead;
  int32_t axes[3] = {-1, 1, 3};
  CHECK_EQ(tc_reduce_axes_mask(4, axes, 3, &mask), 0);
  CHECK_EQ(mask, 0xau); /* axes 1 and 3; -1 and 3 collapse */
  int32_t bad[2] = {1, 4};
  CHECK_EQ(tc_reduce_axes_mask(4, bad, 2, &mask), -1);
  CHECK_EQ(mask, 0xau); /* untouched on error */
  int32_t bad2[1] = {-5};
  CHECK_EQ(tc_reduce_axes_mask(4, bad2, 1, &mask), -1);
  CHECK_EQ(tc_reduce_axes_mask(4, NULL, 0, &mask), 0);
  CHECK_EQ(mask, 0u);
  CHECK_EQ(tc_reduce_axes_mask(0, bad2, 1, &mask), -1); /* a scalar has no axis */

  int32_t dims[4] = {2, 3, 4, 5}, out[4];
  CHECK_EQ(tc_reduce_shape(4, dims, 0x6, 1, out), 4);
  CHECK_EQ(out[0], 2); CHECK_EQ(out[1], 1); CHECK_EQ(out[2], 1); CHECK_EQ(out[3], 5);
  CHECK_EQ(tc_reduce_shape(4, dims, 0x6, 0, out), 2);
  CHECK_EQ(out[0], 2); CHECK_EQ(out[1], 5);
  CHECK_EQ(tc_reduce_shape(4, dims, 0xf, 0, out), 0); /* everything reduced: a scalar */
  CHECK_EQ(tc_reduce_shape(4, dims, 0, 0, out), 4);   /* no axes: same shape */
  CHECK_EQ(out[3], 5);
}

/* Naive reduction: for every output coordinate, loops over all input elements and picks those
 * whose kept coordinates match. */
static void reduce_check(int n_dims, const int32_t *dims, uint32_t mask, tc_reduce_kind kind,
                         uint32_t seed) {
  size_t n_in = 1, n_out = 1;
  for (int i = 0; i < n_dims; i++) {
    n_in *= (size_t)dims[i];
    if (!(mask & (1u << i))) n_out *= (size_t)dims[i];
  }
  float *in = malloc(n_in * 4), *out = malloc(n_out * 4);
  fill(in, n_in, seed);
  for (size_t i = 0; i < n_in; i++) in[i] = kind == TC_REDUCE_PROD ? 1.0f + in[i] * 0.1f : in[i];
  tc_f32_reduce__ref(in, n_dims, dims, mask, kind, out);
  int bad = 0;
  for (size_t o = 0; o < n_out; o++) {
    double acc = kind == TC_REDUCE_PROD ? 1 : kind == TC_REDUCE_MAX ? -INFINITY
                 : kind == TC_REDUCE_MIN ? INFINITY : 0;
    size_t cnt = 0;
    for (size_t i = 0; i < n_in; i++) {
      /* output index of input element i: drop reduced coordinates */
      size_t rem = i, oi = 0, ostride = 1;
      for (int d = n_dims - 1; d >= 0; d--) {
        size_t coord = rem % (size_t)dims[d];
        rem /= (size_t)dims[d];
        if (!(mask & (1u << d))) oi += coord * ostride, ostride *= (size_t)dims[d];
      }
      if (oi != o) continue;
      double v = in[i];
      cnt++;
      if (kind == TC_REDUCE_SUM || kind == TC_REDUCE_MEAN) acc += v;
      else if (kind == TC_REDUCE_PROD) acc *= v;
      else if (kind == TC_REDUCE_MAX) acc = v > acc ? v : acc;
      else acc = v < acc ? v : acc;
    }
    if (kind == TC_REDUCE_MEAN) acc /= (double)cnt;
    if (fabs(out[o] - acc) > 1e-5 && bad++ < 3) CHECK_NEAR(out[o], acc, 1e-5);
  }
  CHECK_EQ(bad, 0);
  free(in), free(out);
}

TC_TEST(kernel_nn_reduce_hand) {
  /* [2, 2, 2, 1]: mean over axes 1, 2 of each batch. */
  float in[8] = {1, 2, 3, 4, 10, 20, 30, 40}, out[8];
  int32_t dims[4] = {2, 2, 2, 1};
  tc_f32_reduce__ref(in, 4, dims, 0x6, TC_REDUCE_MEAN, out);
  CHECK_NEAR(out[0], 2.5, 0); CHECK_NEAR(out[1], 25, 0);
  tc_f32_reduce__ref(in, 4, dims, 0xf, TC_REDUCE_SUM, out);
  CHECK_NEAR(out[0], 110, 0);
  tc_f32_reduce__ref(in, 4, dims, 0x1, TC_REDUCE_MAX, out); /* over batch */
  CHECK_NEAR(out[0], 10, 0); CHECK_NEAR(out[3], 40, 0);
  tc_f32_reduce__ref(in, 4, dims, 0x4, TC_REDUCE_MIN, out); /* over width */
  CHECK_NEAR(out[0], 1, 0); CHECK_NEAR(out[1], 3, 0); CHECK_NEAR(out[2], 10, 0);
  tc_f32_reduce__ref(in, 4, dims, 0x2, TC_REDUCE_PROD, out); /* over height */
  CHECK_NEAR(out[0], 3, 0); CHECK_NEAR(out[1], 8, 0); CHECK_NEAR(out[3], 800, 0);
  /* no axes: a copy; rank 0: the scalar itself */
  tc_f32_reduce__ref(in, 4, dims, 0, TC_REDUCE_MEAN, out);
  for (int i = 0; i < 8; i++) CHECK_NEAR(out[i], in[i], 0);
  tc_f32_reduce__ref(in + 5, 0, dims, 0, TC_REDUCE_MAX, out);
  CHECK_NEAR(out[0], 20, 0);
  /* max of all-negative data must not be stuck at an initial 0 */
  float neg[3] = {-3, -1, -2};
  int32_t d1[1] = {3};
  tc_f32_reduce__ref(neg, 1, d1, 1, TC_REDUCE_MAX, out);
  CHECK_NEAR(out[0], -1, 0);
}

TC_TEST(kernel_nn_reduce_vs_naive) {
  int32_t d4[4] = {2, 5, 4, 3}, d3[3] = {3, 1, 7}, d5[5] = {2, 3, 2, 3, 2};
  reduce_check(4, d4, 0x6, TC_REDUCE_MEAN, 31); /* mean over [1, 2] (global pooling) */
  reduce_check(4, d4, 0x6, TC_REDUCE_SUM, 32);
  reduce_check(4, d4, 0x9, TC_REDUCE_MAX, 33); /* non-adjacent axes */
  reduce_check(4, d4, 0xf, TC_REDUCE_MIN, 34);
  reduce_check(4, d4, 0x8, TC_REDUCE_PROD, 35);
  reduce_check(3, d3, 0x2, TC_REDUCE_MEAN, 36); /* size-1 axis */
  reduce_check(3, d3, 0x5, TC_REDUCE_MEAN, 37);
  reduce_check(5, d5, 0x15, TC_REDUCE_SUM, 38);
  reduce_check(5, d5, 0x0a, TC_REDUCE_MAX, 39);
}
