// A @line_filter kernel run across lanes: `LineLanes.count` lines at once, one SIMD lane each.
//
// SciPy's running sums are one dependent chain per line (uniform_filter1d's `total += ...`, then a
// division per output), so a line kernel runs at the latency of its chain and the throughput of
// scalar division whatever the image. Lines side by side in <4 x double> lanes run four chains at
// once and divide four outputs per instruction. That is exact, with the scalar kernel's bits in every
// lane, because each lane does the same IEEE operations on its own line in the same order; and it is
// possible only when the kernel's control flow does not depend on the data: every branch, loop bound
// and index is the same for every line of a run (built from lengths, constants, parameters and loop
// counters). `LineLanes.analyse` finds the slots that carry data ("varying") and allows data to reach
// only float arithmetic (+ - * /), varying float locals, elements of `out`, builtins of scalars with a
// float result (run once per lane on that lane's values: the line kernel's own code) and
// `a if x < y else b` (a select between both branches, which must have no effects). Data reaching a
// branch, a loop bound, an index, a conversion, a helper call or any array but `line`'s and `out`'s
// elements refuse the kernel, which then runs line by line as before.
//
// The lanes' lines lie one after another: lane b's `line` starts `b * len(line)` elements after lane
// 0's and its `out` `b * len(out)` after lane 0's (the line driver's group buffers), so the lanes
// kernel has the line kernel's ABI and `len(line)`, `len(out)` are the same expressions in every lane.
// A lanes call that fails (an index out of range, a failing helper) makes the driver run its lines
// again one at a time, which fail or not exactly as line by line.

internal import CLLVM
import FilterLang

/// Which slots of a `@line_filter` kernel vary from line to line when its lines run side by side in lanes.
public struct LineLanes: Sendable {
    /// Lines per call of a lanes kernel (doubles in an AVX2 register).
    public static let count = 4
    /// The kernel's slots holding per-line data: they live as vectors of `count` doubles.
    let varyingSlots: Set<Int>

    /// The varying slots of `program`'s kernel, or nil when its lines cannot run in lanes (see the file comment).
    public static func analyse(_ program: TypedProgram) -> LineLanes? {
        guard program.kind == .lineFilter else { return nil }
        let kernel = program.kernel
        guard kernel.parameterCount >= 2, kernel.locals[0].type == .floatArray, kernel.locals[1].type == .floatArray,
              !Codegen.reassigns(slot: 0, in: kernel.body), !Codegen.reassigns(slot: 1, in: kernel.body) else { return nil }
        // A slot assigned a varying value anywhere varies everywhere (a loop carries it back to earlier
        // statements): grow the set until it holds still.
        var varying = Set<Int>()
        while true {
            var analysis = Analysis(locals: kernel.locals, parameterCount: kernel.parameterCount, varying: varying)
            do { try analysis.statements(kernel.body) } catch { return nil }
            if analysis.varying == varying { return LineLanes(varyingSlots: varying) }
            varying = analysis.varying
        }
    }
}

/// Where data would decide something the lanes must share.
private struct Refused: Error {}

/// The operands of an expression (for the array functions' forms too), in evaluation order.
private func children(of expression: TExpr) -> [TExpr] {
    switch expression.kind {
    case .intConstant, .floatConstant, .boolConstant, .local, .floatArrayConstant, .intArrayConstant, .lane,
         .ndShape, .ndSize, .ndReduce:
        return []
    case .convert(_, let a), .negate(let a), .not(let a), .length(let a), .floatArrayOf(let a):
        return [a]
    case .arithmetic(_, let a, let b), .logical(_, let a, let b), .element(let a, let b), .gather(let a, let b),
         .compress(let a, let b):
        return [a, b]
    case .compare(let operands, _, _), .arrayOf(let operands), .call(_, let operands), .builtin(_, let operands),
         .ndAllocate(_, let operands), .ndElement(_, let operands):
        return operands
    case .conditional(let condition, let then, let orElse):
        return [condition, then, orElse]
    case .map(let inputs, let body):
        return inputs + [body]
    case .slice(let array, let start, let stop, let step):
        return [array] + [start, stop, step].compactMap { $0 }
    }
}

/// The expressions a statement evaluates itself (not those of the statements nested in it).
private func expressions(of statement: TStmt) -> [TExpr] {
    switch statement.kind {
    case .expression(let expression): return [expression]
    case .assign(let targets, let values):
        return values + targets.flatMap { target -> [TExpr] in
            switch target {
            case .local: return []
            case .element(let array, let index): return [array, index]
            case .ndElement(_, let indices): return indices
            }
        }
    case .ifStatement(let condition, _, _), .whileLoop(let condition, _): return [condition]
    case .forRange(_, let start, let stop, let step, _): return [start, stop, step]
    case .forEach(_, let array, _): return [array]
    case .returnValue(let value): return value.map { [$0] } ?? []
    case .breakLoop, .continueLoop, .callbackFailure: return []
    }
}

/// The statements nested in a statement.
private func nested(in statement: TStmt) -> [TStmt] {
    switch statement.kind {
    case .ifStatement(_, let then, let orElse): return then + orElse
    case .whileLoop(_, let body), .forRange(_, _, _, _, let body), .forEach(_, _, let body): return body
    default: return []
    }
}

/// Every expression evaluated in `statements`, nested statements' too, with their operands.
private func allExpressions(_ statements: [TStmt]) -> [TExpr] {
    var result: [TExpr] = []
    func add(_ expression: TExpr) {
        result.append(expression)
        children(of: expression).forEach(add)
    }
    for statement in statements {
        expressions(of: statement).forEach(add)
        result += allExpressions(nested(in: statement))
    }
    return result
}

extension LineLanes {
    /// Whether `expression` of the analysed kernel (`locals`, `parameterCount` its) differs from lane to lane.
    func varies(_ expression: TExpr, locals: [LocalVariable], parameterCount: Int) -> Bool {
        let analysis = Analysis(locals: locals, parameterCount: parameterCount, varying: varyingSlots)
        return (try? analysis.varies(expression)) ?? false
    }

    /// Whether some loop of `statements` carries per-line data from one iteration to the next: it reads a
    /// varying slot that its body assigns before its body's top level assigns it in that iteration (`total +=
    /// ...`), or it reads an element of `out` and stores into `out`. Such a loop is one dependent chain per
    /// line, which lanes run side by side; a loop without one vectorises along the line in the line kernel
    /// already (a 3-tap FIR along 256x256 float64 rows: 36 us line by line, 57 in lanes).
    public func carriesData(_ statements: [TStmt]) -> Bool {
        statements.contains { statement in
            switch statement.kind {
            case .whileLoop(_, let body), .forRange(_, _, _, _, let body), .forEach(_, _, let body):
                if loopCarriesData(body) { return true }
            default: break
            }
            return carriesData(nested(in: statement))
        }
    }

    private func loopCarriesData(_ body: [TStmt]) -> Bool {
        let assigned = varyingSlots.filter { Codegen.reassigns(slot: $0, in: body) }
        let storesOutput = storesIntoOutput(body)
        var written = Set<Int>()
        for statement in body {
            for expression in allExpressions([statement]) {
                switch expression.kind {
                case .local(let slot) where assigned.contains(slot) && !written.contains(slot):
                    return true
                case .element(let array, _) where storesOutput:
                    if case .local(1) = array.kind { return true }
                default: break
                }
            }
            if case .assign(let targets, _) = statement.kind {
                for case .local(let slot) in targets { written.insert(slot) }
            }
        }
        return false
    }

    private func storesIntoOutput(_ statements: [TStmt]) -> Bool {
        statements.contains { statement in
            if case .assign(let targets, _) = statement.kind,
               targets.contains(where: { if case .element(let array, _) = $0, case .local(1) = array.kind { return true } else { return false } }) {
                return true
            }
            return storesIntoOutput(nested(in: statement))
        }
    }
}

private struct Analysis {
    let locals: [LocalVariable]
    let parameterCount: Int
    var varying: Set<Int>

    mutating func statements(_ list: [TStmt]) throws {
        for statement in list { try self.statement(statement) }
    }

    private mutating func statement(_ statement: TStmt) throws {
        switch statement.kind {
        case .expression(let expression):
            try uniform(expression)
        case .assign(let targets, let values):
            let varies = try values.map { try self.varies($0) }
            for (target, valueVaries) in zip(targets, varies) {
                switch target {
                case .local(let slot):
                    guard valueVaries else { continue }
                    // Only float scalars live in lanes; parameters arrive as one value for every line.
                    guard slot >= parameterCount, locals[slot].type == .float else { throw Refused() }
                    varying.insert(slot)
                case .element(let array, let index):
                    try uniform(index)
                    if case .local(1) = array.kind { continue }  // `out`: each lane stores its own element
                    try uniform(array)
                    if valueVaries { throw Refused() }
                case .ndElement:
                    throw Refused()
                }
            }
        case .ifStatement(let condition, let then, let orElse):
            try uniform(condition)
            try statements(then)
            try statements(orElse)
        case .whileLoop(let condition, let body):
            try uniform(condition)
            try statements(body)
        case .forRange(_, let start, let stop, let step, let body):
            try uniform(start)
            try uniform(stop)
            try uniform(step)
            try statements(body)
        case .forEach(_, let array, let body):
            try uniform(array)
            try statements(body)
        case .returnValue(let value):
            if let value { try uniform(value) }
        case .breakLoop, .continueLoop, .callbackFailure:
            break
        }
    }

    /// Whether evaluating `expression` could do more than compute a value: a helper call (it may store into
    /// an array it is given) or a builtin that sorts its array in place.
    private func hasEffects(_ expression: TExpr) -> Bool {
        switch expression.kind {
        case .call, .builtin(.sortInPlace, _): return true
        default: return children(of: expression).contains(where: hasEffects)
        }
    }

    func uniform(_ expression: TExpr) throws {
        if try varies(expression) { throw Refused() }
    }

    /// Whether `expression` differs from lane to lane; throws where a varying value would meet anything
    /// but float arithmetic, or where `line` or `out` appear other than through an element or their length.
    func varies(_ expression: TExpr) throws -> Bool {
        switch expression.kind {
        case .intConstant, .floatConstant, .boolConstant, .floatArrayConstant, .intArrayConstant, .lane,
             .ndShape, .ndSize, .ndReduce:
            return false
        case .local(let slot):
            // The whole `line` or `out` (a reduction, a slice, a loop over it) would read across lanes.
            if slot == 0 || slot == 1 { throw Refused() }
            return varying.contains(slot)
        case .length(let array):
            if case .local(let slot) = array.kind, slot == 0 || slot == 1 { return false }
            try uniform(array)
            return false
        case .element(let array, let index):
            try uniform(index)
            if case .local(let slot) = array.kind, slot == 0 || slot == 1 { return true }
            try uniform(array)
            return false
        case .arithmetic(let operation, let a, let b):
            let left = try varies(a), right = try varies(b)
            guard left || right else { return false }
            // IEEE operations only (floor division, modulo and power call the runtime).
            guard expression.type == .float, [.add, .subtract, .multiply, .trueDivide].contains(operation) else { throw Refused() }
            return true
        case .negate(let a):
            let varies = try self.varies(a)
            if varies && expression.type != .float { throw Refused() }
            return varies
        case .builtin(_, let operands):
            var anyVaries = false
            for operand in operands where try varies(operand) { anyVaries = true }
            guard anyVaries else { return false }
            // A builtin of per-line values runs once per lane on that lane's scalars (the line kernel's own
            // code): scalar arguments and a float result only.
            guard expression.type == .float, operands.allSatisfy({ !$0.type.isArray && $0.type != .ndarray }) else { throw Refused() }
            return true
        case .conditional(let condition, let then, let orElse):
            // `a if x < y else b` with per-line x or y: both branches evaluated, one taken per lane (a select),
            // so they must be free of effects. Any other per-line condition is refused.
            var conditionVaries = false
            if case .compare(let operands, let operators, _) = condition.kind, operands.count == 2, operators.count == 1 {
                let left = try varies(operands[0]), right = try varies(operands[1])
                conditionVaries = left || right
            } else {
                try uniform(condition)
            }
            let thenVaries = try varies(then), elseVaries = try varies(orElse)
            guard conditionVaries || thenVaries || elseVaries else { return false }
            guard expression.type == .float else { throw Refused() }
            if conditionVaries && (hasEffects(then) || hasEffects(orElse)) { throw Refused() }
            return true
        default:
            // Every other form takes values shared by the lanes only.
            for operand in children(of: expression) { try uniform(operand) }
        }
        return false
    }
}

// MARK: - Lowering across lanes

extension ProgramLowering {
    /// The type of a lane vector: `LineLanes.count` doubles.
    var laneVectorType: LLVMTypeRef { LLVMVectorType(types.double, UInt32(LineLanes.count))! }

    /// Whether `slot` of the function being lowered holds a lane vector.
    func isVarying(_ slot: Int) -> Bool {
        loweringKernel && lanes?.varyingSlots.contains(slot) == true
    }

    /// The LLVM type of a scalar slot's storage: a lane vector for a varying slot.
    func slotType(_ slot: Int, _ type: ValueType) -> LLVMTypeRef {
        isVarying(slot) ? laneVectorType : scalarType(type)
    }

    /// Whether `value` is a lane vector.
    func isVector(_ value: LLVMValueRef) -> Bool {
        LLVMGetTypeKind(LLVMTypeOf(value)) == LLVMVectorTypeKind
    }

    /// `value` in every lane (a lane vector as it is).
    func splat(_ value: LLVMValueRef) -> LLVMValueRef {
        if isVector(value) { return value }
        var vector = LLVMGetUndef(laneVectorType)!
        for lane in 0..<LineLanes.count {
            vector = LLVMBuildInsertElement(builder, vector, value, emitter.int32(Int32(lane)), "")!
        }
        return vector
    }

    /// Across lanes, for `line` or `out` of the kernel: the elements from one lane's array to the next's
    /// (its length: the lanes' arrays lie one after another); nil for any other array or outside lanes.
    func lanePitch(of array: TExpr) throws -> LLVMValueRef? {
        guard lanes != nil, loweringKernel, case .local(let slot) = array.kind, slot == 0 || slot == 1 else { return nil }
        return try lower(array).array.length
    }

    /// Whether `expression` of the kernel being lowered across lanes differs from lane to lane.
    func laneVaries(_ expression: TExpr) -> Bool {
        guard let lanes, loweringKernel else { return false }
        return lanes.varies(expression, locals: function.locals, parameterCount: function.parameterCount)
    }

    /// A builtin of per-line values: the line kernel's own code for it once per lane, on that lane's
    /// arguments (extracted from the lane vectors; shared ones as they are), the results put together.
    func lowerBuiltinInLanes(_ builtin: Builtin, _ arguments: [TExpr], _ expression: TExpr) throws -> Lowered {
        // sqrt and fabs are correctly rounded (exact) in every lane of their vector forms: one instruction.
        if arguments.count == 1, arguments[0].type == .float, expression.type == .float,
           let intrinsic = [Builtin.sqrt: "llvm.sqrt.v4f64", .abs: "llvm.fabs.v4f64"][builtin], LineLanes.count == 4 {
            let argument = splat(try lower(arguments[0]).scalar)
            return .scalar(emitter.call(emitter.declare(intrinsic, returning: laneVectorType, [laneVectorType]), [argument]))
        }
        let values = try arguments.map { try lower($0).scalar }
        let onOneLane = TExpr(.builtin(builtin, arguments.enumerated().map { TExpr(.lane($0.offset), $0.element.type, $0.element.range) }),
                              expression.type, expression.range)
        var vector = LLVMGetUndef(laneVectorType)!
        for lane in 0..<LineLanes.count {
            let index = emitter.int32(Int32(lane))
            laneStack.append(values.map { isVector($0) ? LLVMBuildExtractElement(builder, $0, index, "")! : $0 })
            let result = try lower(onOneLane).scalar
            laneStack.removeLast()
            vector = LLVMBuildInsertElement(builder, vector, result, index, "")!
        }
        return .scalar(vector)
    }

    /// `then if condition else orElse` whose value differs from lane to lane. A per-line comparison
    /// (LineLanes.analyse allows no other per-line condition) selects lane by lane between both branches,
    /// evaluated (they have no effects); a shared condition branches as the line kernel does.
    func lowerConditionalInLanes(_ condition: TExpr, _ then: TExpr, _ orElse: TExpr, type: ValueType) throws -> Lowered {
        func laneValue(_ expression: TExpr) throws -> LLVMValueRef {
            let value = try lower(expression).scalar
            return splat(isVector(value) ? value : try coerce(value, from: expression.type, to: type))
        }
        if case .compare(let operands, let operators, let compareTypes) = condition.kind, operands.count == 2,
           laneVaries(operands[0]) || laneVaries(operands[1]) {
            let sides = try operands.map { operand -> LLVMValueRef in
                let value = try lower(operand).scalar
                return splat(isVector(value) ? value : try coerce(value, from: operand.type, to: compareTypes[0]))
            }
            let mask = compare(operators[0], sides[0], sides[1], type: compareTypes[0])
            let chosen = try laneValue(then), other = try laneValue(orElse)
            return .scalar(emitter.select(mask, chosen, other))
        }
        let (thenValue, elseValue) = try branches(on: try lower(condition).scalar, then: { try laneValue(then) },
                                                  else: { try laneValue(orElse) })
        return .scalar(emitter.phi(laneVectorType, [thenValue, elseValue]))
    }

    /// The element at `address` (lane 0's) of every lane, `pitch` elements apart.
    func loadLanes(at address: LLVMValueRef, pitch: LLVMValueRef) -> LLVMValueRef {
        var vector = LLVMGetUndef(laneVectorType)!
        for lane in 0..<LineLanes.count {
            let element = emitter.load(types.double, laneAddress(address, pitch: pitch, lane: lane))
            vector = LLVMBuildInsertElement(builder, vector, element, emitter.int32(Int32(lane)), "")!
        }
        return vector
    }

    /// Stores lane b of `vector` at `address` (lane 0's) plus b * `pitch` elements.
    func storeLanes(_ vector: LLVMValueRef, at address: LLVMValueRef, pitch: LLVMValueRef) {
        for lane in 0..<LineLanes.count {
            let element = LLVMBuildExtractElement(builder, vector, emitter.int32(Int32(lane)), "")!
            emitter.store(element, laneAddress(address, pitch: pitch, lane: lane))
        }
    }

    private func laneAddress(_ address: LLVMValueRef, pitch: LLVMValueRef, lane: Int) -> LLVMValueRef {
        lane == 0 ? address : emitter.elementAddress(types.double, address, LLVMBuildMul(builder, pitch, emitter.int64(Int64(lane)), "")!)
    }
}
