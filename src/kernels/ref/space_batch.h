/* space_batch.h: dtype-generic reference SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND on NHWC
 * tensors (a rank-3 [N, W, C] tensor is passed as [N, W, 1, C] with block width 1). Batch
 * index of the batched side = (block_row * block_w + block_col) * N + original batch, as in
 * TFLite. */
#ifndef TC_KERNELS_REF_SPACE_BATCH_H
#define TC_KERNELS_REF_SPACE_BATCH_H
#include <stddef.h>
#include <stdint.h>

typedef struct tc_space_batch_params {
  int32_t batch, height, width, depth; /* the spatial side: [batch, height, width, depth] */
  int32_t block_h, block_w;            /* >= 1 */
  int32_t pad_top, pad_left;           /* space_to_batch: leading padding; batch_to_space:
                                          leading crop (>= 0) */
  int32_t out_h, out_w;                /* extents of the other side's spatial dims */
} tc_space_batch_params;

/* in [batch, height, width, depth] -> out [batch * block_h * block_w, out_h, out_w, depth]:
 * out[(bh * block_w + bw) * batch + b, y, x, c] = in[b, y * block_h + bh - pad_top,
 * x * block_w + bw - pad_left, c], or *pad_value (elem_size bytes) where that is outside. */
void tc_x_space_to_batch__ref(const void *in, void *out, size_t elem_size,
                              const tc_space_batch_params *p, const void *pad_value);

/* in [batch * block_h * block_w, height, width, depth] -> out [batch, out_h, out_w, depth]:
 * out[b, y, x, c] = in[(bh * block_w + bw) * batch + b, (y + crop_top) / block_h,
 * (x + crop_left) / block_w, c] with bh = (y + crop_top) % block_h and likewise bw.
 * Here p->batch is the OUTPUT batch, p->height/width the input's spatial extents, and
 * pad_top / pad_left the crops. */
void tc_x_batch_to_space__ref(const void *in, void *out, size_t elem_size,
                              const tc_space_batch_params *p);
#endif
