#!/usr/bin/env python3
"""bench_ort_py.py: tensorc against ONNX Runtime's Python package, on one machine, in one run.

    bench/bench_ort_py.py WORK --tensorc BUILD/tensorc --models SHARED/models [--runs 200]
                          [--threads 1,2] [--ort-c ORT_BENCH [--no-py]] [--rounds R]

For machines where bench_peers.sh cannot install its peers (no Node.js, no network) but
`pip`'s onnxruntime is present. WORK is a bench_peers.sh work folder (or a copy of its
<model>/peers/ files): for each model it reads <model>/peers/<model>.onnx (the float rebuild),
<model>/peers/<model>.int8_u8s8.onnx (the integer graph of a quantized model),
<model>/peers/float_input_0.bin and <model>/peers/tflite/input_0.bin (the input bytes TFLite
was given). ONNX Runtime runs with intra_op_num_threads = T, sequential execution, all graph
optimisations and pre-bound inputs/outputs (run_with_iobinding); tensorc runs `tensorc bench
MODEL INPUT.bin --runs N --threads T --json` on the same bytes. Prints a markdown table of
medians (ms) and ratio = fastest ORT / tensorc (above 1: tensorc is faster).

--ort-c names the peers' C API harness (peers/ort-ref/build/ort_bench, with its
libonnxruntime.so.1 findable), which times OrtApi::Run alone: without Python's few microseconds
per call, the fairer peer on the small models. Its medians get their own columns and count
towards the fastest ORT. --rounds R measures everything R times, alternating, and keeps each
column's lowest median (a shared machine's neighbours slow both sides unevenly).
"""
import argparse, json, os, statistics, subprocess, sys, time


def ort_median(path, x_path, dtype_of, threads, runs):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    i = s.get_inputs()[0]
    dt = dtype_of[i.type]
    x = np.fromfile(x_path(dt), dtype=dt).reshape([d if isinstance(d, int) else 1 for d in i.shape])
    b = s.io_binding()
    b.bind_cpu_input(i.name, x)
    for o in s.get_outputs():
        b.bind_output(o.name, 'cpu')
    for _ in range(20):
        s.run_with_iobinding(b)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run_with_iobinding(b)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def ort_c_median(binary, path, x, threads, runs):
    p = subprocess.run([binary, path, x, '--threads', str(threads), '--bench', str(runs),
                        '--warmup', '20'], capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(f'ort_bench failed on {path}: {p.stderr.strip()[:300]}\n')
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])['timing']['median_ms']


def lowest(a, b):
    return b if a is None else a if b is None else min(a, b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('work')
    ap.add_argument('--tensorc', required=True)
    ap.add_argument('--models', required=True, help='the shared models folder (finds <model>.tflite below it)')
    ap.add_argument('--runs', type=int, default=200)
    ap.add_argument('--threads', default='1,2')
    ap.add_argument('--ort-c', default=None, help="the peers' ort_bench (C API harness)")
    ap.add_argument('--rounds', type=int, default=1)
    ap.add_argument('--no-py', action='store_true', help="with --ort-c: time ORT through the C harness only")
    a = ap.parse_args()
    import numpy as np
    try:
        if a.no_py and a.ort_c:
            raise ImportError
        import onnxruntime as ort
        py = f'onnxruntime {ort.__version__} (Python, CPUExecutionProvider)'
    except ImportError:
        if not a.ort_c:
            sys.exit('bench_ort_py.py: no onnxruntime Python package here; pass --ort-c ORT_BENCH')
        ort, py = None, 'ORT Python package not used' if a.no_py else 'no onnxruntime Python package'
    dtype_of = {'tensor(float)': np.float32, 'tensor(int8)': np.int8, 'tensor(uint8)': np.uint8}
    tflites = {}
    for d, _, files in os.walk(a.models):
        for f in files:
            if f.endswith('.tflite'):
                tflites.setdefault(f[:-7], os.path.join(d, f))
    print(f'{py}{"; ORT C API harness " + a.ort_c if a.ort_c else ""} vs tensorc {a.tensorc}; '
          f'{a.runs} runs per median\n')
    cols = ([('py', 'float'), ('py', 'int8')] if ort else []) + ([('c', 'float'), ('c', 'int8')] if a.ort_c else [])
    head = {('py', 'float'): 'ORT-py float ms', ('py', 'int8'): 'ORT-py int8 u8s8 ms',
            ('c', 'float'): 'ORT-C float ms', ('c', 'int8'): 'ORT-C int8 u8s8 ms'}
    print('| model | threads | tensorc ms | ' + ' | '.join(head[c] for c in cols) +
          ' | ratio (fastest ORT / tensorc) |')
    print('|---|---:|---:|' + '---:|' * len(cols) + '---:|')
    for m in sorted(os.listdir(a.work)):
        pd = os.path.join(a.work, m, 'peers')
        if not os.path.isdir(pd) or m not in tflites:
            continue
        q_in = os.path.join(pd, 'tflite', 'input_0.bin')
        f_in = os.path.join(pd, 'float_input_0.bin')
        x_path = lambda dt: f_in if dt == np.float32 else q_in
        is_float = os.path.getsize(q_in) == os.path.getsize(f_in)
        for t in [int(v) for v in a.threads.split(',')]:
            tc = None
            peers = {c: None for c in cols}
            for _ in range(a.rounds):
                p = subprocess.run([a.tensorc, 'bench', tflites[m], f_in if is_float else q_in, '--runs',
                                    str(a.runs), '--threads', str(t), '--json'], capture_output=True, text=True)
                if p.returncode == 0:
                    tc = lowest(tc, json.loads(p.stdout.strip().splitlines()[-1])['median_us'] / 1e3)
                for (how, kind) in cols:
                    path = os.path.join(pd, f'{m}.onnx' if kind == 'float' else f'{m}.int8_u8s8.onnx')
                    if not os.path.exists(path):
                        continue
                    if how == 'py':
                        v = ort_median(path, x_path, dtype_of, t, a.runs)
                    else:
                        v = ort_c_median(a.ort_c, path, f_in if kind == 'float' else q_in, t, a.runs)
                    peers[(how, kind)] = lowest(peers[(how, kind)], v)
            known = [v for v in peers.values() if v is not None]
            best = min(known) if known else None
            f = lambda v: 'n/a' if v is None else f'{v:.3f}'
            print(f'| {m} | {t} | {f(tc)} | ' + ' | '.join(f(peers[c]) for c in cols) + ' | '
                  f'{"n/a" if tc is None or best is None else format(best / tc, ".2f")} |', flush=True)

if __name__ == '__main__':
    sys.exit(main())
