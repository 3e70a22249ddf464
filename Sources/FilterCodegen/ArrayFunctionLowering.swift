// Array functions (issue 15) in LLVM IR: n-dimensional strided arrays through descriptors, checked
// element loads and stores with NumPy's casts, arrays made in the call's arena, and the exported
// wrapper `i32 f(i8** arguments, i8* result, i8* arena)` (FilterLang/ArrayFunctions.swift).
//
// A descriptor is int64 words: [data pointer, shape[rank], strides[rank] (bytes)]. It never changes
// while the function runs (generated code writes only element memory), so its loads carry
// `!invariant.load` and LLVM may hoist them out of loops.

import Foundation
internal import CLLVM
import FilterLang

extension ProgramLowering {
    /// The LLVM type of a dtype's elements in memory (bools are one byte).
    func memoryType(_ dtype: ArrayDType) -> LLVMTypeRef {
        switch dtype {
        case .bool, .int8, .uint8: return types.int8
        case .int16, .uint16: return LLVMInt16TypeInContext(emitter.context)
        case .int32, .uint32: return types.int32
        case .int64, .uint64: return types.int64
        case .float32: return LLVMFloatTypeInContext(emitter.context)
        case .float64: return types.double
        }
    }

    /// Word `index` of a descriptor, as an invariant load.
    func descriptorWord(_ descriptor: LLVMValueRef, _ index: Int) -> LLVMValueRef {
        let load = emitter.load(types.int64, emitter.elementAddress(types.int64, descriptor, emitter.int64(Int64(index))))
        let kind = LLVMGetMDKindIDInContext(emitter.context, "invariant.load", 14)
        LLVMSetMetadata(load, kind, LLVMMDNodeInContext(emitter.context, nil, 0))
        return load
    }

    /// Copies the descriptor `descriptor` just stored into `slot` into the slot's field storage: data, shape
    /// and strides. For an array `np.zeros` ... made, the shape is the one computed and the strides are the C
    /// order's, so LLVM sees constants and equal extents (and drops the checks they prove).
    func unpackDescriptor(_ descriptor: LLVMValueRef, into slot: Int) {
        guard let layout = function.locals.indices.contains(slot) ? function.locals[slot].layout : nil else { return }
        let fields: [LLVMValueRef]
        if let existing = descriptorFields[slot] {
            fields = existing
        } else {
            fields = (0..<(1 + 2 * layout.rank)).map { alloca(types.int64, "nd.\(function.locals[slot].name).\($0)") }
            descriptorFields[slot] = fields
        }
        var values = (0..<(1 + 2 * layout.rank)).map { descriptorWord(descriptor, $0) }
        if let shape = allocatedShapes[descriptor], shape.count == layout.rank {
            var step = emitter.int64(Int64(layout.dtype.itemSize))
            for axis in (0..<layout.rank).reversed() {
                values[1 + axis] = shape[axis]
                values[1 + layout.rank + axis] = step
                let positive = emitter.select(emitter.icmp(LLVMIntSGT, shape[axis], emitter.int64(1)), shape[axis], emitter.int64(1))
                step = LLVMBuildMul(builder, step, positive, "")!
            }
        }
        for (field, value) in zip(fields, values) { emitter.store(value, field) }
    }

    /// Word `index` of the descriptor in `slot` (0: data, 1 + k: shape[k], 1 + rank + k: strides[k]).
    func descriptorField(_ slot: Int, _ index: Int) throws -> LLVMValueRef {
        guard let fields = descriptorFields[slot], fields.indices.contains(index) else {
            // Not stored yet on any path lowered so far: read the descriptor itself.
            return descriptorWord(try descriptor(slot), index)
        }
        return emitter.load(types.int64, fields[index])
    }

    /// Whether a `for` loop of an array function runs `range(c, extent)` with a constant `c` and step 1, where
    /// `extent` is an array's `len`/`size`/`shape[k]`, and its body holds no loop: it ends within the array's
    /// element count (memory the caller holds), so it need not poll the cancellation flag. A loop with
    /// loops inside polls, even over an extent: two nested loops over arrays of 10^6 elements run 10^12
    /// times, and `cancel()` and `--timeout` must still stop them.
    func isArrayExtentLoop(start: TExpr, stop: TExpr, step: TExpr, body: [TStmt]) -> Bool {
        guard program.kind == .arrayFunction, case .intConstant = start.kind, case .intConstant(1) = step.kind,
              !containsLoop(body) else { return false }
        switch stop.kind {
        case .ndShape, .ndSize: return true
        default: return false
        }
    }

    /// Whether a loop of an array function with this body checks the cancellation flag on every iteration
    /// instead of every 65,536th: its inner loops may be extent loops that never check it, so one of its
    /// iterations can be 10^6 inner ones, and 65,536 of them minutes.
    /// Only such inner loops matter: any other inner loop polls on its own every 65,536 of its iterations, or is
    /// short (`for s in steps` over a constant array), so skan's `build_graph` scans 4 million pixels without
    /// reading the flag for each.
    func pollsEveryIteration(body: [TStmt]) -> Bool {
        program.kind == .arrayFunction && containsUnpolledLoop(body)
    }

    /// Whether every loop in `statements` is a `for x in` over a constant array of at most 64 elements with no
    /// loop inside (skan's `for s in steps`): a loop over an array's elements whose body holds only such loops does
    /// a bounded amount of work per element, so it need not poll the cancellation flag (as an extent loop).
    func hasOnlyShortLoops(_ statements: [TStmt]) -> Bool {
        statements.allSatisfy { statement in
            switch statement.kind {
            case .forEach(_, let array, let body):
                switch array.kind {
                case .intArrayConstant(let values) where values.count <= 64: return !containsLoop(body)
                case .floatArrayConstant(let values) where values.count <= 64: return !containsLoop(body)
                default: return false
                }
            case .forRange, .whileLoop: return false
            case .ifStatement(_, let then, let orElse): return hasOnlyShortLoops(then) && hasOnlyShortLoops(orElse)
            default: return true
            }
        }
    }

    /// Whether `statements` hold, at any depth, a loop that never polls the cancellation flag: an extent loop
    /// (`isArrayExtentLoop`).
    private func containsUnpolledLoop(_ statements: [TStmt]) -> Bool {
        statements.contains { statement in
            switch statement.kind {
            case .forRange(_, let start, let stop, let step, let body):
                return isArrayExtentLoop(start: start, stop: stop, step: step, body: body) || containsUnpolledLoop(body)
            case .whileLoop(_, let body), .forEach(_, _, let body): return containsUnpolledLoop(body)
            case .ifStatement(_, let then, let orElse): return containsUnpolledLoop(then) || containsUnpolledLoop(orElse)
            default: return false
            }
        }
    }

    /// Whether `statements` hold a `for` or `while` loop, at any depth.
    private func containsLoop(_ statements: [TStmt]) -> Bool {
        statements.contains { statement in
            switch statement.kind {
            case .whileLoop, .forRange, .forEach: return true
            case .ifStatement(_, let then, let orElse): return containsLoop(then) || containsLoop(orElse)
            default: return false
            }
        }
    }

    /// Before a `for counter in range(start, stop)` loop (step 1) of an array function: for each 1-D array the
    /// body indexes with `counter + v` (`counter` itself, `counter + c` or `counter - c` for an int constant `c`,
    /// `counter + s` for the variable `s` of a `for s in CONSTANT` over an int array, or a local assigned once in the
    /// body to one of these: skan's `neighbour = k + s`; neither `counter` nor the array reassigned in the body), an
    /// i1 computed once: "start + min(v) >= 0 and stop - 1 + max(v) < len(array) and the stride is whole
    /// elements". When all hold, the loop's unchecked version runs (`ndElementAddress` drops those checks and the
    /// negative-index normalisation: every such index is in [0, len)), else the checked one (the same result and
    /// the same error at the same index; negative indices count from the end there, as in Python). Returns the
    /// checks by key "counter:array" with their offsets, and the locals that hold `counter + v`.
    func hoistIndexChecks(counter: Int, start: TExpr, stop: TExpr, startValue: LLVMValueRef, stopValue: LLVMValueRef,
                          step: TExpr, body: [TStmt]) throws
        -> (checks: [(key: String, offsets: ClosedRange<Int64>, holds: LLVMValueRef)], offsetLocals: [Int], contiguous: [Int]) {
        guard program.kind == .arrayFunction, case .intConstant(1) = step.kind, function.locals.indices.contains(counter),
              function.locals[counter].type == .int, !Codegen.reassigns(slot: counter, in: body) else { return ([], [], []) }
        var uses = CounterOffsetUses(counter: counter, locals: function.locals)
        // Offsets the loop's own bounds rule out (`range(0, n)` with `a[i - 1]`, `range(len(a))` with `a[i + 1]`,
        // guarded by an `if`) would keep the unchecked version from ever running: those uses stay checked.
        if case .intConstant(let value) = start.kind { uses.constantStart = value }
        switch stop.kind {
        case .ndShape(let slot, 0), .ndSize(let slot): uses.stopIsExtentOf = slot
        default: break
        }
        uses.analyse(body)
        var hoisted: [(key: String, offsets: ClosedRange<Int64>, holds: LLVMValueRef)] = []
        for (array, offsets) in uses.offsets.sorted(by: { $0.key < $1.key }) where !Codegen.reassigns(slot: array, in: body) {
            guard let layout = function.locals.indices.contains(array) ? function.locals[array].layout : nil, layout.rank == 1 else { continue }
            let key = "\(counter):\(array)"
            guard provenOffsets[key] == nil else { continue }
            let extent = try descriptorField(array, 1)
            // start + lo >= 0 (|lo| <= 2^40: no overflow). stop - 1 + hi < len, i.e. stop <= len - hi: exact for hi >= 0
            // (len >= 0); for hi < 0 as stop + hi <= len, which wraps only when stop < -2^62, where the loop (start >=
            // -2^40) is empty and either version does nothing.
            let startsInside = emitter.icmp(LLVMIntSGE, startValue, emitter.int64(-offsets.lowerBound))
            let endsInside = offsets.upperBound >= 0
                ? emitter.icmp(LLVMIntSLE, stopValue, emitter.sub(extent, emitter.int64(offsets.upperBound)))
                : emitter.icmp(LLVMIntSLE, emitter.add(stopValue, emitter.int64(offsets.upperBound)), extent)
            // The unchecked loop addresses elements by element strides: the byte stride must be a multiple.
            let itemSize = emitter.int64(Int64(layout.dtype.itemSize))
            let whole = emitter.icmp(LLVMIntEQ, LLVMBuildSRem(builder, try descriptorField(array, 2), itemSize, "")!, emitter.int64(0))
            hoisted.append((key, offsets, emitter.and(emitter.and(startsInside, endsInside), whole)))
        }
        guard !hoisted.isEmpty else { return ([], [], []) }
        // A body with branches or loops (skan's `build_graph`) is not vectorised, so LLVM never versions its strides:
        // its unchecked version also requires every 1-D array it indexes to be contiguous (stride == itemsize, checked
        // once) and addresses them with constant strides (plain indexing, no multiplication per access). Other strides
        // run the checked version. A straight-line body keeps whole-element strides: the vectoriser versions them.
        var contiguous: [Int] = []
        if !Codegen.isStraightLine(body) {
            for array in uses.indexed.sorted() where !Codegen.reassigns(slot: array, in: body) {
                guard let layout = function.locals.indices.contains(array) ? function.locals[array].layout : nil, layout.rank == 1 else { continue }
                let unit = emitter.icmp(LLVMIntEQ, try descriptorField(array, 2), emitter.int64(Int64(layout.dtype.itemSize)))
                hoisted[0].holds = emitter.and(hoisted[0].holds, unit)
                contiguous.append(array)
            }
        }
        return (hoisted, uses.offsetLocals.keys.sorted(), contiguous)
    }

    /// The range of `v` when `index` is `counter + v` (`counter + c`, `c + counter`, `counter - c` for an int constant
    /// `c`, `counter + s`, `s + counter`, `counter - s` for `s` in `each`), else nil. Constants are limited to
    /// |c| <= 2^40 so that the hoisted bounds cannot overflow.
    static func counterOffset(_ index: TExpr, counter: Int, each: [Int: ClosedRange<Int64>]) -> ClosedRange<Int64>? {
        func term(_ e: TExpr) -> ClosedRange<Int64>? {
            switch e.kind {
            // `magnitude`, not abs: abs(Int64.min) traps, and a module constant can hold Int64.min.
            case .intConstant(let c) where c.magnitude <= UInt64(maximumCounterOffset): return c...c
            case .local(let slot) where slot != counter: return each[slot]
            default: return nil
            }
        }
        guard index.type == .int else { return nil }
        switch index.kind {
        case .local(counter): return 0...0
        case .arithmetic(.add, let a, let b):
            if case .local(counter) = a.kind, b.type == .int { return term(b) }
            if case .local(counter) = b.kind, a.type == .int { return term(a) }
            return nil
        case .arithmetic(.subtract, let a, let b):
            guard case .local(counter) = a.kind, b.type == .int, let r = term(b) else { return nil }
            return (-r.upperBound)...(-r.lowerBound)
        default: return nil
        }
    }

    /// The largest |v| of an index `counter + v` the loop versions prove (`counterOffset`).
    static let maximumCounterOffset: Int64 = 1 << 40

    /// The range of the values of `for slot in array` when `array` is a constant int array of 1 ... 2^20 values
    /// within ±2^40, `slot` an int local the body does not reassign; else nil.
    func constantEachRange(slot: Int, array: TExpr, body: [TStmt]) -> ClosedRange<Int64>? {
        guard program.kind == .arrayFunction else { return nil }
        return CounterOffsetUses.constantRange(slot: slot, array: array, body: body, locals: function.locals)
    }

    /// After `slot = values[0]` in an array function: the fact that `slot` holds `counter + v` is dropped, and set
    /// again when `slot` is a local assigned once in an unchecked loop version's body to `counter + v`.
    func noteAssignment(to slot: Int, values: [TExpr], targetCount: Int) {
        offsetLocalFacts.removeValue(forKey: slot)
        for (local, fact) in offsetLocalFacts where fact.counter == slot { offsetLocalFacts.removeValue(forKey: local) }
        guard targetCount == 1, values.count == 1, let counter = offsetLocalCandidates[slot],
              let offsets = Self.counterOffset(values[0], counter: counter, each: constantEachRanges) else { return }
        offsetLocalFacts[slot] = (counter, offsets)
    }

    /// Whether the rank-1 index `index` of `slot` is proven in bounds by the unchecked loop version being lowered:
    /// it is `counter + v` (directly or through a local's fact) with every possible `v` among the offsets checked
    /// before the loop.
    func provenInBounds(_ index: TExpr, of slot: Int) -> Bool {
        func covered(_ counter: Int, _ offsets: ClosedRange<Int64>) -> Bool {
            guard let proven = provenOffsets["\(counter):\(slot)"] else { return false }
            return proven.lowerBound <= offsets.lowerBound && offsets.upperBound <= proven.upperBound
        }
        switch index.kind {
        case .local(let local):
            if let fact = offsetLocalFacts[local], covered(fact.counter, fact.offsets) { return true }
            return covered(local, 0...0)
        case .arithmetic(_, let a, let b):
            for operand in [a, b] {
                if case .local(let counter) = operand.kind,
                   let offsets = Self.counterOffset(index, counter: counter, each: constantEachRanges), covered(counter, offsets) {
                    return true
                }
            }
            return false
        default: return false
        }
    }

    /// Whether `statement` is `r = np.zeros...(...)` of a rank-1 array and `next` is `for i in range(0, n)`
    /// (step 1) with `n` that array's length (`len(r)`, `r.size`, `r.shape[0]`, or the very expression of the
    /// allocation's extent: `x.shape[0]`/`len(x)`/`x.size` of a rank-1 `x`, a local, a constant), whose body
    /// stores `r[i] = v` as one of its own statements, never leaves an iteration early (no `break`/`continue`
    /// of this loop, no `return`), does not reassign `i` and reads `r` nowhere (but its shape). Then every
    /// element is stored before anything can read one (a failure on the way ends the call, and the array with
    /// it), so the allocation need not be zero-filled: the values seen are the same (`np.zeros` in `addarr`).
    func allocationIsOverwritten(_ statement: TStmt, then next: TStmt) -> Bool {
        guard program.kind == .arrayFunction,
              case .assign(let targets, let values) = statement.kind, targets.count == 1, values.count == 1,
              case .local(let array) = targets[0], case .ndAllocate(let layout, let shape) = values[0].kind,
              layout.rank == 1, shape.count == 1,
              case .forRange(let counter, let start, let stop, let step, let body) = next.kind,
              case .intConstant(0) = start.kind, case .intConstant(1) = step.kind, counter != array,
              function.locals.indices.contains(counter), function.locals[counter].type == .int,
              !Codegen.reassigns(slot: counter, in: body) else { return false }
        /// A rank-1 extent or a stable value, as a comparable key.
        func extentKey(_ expression: TExpr) -> String? {
            switch expression.kind {
            case .ndShape(let slot, 0), .ndSize(let slot):
                guard function.locals.indices.contains(slot), function.locals[slot].layout?.rank == 1 else { return nil }
                return slot == array ? "self" : "extent \(slot)"
            case .local(let slot) where slot != array && function.locals.indices.contains(slot) && function.locals[slot].type == .int:
                return "local \(slot)"
            case .intConstant(let value): return "constant \(value)"
            default: return nil
            }
        }
        guard let stopKey = extentKey(stop), stopKey == "self" || stopKey == extentKey(shape[0]) else { return false }
        let stores = body.contains { statement in
            guard case .assign(let targets, _) = statement.kind, targets.count == 1,
                  case .ndElement(array, let indices) = targets[0], indices.count == 1,
                  case .local(counter) = indices[0].kind else { return false }
            return true
        }
        return stores && !ArrayReads(array: array).anyIn(body, loopDepth: 0)
    }

    /// The layout of the `.ndarray` slot `slot` of the function being lowered.
    func ndLayout(_ slot: Int) throws -> NDLayout {
        guard function.locals.indices.contains(slot), let layout = function.locals[slot].layout else {
            throw LLVMError("typed IR: slot \(slot) is not an n-dimensional array")
        }
        return layout
    }

    /// The descriptor held by `slot`.
    func descriptor(_ slot: Int) throws -> LLVMValueRef {
        try lower(TExpr(.local(slot), .ndarray, .none)).scalar
    }

    /// The address (`i8*`) of `slot[indices]`, each index checked against its axis (negative counts from
    /// the end) in order, failing with the array's name, the index and the shape.
    func ndElementAddress(slot: Int, indices: [TExpr]) throws -> (address: LLVMValueRef, layout: NDLayout) {
        let layout = try ndLayout(slot)
        guard indices.count == layout.rank else { throw LLVMError("typed IR: \(indices.count) indices into a rank-\(layout.rank) array") }
        var offset = emitter.int64(0)
        for (axis, indexExpression) in indices.enumerated() {
            let index = try lower(indexExpression).scalar
            let extent = try descriptorField(slot, 1 + axis)
            // In a loop version proven in bounds (`hoistIndexChecks`) the index is in [0, len): no check, and never
            // negative.
            let provenInBounds = indices.count == 1 && self.provenInBounds(indexExpression, of: slot)
            let position = provenInBounds ? index
                : emitter.select(emitter.icmp(LLVMIntSLT, index, emitter.int64(0)), emitter.add(index, extent), index)
            // Unsigned: a position still negative is huge, so one compare covers both ends.
            let ok = emitter.block("nd.inbounds")
            let bad = emitter.block("nd.outofbounds")
            // boundscheck=False (the caller's explicit choice, as Numba's): the index is trusted.
            let inBounds = program.arraySignature?.boundsChecked == false || provenInBounds
                ? emitter.bool(true) : emitter.icmp(LLVMIntULT, position, extent)
            emitter.branch(if: inBounds, then: ok, else: bad)
            emitter.position(at: bad)
            let fail = emitter.declare("filterjit_nd_index_fail", returning: types.void,
                                       [types.int64, types.int64, types.int64, types.int64, types.int64, types.int64Pointer, types.int64])
            emitter.call(fail, [emitter.int64(Int64(indexExpression.range.start)), emitter.int64(Int64(indexExpression.range.end)),
                                index, emitter.int64(Int64(axis)), emitter.int64(Int64(slot)), try descriptor(slot),
                                emitter.int64(Int64(layout.rank))])
            LLVMBuildRet(builder, emitter.bool(false))
            emitter.position(at: ok)
            // In an unchecked version that proved the array contiguous: a constant stride.
            let stride = indices.count == 1 && contiguousArrays.contains(slot)
                ? emitter.int64(Int64(layout.dtype.itemSize)) : try descriptorField(slot, 1 + layout.rank + axis)
            if provenInBounds {
                // Proven in bounds with a stride that is a whole number of elements: an element-typed address, so
                // LLVM's stride versioning can see a unit stride and vectorise.
                let elementStride = LLVMBuildExactSDiv(builder, stride, emitter.int64(Int64(layout.dtype.itemSize)), "")!
                let data = LLVMBuildBitCast(builder, LLVMBuildIntToPtr(builder, try descriptorField(slot, 0), types.bytePointer, "")!,
                                            LLVMPointerType(memoryType(layout.dtype), 0), "")!
                let element = emitter.elementAddress(memoryType(layout.dtype), data, LLVMBuildMul(builder, position, elementStride, "")!)
                return (LLVMBuildBitCast(builder, element, types.bytePointer, "")!, layout)
            }
            offset = emitter.add(offset, LLVMBuildMul(builder, position, stride, "")!)
        }
        let data = LLVMBuildIntToPtr(builder, try descriptorField(slot, 0), types.bytePointer, "")!
        var index: [LLVMValueRef?] = [offset]
        let address = index.withUnsafeMutableBufferPointer {
            LLVMBuildInBoundsGEP2(builder, types.int8, data, $0.baseAddress, 1, "")!
        }
        return (address, layout)
    }

    /// A typed pointer to the element at `address`.
    private func typed(_ address: LLVMValueRef, _ dtype: ArrayDType) -> LLVMValueRef {
        LLVMBuildBitCast(builder, address, LLVMPointerType(memoryType(dtype), 0), "")!
    }

    /// `ArrayDType.load` in IR.
    func loadElement(at address: LLVMValueRef, _ dtype: ArrayDType) -> LLVMValueRef {
        let raw = emitter.load(memoryType(dtype), typed(address, dtype))
        LLVMSetAlignment(raw, 1)  // NumPy arrays may be unaligned
        switch dtype {
        case .bool: return emitter.icmp(LLVMIntNE, raw, LLVMConstNull(types.int8))
        case .int8, .int16, .int32: return LLVMBuildSExt(builder, raw, types.int64, "")!
        case .uint8, .uint16, .uint32: return LLVMBuildZExt(builder, raw, types.int64, "")!
        case .int64, .uint64: return raw
        case .float32: return LLVMBuildFPExt(builder, raw, types.double, "")!
        case .float64: return raw
        }
    }

    /// `ArrayDType.store` in IR: the value of language type `type` cast to `dtype` and stored; a float that
    /// has no int64 value stored into an integer dtype fails (as the interpreter does).
    func storeElement(_ value: LLVMValueRef, type: ValueType, at address: LLVMValueRef, _ dtype: ArrayDType, range: SourceRange) throws {
        let target = memoryType(dtype)
        let converted: LLVMValueRef
        switch (type, dtype) {
        case (.float, .float64): converted = value
        case (.float, .float32): converted = LLVMBuildFPTrunc(builder, value, target, "")!
        case (.int, .float64), (.int, .float32): converted = LLVMBuildSIToFP(builder, value, target, "")!
        case (.bool, .float64), (.bool, .float32): converted = LLVMBuildUIToFP(builder, value, target, "")!
        case (.float, .bool): converted = LLVMBuildZExt(builder, emitter.fcmp(LLVMRealUNE, value, emitter.double(0)), target, "")!
        case (.int, .bool): converted = LLVMBuildZExt(builder, emitter.icmp(LLVMIntNE, value, emitter.int64(0)), target, "")!
        case (.bool, _): converted = LLVMBuildZExt(builder, value, target, "")!
        case (.int, _): converted = dtype.itemSize == 8 ? value : LLVMBuildTrunc(builder, value, target, "")!
        case (.float, .uint64):
            // [-2^63, 2^64) (false for NaN): below 2^63 through fptosi (wraps as the int64), above through fptoui;
            // the conversion that is not selected may be poison, which select does not propagate.
            let inRange = emitter.and(emitter.fcmp(LLVMRealOGE, value, emitter.double(-9.223372036854775808e18)),
                                      emitter.fcmp(LLVMRealOLT, value, emitter.double(1.8446744073709551616e19)))
            check(inRange, else: .floatToInt, range, emitter.int64(-1), LLVMBuildBitCast(builder, value, types.int64, "")!)
            let high = emitter.fcmp(LLVMRealOGE, value, emitter.double(9.223372036854775808e18))
            converted = emitter.select(high, LLVMBuildFPToUI(builder, value, types.int64, "")!, LLVMBuildFPToSI(builder, value, types.int64, "")!)
        case (.float, _):
            // [-2^63, 2^63) (false for NaN), so fptosi never sees a value it cannot convert.
            let inRange = emitter.and(emitter.fcmp(LLVMRealOGE, value, emitter.double(-9.223372036854775808e18)),
                                      emitter.fcmp(LLVMRealOLT, value, emitter.double(9.223372036854775808e18)))
            check(inRange, else: .floatToInt, range, emitter.int64(-1), LLVMBuildBitCast(builder, value, types.int64, "")!)
            let whole = LLVMBuildFPToSI(builder, value, types.int64, "")!
            converted = dtype.itemSize == 8 ? whole : LLVMBuildTrunc(builder, whole, target, "")!
        default:
            throw LLVMError("typed IR: cannot store a \(type) into a \(dtype) array")
        }
        let store = LLVMBuildStore(builder, converted, typed(address, dtype))!
        LLVMSetAlignment(store, 1)
    }

    /// `slot[indices] = value` (`TTarget.ndElement`).
    func storeNDElement(slot: Int, indices: [TExpr], value: LLVMValueRef, type: ValueType, range: SourceRange) throws {
        let (address, layout) = try ndElementAddress(slot: slot, indices: indices)
        try storeElement(value, type: type, at: address, layout.dtype, range: range)
    }

    /// The `nd...` expressions.
    func lowerArrayFunctionForm(_ expression: TExpr) throws -> Lowered {
        switch expression.kind {
        case .ndElement(let slot, let indices):
            let (address, layout) = try ndElementAddress(slot: slot, indices: indices)
            return .scalar(loadElement(at: address, layout.dtype))
        case .ndShape(let slot, let axis):
            let layout = try ndLayout(slot)
            guard (0..<layout.rank).contains(axis) else { throw LLVMError("typed IR: axis \(axis) of a rank-\(layout.rank) array") }
            return .scalar(try descriptorField(slot, 1 + axis))
        case .ndSize(let slot):
            let layout = try ndLayout(slot)
            var size = emitter.int64(1)
            for axis in 0..<layout.rank {
                // Rank 1: the extent itself, so `range(a.size)` and `a[i]`'s check compare the same value.
                let extent = try descriptorField(slot, 1 + axis)
                size = axis == 0 ? extent : LLVMBuildMul(builder, size, extent, "")!
            }
            return .scalar(size)
        case .ndReduce(let operation, let slot):
            let layout = try ndLayout(slot)
            let descriptor = try descriptor(slot)
            let reduce = emitter.declare("filterjit_nd_reduce", returning: types.int32,
                                         [types.int64Pointer, types.int64, types.int64, types.int64, types.int64Pointer])
            let bits = alloca(types.int64, "nd.reduced")
            let status = emitter.call(reduce, [descriptor, emitter.int64(Int64(layout.rank)),
                                               emitter.int64(Int64(ArrayDType.allCases.firstIndex(of: layout.dtype)!)),
                                               emitter.int64(Int64(NDReduction.allCases.firstIndex(of: operation)!)), bits])
            check(emitter.icmp(LLVMIntNE, status, emitter.int32(0)), else: .ndEmptyReduction, expression.range,
                  emitter.int64(Int64(NDReduction.allCases.firstIndex(of: operation)!)))
            let value = emitter.load(types.int64, bits)
            switch layout.dtype.scalarType {
            case .float: return .scalar(LLVMBuildBitCast(builder, value, types.double, "")!)
            case .bool: return .scalar(emitter.icmp(LLVMIntNE, value, emitter.int64(0)))
            default: return .scalar(value)
            }
        case .ndAllocate(let layout, let shapeExpressions):
            let overwritten = allocationOverwritten
            allocationOverwritten = false
            let shapeType = LLVMArrayType(types.int64, UInt32(max(layout.rank, 1)))!
            let shapeStorage = alloca(shapeType, "nd.shape")
            let shapePointer = LLVMBuildBitCast(builder, shapeStorage, types.int64Pointer, "")!
            var extents: [LLVMValueRef] = []
            for (axis, extent) in shapeExpressions.enumerated() {
                let value = try lower(extent).scalar
                extents.append(value)
                emitter.store(value, emitter.elementAddress(types.int64, shapePointer, emitter.int64(Int64(axis))))
            }
            // Not zero-filled when the next loop stores every element first (`allocationIsOverwritten`).
            let allocate = emitter.declare(overwritten ? "filterjit_nd_alloc_uninitialized" : "filterjit_nd_alloc", returning: types.int64Pointer,
                                           [types.bytePointer, types.int64, types.int64, types.int64Pointer, types.int64, types.int64])
            let descriptor = emitter.call(allocate, [arena, emitter.int64(Int64(layout.dtype.itemSize)), emitter.int64(Int64(layout.rank)),
                                                     shapePointer, emitter.int64(Int64(expression.range.start)),
                                                     emitter.int64(Int64(expression.range.end))])
            // The runtime recorded the failure (negative extent, too large, out of memory).
            let ok = emitter.block("nd.allocated")
            let failed = emitter.block("nd.allocfail")
            emitter.branch(if: LLVMBuildIsNull(builder, descriptor, "")!, then: failed, else: ok)
            emitter.position(at: failed)
            LLVMBuildRet(builder, emitter.bool(false))
            emitter.position(at: ok)
            allocatedShapes[descriptor] = extents
            return .scalar(descriptor)
        default:
            throw LLVMError("typed IR: not an array-function form")
        }
    }
}

/// Finds what keeps an array from counting as overwritten by a loop body (`allocationIsOverwritten`): a read
/// of the array (its value, an element, a reduction; its shape is fine), a store into it other than the
/// body's own `array[counter] = v` statements, a `return`, or a `break`/`continue` of the loop itself.
struct ArrayReads {
    let array: Int

    func anyIn(_ statements: [TStmt], loopDepth: Int) -> Bool {
        statements.contains { statement in
            switch statement.kind {
            case .expression(let e): return anyIn(e)
            case .assign(let targets, let values):
                if values.contains(where: anyIn) { return true }
                return targets.contains { target in
                    switch target {
                    case .ndElement(let slot, let indices):
                        // The body's own stores at its top level (loopDepth 0); any store deeper is conservative.
                        if slot == array && (loopDepth > 0 || indices.count != 1) { return true }
                        return indices.contains(where: anyIn)
                    case .element(let a, let i): return anyIn(a) || anyIn(i)
                    case .local(let slot): return slot == array
                    }
                }
            case .ifStatement(let c, let t, let o): return anyIn(c) || anyIn(t, loopDepth: loopDepth + 1) || anyIn(o, loopDepth: loopDepth + 1)
            case .whileLoop(let c, let b): return anyIn(c) || anyIn(b, loopDepth: loopDepth + 1)
            case .forRange(let slot, let a, let b, let c, let inner):
                return slot == array || anyIn(a) || anyIn(b) || anyIn(c) || anyIn(inner, loopDepth: loopDepth + 1)
            case .forEach(let slot, let a, let inner): return slot == array || anyIn(a) || anyIn(inner, loopDepth: loopDepth + 1)
            case .returnValue: return true
            // A break or continue of the loop itself skips the rest of an iteration; one of an inner loop could
            // not be told apart here, so any counts.
            case .breakLoop, .continueLoop: return true
            case .callbackFailure: return false
            }
        }
    }

    func anyIn(_ e: TExpr) -> Bool {
        switch e.kind {
        case .local(let slot): return slot == array
        case .ndElement(let slot, let indices): return slot == array || indices.contains(where: anyIn)
        case .ndReduce(_, let slot): return slot == array
        case .ndShape, .ndSize: return false
        case .ndAllocate(_, let items), .arrayOf(let items), .call(_, let items), .builtin(_, let items), .compare(let items, _, _):
            return items.contains(where: anyIn)
        case .convert(_, let a), .negate(let a), .not(let a), .length(let a), .floatArrayOf(let a): return anyIn(a)
        case .arithmetic(_, let a, let b), .logical(_, let a, let b), .element(let a, let b), .gather(let a, let b),
             .compress(let a, let b):
            return anyIn(a) || anyIn(b)
        case .conditional(let a, let b, let c): return anyIn(a) || anyIn(b) || anyIn(c)
        case .map(let inputs, let mapped): return inputs.contains(where: anyIn) || anyIn(mapped)
        case .slice(let a, let b, let c, let d): return anyIn(a) || [b, c, d].compactMap { $0 }.contains(where: anyIn)
        case .intConstant, .floatConstant, .boolConstant, .lane, .floatArrayConstant, .intArrayConstant: return false
        }
    }
}

/// The indices `counter + v` of rank-1 arrays in the body of a loop over `counter` (`hoistIndexChecks`): per
/// array the range of the offsets `v`, and the locals assigned exactly once in the body (and nowhere else in it,
/// loops included) to `counter + v`. A superset of what `ProgramLowering.provenInBounds` then proves use by use
/// (it also requires the local's assignment to dominate the use); a use found here but not proven there is
/// only checked as before.
struct CounterOffsetUses {
    let counter: Int
    let locals: [LocalVariable]
    private(set) var offsets: [Int: ClosedRange<Int64>] = [:]
    private(set) var offsetLocals: [Int: ClosedRange<Int64>] = [:]
    /// Every array the body indexes.
    private(set) var indexed: Set<Int> = []
    private var assignments: [Int: Int] = [:]
    /// The loop's start when it is a constant: offsets below `-start` can never be proven.
    var constantStart: Int64?
    /// The rank-1 array whose extent is the loop's stop: its positive offsets can never be proven.
    var stopIsExtentOf: Int?

    init(counter: Int, locals: [LocalVariable]) {
        self.counter = counter
        self.locals = locals
    }

    /// The range of `for slot in array`'s values: `array` a constant int array of 1 ... 2^20 values within
    /// ±2^40, `slot` an int local that `body` does not reassign.
    static func constantRange(slot: Int, array: TExpr, body: [TStmt], locals: [LocalVariable]) -> ClosedRange<Int64>? {
        guard case .intArrayConstant(let values) = array.kind, let low = values.min(), let high = values.max(),
              values.count <= 1 << 20, low >= -ProgramLowering.maximumCounterOffset, high <= ProgramLowering.maximumCounterOffset,
              locals.indices.contains(slot), locals[slot].type == .int, !Codegen.reassigns(slot: slot, in: body) else { return nil }
        return low...high
    }

    mutating func analyse(_ body: [TStmt]) {
        count(body)
        findOffsetLocals(body, each: [:])
        collect(body, each: [:])
    }

    private mutating func count(_ statements: [TStmt]) {
        for statement in statements {
            switch statement.kind {
            case .assign(let targets, _):
                for case .local(let slot) in targets { assignments[slot, default: 0] += 1 }
            case .ifStatement(_, let then, let orElse): count(then); count(orElse)
            case .whileLoop(_, let inner): count(inner)
            case .forRange(let slot, _, _, _, let inner), .forEach(let slot, _, let inner):
                assignments[slot, default: 0] += 1
                count(inner)
            case .expression, .returnValue, .breakLoop, .continueLoop, .callbackFailure: break
            }
        }
    }

    private mutating func findOffsetLocals(_ statements: [TStmt], each: [Int: ClosedRange<Int64>]) {
        for statement in statements {
            switch statement.kind {
            case .assign(let targets, let values):
                if targets.count == 1, values.count == 1, case .local(let slot) = targets[0], slot != counter,
                   assignments[slot] == 1, locals.indices.contains(slot), locals[slot].type == .int,
                   let range = ProgramLowering.counterOffset(values[0], counter: counter, each: each) {
                    offsetLocals[slot] = range
                }
            case .ifStatement(_, let then, let orElse):
                findOffsetLocals(then, each: each); findOffsetLocals(orElse, each: each)
            case .whileLoop(_, let inner), .forRange(_, _, _, _, let inner): findOffsetLocals(inner, each: each)
            case .forEach(let slot, let array, let inner):
                var scoped = each
                scoped[slot] = Self.constantRange(slot: slot, array: array, body: inner, locals: locals)
                findOffsetLocals(inner, each: scoped)
            case .expression, .returnValue, .breakLoop, .continueLoop, .callbackFailure: break
            }
        }
    }

    private mutating func collect(_ statements: [TStmt], each: [Int: ClosedRange<Int64>]) {
        for statement in statements {
            switch statement.kind {
            case .expression(let e): collect(e, each: each)
            case .assign(let targets, let values):
                values.forEach { collect($0, each: each) }
                for target in targets {
                    switch target {
                    case .ndElement(let array, let indices):
                        use(array, indices, each: each)
                        indices.forEach { collect($0, each: each) }
                    case .element(let a, let i): collect(a, each: each); collect(i, each: each)
                    case .local: break
                    }
                }
            case .ifStatement(let c, let then, let orElse):
                collect(c, each: each); collect(then, each: each); collect(orElse, each: each)
            case .whileLoop(let c, let inner): collect(c, each: each); collect(inner, each: each)
            case .forRange(_, let a, let b, let c, let inner):
                [a, b, c].forEach { collect($0, each: each) }
                collect(inner, each: each)
            case .forEach(let slot, let array, let inner):
                collect(array, each: each)
                var scoped = each
                scoped[slot] = Self.constantRange(slot: slot, array: array, body: inner, locals: locals)
                collect(inner, each: scoped)
            case .returnValue(let e): e.map { collect($0, each: each) }
            case .breakLoop, .continueLoop, .callbackFailure: break
            }
        }
    }

    private mutating func use(_ array: Int, _ indices: [TExpr], each: [Int: ClosedRange<Int64>]) {
        indexed.insert(array)
        guard indices.count == 1 else { return }
        var range = ProgramLowering.counterOffset(indices[0], counter: counter, each: each)
        if range == nil, case .local(let slot) = indices[0].kind { range = offsetLocals[slot] }
        guard let range else { return }
        if let start = constantStart, start < -range.lowerBound { return }
        if stopIsExtentOf == array, range.upperBound > 0 { return }
        if let known = offsets[array] {
            offsets[array] = min(known.lowerBound, range.lowerBound)...max(known.upperBound, range.upperBound)
        } else {
            offsets[array] = range
        }
    }

    private mutating func collect(_ e: TExpr, each: [Int: ClosedRange<Int64>]) {
        switch e.kind {
        case .ndElement(let array, let indices):
            use(array, indices, each: each)
            indices.forEach { collect($0, each: each) }
        case .ndAllocate(_, let items), .arrayOf(let items), .call(_, let items), .builtin(_, let items),
             .compare(let items, _, _):
            items.forEach { collect($0, each: each) }
        case .convert(_, let a), .negate(let a), .not(let a), .length(let a), .floatArrayOf(let a): collect(a, each: each)
        case .arithmetic(_, let a, let b), .logical(_, let a, let b), .element(let a, let b), .gather(let a, let b),
             .compress(let a, let b):
            collect(a, each: each); collect(b, each: each)
        case .conditional(let a, let b, let c): collect(a, each: each); collect(b, each: each); collect(c, each: each)
        case .map(let inputs, let mapped): inputs.forEach { collect($0, each: each) }; collect(mapped, each: each)
        case .slice(let a, let b, let c, let d): collect(a, each: each); [b, c, d].compactMap { $0 }.forEach { collect($0, each: each) }
        case .intConstant, .floatConstant, .boolConstant, .local, .lane, .floatArrayConstant, .intArrayConstant,
             .ndShape, .ndSize, .ndReduce:
            break
        }
    }
}

extension Codegen {
    /// Lowers, verifies and optimises an array function in a fresh context with `arrayFunctionPipeline(program, level)`
    /// (short pipelines; one that vectorises when there is a loop to vectorise).
    public static func prepareArrayFunction(_ program: TypedProgram, options: CodegenOptions, level: OptimizationLevel,
                                            machine: TargetMachine, keepText: Bool = true) throws -> PreparedModule {
        try prepareStages(program, machine: machine, keepText: keepText,
                          lower: { try lower(program, options: options, in: $0) },
                          optimize: { module in
                              preferNarrowVectors(module)
                              try module.optimize(pipeline: arrayFunctionPipeline(program, level), level: level, machine: machine)
                          })
    }

    /// Asks the loop vectoriser for 256-bit vectors (`"prefer-vector-width"="256"`, as Clang's default for
    /// AVX-512 Intel CPUs) in every function of an array function's module. Measured on this machine's AMD
    /// EPYC (Zen 4, family 25 model 17; LLVM 14 calls it znver3 with AVX-512): the loop of a uint8 `a + b` into
    /// an existing array on 10^6 elements took 35.2-35.3 us with 512-bit vectors, 33.0-33.1 us with 256-bit
    /// ones (NumPy's AVX2 `UBYTE_add` 31.2), interleaved runs; float64 and int32 improved too (w15d,
    /// docs/status.md). Only the vector width changes: element-wise operations give the same bits.
    static func preferNarrowVectors(_ module: Module) {
        guard let handle = module.handle else { return }
        let context = LLVMGetModuleContext(handle)
        let key = "prefer-vector-width", value = "256"
        var function = LLVMGetFirstFunction(handle)
        while let current = function {
            if LLVMIsDeclaration(current) == 0, let attribute = LLVMCreateStringAttribute(context, key, UInt32(key.utf8.count), value, UInt32(value.utf8.count)) {
                LLVMAddAttributeAtIndex(current, UInt32.max, attribute)
            }
            function = LLVMGetNextFunction(current)
        }
    }

    /// The pipeline of `program`: `level.arrayFunctionPipeline` (loop rotation and the loop vectoriser) when some
    /// innermost loop is straight-line code (`addarr`: what the vectoriser can take), else the shorter
    /// `level.callbackPipeline`. Measured on skan's `build_graph` (an `if` and a loop in its loop, nothing to
    /// vectorise): 3.9 ms a call with the short pipeline, 4.8 ms with rotation and vectorisation (w15c, docs/status.md).
    public static func arrayFunctionPipeline(_ program: TypedProgram, _ level: OptimizationLevel) -> String {
        program.functions.contains { hasStraightLineInnermostLoop($0.body) } ? level.arrayFunctionPipeline : level.callbackPipeline
    }

    /// Whether `body` has no loop, `if`, `break`, `continue` or `return` (what the loop vectoriser takes).
    static func isStraightLine(_ body: [TStmt]) -> Bool {
        body.allSatisfy { statement in
            switch statement.kind {
            case .expression, .assign: return true
            default: return false
            }
        }
    }

    /// Whether `statements` hold a loop whose body has no loop, `if`, `break`, `continue` or `return`.
    static func hasStraightLineInnermostLoop(_ statements: [TStmt]) -> Bool {
        statements.contains { statement in
            switch statement.kind {
            case .forRange(_, _, _, _, let body), .forEach(_, _, let body), .whileLoop(_, let body):
                return isStraightLine(body) || hasStraightLineInnermostLoop(body)
            case .ifStatement(_, let then, let orElse): return hasStraightLineInnermostLoop(then) || hasStraightLineInnermostLoop(orElse)
            default: return false
            }
        }
    }

    /// The exported wrapper of an array function: `i32 f(i8** arguments, i8* result, i8* arena)`.
    /// `arguments[k]` points at argument k (a descriptor, an int64, a double, a bool byte); the result is
    /// stored at `result` (a descriptor pointer, int64, double or bool byte) on success. The arena (two
    /// zeroed words) is the caller's: it holds every array the call made and the caller releases it,
    /// after taking the returned array out of it.
    static func emitArrayFunctionWrapper(_ program: TypedProgram, lowering: ProgramLowering, name: String) throws {
        let emitter = lowering.emitter
        let types = emitter.types
        let kernel = program.kernel
        guard let signature = program.arraySignature, signature.arguments.count == kernel.parameterCount else {
            throw LLVMError("an array function without a matching signature")
        }
        var parameters: [LLVMTypeRef?] = [LLVMPointerType(types.bytePointer, 0), types.bytePointer, types.bytePointer]
        let type = parameters.withUnsafeMutableBufferPointer {
            LLVMFunctionType(types.int32, $0.baseAddress, UInt32($0.count), 0)
        }!
        let wrapper = LLVMAddFunction(emitter.module, name, type)!
        let entry = LLVMAppendBasicBlockInContext(emitter.context, wrapper, "entry")!
        emitter.position(at: entry)
        let builder = emitter.builder
        let argumentPointers = LLVMGetParam(wrapper, 0)!
        let result = LLVMGetParam(wrapper, 1)!
        var arguments: [LLVMValueRef] = [LLVMGetParam(wrapper, 2)!]
        var resultStorage: LLVMValueRef?
        if let returnType = kernel.returnType {
            let storage = LLVMBuildAlloca(builder, lowering.scalarType(returnType), "result")!
            resultStorage = storage
            arguments.append(storage)
        }
        for (position, argument) in signature.arguments.enumerated() {
            let pointer = emitter.load(types.bytePointer, emitter.elementAddress(types.bytePointer, argumentPointers, emitter.int64(Int64(position))))
            switch argument {
            case .array:
                arguments.append(LLVMBuildBitCast(builder, pointer, types.int64Pointer, "")!)
            case .int:
                arguments.append(emitter.load(types.int64, LLVMBuildBitCast(builder, pointer, types.int64Pointer, "")!))
            case .float:
                arguments.append(emitter.load(types.double, LLVMBuildBitCast(builder, pointer, types.doublePointer, "")!))
            case .bool:
                arguments.append(emitter.icmp(LLVMIntNE, emitter.load(types.int8, pointer), LLVMConstNull(types.int8)))
            }
        }
        let ok = emitter.call(lowering.functions[program.kernelIndex], arguments)
        let success = LLVMAppendBasicBlockInContext(emitter.context, wrapper, "success")!
        let failure = LLVMAppendBasicBlockInContext(emitter.context, wrapper, "fail")!
        emitter.branch(if: ok, then: success, else: failure)
        emitter.position(at: success)
        if let resultStorage, let returnType = kernel.returnType {
            var value = emitter.load(lowering.scalarType(returnType), resultStorage)
            var storedType = lowering.scalarType(returnType)
            if returnType == .bool {
                value = LLVMBuildZExt(builder, value, types.int8, "")!
                storedType = types.int8
            }
            emitter.store(value, LLVMBuildBitCast(builder, result, LLVMPointerType(storedType, 0), "")!)
        }
        LLVMBuildRet(builder, emitter.int32(1))
        emitter.position(at: failure)
        LLVMBuildRet(builder, emitter.int32(0))
    }
}
