#!/bin/sh
# bench_peers.sh: side-by-side latency of tensorc and the peer runtimes of ../shared/peers on the
# models of issue 4, in one run on one machine, at 1 and 2 threads, with the same input bytes.
# Per model it runs peers/bench.py (official TFLite as wasm, ONNX Runtime native through its C
# API harness on the float rebuild and on the integer u8s8 ONNX graph of quantized models,
# PyTorch eager/TorchScript) and then `tensorc bench --json` on the inputs TFLite was given, and
# prints a markdown table of medians: model, threads, tensorc, each peer, fastest peer, ratio.
# Peers that cannot run here are named as unavailable (with the reason), never skipped silently.
#
# usage: bench/bench_peers.sh [--tensorc PATH] [--runs N] [--rounds R] [--threads 1,2]
#                             [--models a,b] [--work DIR] [--guard] [--no-install]
#                             [--peak-f32 G] [--peak-int8 G]
# --rounds R measures every model R times, peers and tensorc alternating, and the table takes
# each column's lowest per-round median (a shared machine's neighbours slow both sides unevenly).
# --peak-f32 / --peak-int8 G: the single-core peaks (GFLOP/s, GOP/s) against which the heaviest
# layers of the float / integer models are given as percent of peak.
# See bench/README.md ("Against the peers") for the requirements and how to read the table.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bin=$root/build/tensorc
runs=50
rounds=1
peak_f32=0
peak_int8=0
threads=1,2
work=${TMPDIR:-/tmp}/tc-bench-peers
guard=0
install=1
shared=${TC_SHARED:-$root/../shared}
models="tflite_support/mobilenet_v1_0.25_224_float
coral/mobilenet_v2_1.0_224_quant
mlperf_tiny/vww_96_int8
mlperf_tiny/vww_96_float
mlperf_tiny/ic_resnet8_int8
mlperf_tiny/ic_resnet8_float
mlperf_tiny/kws_ref_model_int8
tflm/person_detect"

die() { echo "bench_peers.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --tensorc) [ $# -ge 2 ] || die "--tensorc needs a path"; bin=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift 2 ;;
    --rounds) [ $# -ge 2 ] || die "--rounds needs a value"; rounds=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || die "--threads needs a list"; threads=$2; shift 2 ;;
    --models) [ $# -ge 2 ] || die "--models needs a list"; models=$(printf '%s\n' "$2" | tr ',' '\n'); shift 2 ;;
    --work) [ $# -ge 2 ] || die "--work needs a folder"; work=$2; shift 2 ;;
    --guard) guard=1; shift ;;
    --no-install) install=0; shift ;;
    --peak-f32) [ $# -ge 2 ] || die "--peak-f32 needs a value"; peak_f32=$2; shift 2 ;;
    --peak-int8) [ $# -ge 2 ] || die "--peak-int8 needs a value"; peak_int8=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case $runs in '' | *[!0-9]* | 0) die "--runs must be a positive integer, got '$runs'" ;; esac
case $rounds in '' | *[!0-9]* | 0) die "--rounds must be a positive integer, got '$rounds'" ;; esac
for v in "$peak_f32" "$peak_int8"; do
  case $v in '' | *[!0-9.]* | .*) die "--peak-f32 / --peak-int8 take a number like 230, got '$v'" ;; esac
done
case $threads in '' | *[!0-9,]* | ,* | *, | *,,*) die "--threads must be a list like 1,2, got '$threads'" ;; esac
[ -x "$bin" ] || die "tensorc binary not found at $bin (build it, or pass --tensorc PATH)"
[ -d "$shared/peers" ] || die "no peers folder at $shared/peers (set TC_SHARED to the shared folder)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
mkdir -p "$work" || die "cannot create $work"
work=$(cd "$work" && pwd)
t_start=$(date +%s)
PY=/usr/bin/python3
unavail=$work/unavailable.txt
: >"$unavail"
note_unavail() { echo "$1: $2" >>"$unavail"; echo "# unavailable: $1: $2" >&2; }

# ---- the peers: a writable copy of shared/ (it is read-only), installed once -------------------
# The copy keeps node_modules and builds between runs; the scripts are refreshed every time.
peers_root=$work/shared
mkdir -p "$peers_root"
cp -R "$shared/." "$peers_root/" 2>/dev/null || die "cannot copy $shared to $peers_root"
chmod -R u+w "$peers_root"
peers=$peers_root/peers
tflite_ok=0 ort_ok=0 ort_c_ok=0 torch_ok=0 onnx_ok=0 np_ok=0
if ! command -v node >/dev/null 2>&1; then
  note_unavail "tflite-wasm, onnxruntime" "node (Node.js) is not installed (apt-get install nodejs npm)"
else
  if [ ! -d "$peers/tflite-ref/node_modules/@tensorflow/tfjs-tflite" ] && [ $install = 1 ]; then
    echo "# npm install in $peers/tflite-ref" >&2
    (cd "$peers/tflite-ref" && npm install --no-audit --no-fund >"$work/npm-tflite.log" 2>&1)
  fi
  if [ -d "$peers/tflite-ref/node_modules/@tensorflow/tfjs-tflite" ]; then tflite_ok=1
  else note_unavail "tflite-wasm" "npm install in peers/tflite-ref failed or was skipped (see $work/npm-tflite.log)"; fi
  if [ ! -d "$peers/ort-ref/node_modules/onnxruntime-node" ] && [ $install = 1 ]; then
    echo "# npm install in $peers/ort-ref" >&2
    (cd "$peers/ort-ref" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund >"$work/npm-ort.log" 2>&1)
  fi
  if [ -d "$peers/ort-ref/node_modules/onnxruntime-node" ]; then ort_ok=1
  else note_unavail "onnxruntime" "npm install in peers/ort-ref failed or was skipped (see $work/npm-ort.log)"; fi
  if [ $ort_ok = 1 ]; then
    [ -x "$peers/ort-ref/build/ort_bench" ] || [ $install = 0 ] ||
      make -C "$peers/ort-ref" >"$work/make-ort.log" 2>&1
    if [ -x "$peers/ort-ref/build/ort_bench" ]; then ort_c_ok=1
    else note_unavail "onnxruntime C API harness" "make -C peers/ort-ref failed (see $work/make-ort.log); using onnxruntime-node timings (~8 us more per call)"; fi
  fi
fi
if [ ! -x $PY ]; then
  note_unavail "all peers" "$PY is missing (apt-get install python3 python3-numpy)"
else
  $PY -c 'import numpy' 2>/dev/null && np_ok=1 ||
    note_unavail "all peers" "python3-numpy is missing (apt-get install python3-numpy)"
  $PY -c 'import torch' 2>/dev/null && torch_ok=1 ||
    note_unavail "pytorch, onnxruntime float rebuild" "python3-torch is missing (apt-get install python3-torch libopenblas0-openmp)"
  $PY -c 'import onnx' 2>/dev/null && onnx_ok=1 ||
    note_unavail "onnxruntime float rebuild and int8" "python3-onnx is missing (apt-get install python3-onnx)"
  blas=$(readlink -f /etc/alternatives/libblas.so.3-* 2>/dev/null | head -n 1)
  if [ $torch_ok = 1 ]; then case $blas in *openblas*) ;; *) false ;; esac; fi ||
    echo "# note: libblas.so.3 is not OpenBLAS (${blas:-none}): install libopenblas0-openmp, or PyTorch's linear layers use the slow reference BLAS" >&2
fi
[ $tflite_ok = 1 ] && [ $np_ok = 1 ] || note_unavail "all peers" "peers/bench.py needs the TFLite wasm reference and numpy; only tensorc is timed (random inputs)"

# ---- per model: peers, then tensorc on the same input bytes -------------------------------------
# With --guard every timed run waits for an idle machine and is re-run when other processes took
# CPU meanwhile (peers/quiet.py); tensorc's runs too.
guarded() {
  if [ $guard = 1 ]; then
    $PY -c 'import sys; sys.path.insert(0, sys.argv[1]); from quiet import guarded_run
p, f = guarded_run(sys.argv[2:]); sys.stdout.write(p.stdout); sys.stderr.write(p.stderr)
sys.stderr.write("# foreign CPU %.3f\n" % f); sys.exit(p.returncode)' "$peers" "$@"
  else
    "$@"
  fi
}
peer_flags="--runs $runs --threads $threads --dequantize --ort-int8 u8s8"
[ $guard = 1 ] || peer_flags="$peer_flags --no-guard"
[ $torch_ok = 1 ] || peer_flags="$peer_flags --no-torch"
[ $onnx_ok = 1 ] && [ $ort_ok = 1 ] || peer_flags="$peer_flags --no-ort"
[ $ort_c_ok = 1 ] || peer_flags="$peer_flags --no-ort-c"
[ -n "${TFLM_RUN:-}" ] && peer_flags="$peer_flags --tflm $TFLM_RUN"

for m in $models; do
  name=$(basename "$m")
  path=$shared/models/$m.tflite
  mw=$work/$name
  rm -rf "$mw"
  mkdir -p "$mw"
  echo "# $m" >&2
  if [ ! -f "$path" ]; then
    echo "model file $path not found" >"$mw/error.txt"
    continue
  fi
  r=1
  while [ $r -le "$rounds" ]; do
    # round 1's files in $mw, later rounds' in $mw/roundR (the peers' work folder is shared)
    rd=$mw
    [ $r -gt 1 ] && rd=$mw/round$r && mkdir -p "$rd"
    [ "$rounds" -gt 1 ] && echo "#   round $r of $rounds" >&2
    if [ $tflite_ok = 1 ] && [ $np_ok = 1 ]; then
      # shellcheck disable=SC2086
      if ! $PY "$peers/bench.py" "$path" $peer_flags --work "$mw/peers" --json "$rd/peers.json" \
          >"$rd/peers.md" 2>"$rd/peers.log"; then
        echo "# peers/bench.py failed on $name (see $rd/peers.log)" >&2
      fi
    fi
    set --
    for f in "$mw"/peers/tflite/input_*.bin; do [ -f "$f" ] && set -- "$@" "$f"; done
    [ $# -gt 0 ] && printf '%s\n' "$@" >"$mw/inputs.txt"
    for t in $(printf '%s\n' "$threads" | tr ',' ' '); do
      guarded "$bin" bench "$path" "$@" --runs "$runs" --warmup 10 --threads "$t" --json \
        >"$rd/tensorc_t$t.txt" 2>&1 || echo "# tensorc failed on $name at $t threads" >&2
    done
    r=$((r + 1))
  done
  # where tensorc's time goes (1 thread): per-op table, heaviest ops listed under the table
  "$bin" bench "$path" "$@" --runs 20 --warmup 3 --profile >"$mw/tensorc_profile.txt" 2>&1
done

# ---- the table ----------------------------------------------------------------------------------
t_end=$(date +%s)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
feat=$(grep -o -w -E 'avx2|fma|avx512f|avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')
echo "tensorc $("$bin" --version 2>/dev/null | sed 's/^tensorc //'), $(date -u +%Y-%m-%d), ${cpu:-unknown CPU} ($(nproc 2>/dev/null || echo '?') CPUs; ${feat:-no AVX flags}), $runs runs per median$([ "$rounds" -gt 1 ] && echo ", lowest median of $rounds rounds")"
echo
$PY - "$work" "$threads" "$unavail" "$peak_f32" "$peak_int8" $(printf '%s\n' $models | sed 's,.*/,,') <<'EOF'
import json, os, re, sys
work, threads, unavail = sys.argv[1], [int(t) for t in sys.argv[2].split(',')], sys.argv[3]
peaks = {'GFLOP/s': float(sys.argv[4]), 'GOP/s': float(sys.argv[5])}
names = sys.argv[6:]
cols = ['TFLite wasm', 'ORT float', 'ORT int8 u8s8', 'PyTorch']
def peer_of(r):
    rt = r['runtime']
    if rt.startswith('tflite-wasm'): return 'TFLite wasm', 2
    if rt.startswith('pytorch'): return 'PyTorch', 2
    if rt.startswith('onnxruntime'):
        col = 'ORT int8 u8s8' if 'int8 (u8s8)' in rt else ('ORT float' if 'int8' not in rt else None)
        return col, (2 if 'C API' in rt else 1)   # the C harness wins over the node one
    return None, 0
notes, status = [], 0
print('| model | threads | tensorc ms | ' + ' | '.join(c + ' ms' for c in cols) + ' | fastest peer | ratio (peer/tensorc) |')
print('|---|---:|---:|' + '---:|' * len(cols) + '---|---:|')
for name in names:
    mw = os.path.join(work, name)
    # round 1 in mw, round R in mw/roundR: every column keeps its lowest median over the rounds
    rds = [mw] + sorted((os.path.join(mw, d) for d in (os.listdir(mw) if os.path.isdir(mw) else [])
                         if d.startswith('round') and d[5:].isdigit()), key=lambda d: int(d.rsplit('round', 1)[1]))
    rows = []
    for rd in rds:
        if os.path.exists(os.path.join(rd, 'peers.json')):
            rows += json.load(open(os.path.join(rd, 'peers.json')))
        elif os.path.exists(os.path.join(rd, 'peers.log')):
            tail = open(os.path.join(rd, 'peers.log')).read().strip().splitlines()[-1:] or ['no output']
            notes.append(f'{name}: peers/bench.py failed: {tail[0][:160]}')
    if os.path.exists(os.path.join(mw, 'error.txt')):
        notes.append(f'{name}: ' + open(os.path.join(mw, 'error.txt')).read().strip())
    for t in threads:
        tc = None
        for rd in rds:
            f = os.path.join(rd, f'tensorc_t{t}.txt')
            if not os.path.exists(f): continue
            lines = open(f).read().splitlines()
            js = [l for l in lines if l.startswith('{')]
            if js:
                v = json.loads(js[-1])['median_us'] / 1e3
                tc = v if tc is None else min(tc, v)
            else:
                status = 1
                notes.append(f'{name} t={t}: tensorc failed: ' + (lines[0][:160] if lines else 'no output'))
        best = {}
        for r in rows:
            col, prio = peer_of(r)
            if col is None or r['threads'] != t: continue
            if r['median_ms'] is None:
                best.setdefault(col, (0, None, r['note']))
                continue
            cur = best.get(col)
            if cur is None or cur[1] is None or prio > cur[0] or (prio == cur[0] and r['median_ms'] < cur[1]):
                best[col] = (prio, r['median_ms'], r['runtime'])
        cells, fastest = [], None
        for c in cols:
            v = best.get(c)
            if v is None: cells.append('n/a')
            elif v[1] is None: cells.append('failed')
            else:
                cells.append(f'{v[1]:.3f}' + ('' if v[0] == 2 or c.startswith(('TFLite', 'PyTorch')) else '*'))
                if fastest is None or v[1] < fastest[1]: fastest = (c, v[1])
        ratio = f'{fastest[1] / tc:.2f}' if fastest and tc else '-'
        print(f"| {name} | {t} | {'%.3f' % tc if tc else 'failed'} | " + ' | '.join(cells) +
              f" | {fastest[0] if fastest else '-'} | {ratio} |")
    for r in rows:
        if r['runtime'].startswith('onnxruntime') and 'int8' in r['runtime'] and r['threads'] == threads[0] \
                and 'C API' in r['runtime'] and r['max_abs_diff']:
            notes.append(f"{name}: ORT int8 u8s8 output differs from TFLite by up to {r['max_abs_diff']:g} LSB on this CPU")
        if r['median_ms'] is None and r['note'].startswith('failed'):
            notes.append(f"{name}: {r['runtime']} t={r['threads']} {r['note']}")
    if any('bias quantized_dimension patched' in r['note'] for r in rows[:1]):
        notes.append(f'{name}: the peers ran a copy with the bias quantized_dimension patched to 0 (metadata only)')
    if any('float rebuild of a quantized model' in r['note'] for r in rows):
        notes.append(f'{name}: ORT float and PyTorch run the float rebuild of this quantized network (dequantized weights)')
print()
print('n/a: the peer is unavailable or does not apply (ORT int8 only for quantized models); '
      '*: onnxruntime-node harness (the C API one was not built). ratio > 1: tensorc is faster than the fastest peer.')
un = sorted(set(l.strip() for l in open(unavail) if l.strip()))
if un:
    print('\nUnavailable peers:')
    for l in un: print(f'- {l}')
heavy = []
for name in names:
    f = os.path.join(work, name, 'tensorc_profile.txt')
    if os.path.exists(f):
        h = [l for l in open(f).read().splitlines() if l.startswith('heaviest ops:')]
        if not h: continue
        line = h[0][len('heaviest ops: '):]
        # "... 58.72 GOP/s" -> "... 58.72 GOP/s = 6.5 % of peak" where a peak was given
        def pct(mo):
            pk = peaks[mo.group(2)]
            return mo.group(0) + (f' = {100 * float(mo.group(1)) / pk:.1f} % of peak' if pk > 0 else '')
        heavy.append(f'{name}: ' + re.sub(r'([0-9.]+) (GFLOP/s|GOP/s)', pct, line))
if heavy:
    print('\ntensorc, 1 thread, heaviest ops (`tensorc bench --profile`, median per invoke'
          + ''.join(f'; {u} peak {v:g}' for u, v in peaks.items() if v > 0) + '):')
    for l in heavy: print(f'- {l}')
if notes:
    print('\nNotes:')
    for l in dict.fromkeys(notes): print(f'- {l}')
sys.exit(status)
EOF
st=$?
echo
echo "whole run: $((t_end - t_start)) s (work files in $work)"
exit $st
