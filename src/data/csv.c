/* csv.c: the numeric CSV reader. The file (plain or gzip) is loaded whole, then split into lines
 * and fields in place: a field may be quoted ("..." with "" for a quote), a header line names the
 * columns, and every data field must parse as a number. One pass collects all values row by row;
 * the label column is then split off into its own tensor. Errors name file, line and column. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/data.h"

typedef struct field {
  char *s; /* NUL-terminated, trimmed, unquoted */
} field;

typedef struct csv_state {
  const char *path;
  char delim; /* ' ' means runs of blanks */
  field *f;
  int n_f, cap_f;
  char *err;
  size_t err_size;
} csv_state;

static int push_field(csv_state *cs, char *s) {
  if (cs->n_f == cs->cap_f) {
    int cap = cs->cap_f ? cs->cap_f * 2 : 64;
    field *nf = tc__realloc(cs->f, (size_t)cap * sizeof *nf);
    if (!nf) return 0;
    cs->f = nf;
    cs->cap_f = cap;
  }
  cs->f[cs->n_f++].s = s;
  return 1;
}

static char *trim(char *b, char *e) {
  while (b < e && (*b == ' ' || *b == '\t')) b++;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
  *e = 0;
  return b;
}

/* Splits the NUL-terminated line into cs->f (pointers into the line, which is modified). */
static int split_line(csv_state *cs, char *line) {
  cs->n_f = 0;
  char *p = line;
  if (cs->delim == ' ') {
    for (;;) {
      while (*p == ' ' || *p == '\t') p++;
      if (!*p) return 1;
      char *b = p;
      while (*p && *p != ' ' && *p != '\t') p++;
      int end = !*p;
      *p = 0;
      if (!push_field(cs, b)) return 0;
      if (end) return 1;
      p++;
    }
  }
  for (;;) {
    char *b = p;
    while (*b == ' ' || *b == '\t') b++;
    if (*b == '"') {
      /* Quoted: copy down over "" escapes until the closing quote. */
      char *r = b + 1, *w = b;
      while (*r) {
        if (r[0] == '"' && r[1] == '"') {
          *w++ = '"';
          r += 2;
        } else if (r[0] == '"') {
          r++;
          break;
        } else {
          *w++ = *r++;
        }
      }
      char *q = r;
      while (*q && *q != cs->delim) q++;
      int end = !*q;
      *w = 0;
      if (!push_field(cs, trim(b, w))) return 0;
      if (end) return 1;
      p = q + 1;
    } else {
      char *q = b;
      while (*q && *q != cs->delim) q++;
      int end = !*q;
      if (!push_field(cs, trim(b, q))) return 0;
      if (end) return 1;
      p = q + 1;
    }
  }
}

/* Parses a whole field as a number; returns 0 if it is not one. */
static int parse_num(const char *s, double *v) {
  if (!*s) return 0;
  char *end;
  *v = strtod(s, &end);
  return end != s && *end == 0;
}

static int line_is_blank(const char *s) {
  for (; *s; s++)
    if (!isspace((unsigned char)*s)) return 0;
  return 1;
}

tc_status tc_data_read_csv(const char *path, const tc_csv_options *opts, tc_tensor **features,
                           tc_tensor **labels, char *err, size_t err_size) {
  if (features) *features = NULL;
  if (labels) *labels = NULL;
  tc_csv_options o = TC_CSV_OPTIONS_DEFAULT;
  if (opts) o = *opts;
  if (o.label_dtype == TC_DTYPE_UNKNOWN) o.label_dtype = TC_DTYPE_I32;
  if (!path || !features)
    return tc__data_fail(err, err_size, TC_ERR_ARG, "NULL argument");
  if (o.label_dtype != TC_DTYPE_I32 && o.label_dtype != TC_DTYPE_F32)
    return tc__data_fail(err, err_size, TC_ERR_ARG, "%s: label_dtype must be int32 or float32",
                         path);
  if (o.header < -1 || o.header > 1)
    return tc__data_fail(err, err_size, TC_ERR_ARG, "%s: header must be -1, 0 or 1", path);
  if (o.delimiter == '\n' || o.delimiter == '\r' || o.delimiter == '"')
    return tc__data_fail(err, err_size, TC_ERR_ARG, "%s: invalid delimiter", path);

  uint8_t *buf = NULL;
  size_t size = 0;
  tc_status st = tc__data_read_file(path, TC__DATA_MAX_FILE, &buf, &size, err, err_size);
  if (st != TC_OK) return st;
  if (memchr(buf, 0, size)) {
    tc__free(buf);
    return tc__data_fail(err, err_size, TC_ERR_MODEL, "%s: binary data (a NUL byte), not a CSV file",
                         path);
  }

  csv_state cs = {path, o.delimiter, NULL, 0, 0, err, err_size};
  float *vals = NULL;
  size_t n_vals = 0, cap_vals = 0, n_rows = 0, line_no = 0, first_data_line = 0;
  int n_cols = -1, header_cols = -1, label_col = -1, label_by_name_col = -1;
  int want_label = o.label || o.label_index != TC_CSV_NO_LABEL;
  int seen_first = 0;
  char *p = (char *)buf;
  while (*p && st == TC_OK) {
    char *line = p;
    char *nl = strchr(p, '\n');
    if (nl) {
      *nl = 0;
      p = nl + 1;
    } else {
      p += strlen(p);
    }
    line_no++;
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[--len] = 0;
    if (line_is_blank(line)) continue;
    if (!cs.delim) {
      cs.delim = strchr(line, ',') ? ',' : strchr(line, ';') ? ';' : strchr(line, '\t') ? '\t' : ' ';
    }
    if (!split_line(&cs, line)) {
      st = tc__data_fail(err, err_size, TC_ERR_NOMEM, "%s: out of memory", path);
      break;
    }
    if (!seen_first) {
      seen_first = 1;
      int is_header = o.header == 1;
      if (o.header == -1) {
        for (int i = 0; i < cs.n_f && !is_header; i++) {
          double v;
          if (!parse_num(cs.f[i].s, &v)) is_header = 1;
        }
      }
      if (is_header) {
        header_cols = cs.n_f;
        if (o.label) {
          for (int i = 0; i < cs.n_f; i++)
            if (strcmp(cs.f[i].s, o.label) == 0) {
              label_by_name_col = i;
              break;
            }
          if (label_by_name_col < 0) {
            char names[256] = "";
            size_t used = 0;
            for (int i = 0; i < cs.n_f && used + 4 < sizeof names; i++) {
              int w = snprintf(names + used, sizeof names - used, "%s'%s'", i ? ", " : "",
                               cs.f[i].s);
              if (w < 0) break;
              used += (size_t)w;
            }
            if (used >= sizeof names) memcpy(names + sizeof names - 5, "...", 4);
            st = tc__data_fail(err, err_size, TC_ERR_ARG,
                               "%s: no column named '%s' in the header (columns: %s)", path,
                               o.label, names);
          }
        }
        continue;
      }
      if (o.label)
        st = tc__data_fail(err, err_size, TC_ERR_ARG,
                           "%s: the label column is named '%s' but the file has no header line; "
                           "give its index instead",
                           path, o.label);
      if (st != TC_OK) break;
    }
    if (n_cols < 0) {
      /* First data row: fixes the column count and resolves the label column. */
      n_cols = cs.n_f;
      first_data_line = line_no;
      if (o.label) {
        if (header_cols != n_cols) {
          st = tc__data_fail(err, err_size, TC_ERR_MODEL,
                             "%s:%zu: the header has %d fields but the rows have %d, so columns "
                             "cannot be named; give the label column's index instead",
                             path, line_no, header_cols, n_cols);
          break;
        }
        label_col = label_by_name_col;
      } else if (want_label) {
        int li = o.label_index < 0 ? n_cols + o.label_index : o.label_index;
        if (li < 0 || li >= n_cols) {
          st = tc__data_fail(err, err_size, TC_ERR_ARG,
                             "%s: label column index %d is out of range (the rows have %d columns)",
                             path, o.label_index, n_cols);
          break;
        }
        label_col = li;
      }
      if (n_cols - (label_col >= 0) < 1) {
        st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s: no feature columns (only the label)",
                           path);
        break;
      }
    }
    if (cs.n_f != n_cols) {
      st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s:%zu: %d fields, expected %d (as on line %zu)",
                         path, line_no, cs.n_f, n_cols, first_data_line);
      break;
    }
    if (n_rows >= INT32_MAX) {
      st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s: too many rows", path);
      break;
    }
    if (n_vals + (size_t)n_cols > cap_vals) {
      size_t cap = cap_vals ? cap_vals * 2 : 4096;
      while (cap < n_vals + (size_t)n_cols) cap *= 2;
      float *nv = tc__realloc(vals, cap * sizeof *nv);
      if (!nv) {
        st = tc__data_fail(err, err_size, TC_ERR_NOMEM, "%s: out of memory at line %zu", path, line_no);
        break;
      }
      vals = nv;
      cap_vals = cap;
    }
    for (int c = 0; c < n_cols; c++) {
      double v;
      if (!parse_num(cs.f[c].s, &v)) {
        if (!cs.f[c].s[0])
          st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s:%zu: column %d: empty field", path,
                             line_no, c + 1);
        else
          st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s:%zu: column %d: '%.40s' is not a number",
                             path, line_no, c + 1, cs.f[c].s);
        break;
      }
      if (c == label_col && o.label_dtype == TC_DTYPE_I32 &&
          !(v >= 0 && v <= 16777216.0 && v == (double)(int64_t)v)) {
        st = tc__data_fail(err, err_size, TC_ERR_MODEL,
                           "%s:%zu: column %d: label %s is not a class id (an integer >= 0)", path,
                           line_no, c + 1, cs.f[c].s);
        break;
      }
      vals[n_vals + (size_t)c] = (float)v;
    }
    n_vals += (size_t)n_cols;
    n_rows++;
  }
  if (st == TC_OK && n_rows == 0)
    st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s: no data rows", path);

  tc_tensor *x = NULL, *y = NULL;
  if (st == TC_OK) {
    int n_feat = n_cols - (label_col >= 0);
    int32_t xd[2] = {(int32_t)n_rows, n_feat};
    st = tc_tensor_create(TC_DTYPE_F32, 2, xd, &x);
    if (st == TC_OK && label_col >= 0 && labels) {
      int32_t yd[2] = {(int32_t)n_rows, 1};
      st = tc_tensor_create(o.label_dtype, o.label_dtype == TC_DTYPE_I32 ? 1 : 2, yd, &y);
    }
    if (st != TC_OK) {
      tc__data_fail(err, err_size, st, "%s: cannot allocate %zu rows (%s)", path, n_rows,
                    tc_status_str(st));
    } else {
      float *xv = tc_tensor_f32(x);
      for (size_t r = 0; r < n_rows; r++) {
        const float *row = vals + r * (size_t)n_cols;
        for (int c = 0; c < n_cols; c++) {
          if (c == label_col) {
            if (!y) continue;
            if (o.label_dtype == TC_DTYPE_I32)
              tc_tensor_i32(y)[r] = (int32_t)row[c];
            else
              tc_tensor_f32(y)[r] = row[c];
          } else {
            *xv++ = row[c];
          }
        }
      }
    }
  }
  tc__free(vals);
  tc__free(cs.f);
  tc__free(buf);
  if (st != TC_OK) {
    tc_tensor_destroy(x);
    tc_tensor_destroy(y);
    return st;
  }
  *features = x;
  if (labels) *labels = y;
  return TC_OK;
}
