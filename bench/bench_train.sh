#!/usr/bin/env bash
# bench_train.sh: the training benchmark of issue 5. Runs `tensorc train` on the two workload
# specs (examples/specs/mnist_mlp.json, mnist_cnn.json) at 1 and 2 threads and, in the same run,
# the PyTorch peer ../shared/peers/train_torch.py, which defines the same workloads; prints one
# markdown table: examples/s (median epoch after the first, as the peer measures it), the ratio,
# test accuracy on the 2000 held-out images and peak RSS of each side. Every timed process waits
# for an idle machine and is re-run when other processes took CPU meanwhile (peers/quiet.py).
#
# With --seeds A-B it measures accuracy instead of speed: both sides train each workload once per
# seed A..B (1 thread, no idle-machine guard) and it prints the test accuracy per seed, then the
# mean, standard deviation, min/max and how many seeds reach the issue's target (MLP 95 %, CNN
# 97.5 %): the spread from the seed alone, for both frameworks, in one run.
#
# usage: bench/bench_train.sh [TENSORC] [--threads 1,2] [--workloads mlp,cnn] [--epochs N]
#                             [--no-guard] [--no-torch] [--seeds A-B]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${TC_SHARED_DIR:-$ROOT/../shared}"
exec /usr/bin/python3 - "$ROOT" "$SHARED" "$@" <<'PY'
import json, os, subprocess, sys, tempfile

root, shared, args = sys.argv[1], sys.argv[2], sys.argv[3:]
tc, threads, workloads, epochs, guard, torch = os.path.join(root, 'build', 'tensorc'), '1,2', 'mlp,cnn', None, True, True
seeds = None
i = 0
while i < len(args):
    a = args[i]
    if a in ('--threads', '--workloads', '--epochs', '--seeds') and i + 1 < len(args):
        v = args[i + 1]; i += 1
        if a == '--threads': threads = v
        elif a == '--workloads': workloads = v
        elif a == '--seeds':
            lo, _, hi = v.partition('-')
            if not (lo.isdigit() and (hi or lo).isdigit()) or int(hi or lo) < int(lo):
                sys.exit(f'bench_train.sh: --seeds wants A-B (e.g. 0-9), got {v}')
            seeds = range(int(lo), int(hi or lo) + 1)
        else: epochs = v
    elif a == '--no-guard': guard = False
    elif a == '--no-torch': torch = False
    elif a in ('-h', '--help'):
        print(open(os.path.join(root, 'bench', 'bench_train.sh')).read().split('set -euo')[0]); sys.exit(0)
    elif a.startswith('-'): sys.exit(f'bench_train.sh: unknown option {a}')
    else: tc = a
    i += 1
if not os.access(tc, os.X_OK):
    sys.exit(f'bench_train.sh: {tc} not found (build it: cmake --build build --target tensorc)')
peers = os.path.join(shared, 'peers')
mnist = os.path.join(shared, 'data', 'datasets', 'mnist')
sys.path.insert(0, peers)
try:
    from quiet import guarded_run
except ImportError:
    guarded_run, guard = None, False

def run(cmd):
    if guard:
        return guarded_run(cmd)
    return subprocess.run(cmd, capture_output=True, text=True), None

def kv_of(text):
    return dict(l.split('=', 1) for l in text.splitlines() if '=' in l and ' ' not in l.split('=', 1)[0])

def torch_installed():
    return subprocess.run(['/usr/bin/python3', '-c', 'import torch'], capture_output=True).returncode == 0

if seeds is not None:
    import statistics
    has_torch = torch and torch_installed()
    target = {'mlp': 0.95, 'cnn': 0.975}
    print(f'test accuracy per seed (1 thread; tensorc {tc}; '
          f'{"PyTorch train_torch.py" if has_torch else "no PyTorch"})\n')
    for wl in workloads.split(','):
        spec = os.path.join(root, 'examples', 'specs', f'mnist_{wl}.json')
        acc = {'tensorc': [], 'PyTorch': []}
        print(f'| {wl} seed | tensorc | PyTorch |\n|---:|---:|---:|')
        for sd in seeds:
            cmd = [tc, 'train', spec, '--threads', '1', '--verbose', '0', '--data', mnist, '--seed', str(sd)]
            if epochs: cmd += ['--epochs', epochs]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f'{" ".join(cmd)} failed:\n{(p.stdout + p.stderr)[-3000:]}')
            acc['tensorc'].append(float(kv_of(p.stdout)['test_accuracy']))
            pt = None
            if has_torch:
                with tempfile.TemporaryDirectory() as d:
                    out = os.path.join(d, 't.json')
                    cmd = ['/usr/bin/python3', os.path.join(peers, 'train_torch.py'), '--workloads', wl,
                           '--threads', '1', '--seed', str(sd), '--data', mnist, '--json', out,
                           '--no-guard'] + (['--epochs', epochs] if epochs else [])
                    if subprocess.run(cmd, capture_output=True, text=True).returncode != 0:
                        sys.exit('train_torch.py failed')
                    pt = json.load(open(out))[0]['test_accuracy']
                    acc['PyTorch'].append(pt)
            print(f'| {sd} | {acc["tensorc"][-1]:.4f} | {"-" if pt is None else format(pt, ".4f")} |', flush=True)
        for name, v in acc.items():
            if not v: continue
            sdv = statistics.stdev(v) if len(v) > 1 else 0.0
            print(f'\n{wl} {name}: mean {statistics.mean(v):.4f}, sd {sdv:.4f}, min {min(v):.4f}, '
                  f'max {max(v):.4f}, {sum(x >= target[wl] for x in v)}/{len(v)} seeds >= {target[wl]}',
                  end='')
        print('\n')
    sys.exit(0)

rows = {}
for wl in workloads.split(','):
    spec = os.path.join(root, 'examples', 'specs', f'mnist_{wl}.json')
    for t in threads.split(','):
        cmd = [tc, 'train', spec, '--threads', t, '--verbose', '0', '--data', mnist]
        if epochs: cmd += ['--epochs', epochs]
        p, foreign = run(cmd)
        if p.returncode != 0:
            sys.exit(f'{" ".join(cmd)} failed:\n{(p.stdout + p.stderr)[-3000:]}')
        kv = kv_of(p.stdout)
        rows[(wl, int(t))] = {'tc_eps': float(kv['train_examples_per_sec']), 'tc_acc': float(kv['test_accuracy']),
                              'tc_rss': float(kv['peak_rss_mb']), 'tc_foreign': foreign}
        print(f'# tensorc {wl} threads={t}: {kv["train_examples_per_sec"]} examples/s, '
              f'accuracy {kv["test_accuracy"]}', file=sys.stderr, flush=True)

torch_note = ''
if torch and not torch_installed():
    torch, torch_note = False, 'PyTorch is not installed (apt-get install python3-torch libopenblas0-openmp): tensorc numbers only.'
elif not torch:
    torch_note = 'PyTorch skipped (--no-torch).'
torch_ver = ''
if torch:
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'torch.json')
        cmd = ['/usr/bin/python3', os.path.join(peers, 'train_torch.py'), '--workloads', workloads,
               '--threads', threads, '--data', mnist, '--json', out] + (['--epochs', epochs] if epochs else []) \
              + ([] if guard else ['--no-guard'])
        p = subprocess.run(cmd, text=True, stdout=subprocess.PIPE)
        if p.returncode != 0:
            sys.exit('train_torch.py failed')
        for r in json.load(open(out)):
            rows.setdefault((r['workload'], r['threads']), {}).update(
                {'pt_eps': r['examples_per_s'], 'pt_acc': r['test_accuracy'], 'pt_rss': r['peak_rss_kib'] / 1024})
            torch_ver = f"PyTorch {r['torch']}, BLAS {os.path.basename(os.path.dirname(r['blas']))}"

def f(v, fmt):
    return '-' if v is None else format(v, fmt)
print(f'tensorc train vs {torch_ver or "(no PyTorch)"}; MNIST t10k, train 8000 / test 2000 images; '
      f'tensorc {tc}')
if torch_note: print(torch_note)
print()
print('| workload | threads | tensorc examples/s | PyTorch examples/s | ratio | tensorc test acc | '
      'PyTorch test acc | tensorc peak RSS MiB | PyTorch peak RSS MiB |')
print('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
for (wl, t), r in rows.items():
    ratio = r['tc_eps'] / r['pt_eps'] if r.get('pt_eps') else None
    print(f"| {wl} | {t} | {f(r.get('tc_eps'), '.0f')} | {f(r.get('pt_eps'), '.0f')} | {f(ratio, '.2f')} | "
          f"{f(r.get('tc_acc'), '.4f')} | {f(r.get('pt_acc'), '.4f')} | {f(r.get('tc_rss'), '.0f')} | "
          f"{f(r.get('pt_rss'), '.0f')} |")
fc = [r['tc_foreign'] for r in rows.values() if r.get('tc_foreign') is not None]
if fc:
    print(f"\nother processes' CPU during the tensorc runs: at most {max(fc):.1%} of one core")
PY
