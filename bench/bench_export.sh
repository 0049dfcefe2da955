#!/usr/bin/env bash
# bench_export.sh: the export benchmark of issue 6. Trains the MNIST workloads of issue 5 with
# `tensorc train` (examples/specs/mnist_cnn.json and mnist_mlp.json: images 0..7999 of the shared
# t10k set), converts each checkpoint with `tensorc convert` to a float .tflite and to an int8
# one (int8 inputs and outputs, calibrated on 500 training images), evaluates both in tensorc on
# the 2,000 held-back images (8000..9999) with --evaluate, and runs the int8 model's first
# N_PEER test images through official TensorFlow Lite (tests/export/peer_tflite.sh) to compare
# with tensorc's int8 outputs in LSB. Prints one markdown table: model, float vs int8 size,
# accuracy, accuracy drop, tensorc median latency per image (1 thread), official TFLite max diff.
#
# usage: bench/bench_export.sh [TENSORC] [--workloads cnn,mlp] [--out DIR] [--reuse]
#                              [--peer N] [--epochs N]
#   --reuse   keep DIR/<workload>.ckpt from an earlier run instead of training again
#   --peer 0  skip the official TFLite comparison
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${TC_SHARED_DIR:-$ROOT/../shared}"
exec /usr/bin/python3 - "$ROOT" "$SHARED" "$@" <<'PY'
import os, re, subprocess, sys

root, shared, args = sys.argv[1], sys.argv[2], sys.argv[3:]
tc = os.path.join(root, 'build', 'tensorc')
workloads, out, reuse, n_peer, epochs = 'cnn,mlp', os.path.join(root, 'build', 'bench-export'), False, 20, None
i = 0
while i < len(args):
    a = args[i]
    if a in ('--workloads', '--out', '--peer', '--epochs') and i + 1 < len(args):
        v = args[i + 1]; i += 1
        if a == '--workloads': workloads = v
        elif a == '--out': out = v
        elif a == '--peer': n_peer = int(v)
        else: epochs = v
    elif a == '--reuse': reuse = True
    elif a in ('-h', '--help'):
        print(open(os.path.join(root, 'bench', 'bench_export.sh')).read().split('set -euo')[0]); sys.exit(0)
    elif a.startswith('-'): sys.exit(f'bench_export.sh: unknown option {a}')
    else: tc = a
    i += 1
if not os.access(tc, os.X_OK):
    sys.exit(f'bench_export.sh: {tc} not found (build it: cmake --build build --target tensorc)')
os.makedirs(out, exist_ok=True)
images = os.path.join(shared, 'data', 'datasets', 'mnist', 't10k-images-idx3-ubyte.gz')
peer = os.path.join(root, 'tests', 'export', 'peer_tflite.sh')

def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        sys.exit(f'bench_export.sh: {what} failed (exit {p.returncode}):\n{p.stdout[-3000:]}')
    return p.stdout

def kv(text):
    d = {}
    for m in re.finditer(r'(\w+)=([0-9.]+)', text):
        d[m.group(1)] = float(m.group(2))
    return d

rows = []
for w in workloads.split(','):
    ckpt = os.path.join(out, f'{w}.ckpt')
    if not (reuse and os.path.exists(ckpt)):
        cmd = [tc, 'train', os.path.join(root, 'examples', 'specs', f'mnist_{w}.json'), '-o', ckpt, '--verbose', '0']
        if epochs: cmd += ['--epochs', epochs]
        print(f'training mnist_{w} ...', file=sys.stderr, flush=True)
        t = run(cmd, f'tensorc train mnist_{w}')
        print('  ' + t.strip().splitlines()[-1], file=sys.stderr)
    ev = f'mnist:{images}:8000:2000'
    fl = os.path.join(out, f'{w}_float.tflite')
    q8 = os.path.join(out, f'{w}_int8.tflite')
    io = os.path.join(out, f'{w}_io')
    print(f'converting {w} ...', file=sys.stderr, flush=True)
    f = kv(run([tc, 'convert', ckpt, '-o', fl, '--evaluate', ev], 'convert float'))
    cmd = [tc, 'convert', ckpt, '-o', q8, '--quantize', 'int8', '--inputs', 'int8',
           '--representative', f'mnist:{images}:500', '--evaluate', ev]
    if n_peer > 0: cmd += ['--save-io', f'{io}:{n_peer}']
    q = kv(run(cmd, 'convert int8'))
    lsb = None
    if n_peer > 0:
        print(f'official TFLite on {n_peer} images ...', file=sys.stderr, flush=True)
        lsb = 0
        for k in range(n_peer):
            pd = os.path.join(out, f'{w}_peer')
            p = subprocess.run(['sh', peer, q8, pd, os.path.join(io, f'input_{k}.bin')],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ, TC_SHARED_DIR=shared))
            if p.returncode:
                print(f'  official TFLite unavailable (exit {p.returncode}): {p.stdout.strip()[-300:]}', file=sys.stderr)
                lsb = None
                break
            a = open(os.path.join(pd, 'output_0.bin'), 'rb').read()
            b = open(os.path.join(io, f'output_{k}.bin'), 'rb').read()
            sa = [x - 256 if x > 127 else x for x in a]
            sb = [x - 256 if x > 127 else x for x in b]
            lsb = max([lsb] + [abs(x - y) for x, y in zip(sa, sb)])
    rows.append((w, f, q, lsb))

print()
print('| model | float .tflite | int8 .tflite | float accuracy | int8 accuracy | drop | '
      'tensorc float | tensorc int8 | official TFLite vs tensorc int8 |')
print('|---|---|---|---|---|---|---|---|---|')
for w, f, q, lsb in rows:
    fs, qs = int(f['size_float']), int(q['size_out'])
    af, aq = 100 * f['accuracy_float'], 100 * q['accuracy_out']
    peer_txt = 'n/a' if lsb is None else f'max {lsb} LSB ({n_peer} images)'
    print(f'| MNIST {w.upper()} | {fs:,} B | {qs:,} B ({100 * qs / fs:.1f} %) | {af:.2f} % | {aq:.2f} % | '
          f'{af - aq:+.2f} pp | {f["latency_float_us"]:.0f} us | {q["latency_out_us"]:.0f} us | {peer_txt} |')
PY
