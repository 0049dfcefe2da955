/* qgemm.h: the 8-bit integer GEMM behind int8/uint8 CONV_2D and FULLY_CONNECTED:
 * out = requant(A * B' + bias'), with A an int8 or uint8 matrix (rows given directly or produced
 * on the fly, e.g. by im2col), B' = weights + weight offset, and the input zero-point term folded
 * into bias' at pack time. Products are taken on operands widened to int16 and summed in int32
 * (vpmaddwd on AVX2: no saturation is possible, |w'| <= 383 and |x| <= 255), which wraps exactly
 * like the reference kernels' wrap32(exact sum), and the requantization is tc_q_mul (double
 * rounding) + output zero point + clamp, per output column: outputs are bit-exact with
 * tc_s8/u8_conv2d__ref and tc_s8/u8_fully_connected__ref. Weights are packed once (prepare);
 * a call allocates nothing. Variants are listed in kernels.def (slot s8_qgemm). */
#ifndef TC_KERNELS_QGEMM_H
#define TC_KERNELS_QGEMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/threadpool.h"

/* A correction a kernel with pair_sat adds after its K loop (see the ukernel field): row r's
 * accumulator of column `lane` of the panel gains delta * (byte `off` of row r's packed A). */
typedef struct tc_qgemm_fix {
  int32_t off;   /* byte offset in a packed A row: 4 * group + position in the group */
  int32_t lane;  /* column within the panel (0 .. nr - 1) */
  int32_t delta; /* |delta| <= 128 */
  int32_t pad;
} tc_qgemm_fix;

/* Per-column output stage, arrays padded past the packed column count (a multiple of nr) by 8
 * entries, so whole vectors may be read at any column of a panel and one past it. */
typedef struct tc_qgemm_cols {
  const int32_t *bias;   /* bias[j] + input_offset * sum_k w'[j][k] (wrapped to int32) */
  const int32_t *mult;   /* Q0.31 multiplier (>= 0) */
  const int32_t *lshift; /* max(shift, 0) */
  const int32_t *rshift; /* max(-shift, 0), <= 31 */
  const int32_t *rmask;  /* 2^rshift - 1 (the rounding divide's remainder mask) */
  const int32_t *rhalf;  /* rmask >> 1 (its threshold for non-negative values) */
  /* (2^(rshift - 1) + out_zp 2^rshift) 2^31 + 2^30 per column, for `plain` (0 where a column
   * cannot be plain); per group of 8 columns j0 .. j0+7
   * (j0 a multiple of 8) the int64 values of columns j0, j0+2, j0+4, j0+6, then j0+1, j0+3,
   * j0+5, j0+7, at rconst + j0 (the even and odd lanes of a vector of 8 columns). */
  const int64_t *rconst;
  int32_t out_zp, act_min, act_max;
  int out_u8;     /* 1: store uint8, else int8 */
  int any_lshift; /* some lshift[j] > 0 (else kernels may skip the left shift) */
  int clamp;      /* [act_min, act_max] is narrower than the output type's range */
  /* Every column has no left shift, a right shift >= 1 and |accumulator| < 2^30 for any 8-bit
   * input (bound from the weights and bias at pack time): then the rounding divide can be
   * folded into the 64-bit product (floor((x m + rconst) / 2^31) - (x < 0), shifted right by
   * rshift), which equals the double rounding exactly, with the output offset already added
   * (out_zp 2^rshift inside the floor is a multiple of the divisor); rshift <= 22 keeps
   * x m + rconst inside int64. */
  int plain;
  /* plain: the - (x < 0) term is needed, because [act_min, act_max] lets bytes below out_zp
   * through; where it does not (RELU, RELU6), both forms give out_zp or less for x < 0 (x m <= 0
   * and the rounding constants stay below one divisor), clamped alike, so kernels may skip it */
  int neg_term;
  /* The float output stage (qmath.h's tc_q_float_fit: (bits(fma((float)x, fscale[j],
   * 1.5 * 2^23)) - fq_sub[j] - (x < 0 if neg_term)) >> rshift[j], 4 operations per 16 columns,
   * 6 with the x < 0 term), for q512.h's kernels (others ignore it). Set only where the pack
   * proved, column by column, that it gives the reference's clamped bytes for every accumulator
   * the layer can reach. The accumulators then start at the bias (not the plain form's bias +
   * 2^31). */
  int fq;
  const float *fscale;
  const int32_t *fq_sub;
  /* kgroup 4 kernels only (0 elsewhere): B holds w' - a_sum_mult as int8 (a_sum_mult = 0 for
   * int8 weights, 128 + w_offset for uint8 ones), and row i's accumulators start at bias +
   * a_sum_mult * (sum of row i's A bytes read as uint8), wrapping. */
  int32_t a_sum_mult;
  /* pair_sat kernels only (NULL elsewhere): the corrections of panel p (p counted from the
   * first column these arrays start at) are fix[fix_at[p]] .. fix[fix_at[p + 1] - 1]. */
  const int32_t *fix_at;
  const tc_qgemm_fix *fix;
} tc_qgemm_cols;

/* ---- microkernels ----------------------------------------------------------------------------
 * K is split into n_seg segments of seg_len values (seg_len = K / n_seg; one segment unless the
 * weights were packed for a convolution's receptive-field layout, kernels/conv_x8.h), and each
 * segment into kp_seg = ceil(seg_len / 2) pairs, so that a segment is a run of contiguous bytes
 * of the input (an image row of a convolution window) and A is packed straight from it.
 * kp = n_seg * kp_seg pairs in all (rounded up to the kernel's kalign, the extra ones zero).
 * Packed A (one strip of mr rows) is the kernel's own: mr * kp int32 words (plus the pack slack)
 * written by its pack_a and read by its run; for kgroup 2 each word holds the int16 values of
 * one row at a pair's two k (a zero past the end of an odd segment), e.g. pair-major with the mr
 * rows' words together (ref, NEON) or row-major (AVX2).
 * Packed B: panels of nr columns (the last one nr/2 wide when its n % nr columns fit in nr/2),
 * panel p at int16 offset p * nr * 2 * kp; a panel of width W holds, for each pair, W int32 words
 * (B'[k0][j], B'[k1][j]) (zero past n and past the end of an odd segment). run computes rows
 * [0, rows) and columns [0, nc) of a block starting at a panel boundary, cols pointing at the
 * block's first column, and stores bytes at c[i * ldc + j].
 * kgroup 4 (byte groups, for u8 x s8 dot products such as vpdpbusd): the same with groups of 4
 * k values instead of pairs (kp = n_seg * ceil(seg_len / 4) groups): a B word holds the 4 int8
 * bytes w'[k0..k3][j] - cols.a_sum_mult (zero past n and past a segment's end); A is uint8,
 * int8 inputs read as x + 128, for which the driver passes tc_qgemm_packed.bias_a_s8 as
 * cols.bias; the packed A layout is the kernel's own (mr * kp int32 words plus the pack slack),
 * so it can keep row sums there. A kernel with b_xor = 0x80 gets every B byte xor 0x80, i.e. as
 * the uint8 value B + 128 (for u8 x u8 dot products such as Arm's UDOT; it then adds
 * (a_sum_mult - 128) * the row sum instead of a_sum_mult * the row sum). */
typedef void tc_s8_qgemm_pack_a_fn(size_t rows, size_t n_seg, size_t seg_len,
                                   const void *const *src, int flags, int16_t *dst);
typedef void tc_s8_qgemm_run_fn(size_t rows, size_t nc, size_t kp, const int16_t *packed_a,
                                const int16_t *packed_b, const tc_qgemm_cols *cols, void *c,
                                size_t ldc);
/* gemv (optional, NULL if the kernel has none; kgroup 2 only): one row with B stored as bytes
 * (the int8 or uint8 weights as given, w_u8, in the pair layout with one byte per value, so a
 * panel of width W holds W * 2 bytes per pair), for products of few rows, where streaming the
 * weights dominates. a: the row's kp int32 pairs (int16 values, zero past each segment's end);
 * row_add is added to every column's accumulator (w_offset * the row's sum, wrapping); stores
 * columns [0, nc) of the row at c. */
typedef void tc_s8_qgemm_gemv_fn(size_t nc, size_t kp, const int32_t *a, int32_t row_add,
                                 const int8_t *packed_b8, int w_u8, const tc_qgemm_cols *cols,
                                 void *c);
/* wino (optional, NULL if the kernel has none; kgroup 2 only): tiles [t0, t1) of a Winograd
 * F(2x2, 3x3) convolution (kernels/qwino.h) with tc_qwino_run_scratch bytes of scratch. */
struct tc_qwino_job;
typedef void tc_s8_qgemm_wino_fn(const struct tc_qwino_job *job, size_t t0, size_t t1,
                                 void *scratch);
/* run_view (optional, NULL if the kernel has none): run without pack_a, on rows read in place
 * from a view of the input (e.g. an image with its zero-point border, made once per call): row
 * r's segment s starts at a[r] + s * seg_step elements and holds seg_len values, read as
 * ceil(seg_len / kgroup) whole groups, so a segment's last group may read up to kgroup - 1
 * elements past it (they must be readable; their weights are zero). Elements are int16 values
 * for kgroup 2 (any value past a segment must be finite), uint8 bytes for kgroup 4: int8 inputs
 * are given as x xor 0x80 (x + 128, as pack_a makes them; the driver passes bias_a_s8 as for
 * packed int8 rows), and the kernel sums each row's seg_len values itself where a_sum_mult is
 * not 0. Only for kp = n_seg * ceil(seg_len / kgroup) (no kalign padding). Any number of rows;
 * columns, B and stores as run. */
typedef void tc_s8_qgemm_run_view_fn(size_t rows, size_t nc, size_t n_seg, size_t seg_len,
                                     const void *const *a, size_t seg_step,
                                     const int16_t *packed_b, const tc_qgemm_cols *cols, void *c,
                                     size_t ldc);
/* pack_a: widens segments src[r * n_seg + s] (r < rows, s < n_seg; seg_len bytes each, uint8
 * if flags has TC_QGEMM_A_U8, else int8) into the packed A layout of an mr-row strip (rows < mr:
 * the missing rows are unspecified but finite). It reads only the segments' bytes, or up to 15
 * bytes past each segment's end if flags has TC_QGEMM_A_OVERREAD (the caller guarantees that
 * memory is readable; the extra bytes are ignored), and may write up to TC_QGEMM_PACK_SLACK
 * bytes past the strip's mr * kp int32 words. */
#define TC_QGEMM_PACK_SLACK 512
enum { TC_QGEMM_A_U8 = 1, TC_QGEMM_A_OVERREAD = 2 };
/* Bytes of one packed A strip with its slack (64-aligned). */
static inline size_t tc_qgemm_strip_bytes(size_t mr, size_t kp) {
  return (mr * kp * 4 + TC_QGEMM_PACK_SLACK + 63) & ~(size_t)63;
}
struct tc_s8_qgemm_ukernel {
  const char *name; /* "<isa>_<mr>x<nr>" */
  int mr, nr;
  tc_s8_qgemm_pack_a_fn *pack_a;
  tc_s8_qgemm_run_fn *run;
  int kgroup; /* k values per 32-bit word of packed A and B: 2 (int16 pairs; 0 means 2) or 4 */
  tc_s8_qgemm_gemv_fn *gemv;
  tc_s8_qgemm_wino_fn *wino;
  /* 1: pack_a and run take any number of rows, as strips of mr, strip s of packed A at byte
   * s * tc_qgemm_strip_bytes(mr, kp) (fewer calls per row for small K and N); 0: rows <= mr */
  int multi;
  tc_s8_qgemm_run_view_fn *run_view;
  /* K of packed A and B rounded up to a multiple of kalign groups (0 or 1: not rounded), the
   * groups past the segments zero: kp = round_up(n_seg * groups per segment, kalign) (for tile
   * instructions that take a fixed number of groups, e.g. AMX's 16). */
  int kalign;
  /* Products of m rows (0: not known at prepare), n columns and depth k for which `suits`
   * returns 0 run better on `fallback` (tc_qgemm_kernel_for). NULL fallback: this kernel runs
   * every shape; NULL suits with a fallback: only the pair_sat fit decides. */
  const struct tc_s8_qgemm_ukernel *fallback;
  int (*suits)(int32_t m, int32_t n, int32_t k);
  /* Products of fewer multiply-adds (whole tiles) than this run on the calling thread; 0: the
   * driver's default (256K). A kernel many times faster per multiply-add than the others needs
   * a larger product before a second thread's share outweighs the cost of splitting (the
   * workers' wake-up, each thread packing its own A rows, reading the other core's rows). */
  double min_parallel_macs;
  int b_xor; /* kgroup 4: xor applied to every packed B byte (0, or 0x80: B stored as uint8) */
  /* kgroup 4: 1 if the kernel adds the two u8 x s8 products of each byte pair (k0, k1), (k2,
   * k3) of a group in int16 with saturation (AVX2 vpmaddubsw) before widening. Pack then keeps
   * every pair of B safe (same-sign magnitudes summing to at most 128, so |255 (b0 + b1)| fits
   * int16) by moving the excess of one byte into a tc_qgemm_fix the kernel adds after its K
   * loop; the pair_sat kernel is only chosen for weights needing few of them
   * (tc_qgemm_kernel_for), and tc_qgemm_pack returns NULL for weights needing more. */
  int pair_sat;
  /* 1: the kernel takes the float output stage (tc_qgemm_cols.fq; q512.h's kernels), so the
   * pack tries to prove it for the weights (a few microseconds per distinct column scale) */
  int float_stage;
};
typedef const struct tc_s8_qgemm_ukernel tc_s8_qgemm_kernel;

struct tc_qgemm_weights;
/* The kernel for a product of m rows (0: unknown), n columns and depth k with weights w (NULL:
 * judged by the shape alone): kr, or the first of its fallbacks whose shape limits the product
 * meets and, for a pair_sat kernel, whose pack the weights fit (kr NULL: the dispatch table's).
 * Ops call it at prepare and pack with the kernel it returns. */
tc_s8_qgemm_kernel *tc_qgemm_kernel_for(tc_s8_qgemm_kernel *kr, int32_t m, int32_t n, int32_t k,
                                        const struct tc_qgemm_weights *w);
/* kr, or for a pair_sat kernel whose pack these weights would not fit, the first fallback
 * they fit (kr NULL: the dispatch table's). Tests call it on each variant before packing. */
tc_s8_qgemm_kernel *tc_qgemm_kernel_fit(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k,
                                        const struct tc_qgemm_weights *w);
/* The corrections (tc_qgemm_fix) a pair_sat kernel's pack needs for these weights, and the most
 * it takes for this shape (tc_qgemm_pack fails above it); 0 and 0 for other kernels. */
int32_t tc_qgemm_fix_count(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k,
                           const struct tc_qgemm_weights *w);
int32_t tc_qgemm_fix_cap(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k, int32_t n_seg);

/* ---- packed weights ------------------------------------------------------------------------ */

/* Weights packed for one kernel, with the per-column output stage; lives at the start of the
 * buffer given to tc_qgemm_pack (pointers point inside it). */
typedef struct tc_qgemm_packed {
  tc_s8_qgemm_kernel *kr;
  int32_t n, k, kp, n_pad;
  int32_t n_seg, seg_len; /* K layout (see the microkernels above) */
  const int8_t *b8;       /* non-NULL: B stored as bytes for kr->gemv (b is then NULL) */
  int32_t w_u8, w_offset; /* b8: the weights' type and offset */
  tc_qgemm_cols cols;
  const int16_t *b;
  /* cols.bias for int8 A: the same array, or for kgroup 4 bias - 128 * sum_k w' (wrapped) */
  const int32_t *bias_a_s8;
} tc_qgemm_packed;

/* How the weights and the requantization are described to tc_qgemm_pack. */
typedef struct tc_qgemm_weights {
  const void *w;       /* [n][k] (row j at w + j * ldw), int8, or uint8 if w_is_u8 */
  size_t ldw;
  int w_is_u8;
  int32_t w_offset;    /* added to every weight (minus the weights' zero point) */
  int32_t in_offset;   /* added to every input value (minus the input zero point) */
  const int32_t *bias; /* [n] or NULL */
  const int32_t *mult; /* [n] */
  const int32_t *shift;/* [n], > 0 shifts left (TFLite convention) */
  int32_t out_zp, act_min, act_max;
  int out_u8;
  int32_t n_seg;       /* 0 or 1: K is one segment; else K = n_seg * seg_len (must divide) */
  int32_t m_hint;      /* rows the products will have (0: unknown); 1 packs for kr->gemv */
} tc_qgemm_weights;

/* Bytes for tc_qgemm_pack (n, k > 0) with K in n_seg segments (0 or 1: one); 0 if n or k <= 0.
 * Includes 64 bytes of alignment slack. Here and in tc_qgemm_pack, kr NULL means
 * tc_qgemm_kernel_for(NULL, 0, n, k, NULL) (the dispatch table's kernel by shape). */
size_t tc_qgemm_packed_size_seg(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k, int32_t n_seg);
/* The same for one segment. */
size_t tc_qgemm_packed_size(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k);

/* Packs into `buf` (tc_qgemm_packed_size bytes) and returns the packed view, or NULL when the
 * arguments cannot be handled exactly (a shift outside [-31, 31], a negative multiplier, weights
 * + offset outside int16, n or k <= 0, n_seg not dividing k): the caller then keeps the
 * reference kernel; also NULL for weights a pair_sat kr does not fit (tc_qgemm_kernel_fit). */
const tc_qgemm_packed *tc_qgemm_pack(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k,
                                     const tc_qgemm_weights *w, void *buf);

/* The output stage alone (for other 8-bit kernels that end like the GEMM, e.g. qwino.h): bias
 * with the input offset folded, multipliers and shifts of n columns padded to n_pad, in `mem`
 * (64-aligned, tc_qgemm_output_stage_size(n_pad) bytes). Returns 0, like tc_qgemm_pack's NULL,
 * when they cannot be handled exactly. w->w holds the n x k weights (their sums go into the
 * bias). */
size_t tc_qgemm_output_stage_size(int32_t n_pad);
int tc_qgemm_output_stage(const tc_qgemm_weights *w, int32_t n, int32_t k, int32_t n_pad,
                          void *mem, tc_qgemm_cols *cols);

/* ---- the product --------------------------------------------------------------------------- */

/* Where the rows of A come from: a matrix (row i at base + i * lda bytes); or rows_fn, which
 * sets rows[r] (r < n) to row i + r's k bytes, either inside the caller's data or written into
 * buf + r * stride (per-thread scratch with room for n rows of k + 16 bytes); or segs_fn, which
 * sets segs[r * n_seg + s] to segment s (seg_len bytes, the packed weights' K layout) of row
 * i + r, in the caller's data or in buf + r * stride as rows_fn. The first one set is used.
 * Row buffers have 15 readable bytes past k + 16 (so rows assembled there are over-readable).
 * With a kernel that has run_view, view_fn (if set) takes precedence: it sets rows[r] (r < n,
 * n <= 64) to row i + r's first segment in a view of the input (int16 values for kgroup 2,
 * bytes, int8 ones flipped, for kgroup 4; see run_view for what is read), segment s at rows[r]
 * + s * seg_step elements. The caller checks kr->run_view (and kp) before choosing this form,
 * and does not use it with weights packed for gemv (tc_qgemm_packed.b8 set), which read rows
 * through rows_fn / segs_fn / base. */
typedef struct tc_qgemm_a {
  int is_u8; /* 1: uint8 bytes, else int8 */
  const void *base;
  size_t lda;
  void (*rows_fn)(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                  const void **rows);
  const void *ctx;
  void (*segs_fn)(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                  const void **segs);
  int overread; /* 1: 15 bytes past every row / segment end are readable (see pack_a); a plain
                 * matrix (base) is over-read where later rows follow without it */
  void (*view_fn)(const void *ctx, size_t i, size_t n, const void **rows);
  size_t seg_step; /* view_fn: elements from one segment to the next */
} tc_qgemm_a;

/* Scratch bytes tc_qgemm needs for a pool of n_threads threads. */
size_t tc_qgemm_scratch_size(const tc_qgemm_packed *pk, int n_threads);

/* out[i * ldc + j] for i < m, j < n: the requantized product. Work is split over `pool`
 * (NULL: this thread); `scratch` has tc_qgemm_scratch_size(pk, threads of pool) bytes. Exact
 * integer arithmetic: identical for any pool. */
void tc_qgemm(const tc_qgemm_packed *pk, tc_threadpool *pool, int32_t m, const tc_qgemm_a *a,
              void *out, size_t ldc, void *scratch);

/* The kernel dispatch chose (the portable one when the reference kernels are forced). */
tc_s8_qgemm_kernel *tc_s8_qgemm_default_kernel(void);

/* Plain oracle (kernels/ref/qgemm.c): the same result with unpacked operands and scalar loops,
 * A [m][k] (lda), weights as in tc_qgemm_weights. For tests. */
void tc_s8_qgemm__ref(int32_t m, int32_t n, int32_t k, const void *a, size_t lda, int a_is_u8,
                      const tc_qgemm_weights *w, void *out, size_t ldc);

#endif /* TC_KERNELS_QGEMM_H */
