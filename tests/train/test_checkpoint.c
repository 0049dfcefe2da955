/* test_checkpoint.c: checkpoints (docs/checkpoint-format.md): CRC32 check value, a round trip
 * that rebuilds the net from the file alone (same summary, same predictions), exact resume
 * (k epochs + save + load into a fresh net + N-k epochs gives bit-identical losses and weights
 * to N epochs in one go, with dropout, batch norm and Adam state), corrupt files (flipped
 * byte, truncation, bad magic) and mismatched architectures rejected with clear messages, and
 * ModelCheckpoint's best-only saving. */
#include <stdlib.h>
#include <unistd.h>

#include "tc_test.h"
#include "train/model.h"

static float urand(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)(*s >> 8) / 16777216.0f;
}

enum { N = 240, D = 6, C = 3 };
static float X[N * D], Y[N];

static void make_data(void) {
  uint32_t s = 42;
  for (int i = 0; i < N; i++) {
    int c = i % C;
    Y[i] = (float)c;
    for (int k = 0; k < D; k++) X[i * D + k] = (k == c ? 1.5f : 0.0f) + urand(&s) - 0.5f;
  }
}

static tc_net *make_net(int units) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 17);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){D}));
  tc_layer_config d = tc_layer_dense(units, TC_ACT_RELU);
  d.kernel_l2 = 1e-3f;
  tc_net_add(net, d);
  tc_net_add(net, tc_layer_dropout(0.25f));
  tc_net_add(net, tc_layer_batch_norm());
  tc_net_add(net, tc_layer_dense(C, TC_ACT_SOFTMAX));
  tc_optim_config oc = tc_optim_adam(5e-3f);
  oc.schedule = tc_schedule_exponential(5e-3f, 20, 0.9f, 0);
  tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 0), oc, 1,
                 (tc_metric_kind[]){TC_METRIC_ACCURACY});
  return net;
}

static char g_dir[64];
static const char *tmp_path(const char *name) {
  static char buf[4][256];
  static int k;
  if (!g_dir[0]) {
    strcpy(g_dir, "/tmp/tc_ckpt_XXXXXX");
    if (!mkdtemp(g_dir)) return NULL;
  }
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
  return buf[k];
}

static tc_fit_options fit_opts(int epochs, int initial) {
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = epochs;
  fo.initial_epoch = initial;
  fo.batch_size = 16;
  fo.seed = 3;
  fo.verbose = 0;
  fo.validation_split = 0.2f;
  return fo;
}

TC_TEST(train_checkpoint_crc32) {
  CHECK_EQ(tc__crc32(0, "123456789", 9), 0xcbf43926u);
  CHECK_EQ(tc__crc32(0, "", 0), 0);
}

TC_TEST(train_checkpoint_resume_exact) {
  make_data();
  tc_data d = {X, Y, N, 0};
  /* One go: 6 epochs. */
  tc_net *a = make_net(12);
  tc_history ha;
  tc_fit_options fo = fit_opts(6, 0);
  CHECK_EQ(tc_net_fit(a, &d, &fo, &ha), TC_OK);
  /* 2 epochs, save, load into a new net (from the file alone), 4 more. */
  tc_net *b = make_net(12);
  tc_history hb1, hb2;
  fo = fit_opts(2, 0);
  CHECK_EQ(tc_net_fit(b, &d, &fo, &hb1), TC_OK);
  const char *path = tmp_path("resume.tck");
  CHECK_EQ(tc_net_save(b, path), TC_OK);
  tc_net_destroy(b);
  tc_net *c;
  char err[256];
  CHECK_EQ(tc_net_load(path, &c, err, sizeof err), TC_OK);
  if (!c) return;
  CHECK_EQ(tc_net_epochs_done(c), 2);
  CHECK_EQ(tc_optim_iterations(tc_net_optim(c)), 2 * 12); /* 192 training samples / 16 */
  fo = fit_opts(6, tc_net_epochs_done(c));
  CHECK_EQ(tc_net_fit(c, &d, &fo, &hb2), TC_OK);
  CHECK_EQ(hb2.n_epochs, 4);
  const double *la = tc_history_get(&ha, "loss"), *l1 = tc_history_get(&hb1, "loss"),
               *l2 = tc_history_get(&hb2, "loss"), *va = tc_history_get(&ha, "val_loss"),
               *v2 = tc_history_get(&hb2, "val_loss");
  for (int e = 0; e < 2; e++) CHECK_MSG(la[e] == l1[e], "epoch %d: %.17g vs %.17g", e, la[e], l1[e]);
  for (int e = 0; e < 4; e++) {
    CHECK_MSG(la[e + 2] == l2[e], "epoch %d: %.17g vs %.17g", e + 2, la[e + 2], l2[e]);
    CHECK_MSG(va[e + 2] == v2[e], "val epoch %d: %.17g vs %.17g", e + 2, va[e + 2], v2[e]);
  }
  CHECK_EQ(tc_net_n_weights(a), tc_net_n_weights(c));
  for (size_t i = 0; i < tc_net_n_weights(a); i++) {
    tc_tensor *wa = tc_net_weight(a, i, NULL), *wc = tc_net_weight(c, i, NULL);
    CHECK(!memcmp(tc_tensor_f32(wa), tc_tensor_f32(wc), tc_tensor_size(wa) * sizeof(float)));
  }
  /* Same summary, same predictions. */
  char sa[4096], sc[4096];
  tc_net_summary(a, sa, sizeof sa);
  tc_net_summary(c, sc, sizeof sc);
  CHECK(!strcmp(sa, sc));
  float pa[N * C], pc[N * C];
  CHECK_EQ(tc_net_predict(a, X, N, 32, pa), TC_OK);
  CHECK_EQ(tc_net_predict(c, X, N, 32, pc), TC_OK);
  CHECK(!memcmp(pa, pc, sizeof pa));
  tc_history_free(&ha);
  tc_history_free(&hb1);
  tc_history_free(&hb2);
  tc_net_destroy(a);
  tc_net_destroy(c);
  unlink(path);
}

static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(p, 1, n, f);
  fclose(f);
}

TC_TEST(train_checkpoint_corrupt_and_mismatch) {
  make_data();
  tc_net *net = make_net(8);
  tc_data d = {X, Y, N, 0};
  tc_fit_options fo = fit_opts(1, 0);
  CHECK_EQ(tc_net_fit(net, &d, &fo, NULL), TC_OK);
  const char *path = tmp_path("good.tck"), *bad = tmp_path("bad.tck");
  CHECK_EQ(tc_net_save(net, path), TC_OK);
  size_t size;
  uint8_t *file = tc_test_read_file(path, &size);
  CHECK(file && size > 100);
  if (!file) return;
  tc_net *out;
  char err[300];
  /* A flipped byte in the middle: CRC mismatch naming the section. */
  for (size_t pos = 20; pos < size; pos += size / 7) {
    file[pos] ^= 0x10;
    write_bytes(bad, file, size);
    file[pos] ^= 0x10;
    tc_status st = tc_net_load(bad, &out, err, sizeof err);
    CHECK_EQ(st, TC_ERR_MODEL);
    CHECK(out == NULL);
    CHECK_MSG(strstr(err, "CRC mismatch in section") || strstr(err, "truncated"), "%s", err);
  }
  file[size / 2] ^= 1;
  write_bytes(bad, file, size);
  file[size / 2] ^= 1;
  CHECK_EQ(tc_net_load(bad, &out, err, sizeof err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "CRC mismatch in section WGHT");
  /* Truncated. */
  write_bytes(bad, file, size - 10);
  CHECK_EQ(tc_net_load(bad, &out, err, sizeof err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "truncated");
  write_bytes(bad, file, 30);
  CHECK_EQ(tc_net_load(bad, &out, err, sizeof err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "truncated");
  /* Bad magic and version. */
  file[0] = 'X';
  write_bytes(bad, file, size);
  CHECK_EQ(tc_net_load(bad, &out, err, sizeof err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "bad magic");
  file[0] = 'T';
  file[8] = 9;
  write_bytes(bad, file, size);
  CHECK_EQ(tc_net_load(bad, &out, err, sizeof err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "unsupported version 9");
  file[8] = 1;
  CHECK_EQ(tc_net_load(tmp_path("missing.tck"), &out, err, sizeof err), TC_ERR_IO);
  /* Load weights into a net with other shapes: names the weight and both shapes; unchanged. */
  tc_net *other = make_net(9);
  float keep[6 * 9];
  memcpy(keep, tc_tensor_f32(tc_net_weight(other, 0, NULL)), sizeof keep);
  CHECK_EQ(tc_net_load_weights(other, path), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(tc_net_errmsg(other), "units 8 vs 9");
  CHECK(!memcmp(keep, tc_tensor_f32(tc_net_weight(other, 0, NULL)), sizeof keep));
  tc_net_destroy(other);
  /* A different layer kind. */
  tc_net_create(&other);
  tc_net_add(other, tc_layer_input(1, (int32_t[]){D}));
  tc_net_add(other, tc_layer_dense(8, TC_ACT_RELU));
  tc_net_add(other, tc_layer_activation(TC_ACT_RELU));
  tc_net_add(other, tc_layer_batch_norm());
  tc_net_add(other, tc_layer_dense(C, TC_ACT_SOFTMAX));
  CHECK_EQ(tc_net_load_weights(other, path), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(tc_net_errmsg(other), "layer 2: the checkpoint has dropout (Dropout), the net has activation (Activation)");
  tc_net_destroy(other);
  /* The same architecture loads, weights equal. */
  other = make_net(8);
  CHECK_EQ(tc_net_load_weights(other, path), TC_OK);
  CHECK(!memcmp(tc_tensor_f32(tc_net_weight(net, 0, NULL)), tc_tensor_f32(tc_net_weight(other, 0, NULL)),
                6 * 8 * sizeof(float)));
  CHECK_EQ(tc_net_epochs_done(other), 1);
  tc_net_destroy(other);
  /* Saving into a missing directory fails cleanly; no temporary files are left behind. */
  CHECK_EQ(tc_net_save(net, "/nonexistent-dir/x.tck"), TC_ERR_IO);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "temporary file");
  free(file);
  unlink(bad);
  unlink(path);
  tc_net_destroy(net);
}

TC_TEST(train_checkpoint_model_checkpoint_best_only) {
  make_data();
  tc_net *net = make_net(8);
  tc_data d = {X, Y, N, 0};
  tc_callback *mc;
  const char *tmpl = tmp_path("best-{epoch:02d}.tck");
  CHECK_EQ(tc_callback_model_checkpoint(tmpl, "val_loss", 1, &mc), TC_OK);
  tc_fit_options fo = fit_opts(4, 0);
  fo.callbacks = &mc;
  fo.n_callbacks = 1;
  tc_history h;
  CHECK_EQ(tc_net_fit(net, &d, &fo, &h), TC_OK);
  const double *vl = tc_history_get(&h, "val_loss");
  double best = vl[0];
  for (int e = 0; e < 4; e++) {
    char name[64];
    snprintf(name, sizeof name, "best-%02d.tck", e + 1);
    const char *p = tmp_path(name);
    int exists = access(p, F_OK) == 0;
    int should = e == 0 || vl[e] < best;
    if (vl[e] < best) best = vl[e];
    CHECK_MSG(exists == should, "epoch %d: file %d, expected %d", e + 1, exists, should);
    if (exists) {
      tc_net *l;
      CHECK_EQ(tc_net_load(p, &l, NULL, 0), TC_OK);
      CHECK_EQ(tc_net_epochs_done(l), e + 1);
      tc_net_destroy(l);
      unlink(p);
    }
  }
  /* Nothing else in the directory (no leftover temporary files). */
  char cmd[128];
  snprintf(cmd, sizeof cmd, "ls %s | wc -l", g_dir);
  FILE *ls = popen(cmd, "r");
  int n = -1;
  if (ls) {
    if (fscanf(ls, "%d", &n) != 1) n = -1;
    pclose(ls);
  }
  CHECK_EQ(n, 0);
  tc_history_free(&h);
  tc_callback_destroy(mc);
  tc_net_destroy(net);
}
