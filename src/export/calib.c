/* calib.c: probes (a description run by tensorc's interpreter with every operator output kept
 * as a subgraph output), activation-range calibration for the int8 quantizer, and the
 * per-layer SQNR report (tc_quant_report).
 *
 * Calibration: pass 1 runs every sample and keeps each float32 activation's min and max. With a
 * percentile, pass 2 runs the samples again and fills a 2048-bin histogram per tensor over
 * [min, max]; the range becomes the values where the cumulative count crosses each tail's
 * (100 - percentile) / 2 percent. Nothing is clipped for min/max calibration. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export/calib.h"

tc_status tc__probe_open(const tc_graphdef *g, probe *p, tc_graphdef *err) {
  memset(p, 0, sizeof *p);
  tc_graphdef *c = NULL;
  tc_status s = tc__x_clone_sg0(g, &c);
  if (s) {
    tc__x_fail(err, s, "probe: %s", c ? c->errmsg : "out of memory");
    tc_graphdef_destroy(c);
    return s;
  }
  xsubgraph *sg = &c->sg[0];
  int32_t *outs = tc__calloc((size_t)sg->n_t + 1, 4);
  uint8_t *is_out = tc__calloc((size_t)sg->n_t + 1, 1);
  int n = 0;
  if (!outs || !is_out) {
    s = tc__x_fail(err, TC_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (int i = 0; i < sg->n_out; i++)
    if (!is_out[sg->out[i]]) is_out[sg->out[i]] = 1, outs[n++] = sg->out[i];
  for (int i = 0; i < sg->n_op; i++)
    for (int k = 0; k < sg->op[i].n_out; k++) {
      int32_t t = sg->op[i].out[k];
      if (!is_out[t]) is_out[t] = 1, outs[n++] = t;
    }
  s = tc_graphdef_set_io(c, sg->n_in, sg->in, n, outs);
  if (!s) s = tc_graphdef_write(c, &p->bytes, &p->size);
  if (s) {
    tc__x_fail(err, s, "probe: %s", c->errmsg);
    goto done;
  }
  p->n_tensors = sg->n_t;
  s = tc_model_load_memory(p->bytes, p->size, NULL, &p->m);
  if (s) {
    tc__x_fail(err, s, "probe: loading the model: %s", tc_model_errmsg(p->m));
    goto done;
  }
  s = tc_interp_create(p->m, NULL, &p->it);
  if (!s) s = tc_interp_prepare(p->it);
  if (s) tc__x_fail(err, s, "probe: %s", tc_interp_errmsg(p->it));
done:
  tc__free(outs);
  tc__free(is_out);
  tc_graphdef_destroy(c);
  if (s) tc__probe_close(p);
  return s;
}

void tc__probe_close(probe *p) {
  tc_interp_destroy(p->it);
  tc_model_destroy(p->m);
  tc__free(p->bytes);
  memset(p, 0, sizeof *p);
}

tc_status tc__probe_run(probe *p, const tc_quant_options *o, int k, tc_graphdef *err) {
  for (int i = 0; i < tc_interp_input_count(p->it); i++) {
    tc_tensor_info t;
    tc_interp_tensor(p->it, tc_interp_input_index(p->it, i), &t);
    size_t n = 1;
    for (int d = 0; d < t.n_dims; d++) n *= (size_t)t.dims[d];
    float *buf = tc__malloc(n * sizeof(float) + 4);
    if (!buf) return tc__x_fail(err, TC_ERR_NOMEM, "out of memory");
    tc_status s = o->sample(o->user, k, i, buf, n);
    if (s) {
      tc__free(buf);
      return tc__x_fail(err, s, "representative sample %d, input %d: the callback failed", k, i);
    }
    if (t.dtype == TC_DTYPE_F32) {
      s = tc_interp_set_input(p->it, i, buf, n * 4);
    } else if (t.dtype == TC_DTYPE_I8 && t.n_scales == 1) {
      int8_t *q = tc__malloc(n + 1);
      if (!q) {
        tc__free(buf);
        return tc__x_fail(err, TC_ERR_NOMEM, "out of memory");
      }
      for (size_t j = 0; j < n; j++) {
        double v = round(buf[j] / t.scales[0]) + (double)t.zero_points[0];
        q[j] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
      }
      s = tc_interp_set_input(p->it, i, q, n);
      tc__free(q);
    } else {
      s = tc__x_fail(err, TC_ERR_UNSUPPORTED, "input %d ('%s') has dtype %s; calibration feeds "
                     "float32 or per-tensor int8 inputs only", i, t.name, tc_dtype_name(t.dtype));
    }
    tc__free(buf);
    if (s) {
      if (!err->status) tc__x_fail(err, s, "input %d: %s", i, tc_interp_errmsg(p->it));
      return s;
    }
  }
  tc_status s = tc_interp_invoke(p->it);
  if (s) return tc__x_fail(err, s, "calibration run %d: %s", k, tc_interp_errmsg(p->it));
  return TC_OK;
}

int64_t tc__probe_read(probe *p, int ti, float *out, int64_t cap) {
  tc_tensor_info t;
  if (tc_interp_tensor(p->it, ti, &t) != TC_OK || !t.data) return -1;
  int64_t n = 1;
  for (int d = 0; d < t.n_dims; d++) n *= t.dims[d];
  if (n > cap) return -1;
  float sc = t.n_scales == 1 ? t.scales[0] : 1.0f;
  float zp = t.n_scales == 1 ? (float)t.zero_points[0] : 0.0f;
  for (int64_t i = 0; i < n; i++) {
    switch (t.dtype) {
    case TC_DTYPE_F32: out[i] = ((const float *)t.data)[i]; break;
    case TC_DTYPE_I8: out[i] = sc * ((float)((const int8_t *)t.data)[i] - zp); break;
    case TC_DTYPE_U8: out[i] = sc * ((float)((const uint8_t *)t.data)[i] - zp); break;
    case TC_DTYPE_I16: out[i] = sc * ((float)((const int16_t *)t.data)[i] - zp); break;
    case TC_DTYPE_I32: out[i] = sc * ((float)((const int32_t *)t.data)[i] - zp); break;
    default: return -1;
    }
  }
  return n;
}

#define N_BINS 2048

tc_status tc__calibrate(const tc_graphdef *g, const tc_quant_options *o, xrange *r,
                        tc_graphdef *err) {
  const xsubgraph *sg = &g->sg[0];
  if (o->n_samples <= 0 || !o->sample)
    return tc__x_fail(err, TC_ERR_ARG, "int8 quantization needs a representative dataset "
                      "(n_samples > 0 and a sample callback)");
  probe p;
  tc_status s = tc__probe_open(g, &p, err);
  if (s) return s;
  int64_t cap = 1;
  for (int i = 0; i < sg->n_t; i++) {
    int64_t n = tc__x_numel(&sg->t[i]);
    if (n > cap) cap = n;
  }
  float *buf = tc__malloc((size_t)cap * sizeof(float));
  int use_pct = o->percentile > 0 && o->percentile < 100;
  uint32_t *hist = NULL;
  if (!buf) {
    tc__probe_close(&p);
    return tc__x_fail(err, TC_ERR_NOMEM, "out of memory");
  }
  for (int i = 0; i < sg->n_t; i++) r[i] = (xrange){0, 0, 0};
  for (int pass = 0; pass < (use_pct ? 2 : 1) && !s; pass++) {
    if (pass == 1) {
      hist = tc__calloc((size_t)sg->n_t * N_BINS, sizeof *hist);
      if (!hist) {
        s = tc__x_fail(err, TC_ERR_NOMEM, "out of memory (percentile histograms)");
        break;
      }
    }
    for (int k = 0; k < o->n_samples && !s; k++) {
      if ((s = tc__probe_run(&p, o, k, err))) break;
      for (int i = 0; i < sg->n_t; i++) {
        const xtensor *t = &sg->t[i];
        if (t->data || t->dtype != TC_DTYPE_F32) continue;
        int64_t n = tc__probe_read(&p, i, buf, cap);
        if (n < 0) continue;
        xrange *x = &r[i];
        if (pass == 0) {
          for (int64_t j = 0; j < n; j++) {
            float v = buf[j];
            if (!isfinite(v)) continue;
            if (!x->seen) x->lo = x->hi = v, x->seen = 1;
            if (v < x->lo) x->lo = v;
            if (v > x->hi) x->hi = v;
          }
        } else if (x->seen && x->hi > x->lo) {
          uint32_t *h = hist + (size_t)i * N_BINS;
          double w = (double)N_BINS / ((double)x->hi - x->lo);
          for (int64_t j = 0; j < n; j++) {
            if (!isfinite(buf[j])) continue;
            int b = (int)(((double)buf[j] - x->lo) * w);
            h[b < 0 ? 0 : b >= N_BINS ? N_BINS - 1 : b]++;
          }
        }
      }
    }
  }
  if (!s && use_pct) {
    double tail = (100.0 - o->percentile) / 200.0;
    for (int i = 0; i < sg->n_t; i++) {
      xrange *x = &r[i];
      if (!x->seen || !(x->hi > x->lo)) continue;
      const uint32_t *h = hist + (size_t)i * N_BINS;
      double total = 0;
      for (int b = 0; b < N_BINS; b++) total += h[b];
      double cut = tail * total, acc = 0, bw = ((double)x->hi - x->lo) / N_BINS;
      int lo_b = 0, hi_b = N_BINS - 1;
      for (; lo_b < N_BINS - 1; lo_b++) {
        acc += h[lo_b];
        if (acc > cut) break;
      }
      acc = 0;
      for (; hi_b > lo_b; hi_b--) {
        acc += h[hi_b];
        if (acc > cut) break;
      }
      float nlo = (float)(x->lo + bw * lo_b), nhi = (float)(x->lo + bw * (hi_b + 1));
      x->lo = nlo;
      x->hi = nhi;
    }
  }
  tc__free(hist);
  tc__free(buf);
  tc__probe_close(&p);
  return s;
}

/* ---- report ------------------------------------------------------------------------------ */

static int find_name(const xsubgraph *s, const char *name) {
  for (int i = 0; i < s->n_t; i++)
    if (!strcmp(s->t[i].name, name)) return i;
  return -1;
}

tc_status tc_quant_report(const tc_graphdef *fl, tc_graphdef *q, const tc_quant_options *o,
                          tc_quant_layer **layers, int *n_layers) {
  if (!fl || !q || !o || !layers || !n_layers) return TC_ERR_ARG;
  *layers = NULL;
  *n_layers = 0;
  if (o->n_samples <= 0 || !o->sample)
    return tc__x_fail(q, TC_ERR_ARG, "the report needs the representative dataset");
  const xsubgraph *fs = &fl->sg[0], *qs = &q->sg[0];
  tc_quant_layer *L = tc__calloc((size_t)qs->n_op + 1, sizeof *L);
  int *qt = tc__calloc((size_t)qs->n_op + 1, sizeof *qt), *ft = tc__calloc((size_t)qs->n_op + 1, sizeof *ft);
  double *sig = tc__calloc((size_t)qs->n_op + 1, sizeof *sig), *noise = tc__calloc((size_t)qs->n_op + 1, sizeof *noise);
  int n = 0;
  tc_status s = TC_OK;
  probe pf, pq;
  memset(&pf, 0, sizeof pf);
  memset(&pq, 0, sizeof pq);
  float *bf = NULL, *bq = NULL;
  if (!L || !qt || !ft || !sig || !noise) {
    s = tc__x_fail(q, TC_ERR_NOMEM, "out of memory");
    goto done;
  }
  /* quantized operator outputs that have a float counterpart of the same name */
  for (int i = 0; i < qs->n_op; i++) {
    const xop *op = &qs->op[i];
    if (op->builtin == 114 || op->builtin == 6 || op->n_out < 1) continue; /* QUANTIZE/DEQUANTIZE */
    const xtensor *t = &qs->t[op->out[0]];
    if (!t->n_scales) continue;
    char name[256];
    snprintf(name, sizeof name, "%s", t->name);
    size_t len = strlen(name);
    if (len > 5 && !strcmp(name + len - 5, "_int8")) name[len - 5] = 0;
    int f = find_name(fs, name);
    if (f < 0 || fs->t[f].dtype != TC_DTYPE_F32) continue;
    L[n].name = t->name;
    L[n].builtin = op->builtin;
    qt[n] = op->out[0];
    ft[n] = f;
    n++;
  }
  if ((s = tc__probe_open(fl, &pf, q)) || (s = tc__probe_open(q, &pq, q))) goto done;
  int64_t cap = 1;
  for (int i = 0; i < fs->n_t; i++) cap = TC_MAX(cap, tc__x_numel(&fs->t[i]));
  for (int i = 0; i < qs->n_t; i++) cap = TC_MAX(cap, tc__x_numel(&qs->t[i]));
  bf = tc__malloc((size_t)cap * sizeof(float));
  bq = tc__malloc((size_t)cap * sizeof(float));
  if (!bf || !bq) {
    s = tc__x_fail(q, TC_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (int k = 0; k < o->n_samples; k++) {
    if ((s = tc__probe_run(&pf, o, k, q)) || (s = tc__probe_run(&pq, o, k, q))) goto done;
    for (int j = 0; j < n; j++) {
      int64_t a = tc__probe_read(&pf, ft[j], bf, cap), b = tc__probe_read(&pq, qt[j], bq, cap);
      if (a < 0 || a != b) continue;
      for (int64_t e = 0; e < a; e++) {
        double d = (double)bf[e] - bq[e];
        sig[j] += (double)bf[e] * bf[e];
        noise[j] += d * d;
        if (fabs(d) > L[j].max_abs_err) L[j].max_abs_err = fabs(d);
      }
    }
  }
  for (int j = 0; j < n; j++)
    L[j].sqnr_db = noise[j] > 0 ? 10.0 * log10(sig[j] / noise[j]) : INFINITY;
done:
  tc__probe_close(&pf);
  tc__probe_close(&pq);
  tc__free(bf);
  tc__free(bq);
  tc__free(qt);
  tc__free(ft);
  tc__free(sig);
  tc__free(noise);
  if (s) {
    tc__free(L);
    return s;
  }
  *layers = L;
  *n_layers = n;
  return TC_OK;
}
