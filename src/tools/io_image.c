/* io_image.c: image inputs for `tensorc run`. BMP (uncompressed 24/32-bit and 8-bit palette,
 * bottom-up or top-down) is decoded here with every offset bounds-checked; PNG and JPEG go
 * through libpng / libjpeg when the build found them (TC_HAVE_PNG / TC_HAVE_JPEG). Every image
 * becomes 8-bit RGB; image_resize() then scales it with a separable triangle (bilinear) filter. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef TC_HAVE_PNG
#include <png.h>
#endif
#ifdef TC_HAVE_JPEG
#include <jpeglib.h>
#endif

#include "util.h"

/* Largest image accepted (pixels), which also keeps every size computation far from overflow. */
#define MAX_PIXELS (1u << 27)
#define MAX_SIDE 65536

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  if (n < k) return 0;
  for (size_t i = 0; i < k; i++)
    if (tolower((unsigned char)s[n - k + i]) != suffix[i]) return 0;
  return 1;
}

int image_is_path(const char *path) {
  return ends_with(path, ".png") || ends_with(path, ".jpg") || ends_with(path, ".jpeg") ||
         ends_with(path, ".bmp");
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static unsigned rd16(const uint8_t *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }

int image_decode_bmp(const uint8_t *p, size_t n, cli_image *img, char *err, size_t err_size) {
  memset(img, 0, sizeof *img);
  if (n < 54 || p[0] != 'B' || p[1] != 'M') {
    snprintf(err, err_size, "not a BMP file");
    return 1;
  }
  uint32_t off = rd32(p + 10), dib = rd32(p + 14);
  int32_t w = (int32_t)rd32(p + 18), h = (int32_t)rd32(p + 22);
  unsigned bpp = rd16(p + 28);
  uint32_t comp = rd32(p + 30), n_colors = rd32(p + 46);
  if (dib < 40 || dib > n - 14) {
    snprintf(err, err_size, "unsupported BMP header (size %u)", (unsigned)dib);
    return 1;
  }
  if (comp != 0 || (bpp != 24 && bpp != 32 && bpp != 8)) {
    snprintf(err, err_size, "unsupported BMP: %u bits per pixel, compression %u "
             "(only uncompressed 8/24/32-bit)", bpp, (unsigned)comp);
    return 1;
  }
  int top_down = h < 0;
  int64_t ah = h < 0 ? -(int64_t)h : h;
  if (w <= 0 || ah == 0 || w > MAX_SIDE || ah > MAX_SIDE || (uint64_t)w * (uint64_t)ah > MAX_PIXELS) {
    snprintf(err, err_size, "bad BMP size %dx%lld", (int)w, (long long)ah);
    return 1;
  }
  uint64_t stride = ((uint64_t)w * bpp + 31) / 32 * 4, row_bytes = ((uint64_t)w * bpp + 7) / 8;
  if ((uint64_t)off + stride * (uint64_t)(ah - 1) + row_bytes > n) {
    snprintf(err, err_size, "truncated BMP: pixel data needs %llu bytes from offset %u, file has %zu",
             (unsigned long long)(stride * (uint64_t)ah), (unsigned)off, n);
    return 1;
  }
  const uint8_t *pal = NULL;
  if (bpp == 8) {
    if (n_colors == 0 || n_colors > 256) n_colors = 256;
    uint64_t pal_at = 14 + (uint64_t)dib;
    /* Some writers list fewer entries than 256 in clr_used but the data must still fit. */
    while (n_colors > 0 && pal_at + 4ull * n_colors > (uint64_t)off) n_colors--;
    if (n_colors == 0) {
      snprintf(err, err_size, "8-bit BMP without a palette");
      return 1;
    }
    pal = p + pal_at;
  }
  img->rgb = malloc((size_t)w * (size_t)ah * 3);
  if (!img->rgb) {
    snprintf(err, err_size, "out of memory");
    return 1;
  }
  img->w = w;
  img->h = (int)ah;
  for (int64_t y = 0; y < ah; y++) {
    const uint8_t *row = p + off + stride * (uint64_t)(top_down ? y : ah - 1 - y);
    uint8_t *dst = img->rgb + (size_t)y * (size_t)w * 3;
    for (int32_t x = 0; x < w; x++, dst += 3) {
      const uint8_t *px;
      if (bpp == 8) {
        if (row[x] >= n_colors) {
          free(img->rgb);
          img->rgb = NULL;
          snprintf(err, err_size, "BMP palette index %u out of range (%u colours)", row[x],
                   (unsigned)n_colors);
          return 1;
        }
        px = pal + 4 * row[x];
      } else {
        px = row + (size_t)x * (bpp / 8);
      }
      dst[0] = px[2]; /* stored as B, G, R */
      dst[1] = px[1];
      dst[2] = px[0];
    }
  }
  return 0;
}

static int load_bmp(const char *path, cli_image *img, char *err, size_t err_size) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, err_size, "cannot open");
    return 1;
  }
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      uint8_t *nb = cap <= ((size_t)MAX_PIXELS * 4 + 4096) ? realloc(buf, cap) : NULL;
      if (!nb) {
        free(buf);
        fclose(fp);
        snprintf(err, err_size, "file too large");
        return 1;
      }
      buf = nb;
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0) break;
  }
  fclose(fp);
  int rc = image_decode_bmp(buf, n, img, err, err_size);
  free(buf);
  return rc;
}

#ifdef TC_HAVE_PNG
static int load_png(const char *path, cli_image *img, char *err, size_t err_size) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&im, path)) {
    snprintf(err, err_size, "PNG: %s", im.message);
    return 1;
  }
  if (im.width == 0 || im.height == 0 || im.width > MAX_SIDE || im.height > MAX_SIDE ||
      (uint64_t)im.width * im.height > MAX_PIXELS) {
    png_image_free(&im);
    snprintf(err, err_size, "PNG: bad size %ux%u", im.width, im.height);
    return 1;
  }
  im.format = PNG_FORMAT_RGB;
  img->rgb = malloc(PNG_IMAGE_SIZE(im));
  if (!img->rgb) {
    png_image_free(&im);
    snprintf(err, err_size, "out of memory");
    return 1;
  }
  if (!png_image_finish_read(&im, NULL, img->rgb, 0, NULL)) {
    snprintf(err, err_size, "PNG: %s", im.message);
    free(img->rgb);
    img->rgb = NULL;
    return 1;
  }
  img->w = (int)im.width;
  img->h = (int)im.height;
  return 0;
}
#endif

#ifdef TC_HAVE_JPEG
typedef struct jpeg_fail {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jpeg_fail;

static void jpeg_on_error(j_common_ptr c) {
  jpeg_fail *f = (jpeg_fail *)c->err;
  c->err->format_message(c, f->msg);
  longjmp(f->jump, 1);
}
static void jpeg_on_message(j_common_ptr c) { (void)c; /* keep warnings off stderr */ }

static int load_jpeg(const char *path, cli_image *img, char *err, size_t err_size) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, err_size, "cannot open");
    return 1;
  }
  struct jpeg_decompress_struct cinfo;
  jpeg_fail fail;
  uint8_t *volatile rgb = NULL;
  cinfo.err = jpeg_std_error(&fail.mgr);
  fail.mgr.error_exit = jpeg_on_error;
  fail.mgr.output_message = jpeg_on_message;
  if (setjmp(fail.jump)) {
    snprintf(err, err_size, "JPEG: %s", fail.msg);
    jpeg_destroy_decompress(&cinfo);
    fclose(fp);
    free(rgb);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, fp);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  unsigned w = cinfo.output_width, h = cinfo.output_height;
  if (w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || (uint64_t)w * h > MAX_PIXELS ||
      cinfo.output_components != 3) {
    snprintf(fail.msg, sizeof fail.msg, "bad size %ux%u or %d components", w, h,
             cinfo.output_components);
    longjmp(fail.jump, 1);
  }
  rgb = malloc((size_t)w * h * 3);
  if (!rgb) {
    snprintf(fail.msg, sizeof fail.msg, "out of memory");
    longjmp(fail.jump, 1);
  }
  while (cinfo.output_scanline < h) {
    JSAMPROW row = rgb + (size_t)cinfo.output_scanline * w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  fclose(fp);
  img->rgb = rgb;
  img->w = (int)w;
  img->h = (int)h;
  return 0;
}
#endif

int image_load(const char *path, cli_image *img, char *err, size_t err_size) {
  memset(img, 0, sizeof *img);
  if (ends_with(path, ".bmp")) return load_bmp(path, img, err, err_size);
  if (ends_with(path, ".png")) {
#ifdef TC_HAVE_PNG
    return load_png(path, img, err, err_size);
#else
    snprintf(err, err_size, "PNG support not built in (libpng not found at build time)");
    return 1;
#endif
  }
  if (ends_with(path, ".jpg") || ends_with(path, ".jpeg")) {
#ifdef TC_HAVE_JPEG
    return load_jpeg(path, img, err, err_size);
#else
    snprintf(err, err_size, "JPEG support not built in (libjpeg not found at build time)");
    return 1;
#endif
  }
  snprintf(err, err_size, "unknown image type (expected .bmp, .png, .jpg or .jpeg)");
  return 1;
}

/* ---- resize --------------------------------------------------------------------------------
 * Separable resampling with the triangle filter. For output sample o the source centre is
 * (o + 0.5) * scale with scale = in / out. When shrinking (scale > 1) the filter is stretched
 * by `scale` so that it averages every covered input pixel instead of skipping them (this is
 * what PIL's BILINEAR and TF's antialiased bilinear do); when enlarging it is plain linear
 * interpolation between the two nearest pixel centres. Weights are normalised to sum to 1 and
 * held in fixed point with 22 fraction bits; each pass rounds and clamps to 0..255. The
 * horizontal pass runs first, then the vertical one. */
#define FRAC_BITS 22

typedef struct taps {
  int *first, *count; /* per output sample: first source index and number of taps */
  int32_t *w;         /* per output sample: `max` weights */
  int max;
} taps;

static void taps_free(taps *t) {
  free(t->first);
  free(t->count);
  free(t->w);
}

static int taps_make(int in, int out, taps *t) {
  double scale = (double)in / out, fscale = scale > 1.0 ? scale : 1.0, support = fscale;
  t->max = (int)ceil(support) * 2 + 1;
  t->first = malloc(sizeof(int) * (size_t)out);
  t->count = malloc(sizeof(int) * (size_t)out);
  t->w = malloc(sizeof(int32_t) * (size_t)out * (size_t)t->max);
  double *wd = malloc(sizeof(double) * (size_t)t->max);
  if (!t->first || !t->count || !t->w || !wd) {
    free(wd);
    taps_free(t);
    return 1;
  }
  for (int o = 0; o < out; o++) {
    double center = (o + 0.5) * scale, sum = 0;
    int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
    if (lo < 0) lo = 0;
    if (hi > in) hi = in;
    if (hi - lo > t->max) hi = lo + t->max;
    for (int x = lo; x < hi; x++) {
      double d = fabs((x - center + 0.5) / fscale);
      wd[x - lo] = d < 1.0 ? 1.0 - d : 0.0;
      sum += wd[x - lo];
    }
    int32_t *w = t->w + (size_t)o * (size_t)t->max;
    for (int x = lo; x < hi; x++) {
      double v = sum > 0 ? wd[x - lo] / sum : 0;
      w[x - lo] = (int32_t)(v * (1 << FRAC_BITS) + (v < 0 ? -0.5 : 0.5));
    }
    t->first[o] = lo;
    t->count[o] = hi - lo;
  }
  free(wd);
  return 0;
}

static uint8_t clamp_round(int64_t acc) {
  acc = (acc + (1 << (FRAC_BITS - 1))) >> FRAC_BITS;
  return (uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
}

int image_resize(const cli_image *src, int w, int h, cli_image *dst) {
  taps tx, ty;
  memset(dst, 0, sizeof *dst);
  if (taps_make(src->w, w, &tx)) return 1;
  if (taps_make(src->h, h, &ty)) {
    taps_free(&tx);
    return 1;
  }
  uint8_t *mid = malloc((size_t)w * (size_t)src->h * 3);
  dst->rgb = malloc((size_t)w * (size_t)h * 3);
  if (!mid || !dst->rgb) {
    free(mid);
    free(dst->rgb);
    dst->rgb = NULL;
    taps_free(&tx);
    taps_free(&ty);
    return 1;
  }
  for (int y = 0; y < src->h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        const int32_t *k = tx.w + (size_t)x * (size_t)tx.max;
        const uint8_t *s = src->rgb + ((size_t)y * (size_t)src->w + (size_t)tx.first[x]) * 3 + c;
        int64_t acc = 0;
        for (int i = 0; i < tx.count[x]; i++) acc += (int64_t)k[i] * s[3 * i];
        mid[((size_t)y * (size_t)w + (size_t)x) * 3 + c] = clamp_round(acc);
      }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        const int32_t *k = ty.w + (size_t)y * (size_t)ty.max;
        int64_t acc = 0;
        for (int i = 0; i < ty.count[y]; i++)
          acc += (int64_t)k[i] * mid[((size_t)(ty.first[y] + i) * (size_t)w + (size_t)x) * 3 + c];
        dst->rgb[((size_t)y * (size_t)w + (size_t)x) * 3 + c] = clamp_round(acc);
      }
  dst->w = w;
  dst->h = h;
  free(mid);
  taps_free(&tx);
  taps_free(&ty);
  return 0;
}
