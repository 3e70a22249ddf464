#!/usr/bin/env python3
"""Writes Sources/RankKernelsC/median5x5_networks.h: the 5x5 median kernels of rank_kernels.c as
pruned merge networks over sorted columns (the idea of A. Adams, "Fast Median Filters Using
Separable Sorting Networks", SIGGRAPH 2021), one output row or two at a time.

The networks are built from sorted lists (Batcher's odd-even merge of any lengths) with rank pruning:
a wire i of a sorted list of m of the window's N elements lies at rank i .. i + N - m of the window,
so a wire that cannot reach the median's rank k is replaced by -inf (below) or +inf (above), which
leaves the median unchanged; min/max with an infinity fold away and dead operations are dropped.
The work is split into stages that run over every column of a block and keep their results in L1
rows ("slots"), read back at column offsets by the later stages (a column sort serves five pixels).

  one row  (m5_1):  stage 0 sorts each column of 5 (18 min/max), stage 1 merges neighbouring sorted
                    columns (26), stage 2 merges pairs 0-1 and 2-3 and column 4 down to rank 12 (46):
                    90 min/max per vector of pixels (the Swift plan's network had 120).
  two rows (m5_2):  output rows y and y + 1 share window rows y - 1 .. y + 2: stage 0 sorts those
                    four per column (10), stage 1 merges neighbouring columns (18), stage 2 merges
                    the 20 shared elements to their ranks 7 .. 12 (the only ones that can still be
                    either median) and each output row then merges its own five (150 in all, 75 per
                    output row).

Every network is checked here on all 0-1 inputs (2^25 and 2^30 cases, bit-parallel in C; a min/max
network selects rank k of every input if it does of every 0-1 input) before the header is written.
Run from the repository root: python3 scripts/make_median5x5_c.py
"""
import os
import subprocess
import sys
import tempfile

NEG, POS = ('NEG',), ('POS',)
class Net:
    def __init__(self):
        self.nodes = {}   # key -> id
        self.defs = []    # id -> (op, a, b) or ('in', row, off) or ('ref', stage, id, off)
    def mk(self, d):
        if d in self.nodes: return self.nodes[d]
        i = len(self.defs); self.defs.append(d); self.nodes[d] = i; return i
    def inp(self, row, off): return self.mk(('in', row, off))
    def ref(self, stage, nid, off): return self.mk(('ref', stage, nid, off))
    def mn(self, a, b):
        if a == NEG or b == NEG: return NEG
        if a == POS: return b
        if b == POS: return a
        if a == b: return a
        if a > b: a, b = b, a
        return self.mk(('min', a, b))
    def mx(self, a, b):
        if a == POS or b == POS: return POS
        if a == NEG: return b
        if b == NEG: return a
        if a == b: return a
        if a > b: a, b = b, a
        return self.mk(('max', a, b))

def oem_merge(net, a, b):
    """Batcher odd-even merge of sorted lists a and b (any lengths)."""
    if not a: return list(b)
    if not b: return list(a)
    if len(a) == 1 and len(b) == 1:
        return [net.mn(a[0], b[0]), net.mx(a[0], b[0])]
    ev = oem_merge(net, a[0::2], b[0::2])
    od = oem_merge(net, a[1::2], b[1::2])
    # interleave: result[0] = ev[0]; then compare od[i] with ev[i+1]
    res = [ev[0]]
    i = 0
    while True:
        if i < len(od) and i + 1 < len(ev):
            res += [net.mn(od[i], ev[i+1]), net.mx(od[i], ev[i+1])]
        elif i < len(od):
            res.append(od[i])
        elif i + 1 < len(ev):
            res.append(ev[i+1])
        else: break
        i += 1
    return res

def prune(lst, N, k):
    m = len(lst)
    return [NEG if i + (N - m) < k else POS if i > k else w for i, w in enumerate(lst)]

def sort_list(net, elems, N, k):
    lists = [[e] for e in elems]
    while len(lists) > 1:
        nl = []
        for i in range(0, len(lists) - 1, 2):
            nl.append(prune(oem_merge(net, lists[i], lists[i+1]), N, k))
        if len(lists) % 2: nl.append(lists[-1])
        lists = nl
    return lists[0]

class Stages:
    def __init__(self, N, k):
        self.N, self.k = N, k
        self.nets = []
    def new(self):
        self.nets.append(Net()); return len(self.nets) - 1, self.nets[-1]
    def refs(self, net, stage, lst, off):
        return [w if w in (NEG, POS) else net.ref(stage, w, off) for w in lst]
    def merge(self, net, a, b):
        return prune(oem_merge(net, a, b), self.N, self.k)

def analyse(st, outputs):
    """outputs: list of node ids in the last stage net. Returns per-stage needed node sets."""
    S = len(st.nets)
    need = [set() for _ in range(S)]
    stack = [(S - 1, o) for o in outputs]
    while stack:
        s, i = stack.pop()
        if i in need[s]: continue
        need[s].add(i)
        d = st.nets[s].defs[i]
        if d[0] in ('min', 'max'):
            for c in d[1:]:
                if c not in (NEG, POS): stack.append((s, c))
        elif d[0] == 'ref':
            stack.append((d[1], d[2]))
    return need

def report(st, outputs, name, per=1):
    need = analyse(st, outputs)
    tot = 0
    out = []
    for s, net in enumerate(st.nets):
        ops = sum(1 for i in need[s] if net.defs[i][0] in ('min', 'max'))
        loads = sum(1 for i in need[s] if net.defs[i][0] in ('in', 'ref'))
        stored = set()
        for t in range(s + 1, len(st.nets)):
            for i in need[t]:
                d = st.nets[t].defs[i]
                if d[0] == 'ref' and d[1] == s: stored.add(d[2])
        out.append(f"stage{s}: ops {ops} loads {loads} stores {len(stored)}")
        tot += ops
    print(name, f"total ops {tot} per output row {tot/per:.1f} |", "; ".join(out))
    return need

def build_5x5_1row():
    st = Stages(25, 12)
    s0, n0 = st.new()
    col = sort_list(n0, [n0.inp(r, 0) for r in range(5)], 25, 12)
    s1, n1 = st.new()
    pair = st.merge(n1, st.refs(n1, s0, col, 0), st.refs(n1, s0, col, 1))
    s2, n2 = st.new()
    q = st.merge(n2, st.refs(n2, s1, pair, 0), st.refs(n2, s1, pair, 2))
    f = st.merge(n2, q, st.refs(n2, s0, col, 4))
    return st, [f[12]]

def build_5x5_2row(rowpairs=False):
    N, k = 25, 12
    st = Stages(N, k)
    s0, n0 = st.new()
    core = sort_list(n0, [n0.inp(r, 0) for r in range(1, 5)], N, k)
    if rowpairs:
        pa = st.merge(n0, [n0.inp(0, 0)], [n0.inp(0, 1)])
        pb = st.merge(n0, [n0.inp(5, 0)], [n0.inp(5, 1)])
    s1, n1 = st.new()
    pair = st.merge(n1, st.refs(n1, s0, core, 0), st.refs(n1, s0, core, 1))
    s2, n2 = st.new()
    q = st.merge(n2, st.refs(n2, s1, pair, 0), st.refs(n2, s1, pair, 2))
    c = st.merge(n2, q, st.refs(n2, s0, core, 4))
    outs = []
    for row, p in ((0, 'pa'), (5, 'pb')):
        if rowpairs:
            pl = pa if row == 0 else pb
            r = st.merge(n2, st.refs(n2, s0, pl, 0), st.refs(n2, s0, pl, 2))
            r = st.merge(n2, r, [n2.inp(row, 4)])
        else:
            r = sort_list(n2, [n2.inp(row, o) for o in range(5)], N, k)
        f = st.merge(n2, c, r)
        outs.append(f[k])
    return st, outs

def stage_extents(st, need):
    S = len(st.nets)
    ext = [0] * S
    for s in range(S - 1, -1, -1):
        for i in need[s]:
            d = st.nets[s].defs[i]
            if d[0] == 'ref':
                ext[d[1]] = max(ext[d[1]], ext[s] + d[3])
    return ext

def emit_c(st, outputs, name, K, nrows, block_bytes=2048):
    """A C function NAME(const FJ_T *const *rows, ptrdiff_t start, ptrdiff_t n, FJ_T *const *outs, unsigned check)
    returning nonzero when a checked row (bit r of check) holds a hazard in columns start ..< start + n + K - 1."""
    need = analyse(st, outputs)
    ext = stage_extents(st, need)
    S = len(st.nets)
    slots = {}
    for s in range(S):
        for i in sorted(need[s]):
            d = st.nets[s].defs[i]
            if d[0] == 'ref' and (d[1], d[2]) not in slots:
                slots[(d[1], d[2])] = len(slots)
    L = []
    w = L.append
    w(f"FJ_ATTR static FJ_HAZARD_T {name}(const FJ_T *const *rows, ptrdiff_t start, ptrdiff_t n, FJ_T *const *outs, unsigned check,")
    w(f"                                  int stream) {{")
    w(f"    enum {{ BLOCK = {block_bytes} / sizeof(FJ_T), SPAN = BLOCK + 8 + FJ_LANES }};")
    w(f"    FJ_T slots[{max(1, len(slots))}][SPAN];")
    w("    FJ_HAZARD_T bad = 0;")
    w("    (void)check;")
    w("    for (ptrdiff_t x0 = 0; x0 < n; x0 += BLOCK) {")
    w("        const ptrdiff_t count = n - x0 < BLOCK ? n - x0 : BLOCK;")
    w(f"        const ptrdiff_t columns = count + {K - 1};")
    for r in range(nrows):
        w(f"        const FJ_T *r{r} = rows[{r}] + start + x0;")
    for o in range(len(outputs)):
        w(f"        FJ_T *o{o} = outs[{o}] + x0;")
    for s in range(S):
        net = st.nets[s]
        last = s == S - 1
        loopvar = 'j'
        bound = f"count + {ext[s]}" if not last else "count"
        w(f"        for (ptrdiff_t j = 0; j < {bound}; j += FJ_LANES) {{")
        ids = sorted(need[s])
        rawloaded = set()
        for i in ids:
            d = net.defs[i]
            if d[0] == 'in':
                _, r, o = d
                w(f"            FJ_V v{s}_{i} = j + {o} + FJ_LANES <= columns ? FJ_LOADU(r{r} + j + {o}) : FJ_MLOAD(FJ_MASK(columns - j - {o}), r{r} + j + {o});")
                if s == 0 and o == 0: rawloaded.add(r)
            elif d[0] == 'ref':
                _, s2, i2, o = d
                w(f"            FJ_V v{s}_{i} = FJ_LOADU(slots[{slots[(s2, i2)]}] + j + {o});")
            else:
                op = 'FJ_MIN' if d[0] == 'min' else 'FJ_MAX'
                w(f"            FJ_V v{s}_{i} = {op}(v{s}_{d[1]}, v{s}_{d[2]});")
        if s == 0:
            w("            if (FJ_HAS_HAZARDS && check) {")
            for r in range(nrows):
                if r in rawloaded:
                    i = net.nodes[('in', r, 0)]
                    w(f"                if (check & {1 << r}u) bad |= FJ_HAZARD(v0_{i});")
                else:
                    w(f"                if (check & {1 << r}u) bad |= FJ_HAZARD(j + FJ_LANES <= columns ? FJ_LOADU(r{r} + j) : FJ_MLOAD(FJ_MASK(columns - j), r{r} + j));")
            w("            }")
        for (s2, i2), k in slots.items():
            if s2 == s:
                w(f"            FJ_STOREU(slots[{k}] + j, v{s}_{i2});")
        if last:
            for o, i in enumerate(outputs):
                w(f"            if (count - j < FJ_LANES) FJ_MSTORE(o{o} + j, FJ_MASK(count - j), v{s}_{i});")
                w(f"            else if (stream) FJ_STREAM(o{o} + j, v{s}_{i});")
                w(f"            else FJ_STOREU(o{o} + j, v{s}_{i});")
        w("        }")
    w("    }")
    w("    return bad;")
    w("}")
    return "\n".join(L)

BLOCK_BYTES = 1024

def zero_one_check(st, outputs, K, nrows):
    """Compiles and runs an exhaustive 0-1 test of the network (every output row o reads rows
    o .. o + K - 1); raises when one input gives a wrong rank."""
    lines, names = [], {}
    def v(s, i, pos):
        key = (s, i, pos)
        if key in names: return names[key]
        d = st.nets[s].defs[i]
        if d[0] == 'in': nm = f"in[{d[1]}][{pos + d[2]}]"
        elif d[0] == 'ref': nm = v(d[1], d[2], pos + d[3])
        else:
            a, b = v(s, d[1], pos), v(s, d[2], pos)
            nm = f"t{len(names)}"
            lines.append(f"uint64_t {nm} = {a} {'&' if d[0] == 'min' else '|'} {b};")
        names[key] = nm
        return nm
    outs = [v(len(st.nets) - 1, o, 0) for o in outputs]
    N = nrows * K
    low = ["0xAAAAAAAAAAAAAAAAull", "0xCCCCCCCCCCCCCCCCull", "0xF0F0F0F0F0F0F0F0ull",
           "0xFF00FF00FF00FF00ull", "0xFFFF0000FFFF0000ull", "0xFFFFFFFF00000000ull"]
    c = ["#include <stdint.h>", "#include <stdio.h>", "int main(void) {", "uint64_t bad = 0;",
         f"for (uint64_t hi = 0; hi < (1ull << {N - 6}); hi++) {{", f"uint64_t in[{nrows}][{K}];"]
    for b in range(N):
        r, col = divmod(b, K)
        c.append(f"in[{r}][{col}] = " + (low[b] if b < 6 else f"((hi >> {b - 6}) & 1) ? ~0ull : 0ull") + ";")
    c += lines
    T = K * K - K * K // 2  # the median is 1 when at least T of the window's values are 1
    for o, name in enumerate(outs):
        c.append("{ uint64_t cc[5] = {0, 0, 0, 0, 0};")
        c.append(f"for (int r = {o}; r < {o + K}; r++) for (int q = 0; q < {K}; q++) {{ uint64_t carry = in[r][q]; "
                 "for (int b = 0; b < 5; b++) { uint64_t t = cc[b] & carry; cc[b] ^= carry; carry = t; } }")
        e = "~0ull"
        for b in range(5):
            e = f"(cc[{b}] & {e})" if (T >> b) & 1 else f"(cc[{b}] | {e})"
        c.append(f"bad += (uint64_t)__builtin_popcountll({e} ^ ({name})); }}")
    c += ["}", 'printf("%llu\\n", (unsigned long long)bad);', "return 0; }"]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "check.c")
        open(path, "w").write("\n".join(c))
        subprocess.run(["cc", "-O2", path, "-o", os.path.join(d, "check")], check=True)
        bad = int(subprocess.run([os.path.join(d, "check")], check=True, capture_output=True, text=True).stdout)
    if bad:
        raise SystemExit(f"the network is wrong on {bad} 0-1 inputs")

def ops(st, outputs):
    need = analyse(st, outputs)
    return sum(1 for s, net in enumerate(st.nets) for i in need[s] if net.defs[i][0] in ('min', 'max'))

if __name__ == '__main__':
    one = build_5x5_1row()
    two = build_5x5_2row(False)
    zero_one_check(*one, 5, 5)
    zero_one_check(*two, 5, 6)
    text = ["// Generated by scripts/make_median5x5_c.py (pruned merge networks over sorted columns; see there).",
            f"// One output row: {ops(*one)} min/max per vector of pixels; two output rows: {ops(*two)}. Both checked",
            "// there on every 0-1 input. Included by rank_kernels.c once per element type with FJ_* defined",
            "// (FJ_M5_1 and FJ_M5_2 name the kernels). Do not edit.",
            "//",
            "// FJ_M5_1(rows, start, n, outs, check, stream): outs[0][x] = median of rows[0 ..< 5][start + x + 0 ..< 5].",
            "// FJ_M5_2(rows, start, n, outs, check, stream): outs[0] from rows[0 ..< 5], outs[1] from rows[1 ..< 6].",
            "// Both read columns start ..< start + n + 4 of each row, and return a nonzero mask when a row r",
            "// with bit r of `check` set holds a hazard (FJ_HAZARD) in those columns. With `stream`, full",
            "// vectors are stored by FJ_STREAM (non-temporal: the outputs must then be 64-byte aligned).",
            emit_c(*one, 'FJ_M5_1', 5, 5, BLOCK_BYTES), emit_c(*two, 'FJ_M5_2', 5, 6, BLOCK_BYTES)]
    open("Sources/RankKernelsC/median5x5_networks.h", "w").write("\n".join(text) + "\n")
