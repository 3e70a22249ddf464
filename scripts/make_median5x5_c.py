#!/usr/bin/env python3
"""Writes Sources/RankKernelsC/median5x5_body.h from rankKernel5x5r12 in
Sources/NDImage/MedianNetworkKernels.swift: the same min/max network on AVX-512 vectors (the FJ_*
macros are defined per element type by rank_kernels.c). Run from the repository root after the
Swift kernels are regenerated; check the result with the WindowStrategyTests fuzz."""
import re

src = open("Sources/NDImage/MedianNetworkKernels.swift").read()
start = src.index("func rankKernel5x5r12")
end = src.index("/// Ranks", start)
out, slots, stage = [], set(), None
for line in src[start:end].splitlines():
    t = line.strip()
    if stage == "done":
        continue
    m = re.match(r"let (s\d+) = slots \+ (\d+) \* span", t)
    if m:
        slots.add(int(m.group(2)))
        continue
    if t.startswith("for j in 0..<(count + "):
        k = int(re.search(r"count \+ (\d+)", t).group(1))
        stage = "0" if stage is None else "A"
        out.append(f"        for (ptrdiff_t j = 0; j < count + {k}; j += FJ_LANES) {{")
        if stage == "0":
            out.append(f"            ptrdiff_t left = count + {k} - j;")
            out.append("            FJ_MT m = FJ_MASK(left);")
        continue
    if t.startswith("for x in 0..<count"):
        stage = "B"
        out.append("        for (ptrdiff_t x = 0; x < count; x += FJ_LANES) {")
        out.append("            FJ_MT m = FJ_MASK(count - x);")
        continue
    m = re.match(r"let (l\d+) = (r\d+)\[(j|x) &\+ (\d+)\]", t)
    if m:
        p = f"{m.group(2)} + j + {m.group(4)}"
        out.append(f"            FJ_V {m.group(1)} = left >= FJ_LANES ? FJ_LOADU({p}) : FJ_MLOAD(m, {p});")
        continue
    m = re.match(r"let (l\d+) = (s\d+)\[(j|x) &\+ (\d+)\]", t)
    if m:
        out.append(f"            FJ_V {m.group(1)} = FJ_LOADU({m.group(2)} + {m.group(3)} + {m.group(4)});")
        continue
    m = re.match(r"let (v\d+) = (minOf|maxOf)\((\w+), (\w+)\)", t)
    if m:
        op = "FJ_MIN" if m.group(2) == "minOf" else "FJ_MAX"
        out.append(f"            FJ_V {m.group(1)} = {op}({m.group(3)}, {m.group(4)});")
        continue
    m = re.match(r"(s\d+)\[j\] = (v\d+)", t)
    if m:
        out.append(f"            FJ_STOREU({m.group(1)} + j, {m.group(2)});")
        continue
    m = re.match(r"o0\[x\] = (\w+)", t)
    if m:
        v = m.group(1)
        out.append(f"            if (count - x >= FJ_LANES) FJ_STOREU(o0 + x, {v}); else FJ_MSTORE(o0 + x, m, {v});")
        continue
    if t == "}" and stage is not None:
        out.append("        }")
        if stage == "B":
            stage = "done"

header = f"""// Generated from rankKernel5x5r12 in Sources/NDImage/MedianNetworkKernels.swift (the pruned
// selection network of `RankNetwork.plan(rows: 5, length: 5, ranks: [12])`) by
// scripts/make_median5x5_c.py: the same operations on AVX-512 vectors. Included by rank_kernels.c
// once per element type with FJ_* defined. Do not edit.
FJ_AVX512 static void FJ_NAME(const FJ_T *const *rows, ptrdiff_t start, ptrdiff_t n, FJ_T *out) {{
    enum {{ BLOCK = 2048 / sizeof(FJ_T), SPAN = BLOCK + 8 + FJ_LANES }};
    FJ_T slots[{max(slots) + 1}][SPAN];
    for (ptrdiff_t x0 = 0; x0 < n; x0 += BLOCK) {{
        ptrdiff_t count = n - x0 < BLOCK ? n - x0 : BLOCK;
        const FJ_T *r0 = rows[0] + start + x0, *r1 = rows[1] + start + x0, *r2 = rows[2] + start + x0;
        const FJ_T *r3 = rows[3] + start + x0, *r4 = rows[4] + start + x0;
        FJ_T *o0 = out + x0;
"""
header += "".join(f"        FJ_T *s{k} = slots[{k}];\n" for k in sorted(slots))
open("Sources/RankKernelsC/median5x5_body.h", "w").write(header + "\n".join(out) + "\n    }\n}\n")
