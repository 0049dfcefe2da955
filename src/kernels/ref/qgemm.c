/* qgemm.c (ref): the plain oracle of the 8-bit GEMM (kernels/qgemm.h), scalar loops over
 * unpacked operands with an exact 64-bit sum wrapped to int32 and tc_q_mul, as the reference
 * conv/FC kernels; and the portable 4x16 microkernel on the packed layout (plain C, no
 * intrinsics), the variant used where no SIMD one applies. */
#include <string.h>

#include "kernels/qgemm.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"

static int32_t get8(const void *p, size_t i, int is_u8) {
  return is_u8 ? (int32_t)((const uint8_t *)p)[i] : (int32_t)((const int8_t *)p)[i];
}

void tc_s8_qgemm__ref(int32_t m, int32_t n, int32_t k, const void *a, size_t lda, int a_is_u8,
                      const tc_qgemm_weights *w, void *out, size_t ldc) {
  for (int32_t i = 0; i < m; i++) {
    const char *row = (const char *)a + (size_t)i * lda;
    for (int32_t j = 0; j < n; j++) {
      const char *wr = (const char *)w->w + (size_t)j * w->ldw;
      int64_t acc = 0;
      for (int32_t kk = 0; kk < k; kk++)
        acc += (int64_t)(get8(wr, (size_t)kk, w->w_is_u8) + w->w_offset) *
               (get8(row, (size_t)kk, a_is_u8) + w->in_offset);
      if (w->bias) acc += w->bias[j];
      int32_t r = tc_q_mul((int32_t)(uint32_t)(uint64_t)acc, w->mult[j], w->shift[j]);
      r = tc_q_add_clamp(r, w->out_zp, w->act_min, w->act_max);
      if (w->out_u8)
        ((uint8_t *)out)[(size_t)i * ldc + (size_t)j] = (uint8_t)r;
      else
        ((int8_t *)out)[(size_t)i * ldc + (size_t)j] = (int8_t)r;
    }
  }
}

/* ---- portable microkernel ------------------------------------------------------------------ */

enum { MR = 4, NR = 16 };

static void ref_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                       int flags, int16_t *dst) {
  const int is_u8 = flags & TC_QGEMM_A_U8;
  const size_t kp_seg = (seg_len + 1) / 2;
  for (size_t sg = 0; sg < n_seg; sg++)
    for (size_t p = 0; p < kp_seg; p++, dst += MR * 2)
      for (size_t r = 0; r < MR; r++)
        for (size_t h = 0; h < 2; h++) {
          const size_t off = 2 * p + h;
          dst[r * 2 + h] = r < rows && off < seg_len
                               ? (int16_t)get8(src[r * n_seg + sg], off, is_u8)
                               : (int16_t)0;
        }
}

/* tc_q_mul_double written with the split shifts of tc_qgemm_cols. */
static int32_t requant(const tc_qgemm_cols *q, size_t j, int32_t acc) {
  int32_t x = (int32_t)((uint32_t)acc << q->lshift[j]);
  int32_t r = tc_q_rdivpot(tc_q_srdhm(x, q->mult[j]), q->rshift[j]);
  return tc_q_add_clamp(r, q->out_zp, q->act_min, q->act_max);
}

static void ref_run(size_t rows, size_t nc, size_t kp, const int16_t *pa, const int16_t *pb,
                    const tc_qgemm_cols *q, void *c, size_t ldc) {
  for (size_t j0 = 0; j0 < nc; j0 += NR) {
    const size_t cols = nc - j0 < NR ? nc - j0 : NR;
    const size_t width = cols <= NR / 2 ? NR / 2 : NR;
    for (size_t r = 0; r < rows; r++) {
      for (size_t jj = 0; jj < cols; jj++) {
        uint32_t acc = (uint32_t)q->bias[j0 + jj]; /* wrapping sum, as int32 hardware adds */
        for (size_t p = 0; p < kp; p++) {
          const int16_t *a = pa + (p * MR + r) * 2, *b = pb + (p * width + jj) * 2;
          acc += (uint32_t)((int32_t)a[0] * b[0] + (int32_t)a[1] * b[1]);
        }
        int32_t v = requant(q, j0 + jj, (int32_t)acc);
        if (q->out_u8)
          ((uint8_t *)c)[r * ldc + j0 + jj] = (uint8_t)v;
        else
          ((int8_t *)c)[r * ldc + j0 + jj] = (int8_t)v;
      }
    }
    pb += width * 2 * kp;
  }
}

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__ref_4x16 = {"ref_4x16", MR, NR, ref_pack_a,
                                                          ref_run};
