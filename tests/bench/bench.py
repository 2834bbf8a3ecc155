# SPDX-License-Identifier: ISC
# bench.py - bookkeeping for tests/bench/run.sh: time one run, cross-check
# rankings, print the table and the targets of issue 6.
#
#   bench.py measure LOG WORKLOAD TOOL ROWS OUT [--pid PID] [--] CMD...
#       Run CMD (its words joined) once, through sh -c when it holds
#       shell syntax, else directly, under benchrun ($BENCHRUN, from
#       tests/tools): stdout to OUT ('-' for /dev/null).  Append a line
#       to LOG: workload, tool, rows, wall s, user s, sys s, peak RSS KiB,
#       exit status.  Wall is a monotonic clock around fork and wait, CPU
#       and RSS come from getrusage() as GNU time's do, but in
#       microseconds where GNU time prints hundredths; for a pipeline,
#       the CPU of all its processes and the RSS of the largest.
#       --pid adds the CPU a server process spent meanwhile and takes its
#       peak RSS (VmHWM) when larger.
#   bench.py anon LOG WORKLOAD TOOL ROWS KIBFILE WALL
#       Append a line whose RSS is peakrss's anonymous peak.
#   bench.py check CHECKS WORKLOAD TOOL REFFMT REF PEERFMT PEER
#       Compare the peer's ranking with ours; append the verdict.
#   bench.py table LOG CHECKS SIZE
#       Print the table (medians of each workload and tool) and the
#       targets.
import os
import re
import shlex
import shutil
import statistics
import sys
import json

REL = 1e-6
BENCHRUN = os.environ.get('BENCHRUN', 'benchrun')


def measure(argv):
    log, workload, tool, rows, out = argv[:5]
    rest = argv[5:]
    pid = None
    if rest and rest[0] == '--pid':
        pid = int(rest[1])
        rest = rest[2:]
    if rest and rest[0] == '--':
        rest = rest[1:]
    if not rest:
        sys.exit('measure: no command')
    cmd = ' '.join(rest)
    if re.search(r'[|&;<>()$`*?"\'\\]', cmd) or '=' in cmd.split()[0]:
        args = ['/bin/sh', '-c', cmd]
    else:
        args = shlex.split(cmd)
        path = shutil.which(args[0])
        if path is None:
            sys.exit('measure: %s: not found' % args[0])
        args[0] = path
    # benchrun forks the command from its own small process: the peak
    # RSS of a command vforked from here would start at ours.
    res = log + '.run'
    args = [BENCHRUN, res, '-o', out if out != '-' else os.devnull] + args
    srv0 = server_cpu(pid) if pid else 0.0
    child = os.posix_spawn(args[0], args, os.environ)
    os.waitpid(child, 0)
    cpu_srv = (server_cpu(pid) - srv0) if pid else 0.0
    with open(res) as f:
        wall, user, sys_, rss, code = f.read().split()
    wall, user, sys_, rss, code = (float(wall), float(user), float(sys_),
                                   int(rss), int(code))
    if pid:
        rss = max(rss, server_hwm(pid))
    with open(log, 'a') as f:
        f.write('%s\t%s\t%s\t%.6f\t%.6f\t%.6f\t%d\t%d\n' % (
            workload, tool, rows, wall, user + cpu_srv, sys_, rss, code))
    if code != 0:
        sys.stderr.write('bench: %s / %s: exit %d: %s\n' %
                         (workload, tool, code, cmd))
    sys.exit(0)


def server_cpu(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    hz = os.sysconf('SC_CLK_TCK')
    return (int(fields[11]) + int(fields[12])) / hz


def server_hwm(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0


def anon(argv):
    log, workload, tool, rows, kibfile, wall = argv
    with open(kibfile) as f:
        kib = int(f.read().split()[0])
    with open(log, 'a') as f:
        f.write('%s\t%s\t%s\t%s\t0\t0\t%d\t0\n' %
                (workload, tool, rows, wall, kib))


# Rankings: lists of (pair, stddev), most volatile first.

def rank_coin(path):
    out = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            out.append((r['pair'], r['stddev']))
    return out


def rank_stats(path):
    """coinstddev's stat records, in pair order: rank them as coinrank."""
    out = rank_coin(path)
    out.sort(key=lambda e: (e[1] is None, -(e[1] or 0), e[0]))
    return out


def rank_tsv(path, header=False):
    out = []
    with open(path) as f:
        for i, line in enumerate(f):
            if header and i == 0:
                continue
            p, s = line.rstrip('\n').split('\t')[:2]
            out.append((p, float(s)))
    return out


def rank_prom(path):
    with open(path) as f:
        d = json.load(f)
    if d.get('status') != 'success':
        raise ValueError('query failed')
    return [(r['metric']['pair'], float(r['value'][1]))
            for r in d['data']['result']]


READERS = {
    'coin': rank_coin, 'stats': rank_stats, 'tsv': rank_tsv,
    'tsvh': lambda p: rank_tsv(p, True), 'prom': rank_prom,
}


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= REL * max(abs(a), abs(b))


def compare(ref, peer):
    """'ok N/N' when the peer ranks every pair as we do, up to float
    noise: the same pairs, each stddev within REL of ours, the same
    order but for swaps of pairs whose stddevs are within REL."""
    if len(ref) != len(peer):
        return 'MISMATCH (%d pairs, ours %d)' % (len(peer), len(ref))
    ours = dict(ref)
    for i, (p, s) in enumerate(peer):
        if p not in ours:
            return 'MISMATCH (rank %d: %s unknown)' % (i + 1, p)
        if not close(ours[p], s):
            return 'MISMATCH (%s: %.10g, ours %.10g)' % (p, s, ours[p])
        if p != ref[i][0] and not close(ref[i][1], ours[p]):
            return 'MISMATCH (rank %d: %s, ours %s)' % (i + 1, p,
                                                        ref[i][0])
    return 'ok %d/%d' % (len(peer), len(ref))


def check(argv):
    checks, workload, tool, rfmt, ref, pfmt, peer = argv
    try:
        verdict = compare(READERS[rfmt](ref), READERS[pfmt](peer))
    except (OSError, ValueError, KeyError, IndexError) as e:
        verdict = 'MISMATCH (%s)' % e.__class__.__name__
    with open(checks, 'a') as f:
        f.write('%s\t%s\t%s\n' % (workload, tool, verdict))
    sys.stderr.write('bench: check %s / %s: %s\n' % (workload, tool,
                                                      verdict))


# The table.

def load(log):
    rows = {}
    order = []
    with open(log) as f:
        for line in f:
            w, t, n, wall, user, sys_, rss, code = \
                line.rstrip('\n').split('\t')
            key = (w, t)
            if key not in rows:
                rows[key] = []
                order.append(key)
            rows[key].append((float(wall), float(user) + float(sys_),
                              int(rss), int(code), int(n)))
    return rows, order


def human(x):
    for unit, div in (('G', 1e9), ('M', 1e6), ('k', 1e3)):
        if x >= div:
            return '%.3g%s' % (x / div, unit)
    return '%.3g' % x


def secs(x):
    if x >= 100:
        return '%.0f' % x
    if x >= 10:
        return '%.1f' % x
    if x >= 1:
        return '%.2f' % x
    if x >= 0.1:
        return '%.3f' % x
    return '%.4f' % x


def table(argv):
    log, checks, size = argv
    rows, order = load(log)
    verdicts = {}
    if os.path.exists(checks):
        with open(checks) as f:
            for line in f:
                w, t, v = line.rstrip('\n').split('\t')
                verdicts[(w, t)] = v
    med = {}
    for key in order:
        runs = rows[key]
        med[key] = (statistics.median(r[0] for r in runs),
                    statistics.median(r[1] for r in runs),
                    max(r[2] for r in runs),
                    any(r[3] != 0 for r in runs),
                    runs[0][4], len(runs))
    # Workloads in their order; in each, the tools in order of first run.
    order.sort(key=lambda k: k[0].split()[0])
    # The first tool of each workload is the reference of its ratios.
    ref = {}
    for w, t in order:
        ref.setdefault(w, (w, t))
    head = ('workload', 'tool', 'runs', 'wall s', 'cpu s', 'RSS MiB',
            'rows/s', 'x ours', 'check')
    lines = []
    for key in order:
        w, t = key
        wall, cpu, rss, failed, n, runs = med[key]
        rwall = med[ref[w]][0]
        ratio = '-' if key == ref[w] else '%.2f' % (wall / rwall)
        rps = human(n / wall) if wall > 0 and n > 10 else '-'
        cpu_s = secs(cpu)
        if w.startswith('5'):
            cpu_s = rps = ratio = '-'
        v = verdicts.get(key, '-')
        if failed:
            v = 'FAILED ' + v
        lines.append((w, t, str(runs), secs(wall), cpu_s,
                      '%.1f' % (rss / 1024), rps, ratio, v))
    width = [max(len(x[i]) for x in lines + [head])
             for i in range(len(head))]
    right = {2, 3, 4, 5, 6, 7}

    def fmt(x):
        return '  '.join((x[i].rjust(width[i]) if i in right
                          else x[i].ljust(width[i]))
                         for i in range(len(x))).rstrip()
    print(fmt(head))
    print('  '.join('-' * w for w in width))
    prev = None
    for x in lines:
        if prev is not None and x[0] != prev:
            print()
        prev = x[0]
        print(fmt(x))
    print()
    print('wall: median of the runs; cpu: median user+sys of all its '
          'processes (Prometheus: curl and the server); RSS: the peak '
          'of the largest process, mapped store pages included (5 '
          'memory: anonymous memory only, without mapped files); x ours: '
          'wall / wall of the first row of the workload.')
    targets(med, rows, size)


def targets(med, rows, size):
    def wall(w, t):
        return med[(w, t)][0] if (w, t) in med else None

    def find(w, prefix):
        for (ww, t) in med:
            if ww == w and t.startswith(prefix):
                return wall(ww, t), (ww, t)
        return None, None
    print()
    print('targets (issue 6):')
    out = []

    def verdict(name, ok, text):
        out.append('  %-4s %-8s %s' % (name, 'MET' if ok else 'MISSED',
                                         text))
    ours1, _ = find('1 ingest', 'coinstore')
    sq1, _ = find('1 ingest', 'sqlite3')
    jc1, _ = find('1 ingest', 'json-c')
    if ours1 and sq1:
        verdict('1a', sq1 / ours1 >= 1.5,
                'ingest: sqlite3 takes %.2fx our time (needs >= 1.5x)' %
                (sq1 / ours1))
    if ours1 and jc1:
        verdict('1b', ours1 / jc1 <= 1.5,
                'ingest takes %.2fx a bare json-c parse (needs <= 1.5x)'
                % (ours1 / jc1))
    ours2, _ = find('2 rank 24h', 'coinstddev')
    sq2, _ = find('2 rank 24h', 'sqlite3')
    pr2, _ = find('2 rank 24h', 'prometheus')
    if ours2 and sq2:
        verdict('2a', sq2 / ours2 >= 3,
                'full ranking: sqlite3 GROUP BY takes %.2fx our time '
                '(needs >= 3x)' % (sq2 / ours2))
    if ours2 and pr2:
        verdict('2b', pr2 / ours2 > 1,
                'full ranking: warm Prometheus takes %.2fx our time '
                '(needs > 1x)' % (pr2 / ours2))
    minute = {}
    floor = floorm = None
    for (w, t) in med:
        if w != '3 minute':
            continue
        if t.startswith('coinstore'):
            minute[t.split(', ')[1].split()[0]] = wall(w, t)
        elif t.startswith('lmdbfloor') and t.endswith('new env'):
            floor = wall(w, t)
        elif t.startswith('lmdbfloor'):
            floorm = wall(w, t)
    m24 = minute.get('24h')
    if ours2 and m24:
        verdict('3a', ours2 / m24 >= 10,
                "the full ranking takes %.1fx the minute's work (24h) "
                '(needs >= 10x at 10,000 pairs%s)' %
                (ours2 / m24, '' if size == 'full' else
                 '; this run has fewer'))
    got = [minute.get(x) for x in ('1h', '24h', '7d')]
    if all(got):
        verdict('3b', max(got) / min(got) <= 1.5,
                "the minute's work: 1h %s s, 24h %s s, 7d %s s: "
                'max/min %.2f (needs <= 1.5)' %
                (secs(got[0]), secs(got[1]), secs(got[2]),
                 max(got) / min(got)))
    for win in ('1h', '24h', '7d'):
        if minute.get(win) and floor:
            r = minute[win] / floor
            verdict('3c', r <= 3,
                    "the minute's work (%s) takes %.2fx the disk's floor "
                    '(%s s; needs <= 3x)' % (win, r, secs(floor)))
    for win in ('1h', '24h', '7d'):
        if minute.get(win) and floorm:
            r = minute[win] / floorm
            out.append("  (3c) %-8s the minute's work (%s) takes %.2fx "
                       "one commit of as many puts into an environment of "
                       "the store's layout (%s s)" %
                       ('info', win, r, secs(floorm)))
    for (w, t) in med:
        if w == '3 minute' and t.endswith('minutes in a row: coinstore | '
                                          'coinstddev | coinrank -, 24h'):
            runs = [r[0] for r in rows[(w, t)]]
            out.append("  (3)  %-8s %d minutes in a row (24h): median %s s, "
                       "mean %s s, dearest %s s (the one that merges the "
                       "stage)" % ('info', len(runs),
                                   secs(statistics.median(runs)),
                                   secs(statistics.mean(runs)),
                                   secs(max(runs))))
    big = small = None
    for (w, t) in med:
        if w == '4 top 10':
            if t.endswith('10 pairs'):
                small = wall(w, t)
            else:
                big = wall(w, t)
    if big and small:
        verdict('4', big / small <= 1.5,
                'coinrank --top 10: %.2fx its time on a 10-pair store '
                '(needs <= 1.5x)' % (big / small))
    # 5: flat memory, and no more than the smallest peer's.
    a10 = a100 = None
    anon = {}
    for (w, t) in med:
        if w == '5 memory':
            anon[t] = med[(w, t)][2]
            if t.startswith('coinstore -q, 10%'):
                a10 = med[(w, t)][2]
            elif t.startswith('coinstore -q, all'):
                a100 = med[(w, t)][2]
    if a10 and a100:
        verdict('5a', a100 / a10 <= 1.25,
                'coinstore -q anonymous peak %.1f MiB on 10%% of the '
                'input, %.1f MiB on all of it (%.2fx; flat means <= '
                '1.25x)' % (a10 / 1024, a100 / 1024, a100 / a10))
    for w, ours, peers in (
            ('1 ingest', ('coinstore -q, all',), ('sqlite3', 'promtool')),
            ('2 rank 24h', ('coinstddev --all', 'coinrank, '),
             ('sqlite3', 'datamash', 'mlr', 'prometheus'))):
        rss = [(med[k][2], k[1]) for k in med
               if k[0] == w and k[1].split()[0] in peers]
        mine = [anon[t] for t in anon
                if any(t.startswith(o) for o in ours)]
        if not rss or not mine:
            continue
        lo, who = min(rss)
        verdict('5b', max(mine) <= lo,
                '%s: ours %.1f MiB anonymous, smallest peer %s %.1f MiB'
                % (w, max(mine) / 1024, who.split()[0], lo / 1024))
    for line in out:
        print(line)


def main():
    cmds = {'measure': measure, 'anon': anon, 'check': check,
            'table': table}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit('usage: bench.py measure|anon|check|table ...')
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == '__main__':
    main()
