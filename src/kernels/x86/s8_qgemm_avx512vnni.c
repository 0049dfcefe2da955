/* s8_qgemm_avx512vnni.c: the AVX-512 VNNI 8-bit GEMM microkernel of qgemm.h (kgroup 4), an 8x32
 * tile of int32 accumulators (16 zmm). Each 32-bit word of A and B holds 4 consecutive k values
 * (bytes), and one vpdpbusd per 16 outputs multiplies the 4 uint8 bytes of A with the 4 int8
 * bytes of B and adds the 4 products to the int32 lane: no intermediate saturation (each product
 * fits int16 and the sum is added with wrap-around), so the accumulator is the reference's
 * wrap32(exact sum). A is uint8: int8 inputs are read as x + 128 (x xor 0x80), and the driver
 * passes the bias with -128 * sum_k w' folded in (tc_qgemm_packed.bias_a_s8). B is int8:
 * w' - a_sum_mult (0 for int8 weights, 128 - zero point for uint8 weights), and each row's
 * accumulators start at bias + a_sum_mult * (sum of the row's A bytes), which pack_a stores
 * after the strip. Packed A (kernel-private layout): row r's kp words at word r * kp (each
 * segment zero-padded to a multiple of 4 bytes), then the MR row sums. run_view reads the
 * groups in place instead (conv_x8.c's byte view: int8 inputs flipped once per call, not once
 * per window tap) and sums the rows' bytes itself where a_sum_mult is not 0: ResNet-8's 3x3
 * 16 -> 16 layers 24.9 -> 14.8 us on a Zen 4 core (docs/kernels.md).
 * The store requantizes 16 columns at a time with the same arithmetic as the AVX2 kernel
 * (tc_q_mul's double rounding in 64-bit lanes with per-column masks, or the folded form for
 * `plain` layers), adds the output zero point (wrapping), clamps to the activation range and
 * stores bytes with vpmovdb (masked for partial panels). Bit-exact with the reference kernels.
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; select.c runs it only where cpuid
 * and XCR0 allow them. tests/kernels/avx512_emu/run.sh checks it on machines without AVX-512. */
#include "kernels/qgemm.h"

#if defined(__x86_64__) && defined(__AVX512VNNI__)
#include <string.h>

#include "kernels/select.h"
#include "kernels/x86/q512.h"

#define MR 8
#define NR 32
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
/* Output stages of up to RQ_CACHE * 16 columns are loaded once per call instead of once per
 * strip (q512_rq_load: about 25 operations per 16 plain columns, 3 per 16 outputs of a strip
 * of MobileNetV2's 112x112x16 -> 96; that layer 280 -> 260 us on a Zen 4 core) */
#define RQ_CACHE 16

/* Rows of the strip kp words apart (q512.h), the row sums after them. */
static void vnni_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                        int flags, int16_t *dst16) {
  const size_t row_bytes = n_seg * ((seg_len + 3) / 4 * 4);
  q512_pack_rows(MR, row_bytes, rows, n_seg, seg_len, src, flags, dst16);
}

/* ---- the tile ------------------------------------------------------------------------------- */

/* Where the strip's rows of A groups are: row i's group g of segment sg is the 32-bit word at
 * byte r[i] + sg * seg_step + 4 g (packed A: one segment of kp groups, rows kp words apart;
 * rows in place: the segments of a byte view of the input, qgemm.h run_view), and what each
 * row's accumulators start with besides the bias: a_sum_mult * its byte sum (wrapping). */
typedef struct arows {
  const uint8_t *r[MR];
  size_t n_seg, kp_seg, seg_step;
  int32_t tv[MR];
  const q512_rq *rq; /* the output stage of columns 16 i .. 16 i + 15 at rq[i], or NULL */
} arows;

static inline __attribute__((always_inline)) q512_rq rq_at(const arows *a,
                                                           const tc_qgemm_cols *q, size_t j) {
  return a->rq ? a->rq[j / 16] : q512_rq_load(q, j);
}

static inline __attribute__((always_inline)) int32_t load32(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Rows i >= R are compiled out (R is a constant in each instantiation); their pointers are
 * set to row 0 only to keep them defined. */
#define ROW_PTR(i) const uint8_t *a##i = a->r[(i) < R ? (i) : 0];
#define ROW_ADV(i) a##i += seg_step;

/* One panel: 32 wide (W32) or 16 wide, rows [0, R), `cols` columns stored. */
static inline __attribute__((always_inline)) void panel(const size_t R, const int W32, size_t cols,
                                                        const arows *a, const int32_t *pb,
                                                        const tc_qgemm_cols *q, size_t j, char *c,
                                                        size_t ldc) {
  REP8(ROW_PTR)
  const size_t kp_seg = a->kp_seg, seg_step = a->seg_step;
  const __m512i bias0 = q512_bias(q, j);
  const __m512i bias1 = W32 ? q512_bias(q, j + 16) : bias0;
  /* A 16-wide panel has one accumulator per row, 8 dependent vpdpbusd chains: fewer than its
   * latency (5 cycles) times 2 ports. So there the odd groups go to the idle acc##i##1 and the
   * two are added after the loop (wrapping int32 adds: the same bits in any order). */
#define INIT(i) __m512i acc##i##0 = bias0, acc##i##1 = W32 ? bias1 : _mm512_setzero_si512();
  REP8(INIT)
#undef INIT
  for (size_t sg = 0; sg < a->n_seg; sg++) {
    if (W32) {
      for (size_t g = 0; g < kp_seg; g++) {
        const __m512i w0 = _mm512_loadu_si512(pb), w1 = _mm512_loadu_si512(pb + 16);
        pb += 32;
#define STEP(i)                                                     \
  if ((i) < R) {                                                    \
    const __m512i av = _mm512_set1_epi32(load32(a##i + 4 * g));     \
    acc##i##0 = _mm512_dpbusd_epi32(acc##i##0, av, w0);             \
    acc##i##1 = _mm512_dpbusd_epi32(acc##i##1, av, w1);             \
  }
        REP8(STEP)
#undef STEP
      }
    } else {
      size_t g = 0;
      for (; g + 2 <= kp_seg; g += 2, pb += 32) {
        const __m512i w0 = _mm512_loadu_si512(pb), w1 = _mm512_loadu_si512(pb + 16);
#define STEP2(i)                                                                           \
  if ((i) < R) {                                                                           \
    acc##i##0 = _mm512_dpbusd_epi32(acc##i##0, _mm512_set1_epi32(load32(a##i + 4 * g)), w0); \
    acc##i##1 =                                                                            \
        _mm512_dpbusd_epi32(acc##i##1, _mm512_set1_epi32(load32(a##i + 4 * g + 4)), w1);    \
  }
        REP8(STEP2)
#undef STEP2
      }
      if (g < kp_seg) {
        const __m512i w0 = _mm512_loadu_si512(pb);
        pb += 16;
#define STEP1(i) \
  if ((i) < R)   \
    acc##i##0 = _mm512_dpbusd_epi32(acc##i##0, _mm512_set1_epi32(load32(a##i + 4 * g)), w0);
        REP8(STEP1)
#undef STEP1
      }
    }
    REP8(ROW_ADV)
  }
  if (!W32) {
#define FOLD(i) \
  if ((i) < R) acc##i##0 = _mm512_add_epi32(acc##i##0, acc##i##1);
    REP8(FOLD)
#undef FOLD
  }
  if (q->a_sum_mult) { /* the row sums' term (wrapping adds: the order does not matter) */
#define ROWSUM(i)                                                                       \
  if ((i) < R) {                                                                        \
    const __m512i t = _mm512_set1_epi32(a->tv[i]);                                      \
    acc##i##0 = _mm512_add_epi32(acc##i##0, t);                                         \
    if (W32) acc##i##1 = _mm512_add_epi32(acc##i##1, t);                                \
  }
    REP8(ROWSUM)
#undef ROWSUM
  }
  const __m512i zp = _mm512_set1_epi32(q->out_zp);
  if (cols == (W32 ? NR : NR / 2)) {
    /* whole panels: 64 bytes at a time (q512_pack64), two rows of 32 or four rows of 16 */
    const __m512i lo8 = _mm512_set1_epi8((char)q512_lo(q)), hi8 = _mm512_set1_epi8((char)q512_hi(q));
    const q512_rq p0 = rq_at(a, q, j);
    if (W32) {
      const q512_rq p1 = rq_at(a, q, j + 16);
#define PAIR(i, k)                                                                              \
  if ((i) < R) {                                                                                \
    const __m512i v0 = q512_requant16(acc##i##0, &p0, q, zp);                                   \
    const __m512i v1 = q512_requant16(acc##i##1, &p1, q, zp);                                   \
    const __m512i v2 = (k) < R ? q512_requant16(acc##k##0, &p0, q, zp) : v0;                    \
    const __m512i v3 = (k) < R ? q512_requant16(acc##k##1, &p1, q, zp) : v1;                    \
    const __m512i b = q512_pack64(v0, v1, v2, v3, q, lo8, hi8);                                 \
    _mm256_storeu_si256((__m256i *)(void *)(c + (size_t)(i) * ldc + j),                        \
                        _mm512_castsi512_si256(b));                                             \
    if ((k) < R)                                                                                \
      _mm256_storeu_si256((__m256i *)(void *)(c + (size_t)(k) * ldc + j),                      \
                          _mm512_extracti64x4_epi64(b, 1));                                     \
  }
      PAIR(0, 1) PAIR(2, 3) PAIR(4, 5) PAIR(6, 7)
#undef PAIR
    } else {
#define RQ(i) const __m512i v##i = (i) < R ? q512_requant16(acc##i##0, &p0, q, zp) : zp;
      REP8(RQ)
#undef RQ
#define ST(i, b, l)                                                                             \
  if ((i) < R)                                                                                  \
    _mm_storeu_si128((__m128i *)(void *)(c + (size_t)(i) * ldc + j), _mm512_extracti32x4_epi32(b, l));
      {
        const __m512i b = q512_pack64(v0, v1, v2, v3, q, lo8, hi8);
        ST(0, b, 0) ST(1, b, 1) ST(2, b, 2) ST(3, b, 3)
      }
      if (R > 4) {
        const __m512i b = q512_pack64(v4, v5, v6, v7, q, lo8, hi8);
        ST(4, b, 0) ST(5, b, 1) ST(6, b, 2) ST(7, b, 3)
      }
#undef ST
    }
    return;
  }
  const __m512i lo = _mm512_set1_epi32(q512_lo(q)), hi = _mm512_set1_epi32(q512_hi(q));
  {
    const q512_rq p = rq_at(a, q, j);
    const __mmask16 m = q512_lane_mask(cols);
#define STORE0(i)                                                                           \
  if ((i) < R)                                                                              \
    q512_store16(c + (size_t)(i) * ldc + j, m, q512_requant16(acc##i##0, &p, q, zp), q, lo, hi);
    REP8(STORE0)
#undef STORE0
  }
  if (W32) {
    const q512_rq p = rq_at(a, q, j + 16);
    const __mmask16 m = q512_lane_mask(cols - 16);
#define STORE1(i)                                                                           \
  if ((i) < R)                                                                              \
    q512_store16(c + (size_t)(i) * ldc + j + 16, m, q512_requant16(acc##i##1, &p, q, zp), q, lo, \
                 hi);
    REP8(STORE1)
#undef STORE1
  }
}
#undef ROW_PTR
#undef ROW_ADV

static inline __attribute__((always_inline)) void run_rows(const size_t R, size_t nc,
                                                           const arows *a, const int16_t *pb16,
                                                           const tc_qgemm_cols *qp, void *c,
                                                           size_t ldc) {
  /* A local copy: the byte stores may alias anything, this copy cannot be aliased. */
  const tc_qgemm_cols qc = *qp, *q = &qc;
  const int32_t *pb = (const int32_t *)pb16;
  const size_t kp = a->n_seg * a->kp_seg;
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    if (cols > NR / 2) {
      panel(R, 1, cols, a, pb, q, j, c, ldc);
      pb += NR * kp;
    } else {
      panel(R, 0, cols, a, pb, q, j, c, ldc);
      pb += NR / 2 * kp;
    }
  }
}

#define ROWS_FN(R)                                                                            \
  static __attribute__((noinline)) void run##R(size_t nc, const arows *a, const int16_t *pb,  \
                                               const tc_qgemm_cols *q, void *c, size_t ldc) { \
    run_rows(R, nc, a, pb, q, c, ldc);                                                        \
  }
ROWS_FN(1)
ROWS_FN(2)
ROWS_FN(3)
ROWS_FN(4)
ROWS_FN(5)
ROWS_FN(6)
ROWS_FN(7)
ROWS_FN(8)

/* One strip of 1..8 rows. */
static void run_strip(size_t rows, size_t nc, const arows *a, const int16_t *pb,
                      const tc_qgemm_cols *q, void *c, size_t ldc) {
  switch (rows) {
  case 1: run1(nc, a, pb, q, c, ldc); break;
  case 2: run2(nc, a, pb, q, c, ldc); break;
  case 3: run3(nc, a, pb, q, c, ldc); break;
  case 4: run4(nc, a, pb, q, c, ldc); break;
  case 5: run5(nc, a, pb, q, c, ldc); break;
  case 6: run6(nc, a, pb, q, c, ldc); break;
  case 7: run7(nc, a, pb, q, c, ldc); break;
  default: run8(nc, a, pb, q, c, ldc); break;
  }
}

/* Packed A: rows kp words apart, their sums after the MR rows. */
static void vnni_run(size_t rows, size_t nc, size_t kp, const int16_t *pa, const int16_t *pb,
                     const tc_qgemm_cols *q, void *c, size_t ldc) {
  arows a;
  const uint8_t *base = (const uint8_t *)pa;
  const int32_t *sums = (const int32_t *)(const void *)(base + MR * kp * 4);
  for (size_t r = 0; r < MR; r++) {
    a.r[r] = base + r * kp * 4;
    a.tv[r] = (int32_t)((uint32_t)q->a_sum_mult * (uint32_t)sums[r]);
  }
  a.rq = NULL;
  a.n_seg = 1;
  a.kp_seg = kp;
  a.seg_step = 0;
  run_strip(rows, nc, &a, pb, q, c, ldc);
}

/* a_sum_mult times the byte sums of the 8 rows r[0..7] in place (segments of seg_len bytes,
 * seg_step apart), wrapping, into tv: one vpdpbusd with ones per 64 bytes of a row, then one
 * transposing reduction of the 8 rows' vectors (unpacks and 128-bit lane shuffles, 19 operations
 * where reducing each row alone takes 8 to 9). */
static inline __attribute__((always_inline)) void view_row_sums8(const uint8_t *const r[MR],
                                                                 size_t n_seg, size_t seg_len,
                           size_t seg_step, int32_t mult, int32_t tv[MR]) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i s[MR];
  for (size_t i = 0; i < MR; i++) s[i] = _mm512_setzero_si512();
  /* rows innermost: 8 independent vpdpbusd chains */
  for (size_t sg = 0; sg < n_seg; sg++)
    for (size_t kk = 0; kk < seg_len; kk += 64) {
      const __mmask64 m = q512_byte_mask(seg_len - kk);
      const size_t off = sg * seg_step + kk;
      for (size_t i = 0; i < MR; i++)
        s[i] = _mm512_dpbusd_epi32(s[i], _mm512_maskz_loadu_epi8(m, r[i] + off), ones);
    }
  /* per 128-bit lane: pairs of rows, then quads ([row 0..3] sums of that lane's dwords) */
  __m512i t[4], u[2];
  for (int i = 0; i < 4; i++)
    t[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2 * i], s[2 * i + 1]),
                            _mm512_unpackhi_epi32(s[2 * i], s[2 * i + 1]));
  for (int i = 0; i < 2; i++)
    u[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * i], t[2 * i + 1]),
                            _mm512_unpackhi_epi64(t[2 * i], t[2 * i + 1]));
  /* across the lanes: [u0 l0+l1, u0 l2+l3, u1 l0+l1, u1 l2+l3], then lane 0 + 1 and 2 + 3 */
  const __m512i v = _mm512_add_epi32(_mm512_shuffle_i32x4(u[0], u[1], 0x88),
                                     _mm512_shuffle_i32x4(u[0], u[1], 0xdd));
  const __m512i w = _mm512_mullo_epi32(
      _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, 0xb1)), _mm512_set1_epi32(mult));
  _mm_storeu_si128((__m128i *)(void *)tv, _mm512_castsi512_si128(w));
  _mm_storeu_si128((__m128i *)(void *)(tv + 4), _mm512_extracti32x4_epi32(w, 2));
}

/* Whole 8-row strips read in place with int8 weights (no row sums), the strip loop inside:
 * the per-call setup (the output stage's copy and constants) is paid once, not once per strip,
 * which counts where a strip has few columns. Zen 4, `bench_qgemm --min`, µs: VWW 48x48x8 ->
 * 16 13.2 -> 9.3, 24x24x16 -> 32 5.1 -> 4.1, ResNet-8 32x32x3 3x3 -> 16 7.7 -> 5.9, 32x32x16
 * 3x3 -> 16 15.3 -> 13.6. With uint8 weights (row sums per strip) the same loop made
 * MobileNetV2's layers slower (112x112x32 -> 16 90 -> 106), so those keep a call per strip. */
static __attribute__((noinline)) void run8_strips(size_t nstrips, size_t nc, arows *a,
                                                  const void *const *rp, const int16_t *pb,
                                                  const tc_qgemm_cols *qp, char *c,
                                                  size_t ldc) {
  /* the copy run_rows would make per strip, made once (byte stores may alias *qp, so the
   * compiler cannot hoist reads of it out of the loop; run_rows' own copy of qc is free) */
  const tc_qgemm_cols qc = *qp, *q = &qc;
  for (size_t st = 0; st < nstrips; st++, c += MR * ldc) {
    for (size_t r = 0; r < MR; r++) a->r[r] = (const uint8_t *)rp[st * MR + r];
    run_rows(MR, nc, a, pb, q, c, ldc);
  }
}

/* ---- weights-stationary panels (shallow float-stage products) --------------------------------
 * For K of at most WS_KG groups in one segment (1x1 convolutions of up to 32 channels; also
 * three segments of 3 groups into at most 16 columns, ws_takes), a whole
 * panel's B (KG groups x 16 or 32 columns, at most 16 zmm) stays in registers while the rows
 * stream by, 4 at a time: 8 accumulators, no B loads, and short output stages whose
 * constants stay in registers too. The tile kernel above reloads B and the stage's constants
 * per 8-row strip, and its output stage could not overlap the next tile's products there.
 * MobileNetV2 on a Zen 4 core (bench_qgemm, fastest of 41): 112x112x16 -> 96 (K = 16, 4
 * groups) 213 -> 172 us, 112x112x32 -> 16 92 -> 61, 56x56x24 -> 144 90 -> 78, 28x28x32 -> 192
 * 33.7 -> 31.3. Float-stage layers only (tc_qgemm_cols.fq: 4-6 operations per 16 outputs and
 * few constants, which stay in registers beside B). */
enum { WS_KG = 8, WS_KG_MAX = 9, WS_ROWS = 64 };

static inline __attribute__((always_inline)) __m512i ws_rq(__m512i a, __m512 fs, __m512i sub,
                                                           __m512i rsh, int neg) {
  const __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), fs, _mm512_set1_ps(12582912.0f));
  __m512i r = _mm512_sub_epi32(_mm512_castps_si512(y), sub);
  if (neg) r = _mm512_add_epi32(r, _mm512_srai_epi32(a, 31));
  return _mm512_srav_epi32(r, rsh);
}

/* One panel (W32: 32 columns, else 16) at column j, `cols` of them stored, over `rows` rows
 * (row i at rp[i], its row sums' term tv[i]); KG groups; U8 and NEG: q->out_u8 and
 * q->neg_term, fixed at compile time (6 us of MobileNetV2's 112x112x16 -> 96 where they were
 * read at run time; the clamp runs always, a no-op for the type's whole range). */
static inline __attribute__((always_inline)) void ws_panel(const int KG, const int KPS,
                                                           const int W32, const int U8,
                                                           const int NEG, const size_t pw,
                                                           size_t seg_step,
                                                           size_t rows, const void *const *rp,
                                                           const int32_t *tv, const int32_t *pb,
                                                           const tc_qgemm_cols *q, size_t j,
                                                           size_t cols, char *c, size_t ldc) {
  __m512i b0[WS_KG_MAX], b1[WS_KG_MAX]; /* (group g of B at pb + g pw) */
  for (int g = 0; g < KG; g++) {
    b0[g] = _mm512_loadu_si512(pb + (size_t)g * pw);
    b1[g] = W32 ? _mm512_loadu_si512(pb + (size_t)g * pw + 16) : b0[g];
  }
  const __m512i bias0 = _mm512_loadu_si512(q->bias + j);
  const __m512i bias1 = W32 ? _mm512_loadu_si512(q->bias + j + 16) : bias0;
  const __m512 fs0 = _mm512_loadu_ps(q->fscale + j);
  const __m512 fs1 = W32 ? _mm512_loadu_ps(q->fscale + j + 16) : fs0;
  const __m512i sub0 = _mm512_loadu_si512(q->fq_sub + j);
  const __m512i sub1 = W32 ? _mm512_loadu_si512(q->fq_sub + j + 16) : sub0;
  const __m512i rsh0 = _mm512_loadu_si512(q->rshift + j);
  const __m512i rsh1 = W32 ? _mm512_loadu_si512(q->rshift + j + 16) : rsh0;
  const __m512i lo8 = _mm512_set1_epi8((char)q512_lo(q)), hi8 = _mm512_set1_epi8((char)q512_hi(q));
  const __m512i lo = _mm512_set1_epi32(q512_lo(q)), hi = _mm512_set1_epi32(q512_hi(q));
  const int whole = cols == (W32 ? NR : NR / 2);
  for (size_t r = 0; r < rows; r += 4) {
    const size_t n = rows - r < 4 ? rows - r : 4;
    const uint8_t *a[4];
    __m512i x0[4], x1[4];
    for (int i = 0; i < 4; i++) {
      a[i] = (const uint8_t *)rp[r + ((size_t)i < n ? (size_t)i : 0)];
      const __m512i t = _mm512_set1_epi32(tv[r + ((size_t)i < n ? (size_t)i : 0)]);
      x0[i] = _mm512_add_epi32(bias0, t);
      x1[i] = W32 ? _mm512_add_epi32(bias1, t) : _mm512_setzero_si512();
    }
    for (int g = 0; g < KG; g++)
      for (int i = 0; i < 4; i++) {
        const __m512i v =
            _mm512_set1_epi32(load32(a[i] + (size_t)(g / KPS) * seg_step + 4 * (g % KPS)));
        x0[i] = _mm512_dpbusd_epi32(x0[i], v, b0[g]);
        if (W32) x1[i] = _mm512_dpbusd_epi32(x1[i], v, b1[g]);
      }
    __m512i v0[4], v1[4];
    for (int i = 0; i < 4; i++) {
      v0[i] = ws_rq(x0[i], fs0, sub0, rsh0, NEG);
      if (W32) v1[i] = ws_rq(x1[i], fs1, sub1, rsh1, NEG);
    }
    char *cr = c + r * ldc + j;
    if (whole && n == 4) {
      if (W32) {
        const __m512i p0 = q512_pack64_as(v0[0], v1[0], v0[1], v1[1], U8, 1, lo8, hi8);
        const __m512i p1 = q512_pack64_as(v0[2], v1[2], v0[3], v1[3], U8, 1, lo8, hi8);
        _mm256_storeu_si256((__m256i *)(void *)cr, _mm512_castsi512_si256(p0));
        _mm256_storeu_si256((__m256i *)(void *)(cr + ldc), _mm512_extracti64x4_epi64(p0, 1));
        _mm256_storeu_si256((__m256i *)(void *)(cr + 2 * ldc), _mm512_castsi512_si256(p1));
        _mm256_storeu_si256((__m256i *)(void *)(cr + 3 * ldc), _mm512_extracti64x4_epi64(p1, 1));
      } else {
        const __m512i p = q512_pack64_as(v0[0], v0[1], v0[2], v0[3], U8, 1, lo8, hi8);
        /* (immediate lane numbers: clang and unoptimised builds need constants) */
        _mm_storeu_si128((__m128i *)(void *)cr, _mm512_castsi512_si128(p));
        _mm_storeu_si128((__m128i *)(void *)(cr + ldc), _mm512_extracti32x4_epi32(p, 1));
        _mm_storeu_si128((__m128i *)(void *)(cr + 2 * ldc), _mm512_extracti32x4_epi32(p, 2));
        _mm_storeu_si128((__m128i *)(void *)(cr + 3 * ldc), _mm512_extracti32x4_epi32(p, 3));
      }
    } else { /* a panel's last columns or the last rows: stores lane by lane */
      const __mmask16 m0 = q512_lane_mask(cols), m1 = q512_lane_mask(cols > 16 ? cols - 16 : 0);
      for (size_t i = 0; i < n; i++) {
        q512_store16(cr + i * ldc, m0, v0[i], q, lo, hi);
        if (W32) q512_store16(cr + i * ldc + 16, m1, v1[i], q, lo, hi);
      }
    }
  }
}

#define WS_FN(KG, KPS, U8, NEG)                                                                \
  static __attribute__((noinline)) void ws_panels##KG##_##KPS##U8##NEG(                         \
      size_t rows, size_t nc, const void *const *rp, size_t seg_step, const int32_t *tv,        \
      const int32_t *pb, const tc_qgemm_cols *q, char *c, size_t ldc) {                         \
    for (size_t j = 0; j < nc; j += NR) {                                                      \
      const size_t cols = nc - j < NR ? nc - j : NR;                                           \
      if (cols > NR / 2 && (KG) <= WS_KG) { /* (KG > WS_KG: nc <= 16, see ws_takes) */      \
        ws_panel(KG, KPS, 1, U8, NEG, NR, seg_step, rows, rp, tv, pb, q, j, cols, c, ldc);      \
        pb += NR * (KG);                                                                       \
      } else {                                                                                 \
        ws_panel(KG, KPS, 0, U8, NEG, NR / 2, seg_step, rows, rp, tv, pb, q, j, cols, c, ldc);  \
        pb += NR / 2 * (KG);                                                                   \
      }                                                                                        \
    }                                                                                          \
  }
#define WS_FN4(KG, KPS)                                                                        \
  WS_FN(KG, KPS, 0, 0) WS_FN(KG, KPS, 0, 1) WS_FN(KG, KPS, 1, 0) WS_FN(KG, KPS, 1, 1)
WS_FN4(1, 1)
WS_FN4(2, 2)
WS_FN4(3, 3)
WS_FN4(4, 4)
WS_FN4(5, 5)
WS_FN4(6, 6)
WS_FN4(7, 7)
WS_FN4(8, 8)
WS_FN4(9, 3) /* three segments of 9 to 12 bytes: 3x3 convolutions of 3 channels (stems) */
#undef WS_FN4
#undef WS_FN
typedef void ws_fn(size_t rows, size_t nc, const void *const *rp, size_t seg_step,
                   const int32_t *tv, const int32_t *pb, const tc_qgemm_cols *q, char *c,
                   size_t ldc);
#define WS_ROW(KG, KPS)                                                                        \
  {ws_panels##KG##_##KPS##00, ws_panels##KG##_##KPS##01, ws_panels##KG##_##KPS##10,             \
   ws_panels##KG##_##KPS##11}
/* one segment of 1 .. WS_KG groups, then the stems' three segments of 3 groups */
static ws_fn *const ws_fns[WS_KG + 1][4] = {WS_ROW(1, 1), WS_ROW(2, 2), WS_ROW(3, 3),
                                            WS_ROW(4, 4), WS_ROW(5, 5), WS_ROW(6, 6),
                                            WS_ROW(7, 7), WS_ROW(8, 8), WS_ROW(9, 3)};
#undef WS_ROW

/* a_sum_mult times the byte sums of rows r[0 .. n) of seg_len <= 16 bytes, into tv: 4 rows per
 * vector, one per 128-bit lane (one vpdpbusd with ones, two shuffles and adds, a multiply and
 * a gather of the lanes' first words), against view_row_sums8's masked 64-byte loads and 8-row
 * reduction. The row sums took 14 us of MobileNetV2's 112x112x16 -> 96 (172 us) before; this
 * and the compile-time form (ws_panel) together took it to 160 us. */
static void ws_sums16(const void *const *r, size_t n, size_t seg_len, int32_t mult,
                      int32_t *tv) {
  const __mmask16 m = (__mmask16)((1u << seg_len) - 1u);
  const __m512i ones = _mm512_set1_epi8(1), mv = _mm512_set1_epi32(mult);
  const __m512i first = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  for (size_t i = 0; i < n; i += 4) {
    const size_t k = n - i < 4 ? n - i : 4;
    __m512i v = _mm512_castsi128_si512(_mm_maskz_loadu_epi8(m, r[i]));
    v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(m, r[i + (k > 1 ? 1 : 0)]), 1);
    v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(m, r[i + (k > 2 ? 2 : 0)]), 2);
    v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(m, r[i + (k > 3 ? 3 : 0)]), 3);
    __m512i t = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v, ones);
    t = _mm512_add_epi32(t, _mm512_shuffle_epi32(t, (_MM_PERM_ENUM)0x4E));
    t = _mm512_add_epi32(t, _mm512_shuffle_epi32(t, (_MM_PERM_ENUM)0xB1));
    t = _mm512_permutexvar_epi32(first, _mm512_mullo_epi32(t, mv));
    _mm_mask_storeu_epi32(tv + i, (__mmask8)((1u << k) - 1u), _mm512_castsi512_si128(t));
  }
}

/* Whether ws_run_view takes a product: float-stage layers of one segment of at most WS_KG
 * groups, or of three segments of 3 groups (9 to 12 bytes: 3x3 convolutions of 3 channels)
 * into at most 16 columns: ResNet-8's 32x32x3 3x3 -> 16 6.0 -> 4.7 us (Zen 4, bench_qgemm);
 * MobileNetV2's stem into 32 columns, whose B passes the registers (two passes of 16), went
 * from 144 to 174 us, so it keeps the tile kernel. */
static int ws_takes(const tc_qgemm_cols *q, size_t nc, size_t n_seg, size_t seg_len) {
  const size_t kps = (seg_len + 3) / 4;
  return q->fq && ((n_seg == 1 && kps <= WS_KG) || (n_seg == 3 && kps == 3 && nc <= 16));
}

/* run_view for ws_takes: the row sums' terms of up to WS_ROWS rows, then every panel over
 * them. */
static __attribute__((noinline)) void ws_run_view(size_t rows, size_t nc, size_t n_seg,
                                                  size_t seg_len, const void *const *rp,
                                                  size_t seg_step, const int16_t *pb16,
                                                  const tc_qgemm_cols *qp, char *c,
                                                  size_t ldc) {
  const tc_qgemm_cols qc = *qp, *q = &qc; /* (a copy the byte stores cannot alias) */
  const int32_t *pb = (const int32_t *)pb16;
  const size_t kps = (seg_len + 3) / 4;
  ws_fn *const fn =
      ws_fns[n_seg == 1 ? kps - 1 : WS_KG][2 * (q->out_u8 != 0) + (q->neg_term != 0)];
  int32_t tv[WS_ROWS];
  for (size_t i0 = 0; i0 < rows; i0 += WS_ROWS, c += WS_ROWS * ldc) {
    const size_t n = rows - i0 < WS_ROWS ? rows - i0 : WS_ROWS;
    const void *const *r = rp + i0;
    if (q->a_sum_mult && n_seg == 1 && seg_len <= 16)
      ws_sums16(r, n, seg_len, q->a_sum_mult, tv);
    else if (q->a_sum_mult)
      for (size_t i = 0; i < n; i += MR) {
        const uint8_t *r8[MR];
        for (size_t k = 0; k < MR; k++) r8[k] = (const uint8_t *)r[i + k < n ? i + k : i];
        int32_t t8[MR];
        view_row_sums8(r8, n_seg, seg_len, seg_step, q->a_sum_mult, t8);
        for (size_t k = 0; k < MR && i + k < n; k++) tv[i + k] = t8[k];
      }
    else
      memset(tv, 0, sizeof tv);
    fn(n, nc, r, seg_step, tv, pb, q, c, ldc);
  }
}

/* Rows in place (qgemm.h run_view): strips of MR rows. */
static void vnni_run_view(size_t rows, size_t nc, size_t n_seg, size_t seg_len,
                          const void *const *rp, size_t seg_step, const int16_t *pb,
                          const tc_qgemm_cols *q, void *cv, size_t ldc) {
  if (ws_takes(q, nc, n_seg, seg_len)) {
    ws_run_view(rows, nc, n_seg, seg_len, rp, seg_step, pb, q, cv, ldc);
    return;
  }
  arows a;
  a.n_seg = n_seg;
  a.kp_seg = (seg_len + 3) / 4;
  a.seg_step = seg_step;
  q512_rq rq[RQ_CACHE];
  a.rq = NULL;
  if (nc <= RQ_CACHE * 16 && rows > MR) {
    for (size_t j = 0; j < nc; j += 16) rq[j / 16] = q512_rq_load(q, j);
    a.rq = rq;
  }
  char *c = cv;
  size_t i = 0;
  if (rows >= MR && !q->a_sum_mult) {
    memset(a.tv, 0, sizeof a.tv);
    run8_strips(rows / MR, nc, &a, rp, pb, q, c, ldc);
    i = rows / MR * MR;
    c += i * ldc;
  }
  for (; i < rows; i += MR, c += MR * ldc) {
    const size_t n = rows - i < MR ? rows - i : MR;
    for (size_t r = 0; r < MR; r++) a.r[r] = (const uint8_t *)rp[i + (r < n ? r : 0)];
    if (q->a_sum_mult)
      view_row_sums8(a.r, n_seg, seg_len, seg_step, q->a_sum_mult, a.tv);
    else
      memset(a.tv, 0, sizeof a.tv);
    run_strip(n, nc, &a, pb, q, c, ldc);
  }
}

/* Shallow products of at most 8 columns (K < 32, N <= 8: VWW's 3-channel stem, K = 27 padding
 * each 9-byte segment to 12, into 8 channels) run faster on the AVX2 kernel, whose 4x16 tile
 * and int16 pairs waste fewer lanes and bytes there: 96x96x3 -> 8 in 14.7 us against 17.0 on a
 * Zen 4 core (bench_qgemm). With packed A the rule was K < 32 with N <= 32 (Sapphire Rapids:
 * 96x96x3 -> 8 in 40 us against 106, 224x224x3 -> 32 in 570 against 633); reading the rows in
 * place (run_view) turned the 16- and 32-column ones around on Zen 4: 32x32x3 -> 16 7.1 against
 * 9.1 us, 48x48x8 -> 16 11.7 against 13.1, 32x32x16 1x1/2 -> 32 3.0 against 3.5, 224x224x3 ->
 * 32 250.8 against 286.8 (docs/kernels.md). */
static int vnni_suits(int32_t m, int32_t n, int32_t k) {
  (void)m;
  return !(k < 32 && n <= 8);
}

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__avx512vnni_8x32 = {
    .name = "avx512vnni_8x32", .mr = MR, .nr = NR, .pack_a = vnni_pack_a, .run = vnni_run,
    .kgroup = 4, .run_view = vnni_run_view, .fallback = &tc_s8_qgemm__avx2_4x16,
    .suits = vnni_suits, .float_stage = 1};
#endif
