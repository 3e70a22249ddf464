// Typed IR -> LLVM IR.
//
// Every typed function becomes one internal function
//     i1 @<prefix>.f<index>.<name>(i8* arena, <ret>* result?, params...)
// returning 1 on success and 0 after recording a failure through `filterjit_fail`.
// Scalars are i64 / double / i1; an array is two parameters (pointer, length).
// Local arrays live in a per-call arena (two words: first block, total elements) that
// the exported ABI wrapper owns and releases on every exit path.
// The exported wrapper has the exact SciPy LowLevelCallable ABI of the kernel kind.

internal import CLLVM
import FilterLang

/// A lowered value: a scalar, an array (pointer, length), or nothing.
enum Lowered {
    case scalar(LLVMValueRef)
    case array(pointer: LLVMValueRef, length: LLVMValueRef)
    case none

    /// The scalar; a malformed typed program (a front-end bug) is an error, not a trap.
    var scalar: LLVMValueRef {
        get throws {
            guard case .scalar(let value) = self else { throw LLVMError("typed IR: expected a scalar value") }
            return value
        }
    }

    /// The (pointer, length) pair of an array value.
    var array: (pointer: LLVMValueRef, length: LLVMValueRef) {
        get throws {
            guard case .array(let pointer, let length) = self else { throw LLVMError("typed IR: expected an array value") }
            return (pointer, length)
        }
    }
}

/// The storage of a local slot.
enum SlotStorage {
    case scalar(LLVMValueRef, ValueType)
    case array(pointer: LLVMValueRef, length: LLVMValueRef, ValueType)
}

/// Builds the LLVM module of one typed program.
final class ProgramLowering {
    let program: TypedProgram
    let emitter: Emitter
    let prefix: String
    var types: IRTypes { emitter.types }
    var builder: LLVMBuilderRef { emitter.builder }
    private(set) var functions: [Callee] = []
    /// Whether any function allocates local arrays (then the wrapper must release the arena).
    private(set) var usesArena = false
    /// In a fused kernel: the constant length of the kernel's window (`values`), which makes
    /// `len(values)` a constant and lets reductions over it unroll (FusedLowering.swift).
    var windowLength: Int?
    /// In a fused line filter: the filter size, so `len(line) == len(out) + size - 1` (FusedLowering.swift).
    var lineFilterSize: Int?
    /// Slots of enclosing `for i in range(k, len(out))` loops of a fused line filter (FusedLowering.swift).
    var provenCounters: [Int] = []
    /// Whether the function being lowered is the kernel (where `windowLength` applies).
    private(set) var loweringKernel = false
    /// A `@line_filter` kernel lowered across lanes (LineLanes.swift): its varying slots hold vectors.
    var lanes: LineLanes?

    // Per-function state.
    private(set) var function: TypedFunction!
    private(set) var slots: [SlotStorage] = []
    /// Array functions: each `.ndarray` slot's descriptor words (data, shape, strides) in stack slots, stored
    /// whenever the slot is, so that loops read them as loop-invariant values (ArrayFunctionLowering.swift).
    var descriptorFields: [Int: [LLVMValueRef]] = [:]
    /// Array functions: the shapes of the descriptors `np.zeros` ... just made, by descriptor value.
    var allocatedShapes: [LLVMValueRef: [LLVMValueRef]] = [:]
    /// Array functions, in the unchecked version of a loop (`hoistIndexChecks`): "counter:array" -> the offsets `v`
    /// for which every `array[counter + v]` of the loop is in bounds (checked once before the loop).
    var provenOffsets: [String: ClosedRange<Int64>] = [:]
    /// Array functions, in the unchecked version of a loop: the locals assigned once in its body to `counter + v`
    /// (`neighbour = k + s`), by slot -> the loop's counter.
    var offsetLocalCandidates: [Int: Int] = [:]
    /// Array functions: the loop variables of the `for s in CONSTANT` loops being lowered -> the range of the
    /// constant's values (only while their body is lowered; `s` is not reassigned there).
    var constantEachRanges: [Int: ClosedRange<Int64>] = [:]
    /// Array functions: locals that hold `counter + v` with `v` in the range, from their assignment to the end of
    /// the statement list holding it (`offsetLocalCandidates`: assigned nowhere else in the loop's body).
    var offsetLocalFacts: [Int: (counter: Int, offsets: ClosedRange<Int64>)] = [:]
    /// Array functions, in the unchecked version of a loop whose body branches: the 1-D arrays proven contiguous
    /// before it (their elements are addressed with constant strides).
    var contiguousArrays: Set<Int> = []
    /// Array functions, in the checked version of a loop that has an unchecked one: `for v in CONSTANT` stays a
    /// loop (the fallback needs no speed, and unrolling both versions doubled build_graph's compile).
    var keepsConstantLoopsRolled = false
    /// Array functions: the `np.zeros` ... being lowered need not be zero-filled, since the loop after it
    /// stores every element before anything reads one (`allocationIsOverwritten`, ArrayFunctionLowering.swift).
    var allocationOverwritten = false
    private(set) var arena: LLVMValueRef!
    private var resultPointer: LLVMValueRef?
    var loops: [(continueBlock: LLVMBasicBlockRef, breakBlock: LLVMBasicBlockRef)] = []
    private var entryBlock: LLVMBasicBlockRef!
    /// Constant arrays already emitted as globals, by element type and bits (issue 13).
    private var constantArrays: [String: LLVMValueRef] = [:]
    /// The lanes of the element-wise `map` bodies being lowered, innermost last.
    var laneStack: [[LLVMValueRef]] = []
    /// Set while lowering the values of an assignment inside a loop: a fresh array made there may
    /// outlive the next evaluation of the same expression, so it goes to the arena, not the stack.
    private var freshArraysEscape = false

    init(program: TypedProgram, emitter: Emitter, prefix: String) {
        self.program = program
        self.emitter = emitter
        self.prefix = prefix
    }

    // MARK: Types

    func scalarType(_ type: ValueType) -> LLVMTypeRef {
        switch type {
        case .int, .uint64: return types.int64
        case .float: return types.double
        case .bool: return types.bool
        case .floatArray: return types.doublePointer
        case .intArray: return types.int64Pointer
        case .boolArray: return LLVMPointerType(types.bool, 0)
        case .ndarray: return types.int64Pointer  // its descriptor (ArrayFunctionLowering.swift)
        }
    }

    /// The LLVM element type of an array type (bool arrays hold i1, a byte each in memory).
    func elementType(_ type: ValueType) -> LLVMTypeRef {
        switch type {
        case .intArray: return types.int64
        case .boolArray: return types.bool
        default: return types.double
        }
    }

    /// The LLVM parameter types of an internal function.
    func parameterTypes(of function: TypedFunction) -> [LLVMTypeRef] {
        var result: [LLVMTypeRef] = [types.bytePointer]
        if let returnType = function.returnType { result.append(LLVMPointerType(scalarType(returnType), 0)) }
        for slot in function.locals.prefix(function.parameterCount) {
            result.append(scalarType(slot.type))
            if slot.type.isArray { result.append(types.int64) }
        }
        return result
    }

    // MARK: Module

    /// Declares every function, then lowers every body.
    func lowerFunctions() throws {
        for (index, typed) in program.functions.enumerated() {
            let name = "\(prefix).f\(index).\(typed.name)"
            var parameters: [LLVMTypeRef?] = parameterTypes(of: typed)
            let type = parameters.withUnsafeMutableBufferPointer {
                LLVMFunctionType(types.bool, $0.baseAddress, UInt32($0.count), 0)
            }!
            let value = LLVMAddFunction(emitter.module, name, type)!
            LLVMSetLinkage(value, LLVMInternalLinkage)
            functions.append(Callee(function: value, type: type))
        }
        for index in program.functions.indices {
            try lowerFunction(index)
        }
    }

    private func lowerFunction(_ index: Int) throws {
        function = program.functions[index]
        descriptorFields = [:]
        allocatedShapes = [:]
        loweringKernel = index == program.kernelIndex
        let callee = functions[index]
        loops = []
        entryBlock = LLVMAppendBasicBlockInContext(emitter.context, callee.function, "entry")
        emitter.position(at: entryBlock)
        var parameterIndex: UInt32 = 0
        func nextParameter() -> LLVMValueRef {
            defer { parameterIndex += 1 }
            return LLVMGetParam(callee.function, parameterIndex)!
        }
        arena = nextParameter()
        resultPointer = function.returnType == nil ? nil : nextParameter()
        // Every slot gets stack storage, zero-initialised so that no path reads undef.
        slots = function.locals.enumerated().map { slot, local in
            if local.type.isArray {
                let pointer = LLVMBuildAlloca(builder, scalarType(local.type), local.name)!
                let length = LLVMBuildAlloca(builder, types.int64, local.name + ".len")!
                emitter.store(LLVMConstNull(scalarType(local.type)), pointer)
                emitter.store(emitter.int64(0), length)
                return .array(pointer: pointer, length: length, local.type)
            }
            let type = slotType(slot, local.type)
            let storage = LLVMBuildAlloca(builder, type, local.name)!
            emitter.store(LLVMConstNull(type), storage)
            return .scalar(storage, local.type)
        }
        for slot in 0..<function.parameterCount {
            switch slots[slot] {
            case .scalar(let storage, let type):
                let parameter = nextParameter()
                emitter.store(parameter, storage)
                if type == .ndarray { unpackDescriptor(parameter, into: slot) }
            case .array(let pointer, let length, _):
                emitter.store(nextParameter(), pointer)
                emitter.store(nextParameter(), length)
            }
        }
        let body = emitter.block("body")
        emitter.branch(to: body)
        emitter.position(at: body)
        try lower(function.body)
        if !emitter.isTerminated {
            if function.returnType == nil {
                LLVMBuildRet(builder, emitter.bool(true))
            } else {
                fail(.missingReturn, function.range)
            }
        }
    }

    // MARK: Failures

    /// Records a failure and returns 0 from the current function; emission continues in a dead block.
    func fail(_ kind: RuntimeFailureKind, _ range: SourceRange, _ a: LLVMValueRef? = nil, _ b: LLVMValueRef? = nil) {
        let callee = emitter.declare("filterjit_fail", returning: types.void,
                                     [types.int32, types.int64, types.int64, types.int64, types.int64])
        emitter.call(callee, [emitter.int32(kind.rawValue), emitter.int64(Int64(range.start)),
                              emitter.int64(Int64(range.end)), a ?? emitter.int64(0), b ?? emitter.int64(0)])
        LLVMBuildRet(builder, emitter.bool(false))
    }

    /// Continues when `condition` holds; otherwise fails with `kind`.
    func check(_ condition: LLVMValueRef, else kind: RuntimeFailureKind, _ range: SourceRange,
                       _ a: LLVMValueRef? = nil, _ b: LLVMValueRef? = nil) {
        let ok = emitter.block("ok")
        let failed = emitter.block("fail")
        emitter.branch(if: condition, then: ok, else: failed)
        emitter.position(at: failed)
        fail(kind, range, a, b)
        emitter.position(at: ok)
    }

    /// Fails with `.cancelled` when the engine's cancellation flag (an engine-owned int, read
    /// atomically) is set.
    private func checkCancellation(_ range: SourceRange) {
        let flag = LLVMGetNamedGlobal(emitter.module, "filterjit_cancel_flag")
            ?? LLVMAddGlobal(emitter.module, types.int32, "filterjit_cancel_flag")!
        let flagValue = emitter.load(types.int32, flag)
        LLVMSetOrdering(flagValue, LLVMAtomicOrderingMonotonic)
        LLVMSetAlignment(flagValue, 4)
        check(emitter.icmp(LLVMIntEQ, flagValue, emitter.int32(0)), else: .cancelled, range)
    }

    /// Reads the cancellation flag when `count` (a `for` loop's iterations so far) is a multiple of
    /// 65,536, so `for i in range(10**18)` (or a loop over a huge window nested in others) stops on
    /// cancel like a `while` loop, at the cost of a rarely taken branch per iteration; or on every
    /// iteration (`everyIteration`, for loops whose inner loops do not poll).
    private func pollCancellation(count: LLVMValueRef, _ range: SourceRange, everyIteration: Bool = false) {
        if everyIteration {
            checkCancellation(range)
            return
        }
        let isPollIteration = emitter.icmp(LLVMIntEQ, LLVMBuildAnd(builder, count, emitter.int64(0xFFFF), "")!,
                                           emitter.int64(0))
        let poll = emitter.block("poll")
        let done = emitter.block("poll.done")
        emitter.branch(if: isPollIteration, then: poll, else: done)
        emitter.position(at: poll)
        checkCancellation(range)
        emitter.branch(to: done)
        emitter.position(at: done)
    }

    private func bits(_ value: LLVMValueRef) -> LLVMValueRef {
        LLVMBuildBitCast(builder, value, types.int64, "")!
    }

    private func builtinCode(_ builtin: Builtin) -> LLVMValueRef {
        emitter.int64(Int64(Builtin.allCases.firstIndex(of: builtin) ?? 0))
    }

    // MARK: Statements

    func lower(_ statements: [TStmt]) throws {
        // A local's `counter + v` fact holds from its assignment to the end of this list (the assignment
        // dominates the rest of the list and what is nested in it, in the same iteration of every loop).
        let facts = offsetLocalFacts
        defer { offsetLocalFacts = facts }
        for (position, statement) in statements.enumerated() {
            allocationOverwritten = position + 1 < statements.count && allocationIsOverwritten(statement, then: statements[position + 1])
            try lower(statement)
            allocationOverwritten = false
        }
    }

    private func lower(_ statement: TStmt) throws {
        switch statement.kind {
        case .expression(let expression):
            _ = try lower(expression)

        case .assign(let targets, let values):
            let escaping = freshArraysEscape
            freshArraysEscape = !loops.isEmpty
            defer { freshArraysEscape = escaping }
            let lowered = try values.map { try lower($0) }
            freshArraysEscape = escaping
            for (position, (target, value)) in zip(targets, lowered).enumerated() {
                switch target {
                case .ndElement(let slot, let indices):
                    try storeNDElement(slot: slot, indices: indices, value: try value.scalar, type: values[position].type,
                                       range: statement.range)
                case .local(let slot):
                    store(value, into: slot)
                    if program.kind == .arrayFunction { noteAssignment(to: slot, values: values, targetCount: targets.count) }
                case .element(let array, let index):
                    let address = try elementAddress(array: array, index: index, range: statement.range)
                    if let pitch = try lanePitch(of: array) {
                        storeLanes(splat(try value.scalar), at: address, pitch: pitch)
                    } else {
                        emitter.store(try value.scalar, address)
                    }
                }
            }

        case .ifStatement(let condition, let thenBody, let elseBody):
            let conditionValue = try lower(condition).scalar
            let thenBlock = emitter.block("then")
            let elseBlock = emitter.block("else")
            let merge = emitter.block("endif")
            emitter.branch(if: conditionValue, then: thenBlock, else: elseBlock)
            emitter.position(at: thenBlock)
            try lower(thenBody)
            emitter.branch(to: merge)
            emitter.position(at: elseBlock)
            try lower(elseBody)
            emitter.branch(to: merge)
            emitter.position(at: merge)

        case .whileLoop(let condition, let body):
            let header = emitter.block("while")
            let bodyBlock = emitter.block("while.body")
            let exit = emitter.block("while.exit")
            emitter.branch(to: header)
            emitter.position(at: header)
            checkCancellation(statement.range)
            let conditionValue = try lower(condition).scalar
            emitter.branch(if: conditionValue, then: bodyBlock, else: exit)
            emitter.position(at: bodyBlock)
            loops.append((header, exit))
            try lower(body)
            loops.removeLast()
            emitter.branch(to: header)
            emitter.position(at: exit)

        case .forRange(let slot, let start, let stop, let step, let body):
            if try lowerUnrolledForRange(slot: slot, start: start, stop: stop, step: step, body: body) { break }
            let startValue = try lower(start).scalar
            let stopValue = try lower(stop).scalar
            let stepValue = try lower(step).scalar
            check(emitter.icmp(LLVMIntNE, stepValue, emitter.int64(0)), else: .zeroRangeStep, statement.range)
            // Array functions: the index checks a step-1 loop can check once (ArrayFunctionLowering.swift).
            let hoisted = try hoistIndexChecks(counter: slot, start: start, stop: stop, startValue: startValue, stopValue: stopValue,
                                               step: step, body: body)
            func emitLoop(boundedByArray: Bool = false) throws {
                let counter = alloca(types.int64, "range.counter")
                emitter.store(startValue, counter)
                let iterations = alloca(types.int64, "range.iterations")
                emitter.store(emitter.int64(0), iterations)
                let header = emitter.block("range")
                let bodyBlock = emitter.block("range.body")
                let latch = emitter.block("range.next")
                let exit = emitter.block("range.exit")
                emitter.branch(to: header)
                emitter.position(at: header)
                let current = emitter.load(types.int64, counter)
                let ascending = emitter.icmp(LLVMIntSGT, stepValue, emitter.int64(0))
                let inRange = emitter.select(ascending, emitter.icmp(LLVMIntSLT, current, stopValue),
                                             emitter.icmp(LLVMIntSGT, current, stopValue))
                emitter.branch(if: inRange, then: bodyBlock, else: exit)
                emitter.position(at: bodyBlock)
                store(.scalar(try coerce(current, from: .int, to: function.locals[slot].type)), into: slot)
                loops.append((latch, exit))
                let proven = isProvenLineCounter(slot: slot, start: start, stop: stop, step: step, body: body)
                if proven { provenCounters.append(slot) }
                try lower(body)
                if proven { provenCounters.removeLast() }
                loops.removeLast()
                emitter.branch(to: latch)
                emitter.position(at: latch)
                // A loop proven to walk a line is bounded by the line, an innermost one over an array function's
                // array extent by the array (so it has no second exit and may vectorise); any other may be
                // astronomically long.
                if !proven && !isArrayExtentLoop(start: start, stop: stop, step: step, body: body)
                    && !(boundedByArray && hasOnlyShortLoops(body)) {
                    let count = emitter.add(emitter.load(types.int64, iterations), emitter.int64(1))
                    emitter.store(count, iterations)
                    pollCancellation(count: count, statement.range, everyIteration: pollsEveryIteration(body: body))
                }
                // Array functions, step 1 or -1: `counter` is strictly inside (start, stop), so the next value cannot
                // overflow (a plain `add nsw`, which lets LLVM count the iterations).
                if program.kind == .arrayFunction, case .intConstant(let constantStep) = step.kind, constantStep == 1 || constantStep == -1 {
                    let next = LLVMBuildNSWAdd(builder, emitter.load(types.int64, counter), stepValue, "")!
                    emitter.store(next, counter)
                    emitter.branch(to: header)
                    emitter.position(at: exit)
                    return
                }
                // Stepping past the 64-bit range ends the loop (the next value would be past `stop`).
                let overflowing = emitter.declare("llvm.sadd.with.overflow.i64",
                                                  returning: structType([types.int64, types.bool]),
                                                  [types.int64, types.int64])
                let sum = emitter.call(overflowing, [emitter.load(types.int64, counter), stepValue])
                emitter.store(LLVMBuildExtractValue(builder, sum, 0, "")!, counter)
                emitter.branch(if: LLVMBuildExtractValue(builder, sum, 1, "")!, then: exit, else: header)
                emitter.position(at: exit)
            }
            if hoisted.checks.isEmpty {
                try emitLoop()
                break
            }
            // Two versions: where every hoisted check holds, a loop without them (it may vectorise); else the checked one.
            let fast = emitter.block("range.unchecked")
            let checked = emitter.block("range.checked")
            let done = emitter.block("range.done")
            emitter.branch(if: hoisted.checks.map(\.holds).reduce(emitter.bool(true)) { emitter.and($0, $1) }, then: fast, else: checked)
            emitter.position(at: fast)
            let (proven, candidates, contiguous) = (provenOffsets, offsetLocalCandidates, contiguousArrays)
            for entry in hoisted.checks { provenOffsets[entry.key] = entry.offsets }
            for local in hoisted.offsetLocals { offsetLocalCandidates[local] = slot }
            contiguousArrays.formUnion(hoisted.contiguous)
            // This version runs only when stop <= len(array) - max offset: bounded by the array, as an extent loop is.
            try emitLoop(boundedByArray: true)
            emitter.branch(to: done)
            emitter.position(at: checked)
            (provenOffsets, offsetLocalCandidates, contiguousArrays) = (proven, candidates, contiguous)
            let rolled = keepsConstantLoopsRolled
            keepsConstantLoopsRolled = true
            defer { keepsConstantLoopsRolled = rolled }
            try emitLoop()
            emitter.branch(to: done)
            emitter.position(at: done)

        case .forEach(let slot, let arrayExpression, let body):
            let array = try lower(arrayExpression).array
            // `for s in CONSTANT` (skan's `steps`): `s` is one of the constant's values in the body (array functions).
            let eachRanges = constantEachRanges
            defer { constantEachRanges = eachRanges }
            if let range = constantEachRange(slot: slot, array: arrayExpression, body: body) { constantEachRanges[slot] = range }
            if !keepsConstantLoopsRolled,
               try lowerUnrolledForEach(slot: slot, array: array, elementType: arrayExpression.type, body: body) { break }
            let counter = alloca(types.int64, "each.counter")
            emitter.store(emitter.int64(0), counter)
            let header = emitter.block("each")
            let bodyBlock = emitter.block("each.body")
            let latch = emitter.block("each.next")
            let exit = emitter.block("each.exit")
            emitter.branch(to: header)
            emitter.position(at: header)
            let current = emitter.load(types.int64, counter)
            emitter.branch(if: emitter.icmp(LLVMIntSLT, current, array.length), then: bodyBlock, else: exit)
            emitter.position(at: bodyBlock)
            // In bounds by the loop condition; the arena keeps the memory alive even if the
            // variable holding the array is reassigned in the body.
            let elementValueType: ValueType = arrayExpression.type.elementType ?? .float
            let element = emitter.load(elementType(arrayExpression.type),
                                       emitter.elementAddress(elementType(arrayExpression.type), array.pointer, current))
            store(.scalar(try coerce(element, from: elementValueType, to: function.locals[slot].type)), into: slot)
            loops.append((latch, exit))
            try lower(body)
            loops.removeLast()
            emitter.branch(to: latch)
            emitter.position(at: latch)
            let next = emitter.add(emitter.load(types.int64, counter), emitter.int64(1))
            emitter.store(next, counter)
            // Short alone, but nested loops over a window of 4 million values are not.
            pollCancellation(count: next, statement.range)
            emitter.branch(to: header)
            emitter.position(at: exit)

        case .breakLoop:
            guard let loop = loops.last else { throw LLVMError("break outside a loop") }
            emitter.branch(to: loop.breakBlock)
            emitter.startDeadBlock()

        case .continueLoop:
            guard let loop = loops.last else { throw LLVMError("continue outside a loop") }
            emitter.branch(to: loop.continueBlock)
            emitter.startDeadBlock()

        case .returnValue(let value):
            if let value, let returnType = function.returnType, let resultPointer {
                let lowered = try lower(value).scalar
                emitter.store(try coerce(lowered, from: value.type, to: returnType), resultPointer)
            } else if let value {
                _ = try lower(value)
            }
            LLVMBuildRet(builder, emitter.bool(true))
            emitter.startDeadBlock()

        case .callbackFailure:
            fail(.callbackFailure, statement.range)
        }
    }

    /// `then()` in a block taken when `condition` holds, `orElse()` in one taken otherwise, each value with the
    /// block it ends in; emission continues in the block both branch to (for the caller's phis).
    func branches<Value>(on condition: LLVMValueRef, then: () throws -> Value, else orElse: () throws -> Value) throws
        -> (then: (Value, LLVMBasicBlockRef), else: (Value, LLVMBasicBlockRef)) {
        let thenBlock = emitter.block("cond.then")
        let elseBlock = emitter.block("cond.else")
        let merge = emitter.block("cond.end")
        emitter.branch(if: condition, then: thenBlock, else: elseBlock)
        emitter.position(at: thenBlock)
        let thenValue = try then()
        let thenEnd = emitter.currentBlock
        emitter.branch(to: merge)
        emitter.position(at: elseBlock)
        let elseValue = try orElse()
        let elseEnd = emitter.currentBlock
        emitter.branch(to: merge)
        emitter.position(at: merge)
        return ((thenValue, thenEnd), (elseValue, elseEnd))
    }

    private func structType(_ members: [LLVMTypeRef]) -> LLVMTypeRef {
        var elements: [LLVMTypeRef?] = members
        return elements.withUnsafeMutableBufferPointer {
            LLVMStructTypeInContext(emitter.context, $0.baseAddress, UInt32($0.count), 0)
        }!
    }

    /// A stack slot in the entry block (so mem2reg can promote it).
    func alloca(_ type: LLVMTypeRef, _ name: String) -> LLVMValueRef {
        let current = emitter.currentBlock
        if let terminator = LLVMGetBasicBlockTerminator(entryBlock) {
            LLVMPositionBuilderBefore(builder, terminator)
        } else {
            emitter.position(at: entryBlock)
        }
        let storage = LLVMBuildAlloca(builder, type, name)!
        emitter.position(at: current)
        return storage
    }

    func store(_ value: Lowered, into slot: Int) {
        switch (slots[slot], value) {
        case (.scalar(let storage, let type), .scalar(let scalar)):
            emitter.store(isVarying(slot) ? splat(scalar) : scalar, storage)
            if type == .ndarray { unpackDescriptor(scalar, into: slot) }
        case (.array(let pointer, let length, _), .array(let valuePointer, let valueLength)):
            emitter.store(valuePointer, pointer)
            emitter.store(valueLength, length)
        default:
            preconditionFailure("slot and value kinds differ")
        }
    }

    /// Converts a scalar between value types (identity when equal).
    func coerce(_ value: LLVMValueRef, from source: ValueType, to target: ValueType) throws -> LLVMValueRef {
        switch (source, target) {
        case _ where source == target: return value
        case (.int, .float): return LLVMBuildSIToFP(builder, value, types.double, "")!
        case (.bool, .float): return LLVMBuildUIToFP(builder, value, types.double, "")!
        case (.bool, .int): return LLVMBuildZExt(builder, value, types.int64, "")!
        case (.int, .bool), (.uint64, .bool): return emitter.icmp(LLVMIntNE, value, emitter.int64(0))
        case (.uint64, .int): return value  // the same bits (Sema's explicit conversion)
        case (.uint64, .float): return LLVMBuildUIToFP(builder, value, types.double, "")!
        case (.float, .bool): return emitter.fcmp(LLVMRealUNE, value, emitter.double(0))
        default:
            // float -> int never happens implicitly (Sema uses an explicit, checked builtin).
            throw LLVMError("typed IR: no implicit conversion from \(source) to \(target)")
        }
    }

    /// Truth value of a scalar: `x != 0` (NaN is true).
    private func truth(_ value: LLVMValueRef, _ type: ValueType) throws -> LLVMValueRef {
        try coerce(value, from: type, to: .bool)
    }

    // MARK: Expressions

    func lower(_ expression: TExpr) throws -> Lowered {
        switch expression.kind {
        case .ndElement, .ndShape, .ndSize, .ndAllocate, .ndReduce: return try lowerArrayFunctionForm(expression)
        case .intConstant(let value): return .scalar(emitter.int64(value))
        case .floatConstant(let value): return .scalar(emitter.double(value))
        case .boolConstant(let value): return .scalar(emitter.bool(value))

        case .local(let slot):
            switch slots[slot] {
            case .scalar(let storage, let type):
                return .scalar(emitter.load(slotType(slot, type), storage))
            case .array(let pointer, let length, let type):
                let fixedLength = constantWindowLength(slot: slot)
                return .array(pointer: emitter.load(scalarType(type), pointer),
                              length: fixedLength.map { emitter.int64(Int64($0)) } ?? emitter.load(types.int64, length))
            }

        case .convert(let conversion, let operand):
            let value = try lower(operand).scalar
            switch conversion {
            case .toFloat: return .scalar(try coerce(value, from: operand.type, to: .float))
            case .toInt: return .scalar(try coerce(value, from: operand.type, to: .int))
            case .truth: return .scalar(try truth(value, operand.type))
            }

        case .negate(let operand):
            let value = try lower(operand).scalar
            if operand.type == .float { return .scalar(LLVMBuildFNeg(builder, value, "")!) }
            return .scalar(emitter.sub(emitter.int64(0), try coerce(value, from: operand.type, to: .int)))

        case .not(let operand):
            let value = try lower(operand).scalar
            return .scalar(emitter.not(try truth(value, operand.type)))

        case .arithmetic(let operation, let left, let right):
            let a = try coerce(try lower(left).scalar, from: left.type, to: expression.type)
            let b = try coerce(try lower(right).scalar, from: right.type, to: expression.type)
            // Across lanes (only float + - * /, LineLanes.analyse): a value shared by the lanes meets a varying one.
            let (x, y) = isVector(a) || isVector(b) ? (splat(a), splat(b)) : (a, b)
            return .scalar(arithmetic(operation, x, y, type: expression.type, range: expression.range))

        case .compare(let operands, let operators, let compareTypes):
            return .scalar(try compareChain(operands, operators, compareTypes))

        case .logical(let operation, let left, let right):
            let a = try lower(left)
            let decided = emitter.currentBlock
            let evaluateRight = emitter.block("logical.rhs")
            let merge = emitter.block("logical.end")
            let isTrue = try truth(try a.scalar, left.type)
            if operation == .and {
                emitter.branch(if: isTrue, then: evaluateRight, else: merge)
            } else {
                emitter.branch(if: isTrue, then: merge, else: evaluateRight)
            }
            emitter.position(at: evaluateRight)
            let b = try lower(right).scalar
            let rightEnd = emitter.currentBlock
            emitter.branch(to: merge)
            emitter.position(at: merge)
            return .scalar(emitter.phi(scalarType(expression.type), [(try a.scalar, decided), (b, rightEnd)]))

        case .conditional(let condition, let thenExpression, let elseExpression):
            if laneVaries(expression) {
                return try lowerConditionalInLanes(condition, thenExpression, elseExpression, type: expression.type)
            }
            let ((thenValue, thenEnd), (elseValue, elseEnd)) = try branches(on: try lower(condition).scalar,
                                                                             then: { try lower(thenExpression) },
                                                                             else: { try lower(elseExpression) })
            switch (thenValue, elseValue) {
            case (.array(let p1, let l1), .array(let p2, let l2)):
                return .array(pointer: emitter.phi(scalarType(expression.type), [(p1, thenEnd), (p2, elseEnd)]),
                              length: emitter.phi(types.int64, [(l1, thenEnd), (l2, elseEnd)]))
            default:
                let t = try coerce(try thenValue.scalar, from: thenExpression.type, to: expression.type)
                let e = try coerce(try elseValue.scalar, from: elseExpression.type, to: expression.type)
                // Coercions were emitted in `merge`; phis must come first, so coerce before the branch
                // instead when the types differ (Sema makes them equal, so this is the common path).
                if thenExpression.type == expression.type && elseExpression.type == expression.type {
                    return .scalar(emitter.phi(scalarType(expression.type), [(t, thenEnd), (e, elseEnd)]))
                }
                throw LLVMError("conditional branches of different types")
            }

        case .element(let array, let index):
            let address = try elementAddress(array: array, index: index, range: expression.range)
            if let pitch = try lanePitch(of: array) { return .scalar(loadLanes(at: address, pitch: pitch)) }
            let value = emitter.load(elementType(array.type), address)
            return .scalar(value)

        case .length(let array):
            return .scalar(try lower(array).array.length)

        case .floatArrayConstant(let values):
            return constantArray(values.map { emitter.double($0) }, key: "f" + values.map { String($0.bitPattern, radix: 16) }.joined(separator: ","),
                                 type: .floatArray)

        case .intArrayConstant(let values):
            return constantArray(values.map { emitter.int64($0) }, key: "i" + values.map { String($0) }.joined(separator: ","),
                                 type: .intArray)

        case .gather(let arrayExpression, let indicesExpression):
            return try gather(arrayExpression, indicesExpression, type: expression.type, range: expression.range)

        case .floatArrayOf(let arrayExpression):
            let source = try lower(arrayExpression).array
            let result = freshArray(source.length, type: .floatArray, range: expression.range)
            let sourceElement = elementType(arrayExpression.type)
            _ = emitter.loop(from: emitter.int64(0), to: source.length, carrying: []) { k, _ in
                let value = emitter.load(sourceElement, emitter.elementAddress(sourceElement, source.pointer, k))
                let converted = arrayExpression.type == .boolArray ? LLVMBuildUIToFP(builder, value, types.double, "")!
                                                                   : LLVMBuildSIToFP(builder, value, types.double, "")!
                emitter.store(converted, emitter.elementAddress(types.double, result.pointer, k))
                return []
            }
            return .array(pointer: result.pointer, length: result.length)

        case .map(let inputs, let body):
            return try map(inputs, body, type: expression.type, range: expression.range)

        case .lane(let j):
            guard let current = laneStack.last, current.indices.contains(j) else { throw LLVMError("typed IR: lane \(j) outside a map") }
            return .scalar(current[j])

        case .compress(let arrayExpression, let maskExpression):
            let source = try lower(arrayExpression).array
            let mask = try lower(maskExpression).array
            check(emitter.icmp(LLVMIntEQ, source.length, mask.length), else: .maskLength, maskExpression.range, source.length, mask.length)
            let element = elementType(expression.type)
            let result = freshArray(source.length, type: expression.type, range: expression.range)
            // Branch-free: every element is stored at the next free position, which moves on only for a true mask.
            let count = emitter.loop(from: emitter.int64(0), to: source.length, carrying: [(types.int64, emitter.int64(0))]) { k, carried in
                let value = emitter.load(element, emitter.elementAddress(element, source.pointer, k))
                emitter.store(value, emitter.elementAddress(element, result.pointer, carried[0]))
                let chosen = emitter.load(types.bool, emitter.elementAddress(types.bool, mask.pointer, k))
                return [emitter.add(carried[0], LLVMBuildZExt(builder, chosen, types.int64, "")!)]
            }
            return .array(pointer: result.pointer, length: count[0])

        case .slice(let arrayExpression, let start, let stop, let step):
            return try slice(arrayExpression, start: start, stop: stop, step: step, type: expression.type, range: expression.range)

        case .arrayOf(let elements):
            let values = try elements.map { try lower($0).scalar }
            let result = freshArray(emitter.int64(Int64(elements.count)), type: expression.type, range: expression.range)
            for (k, value) in values.enumerated() {
                emitter.store(value, emitter.elementAddress(elementType(expression.type), result.pointer, emitter.int64(Int64(k))))
            }
            return .array(pointer: result.pointer, length: result.length)

        case .call(let index, let arguments):
            let callee = functions[index]
            let target = program.functions[index]
            var values: [LLVMValueRef] = [arena]
            var result: LLVMValueRef?
            if let returnType = target.returnType {
                let storage = alloca(scalarType(returnType), "call.result")
                result = storage
                values.append(storage)
            }
            for argument in arguments {
                switch try lower(argument) {
                case .scalar(let value): values.append(value)
                case .array(let pointer, let length): values.append(pointer); values.append(length)
                case .none: throw LLVMError("argument without a value")
                }
            }
            let ok = emitter.call(callee, values)
            // The callee recorded the failure; just propagate it.
            let success = emitter.block("call.ok")
            let failure = emitter.block("call.fail")
            emitter.branch(if: ok, then: success, else: failure)
            emitter.position(at: failure)
            LLVMBuildRet(builder, emitter.bool(false))
            emitter.position(at: success)
            if let result, let returnType = target.returnType {
                return .scalar(try coerce(emitter.load(scalarType(returnType), result), from: returnType, to: expression.type))
            }
            return .none

        case .builtin(let builtin, let arguments):
            if laneVaries(expression) { return try lowerBuiltinInLanes(builtin, arguments, expression) }
            return try lowerBuiltin(builtin, arguments, expression)
        }
    }

    /// Address of `array[index]` after the bounds check (negative indices count from the end).
    private func elementAddress(array: TExpr, index: TExpr, range: SourceRange) throws -> LLVMValueRef {
        if let proven = try provenLineElementAddress(array: array, index: index) { return proven }
        let arrayValue = try lower(array).array
        let indexValue = try coerce(try lower(index).scalar, from: index.type, to: .int)
        let isNegative = emitter.icmp(LLVMIntSLT, indexValue, emitter.int64(0))
        // Lengths are never negative (the wrappers clamp them), so index + length cannot overflow here.
        let adjusted = emitter.select(isNegative, emitter.add(indexValue, arrayValue.length), indexValue)
        check(emitter.icmp(LLVMIntULT, adjusted, arrayValue.length), else: .indexOutOfRange, range,
              indexValue, arrayValue.length)
        return emitter.elementAddress(elementType(array.type), arrayValue.pointer, adjusted)
    }

    private func arithmetic(_ operation: TArithmetic, _ a: LLVMValueRef, _ b: LLVMValueRef,
                            type: ValueType, range: SourceRange) -> LLVMValueRef {
        if type == .float {
            switch operation {
            case .add: return LLVMBuildFAdd(builder, a, b, "")!
            case .subtract: return LLVMBuildFSub(builder, a, b, "")!
            case .multiply: return LLVMBuildFMul(builder, a, b, "")!
            case .trueDivide: return LLVMBuildFDiv(builder, a, b, "")!
            case .floorDivide:
                return emitter.call(emitter.declare("filterjit_floordiv_f64", returning: types.double,
                                                    [types.double, types.double]), [a, b])
            case .modulo:
                return emitter.call(emitter.declare("filterjit_mod_f64", returning: types.double,
                                                    [types.double, types.double]), [a, b])
            case .power: return emitter.callMath("pow", [a, b])
            }
        }
        if type == .uint64, operation == .floorDivide || operation == .modulo {
            // Unsigned: the quotient and remainder are already floored.
            let isDivision = operation == .floorDivide
            check(emitter.icmp(LLVMIntNE, b, emitter.int64(0)), else: isDivision ? .divisionByZero : .moduloByZero, range)
            return isDivision ? LLVMBuildUDiv(builder, a, b, "")! : LLVMBuildURem(builder, a, b, "")!
        }
        // Ints (and uint64s): wrapping (no nsw/nuw flags, so no poison).
        switch operation {
        case .add: return emitter.add(a, b)
        case .subtract: return emitter.sub(a, b)
        case .multiply: return LLVMBuildMul(builder, a, b, "")!
        case .trueDivide:
            let x = LLVMBuildSIToFP(builder, a, types.double, "")!
            let y = LLVMBuildSIToFP(builder, b, types.double, "")!
            return LLVMBuildFDiv(builder, x, y, "")!
        case .floorDivide, .modulo:
            let isDivision = operation == .floorDivide
            check(emitter.icmp(LLVMIntNE, b, emitter.int64(0)), else: isDivision ? .divisionByZero : .moduloByZero, range)
            // sdiv/srem of INT64_MIN by -1 is undefined in LLVM: divide by 1 instead and fix up.
            let minusOne = emitter.icmp(LLVMIntEQ, b, emitter.int64(-1))
            let divisor = emitter.select(minusOne, emitter.int64(1), b)
            let quotient = LLVMBuildSDiv(builder, a, divisor, "")!
            let remainder = LLVMBuildSRem(builder, a, divisor, "")!
            // Python floors: when the remainder is non-zero and its sign differs from the divisor's.
            let adjust = emitter.and(emitter.icmp(LLVMIntNE, remainder, emitter.int64(0)),
                                     emitter.icmp(LLVMIntSLT, LLVMBuildXor(builder, remainder, b, "")!, emitter.int64(0)))
            if isDivision {
                let floored = emitter.select(adjust, emitter.sub(quotient, emitter.int64(1)), quotient)
                return emitter.select(minusOne, emitter.sub(emitter.int64(0), a), floored)
            }
            let floored = emitter.select(adjust, emitter.add(remainder, b), remainder)
            return emitter.select(minusOne, emitter.int64(0), floored)
        case .power:
            return emitter.call(emitter.declare("filterjit_ipow", returning: types.int64, [types.int64, types.int64]), [a, b])
        }
    }

    private func compareChain(_ operands: [TExpr], _ operators: [CompareOperator], _ compareTypes: [ValueType]) throws -> LLVMValueRef {
        let end = emitter.block("compare.end")
        var incoming: [(LLVMValueRef, LLVMBasicBlockRef)] = []
        var left = try lower(operands[0]).scalar
        var leftType = operands[0].type
        for (index, operation) in operators.enumerated() {
            let rightExpression = operands[index + 1]
            let right = try lower(rightExpression).scalar
            let type = compareTypes[index]
            let result = compare(operation, try coerce(left, from: leftType, to: type),
                                 try coerce(right, from: rightExpression.type, to: type), type: type)
            if index == operators.count - 1 {
                incoming.append((result, emitter.currentBlock))
                emitter.branch(to: end)
            } else {
                let next = emitter.block("compare.next")
                incoming.append((emitter.bool(false), emitter.currentBlock))
                emitter.branch(if: result, then: next, else: end)
                emitter.position(at: next)
            }
            left = right
            leftType = rightExpression.type
        }
        emitter.position(at: end)
        return emitter.phi(types.bool, incoming)
    }

    func compare(_ operation: CompareOperator, _ a: LLVMValueRef, _ b: LLVMValueRef, type: ValueType) -> LLVMValueRef {
        if type == .float {
            // Ordered predicates: any comparison with NaN is false, except != which is true.
            let predicate: LLVMRealPredicate
            switch operation {
            case .less: predicate = LLVMRealOLT
            case .lessEqual: predicate = LLVMRealOLE
            case .greater: predicate = LLVMRealOGT
            case .greaterEqual: predicate = LLVMRealOGE
            case .equal: predicate = LLVMRealOEQ
            case .notEqual: predicate = LLVMRealUNE
            }
            return emitter.fcmp(predicate, a, b)
        }
        let predicate: LLVMIntPredicate
        if type == .uint64 {
            switch operation {
            case .less: predicate = LLVMIntULT
            case .lessEqual: predicate = LLVMIntULE
            case .greater: predicate = LLVMIntUGT
            case .greaterEqual: predicate = LLVMIntUGE
            case .equal: predicate = LLVMIntEQ
            case .notEqual: predicate = LLVMIntNE
            }
            return emitter.icmp(predicate, a, b)
        }
        switch operation {
        case .less: predicate = LLVMIntSLT
        case .lessEqual: predicate = LLVMIntSLE
        case .greater: predicate = LLVMIntSGT
        case .greaterEqual: predicate = LLVMIntSGE
        case .equal: predicate = LLVMIntEQ
        case .notEqual: predicate = LLVMIntNE
        }
        return emitter.icmp(predicate, a, b)
    }

    // MARK: Built-ins

    private func lowerBuiltin(_ builtin: Builtin, _ arguments: [TExpr], _ expression: TExpr) throws -> Lowered {
        let range = expression.range
        let values = try arguments.map { try lower($0) }
        let resultType = expression.type
        if let unrolled = try lowerConstantLengthReduction(builtin, values) { return unrolled }
        func scalarArgument(_ index: Int, as type: ValueType) throws -> LLVMValueRef {
            try coerce(try values[index].scalar, from: arguments[index].type, to: type)
        }
        func nonEmpty(_ array: (pointer: LLVMValueRef, length: LLVMValueRef)) {
            check(emitter.icmp(LLVMIntSGT, array.length, emitter.int64(0)), else: .emptyReduction, range, builtinCode(builtin))
        }
        func runtimeReduction(_ name: String) throws -> Lowered {
            let array = try values[0].array
            let callee = emitter.declare(name, returning: types.double, [types.doublePointer, types.int64])
            return .scalar(emitter.call(callee, [array.pointer, array.length]))
        }
        func element(_ array: (pointer: LLVMValueRef, length: LLVMValueRef), _ index: LLVMValueRef) -> LLVMValueRef {
            emitter.load(types.double, emitter.elementAddress(types.double, array.pointer, index))
        }

        switch builtin {
        // Simple reductions, inline.
        case .pyMin, .pyMax:
            let array = try values[0].array
            nonEmpty(array)
            let predicate = builtin == .pyMin ? LLVMRealOLT : LLVMRealOGT
            let result = emitter.loop(from: emitter.int64(1), to: array.length,
                                      carrying: [(types.double, element(array, emitter.int64(0)))]) { index, carried in
                let x = element(array, index)
                return [emitter.select(emitter.fcmp(predicate, x, carried[0]), x, carried[0])]
            }
            return .scalar(result[0])
        case .npMin, .npMax:
            let array = try values[0].array
            nonEmpty(array)
            let predicate = builtin == .npMin ? LLVMRealOLT : LLVMRealOGT
            let result = emitter.loop(from: emitter.int64(1), to: array.length,
                                      carrying: [(types.double, element(array, emitter.int64(0)))]) { index, carried in
                let x = element(array, index)
                let r = carried[0]
                // NaN wins once seen: take x when x is NaN or strictly better, unless r is already NaN.
                let take = emitter.and(emitter.not(emitter.isNaN(r)),
                                       emitter.or(emitter.isNaN(x), emitter.fcmp(predicate, x, r)))
                return [emitter.select(take, x, r)]
            }
            return .scalar(result[0])
        case .pySum, .prod:
            let array = try values[0].array
            let isSum = builtin == .pySum
            let result = emitter.loop(from: emitter.int64(0), to: array.length,
                                      carrying: [(types.double, emitter.double(isSum ? 0.0 : 1.0))]) { index, carried in
                let x = element(array, index)
                return [isSum ? LLVMBuildFAdd(builder, carried[0], x, "")! : LLVMBuildFMul(builder, carried[0], x, "")!]
            }
            return .scalar(result[0])
        case .any, .all:
            let array = try values[0].array
            let isAny = builtin == .any
            let result = emitter.loop(from: emitter.int64(0), to: array.length,
                                      carrying: [(types.bool, emitter.bool(!isAny))]) { index, carried in
                let nonZero = emitter.fcmp(LLVMRealUNE, element(array, index), emitter.double(0))
                return [isAny ? emitter.or(carried[0], nonZero) : emitter.and(carried[0], nonZero)]
            }
            return .scalar(result[0])
        case .argmin, .argmax:
            let array = try values[0].array
            nonEmpty(array)
            let predicate = builtin == .argmin ? LLVMRealOLT : LLVMRealOGT
            let result = emitter.loop(from: emitter.int64(1), to: array.length,
                                      carrying: [(types.double, element(array, emitter.int64(0))),
                                                 (types.int64, emitter.int64(0))]) { index, carried in
                let x = element(array, index)
                let take = emitter.and(emitter.not(emitter.isNaN(carried[0])),
                                       emitter.or(emitter.isNaN(x), emitter.fcmp(predicate, x, carried[0])))
                return [emitter.select(take, x, carried[0]), emitter.select(take, index, carried[1])]
            }
            return .scalar(result[1])

        // Reductions shared with the interpreter's numerics.
        case .npSum: return try runtimeReduction("filterjit_np_sum")
        case .mean: return try runtimeReduction("filterjit_mean")
        case .median: return try runtimeReduction("filterjit_median")
        case .variance: return try runtimeReduction("filterjit_var")
        case .std: return try runtimeReduction("filterjit_std")
        case .nansum: return try runtimeReduction("filterjit_nansum")
        case .nanmean: return try runtimeReduction("filterjit_nanmean")
        case .nanmedian: return try runtimeReduction("filterjit_nanmedian")
        case .nanmin, .nanmax:
            nonEmpty(try values[0].array)
            return try runtimeReduction(builtin == .nanmin ? "filterjit_nanmin" : "filterjit_nanmax")
        case .percentile, .quantile:
            let array = try values[0].array
            let q = try scalarArgument(1, as: .float)
            // NumPy divides first and checks the fraction (so q = -5e-324 is valid: it becomes -0.0).
            let fraction = builtin == .percentile ? LLVMBuildFDiv(builder, q, emitter.double(100), "")! : q
            let valid = emitter.and(emitter.fcmp(LLVMRealOGE, fraction, emitter.double(0)),
                                    emitter.fcmp(LLVMRealOLE, fraction, emitter.double(1)))
            check(valid, else: .quantileRange, range, builtinCode(builtin), bits(q))
            nonEmpty(array)
            let callee = emitter.declare("filterjit_quantile", returning: types.double,
                                         [types.doublePointer, types.int64, types.double])
            return .scalar(emitter.call(callee, [array.pointer, array.length, fraction]))

        case .average:
            let a = try values[0].array, w = try values[1].array
            check(emitter.icmp(LLVMIntEQ, a.length, w.length), else: .averageWeights, range, emitter.int64(0))
            let sum = emitter.declare("filterjit_np_sum", returning: types.double, [types.doublePointer, types.int64])
            let scale = emitter.call(sum, [w.pointer, w.length])
            check(emitter.fcmp(LLVMRealUNE, scale, emitter.double(0)), else: .averageWeights, range, emitter.int64(1))
            let weighted = emitter.declare("filterjit_weighted_sum", returning: types.double,
                                           [types.doublePointer, types.doublePointer, types.int64])
            return .scalar(LLVMBuildFDiv(builder, emitter.call(weighted, [a.pointer, w.pointer, a.length]), scale, "")!)

        case .dot:
            let a = try values[0].array, b = try values[1].array
            check(emitter.icmp(LLVMIntEQ, a.length, b.length), else: .dotShapes, range, a.length, b.length)
            let dot = emitter.declare("filterjit_dot", returning: types.double, [types.doublePointer, types.doublePointer, types.int64])
            return .scalar(emitter.call(dot, [a.pointer, b.pointer, a.length]))

        // Local arrays.
        case .zeros, .ones, .empty:
            let count = try scalarArgument(0, as: .int)
            let array = allocateArray(count, range: range)
            if builtin == .ones {
                _ = emitter.loop(from: emitter.int64(0), to: count, carrying: []) { index, _ in
                    emitter.store(emitter.double(1), emitter.elementAddress(types.double, array.pointer, index))
                    return []
                }
            }
            return .array(pointer: array.pointer, length: array.length)
        case .cumsum:
            let source = try values[0].array
            let array = freshArray(source.length, type: .floatArray, range: range)
            _ = emitter.loop(from: emitter.int64(0), to: source.length, carrying: [(types.double, emitter.double(0))]) { index, carried in
                let x = element(source, index)
                // out[0] = a[0] exactly (not 0.0 + a[0], which would turn -0.0 into +0.0).
                let sum = emitter.select(emitter.icmp(LLVMIntEQ, index, emitter.int64(0)), x, LLVMBuildFAdd(builder, carried[0], x, "")!)
                emitter.store(sum, emitter.elementAddress(types.double, array.pointer, index))
                return [sum]
            }
            return .array(pointer: array.pointer, length: array.length)
        case .histogram, .histogramEdges:
            let source = try values[0].array
            let bins = try scalarArgument(1, as: .int)
            check(emitter.icmp(LLVMIntSGE, bins, emitter.int64(1)), else: .histogram, range, emitter.int64(1))
            let isCounts = builtin == .histogram
            // Bins beyond the local-array bound fail there, as the interpreter does.
            check(emitter.icmp(LLVMIntSLT, bins, emitter.int64(Int64(maximumLocalArrayLength))), else: .arraySize, arguments[1].range, bins)
            let length = isCounts ? bins : emitter.add(bins, emitter.int64(1))
            let result = freshArray(length, type: isCounts ? .intArray : .floatArray, range: range)
            let callee = emitter.declare("filterjit_histogram", returning: types.int64,
                                         [types.doublePointer, types.int64, types.int64, types.double, types.double, types.int64,
                                          types.int64Pointer, types.doublePointer])
            let status = emitter.call(callee, [source.pointer, source.length, bins, try scalarArgument(2, as: .float),
                                               try scalarArgument(3, as: .float), LLVMBuildZExt(builder, try values[4].scalar, types.int64, "")!,
                                               isCounts ? result.pointer : LLVMConstNull(types.int64Pointer),
                                               isCounts ? LLVMConstNull(types.doublePointer) : result.pointer])
            check(emitter.icmp(LLVMIntEQ, status, emitter.int64(0)), else: .histogram, range, status)
            return .array(pointer: result.pointer, length: length)
        case .unique, .uniqueCounts:
            let source = try values[0].array
            let isCounts = builtin == .uniqueCounts
            let result = freshArray(source.length, type: isCounts ? .intArray : .floatArray, range: range)
            let callee = emitter.declare("filterjit_unique", returning: types.int64,
                                         [types.doublePointer, types.int64, types.doublePointer, types.int64Pointer])
            let count = emitter.call(callee, [source.pointer, source.length,
                                              isCounts ? LLVMConstNull(types.doublePointer) : result.pointer,
                                              isCounts ? result.pointer : LLVMConstNull(types.int64Pointer)])
            return .array(pointer: result.pointer, length: count)
        case .bincount:
            let source = try values[0].array
            let minlength = try scalarArgument(1, as: .int)
            check(emitter.icmp(LLVMIntSGE, minlength, emitter.int64(0)), else: .bincountNegative, arguments[1].range, emitter.int64(1))
            func loadInt(_ k: LLVMValueRef) -> LLVMValueRef {
                emitter.load(types.int64, emitter.elementAddress(types.int64, source.pointer, k))
            }
            let extremes = emitter.loop(from: emitter.int64(0), to: source.length,
                                        carrying: [(types.int64, emitter.int64(-1)), (types.int64, emitter.int64(0))]) { k, carried in
                let x = loadInt(k)
                return [emitter.select(emitter.icmp(LLVMIntSGT, x, carried[0]), x, carried[0]),
                        emitter.select(emitter.icmp(LLVMIntSLT, x, carried[1]), x, carried[1])]
            }
            check(emitter.icmp(LLVMIntSGE, extremes[1], emitter.int64(0)), else: .bincountNegative, arguments[0].range, emitter.int64(0))
            let needed = emitter.add(extremes[0], emitter.int64(1))
            let count = emitter.select(emitter.icmp(LLVMIntSGT, needed, minlength), needed, minlength)
            let raw = allocateArray(count, range: range)  // zero-filled
            let counts = LLVMBuildBitCast(builder, raw.pointer, types.int64Pointer, "")!
            _ = emitter.loop(from: emitter.int64(0), to: source.length, carrying: []) { k, _ in
                let slot = emitter.elementAddress(types.int64, counts, loadInt(k))
                emitter.store(emitter.add(emitter.load(types.int64, slot), emitter.int64(1)), slot)
                return []
            }
            return .array(pointer: counts, length: count)
        case .copy, .sorted:
            let source = try values[0].array
            let array = allocateArray(source.length, range: range)
            _ = emitter.loop(from: emitter.int64(0), to: source.length, carrying: []) { index, _ in
                emitter.store(element(source, index), emitter.elementAddress(types.double, array.pointer, index))
                return []
            }
            if builtin == .sorted { sort(array) }
            return .array(pointer: array.pointer, length: array.length)
        case .sortInPlace:
            sort(try values[0].array)
            return .none

        // Scalars.
        case .pyMinOf, .pyMaxOf:
            var result = try scalarArgument(0, as: resultType)
            for index in 1..<values.count {
                let x = try scalarArgument(index, as: resultType)
                let smaller = builtin == .pyMinOf
                let better = resultType == .float
                    ? emitter.fcmp(smaller ? LLVMRealOLT : LLVMRealOGT, x, result)
                    : emitter.icmp(smaller ? LLVMIntSLT : LLVMIntSGT, x, result)
                result = emitter.select(better, x, result)
            }
            return .scalar(result)
        case .minimum, .maximum, .fmin, .fmax:
            let a = try scalarArgument(0, as: resultType)
            let b = try scalarArgument(1, as: resultType)
            let isMin = builtin == .minimum || builtin == .fmin
            return .scalar(minMax(a, b, type: resultType, isMin: isMin, propagateNaN: builtin == .minimum || builtin == .maximum))
        case .abs:
            let x = try scalarArgument(0, as: resultType)
            if resultType == .float { return .scalar(emitter.callMath("llvm.fabs.f64", [x])) }
            let negative = emitter.icmp(LLVMIntSLT, x, emitter.int64(0))
            return .scalar(emitter.select(negative, emitter.sub(emitter.int64(0), x), x))
        case .clip:
            let x = try scalarArgument(0, as: resultType)
            let low = try scalarArgument(1, as: resultType)
            let high = try scalarArgument(2, as: resultType)
            let raised = minMax(x, low, type: resultType, isMin: false, propagateNaN: true)
            return .scalar(minMax(raised, high, type: resultType, isMin: true, propagateNaN: true))
        case .sqrt: return .scalar(emitter.callMath("llvm.sqrt.f64", [try scalarArgument(0, as: .float)]))
        case .exp, .log, .log2, .log10, .sin, .cos, .tan, .asin, .acos, .atan, .sinh, .cosh, .tanh:
            return .scalar(emitter.callMath(builtin.rawValue, [try scalarArgument(0, as: .float)]))
        case .hypot:
            // CPython's algorithm, shared with the interpreter (libm's hypot differs in the last bit).
            let callee = emitter.declare("filterjit_hypot", returning: types.double, [types.double, types.double])
            return .scalar(emitter.call(callee, [try scalarArgument(0, as: .float), try scalarArgument(1, as: .float)]))
        case .npHypot:
            return .scalar(emitter.callMath("hypot", [try scalarArgument(0, as: .float), try scalarArgument(1, as: .float)]))
        case .atan2, .copysign, .pow:
            return .scalar(emitter.callMath(builtin.rawValue, [try scalarArgument(0, as: .float), try scalarArgument(1, as: .float)]))
        case .floorToInt, .ceilToInt, .truncToInt, .roundToInt, .toInt:
            let x = try scalarArgument(0, as: .float)
            let intrinsic: String
            switch builtin {
            case .floorToInt: intrinsic = "llvm.floor.f64"
            case .ceilToInt: intrinsic = "llvm.ceil.f64"
            case .roundToInt: intrinsic = "llvm.rint.f64"   // default rounding mode: half to even
            default: intrinsic = "llvm.trunc.f64"
            }
            let rounded = emitter.callMath(intrinsic, [x])
            // Ordered comparisons reject NaN; 2^63 itself is out of range, -2^63 is in.
            let inRange = emitter.and(emitter.fcmp(LLVMRealOGE, rounded, emitter.double(-9.223372036854775808e18)),
                                      emitter.fcmp(LLVMRealOLT, rounded, emitter.double(9.223372036854775808e18)))
            check(inRange, else: .floatToInt, range, builtinCode(builtin), bits(x))
            return .scalar(LLVMBuildFPToSI(builder, rounded, types.int64, "")!)
        case .npFloor: return .scalar(emitter.callMath("llvm.floor.f64", [try scalarArgument(0, as: .float)]))
        case .npCeil: return .scalar(emitter.callMath("llvm.ceil.f64", [try scalarArgument(0, as: .float)]))
        case .npTrunc: return .scalar(emitter.callMath("llvm.trunc.f64", [try scalarArgument(0, as: .float)]))
        case .npRound: return .scalar(emitter.callMath("llvm.rint.f64", [try scalarArgument(0, as: .float)]))
        case .isnan: return .scalar(emitter.isNaN(try scalarArgument(0, as: .float)))
        case .isinf, .isfinite:
            let magnitude = emitter.callMath("llvm.fabs.f64", [try scalarArgument(0, as: .float)])
            let predicate = builtin == .isinf ? LLVMRealOEQ : LLVMRealOLT
            return .scalar(emitter.fcmp(predicate, magnitude, emitter.double(.infinity)))
        }
    }

    /// np.minimum/maximum (NaN-propagating) or np.fmin/fmax (NaN-ignoring); ints by plain compare.
    private func minMax(_ a: LLVMValueRef, _ b: LLVMValueRef, type: ValueType, isMin: Bool, propagateNaN: Bool) -> LLVMValueRef {
        if type != .float {
            return emitter.select(emitter.icmp(isMin ? LLVMIntSLE : LLVMIntSGE, a, b), a, b)
        }
        let aWins = emitter.fcmp(isMin ? LLVMRealOLE : LLVMRealOGE, a, b)
        if propagateNaN {
            // NumPy: (a <= b || isnan(a)) ? a : b.
            return emitter.select(emitter.or(aWins, emitter.isNaN(a)), a, b)
        }
        // np.fmin/np.fmax (C fmin/fmax): the non-NaN operand when exactly one is NaN, and the second when
        // both are, as NumPy gives (np.copysign(1, np.fmax(nan, -nan)) is -1; the interpreter's
        // `Numerics.fmax` agrees; seed 1796603734652 of the differential test found the first returned).
        let bothNaN = emitter.and(emitter.isNaN(a), emitter.isNaN(b))
        return emitter.select(emitter.and(emitter.or(aWins, emitter.isNaN(b)), emitter.not(bothNaN)), a, b)
    }

    // MARK: Constant and fresh arrays (issue 13)

    /// A constant array: a private global, shared by equal constants of one module.
    private func constantArray(_ elements: [LLVMValueRef], key: String, type: ValueType) -> Lowered {
        let length = emitter.int64(Int64(elements.count))
        guard !elements.isEmpty else { return .array(pointer: LLVMConstNull(scalarType(type)), length: length) }
        let global: LLVMValueRef
        if let existing = constantArrays[key] {
            global = existing
        } else {
            global = emitter.constantArrayGlobal(elementType(type), elements, name: "\(prefix).constant\(constantArrays.count)")
            constantArrays[key] = global
        }
        return .array(pointer: LLVMBuildBitCast(builder, global, scalarType(type), "")!, length: length)
    }

    /// The most elements of a fresh array of constant length kept on the stack; longer ones use the arena.
    static let maximumStackArray = 1024

    /// Storage for a fresh array of `count` elements of `type`'s element type (contents undefined):
    /// a stack slot of the function when the length is a constant and the array cannot outlive the
    /// next evaluation of its expression, else the per-call arena (zero-filled, bounded).
    private func freshArray(_ count: LLVMValueRef, type: ValueType, range: SourceRange) -> (pointer: LLVMValueRef, length: LLVMValueRef) {
        if let n = constantInteger(count), n >= 0, n <= Self.maximumStackArray, !freshArraysEscape {
            let storage = alloca(LLVMArrayType(elementType(type), UInt32(max(n, 1)))!, "fresh")
            return (LLVMBuildBitCast(builder, storage, scalarType(type), "")!, count)
        }
        let array = allocateArray(count, range: range)
        return (LLVMBuildBitCast(builder, array.pointer, scalarType(type), "")!, array.length)
    }

    /// `for k in 0..<count` around a throwing body (`Emitter.loop`'s body cannot throw); short
    /// constant counts are unrolled.
    private func eachIndex(_ count: LLVMValueRef, _ body: (LLVMValueRef) throws -> Void) throws {
        if let n = constantInteger(count), n <= maximumUnrolledLoop {
            for k in 0..<max(n, 0) { try body(emitter.int64(Int64(k))) }
            return
        }
        var failure: Error?
        _ = emitter.loop(from: emitter.int64(0), to: count, carrying: []) { k, _ in
            if failure == nil {
                do { try body(k) } catch { failure = error }
            }
            return []
        }
        if let failure { throw failure }
    }

    /// NumPy element-wise evaluation (`TExprKind.map`): inputs once, the broadcast length checked,
    /// then the body per element into a fresh array.
    private func map(_ inputs: [TExpr], _ body: TExpr, type: ValueType, range: SourceRange) throws -> Lowered {
        let values = try inputs.map { try lower($0) }
        var count: LLVMValueRef?
        for value in values {
            guard case .array(_, let length) = value else { continue }
            guard let n = count else { count = length; continue }
            let compatible = emitter.or(emitter.icmp(LLVMIntEQ, length, n),
                                        emitter.or(emitter.icmp(LLVMIntEQ, length, emitter.int64(1)), emitter.icmp(LLVMIntEQ, n, emitter.int64(1))))
            check(compatible, else: .broadcast, range, n, length)
            count = emitter.select(emitter.icmp(LLVMIntEQ, n, emitter.int64(1)), length, n)
        }
        let n = count ?? emitter.int64(1)
        let result = freshArray(n, type: type, range: range)
        let element = elementType(type)
        try eachIndex(n) { k in
            var lanes: [LLVMValueRef] = []
            for (input, value) in zip(inputs, values) {
                switch value {
                case .array(let pointer, let length):
                    let inputElement = elementType(input.type)
                    let position = emitter.select(emitter.icmp(LLVMIntEQ, length, emitter.int64(1)), emitter.int64(0), k)
                    lanes.append(emitter.load(inputElement, emitter.elementAddress(inputElement, pointer, position)))
                case .scalar(let scalar):
                    lanes.append(scalar)
                case .none:
                    throw LLVMError("typed IR: a map input without a value")
                }
            }
            laneStack.append(lanes)
            defer { laneStack.removeLast() }
            let value = try coerce(try lower(body).scalar, from: body.type, to: type.elementType ?? .float)
            emitter.store(value, emitter.elementAddress(element, result.pointer, k))
        }
        return .array(pointer: result.pointer, length: result.length)
    }

    /// `array[start:stop:step]` by Python's rules (`Numerics.sliceBounds`): a view (pointer and length)
    /// when the step is 1 and the array cannot be written later (not a writable variable), else a copy.
    private func slice(_ arrayExpression: TExpr, start: TExpr?, stop: TExpr?, step: TExpr?, type: ValueType, range: SourceRange) throws -> Lowered {
        let source = try lower(arrayExpression).array
        let startValue = try start.map { try lower($0).scalar }
        let stopValue = try stop.map { try lower($0).scalar }
        let stepValue = try step.map { try lower($0).scalar } ?? emitter.int64(1)
        let zero = emitter.int64(0), one = emitter.int64(1), count = source.length
        check(emitter.icmp(LLVMIntNE, stepValue, zero), else: .zeroSliceStep, step?.range ?? range)
        let negative = emitter.icmp(LLVMIntSLT, stepValue, zero)
        func adjust(_ value: LLVMValueRef?, default defaultValue: LLVMValueRef) -> LLVMValueRef {
            guard let value else { return defaultValue }
            let shifted = emitter.add(value, count)
            let fromEnd = emitter.select(emitter.icmp(LLVMIntSLT, shifted, zero), emitter.select(negative, emitter.int64(-1), zero), shifted)
            let clampedHigh = emitter.select(negative, emitter.sub(count, one), count)
            return emitter.select(emitter.icmp(LLVMIntSLT, value, zero), fromEnd,
                                  emitter.select(emitter.icmp(LLVMIntSGE, value, count), clampedHigh, value))
        }
        let first = adjust(startValue, default: emitter.select(negative, emitter.sub(count, one), zero))
        let last = adjust(stopValue, default: emitter.select(negative, emitter.int64(-1), count))
        // length = step < 0 ? (last < first ? (first - last - 1) / -step + 1 : 0) : (first < last ? (last - first - 1) / step + 1 : 0)
        let down = LLVMBuildSDiv(builder, emitter.sub(emitter.sub(first, last), one), emitter.sub(zero, stepValue), "")!
        let up = LLVMBuildSDiv(builder, emitter.sub(emitter.sub(last, first), one), stepValue, "")!
        let length = emitter.select(negative,
                                    emitter.select(emitter.icmp(LLVMIntSLT, last, first), emitter.add(down, one), zero),
                                    emitter.select(emitter.icmp(LLVMIntSLT, first, last), emitter.add(up, one), zero))
        let element = elementType(type)
        var isWritableVariable = false
        if case .local(let slot) = arrayExpression.kind { isWritableVariable = function.locals[slot].isWritable }
        if let unit = constantInteger(stepValue), unit == 1, !isWritableVariable {
            return .array(pointer: emitter.elementAddress(element, source.pointer, first), length: length)
        }
        // The source's constant length sizes a stack array; anything else allocates (and counts against
        // the per-call bound, as the interpreter does) only the slice's own length.
        let stackable = constantInteger(count).map { $0 >= 0 && $0 <= Self.maximumStackArray && !freshArraysEscape } ?? false
        let result = freshArray(stackable ? count : length, type: type, range: range)
        _ = emitter.loop(from: zero, to: length, carrying: []) { k, _ in
            let position = emitter.add(first, LLVMBuildMul(builder, k, stepValue, "")!)
            emitter.store(emitter.load(element, emitter.elementAddress(element, source.pointer, position)),
                          emitter.elementAddress(element, result.pointer, k))
            return []
        }
        return .array(pointer: result.pointer, length: length)
    }

    /// NumPy fancy indexing: `result[k] = array[indices[k]]`, each index checked (negative from the end).
    /// Short constant-length index arrays are unrolled (the loads fold when the indices are constants).
    private func gather(_ arrayExpression: TExpr, _ indicesExpression: TExpr, type: ValueType, range: SourceRange) throws -> Lowered {
        let source = try lower(arrayExpression).array
        let indices = try lower(indicesExpression).array
        let element = elementType(type)
        let result = freshArray(indices.length, type: type, range: range)
        func copy(_ k: LLVMValueRef) {
            let index = emitter.load(types.int64, emitter.elementAddress(types.int64, indices.pointer, k))
            let adjusted = emitter.select(emitter.icmp(LLVMIntSLT, index, emitter.int64(0)), emitter.add(index, source.length), index)
            check(emitter.icmp(LLVMIntULT, adjusted, source.length), else: .indexOutOfRange, indicesExpression.range, index, source.length)
            let value = emitter.load(element, emitter.elementAddress(element, source.pointer, adjusted))
            emitter.store(value, emitter.elementAddress(element, result.pointer, k))
        }
        if let n = constantInteger(indices.length), n <= maximumUnrolledLoop {
            for k in 0..<max(n, 0) { copy(emitter.int64(Int64(k))) }
        } else {
            _ = emitter.loop(from: emitter.int64(0), to: indices.length, carrying: []) { k, _ in
                copy(k)
                return []
            }
        }
        return .array(pointer: result.pointer, length: result.length)
    }

    /// A zero-filled arena array of `count` elements; fails on a size outside 0...1,048,576.
    private func allocateArray(_ count: LLVMValueRef, range: SourceRange) -> (pointer: LLVMValueRef, length: LLVMValueRef) {
        usesArena = true
        check(emitter.icmp(LLVMIntULE, count, emitter.int64(Int64(maximumLocalArrayLength))), else: .arraySize, range, count)
        let callee = emitter.declare("filterjit_alloc", returning: types.bytePointer, [types.bytePointer, types.int64])
        let raw = emitter.call(callee, [arena, count])
        check(emitter.not(LLVMBuildIsNull(builder, raw, "")!), else: .outOfMemory, range, count)
        return (LLVMBuildBitCast(builder, raw, types.doublePointer, "")!, count)
    }

    private func sort(_ array: (pointer: LLVMValueRef, length: LLVMValueRef)) {
        let callee = emitter.declare("filterjit_sort", returning: types.void, [types.doublePointer, types.int64])
        emitter.call(callee, [array.pointer, array.length])
    }
}
