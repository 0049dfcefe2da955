/* calib.h: running a description with tensorc's own interpreter so every activation can be read
 * (internal). A "probe" is a copy of subgraph 0 whose outputs are all operator outputs, so the
 * memory planner keeps each of them alive until the end of invoke. Used by the quantizer to
 * calibrate activation ranges and by the quantization report. */
#ifndef TC_EXPORT_CALIB_H
#define TC_EXPORT_CALIB_H

#include "export/export.h"

typedef struct probe {
  void *bytes;     /* the written probe model (borrowed by `m`) */
  size_t size;
  tc_model *m;
  tc_interp *it;
  int n_tensors;
} probe;

/* Builds, loads and prepares the probe of `g`. Errors go to `err` (a graphdef handle). */
tc_status tc__probe_open(const tc_graphdef *g, probe *p, tc_graphdef *err);
/* Feeds calibration sample `k` (float data from the callback; quantized with the input's
 * parameters when the input tensor is int8) and invokes. */
tc_status tc__probe_run(probe *p, const tc_quant_options *o, int k, tc_graphdef *err);
/* Float view of tensor t after a run: copies (dequantizing int8/int16/uint8) into out (numel
 * floats). Returns the element count or -1 if the tensor has no data. */
int64_t tc__probe_read(probe *p, int t, float *out, int64_t cap);
void tc__probe_close(probe *p);

/* Range of each tensor of subgraph 0 over the calibration data (for float32 activations).
 * percentile in (0, 100) clips each tail at (100 - percentile) / 2 percent. */
typedef struct xrange {
  float lo, hi;
  int seen;
} xrange;
tc_status tc__calibrate(const tc_graphdef *g, const tc_quant_options *o, xrange *ranges,
                        tc_graphdef *err);

#endif /* TC_EXPORT_CALIB_H */
