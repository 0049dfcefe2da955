/* space_batch.c: reference SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND. Both loop over the
 * destination in order and compute, for each pixel, which source pixel (or padding) lands
 * there; a pixel is `depth` contiguous elements, copied with one memcpy. */
#include <string.h>

#include "kernels/ref/shape_ops.h"
#include "kernels/ref/space_batch.h"

void tc_x_space_to_batch__ref(const void *in, void *out, size_t elem_size,
                              const tc_space_batch_params *p, const void *pad_value) {
  const unsigned char *src = in;
  unsigned char *dst = out;
  size_t pixel = (size_t)p->depth * elem_size;
  int64_t out_batch = (int64_t)p->batch * p->block_h * p->block_w;
  for (int64_t ob = 0; ob < out_batch; ob++) {
    int64_t b = ob % p->batch, blk = ob / p->batch;
    int64_t off_h = blk / p->block_w, off_w = blk % p->block_w;
    for (int64_t y = 0; y < p->out_h; y++) {
      int64_t iy = y * p->block_h + off_h - p->pad_top;
      for (int64_t x = 0; x < p->out_w; x++) {
        int64_t ix = x * p->block_w + off_w - p->pad_left;
        if (iy < 0 || iy >= p->height || ix < 0 || ix >= p->width) {
          tc_x_fill__ref(dst, (size_t)p->depth, pad_value, elem_size);
        } else if (pixel) {
          memcpy(dst, src + (size_t)((b * p->height + iy) * p->width + ix) * pixel, pixel);
        }
        dst += pixel;
      }
    }
  }
}

void tc_x_batch_to_space__ref(const void *in, void *out, size_t elem_size,
                              const tc_space_batch_params *p) {
  const unsigned char *src = in;
  unsigned char *dst = out;
  size_t pixel = (size_t)p->depth * elem_size;
  for (int64_t b = 0; b < p->batch; b++)
    for (int64_t y = 0; y < p->out_h; y++) {
      int64_t sy = y + p->pad_top, iy = sy / p->block_h, off_h = sy % p->block_h;
      for (int64_t x = 0; x < p->out_w; x++) {
        int64_t sx = x + p->pad_left, ix = sx / p->block_w, off_w = sx % p->block_w;
        int64_t ib = (off_h * p->block_w + off_w) * p->batch + b;
        if (pixel)
          memcpy(dst, src + (size_t)((ib * p->height + iy) * p->width + ix) * pixel, pixel);
        dst += pixel;
      }
    }
}
