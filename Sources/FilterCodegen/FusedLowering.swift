// Fused whole-image kernels (design.md, "Two ways to run a kernel").
//
// A fused module holds the program's functions, lowered by the same `ProgramLowering` as the
// callback module but with the window length known (`windowLength`), plus a row kernel
// (`fj_row_kernel` in KernelABI's filterjit_abi.h) that computes one output row:
//
//     i64 @<export>(fj_row_arguments* { taps, output, count, parameters, scratch })
//
// returning -1 on success or the index of the pixel whose kernel call failed. Pixel i's window is
// `taps[t][i]` (input elements, unit stride) and its result goes to `output[i]`: the NDImage row
// driver points every tap into input rows it has extended through the boundary mode, so this code
// knows nothing of modes, cval, strides, borders or the image's shape, and has one pixel loop (the
// kernel body inlined once). `scratch` holds the window when it is too long for the stack (more
// than `maximumUnrolledWindow` taps): one buffer per thread.
//
// The line-filter entry is SciPy's generic_filter1d ABI, `i32 (line, lineLength, out, n, params)`,
// specialised for one filter size: the NDImage line driver (LineRun) extends each line through the
// mode, zeroes `out` and stores it, so this code only runs the kernel (its length relation
// `len(line) == n + filterSize - 1` is recomputed in IR so that LLVM can drop bounds checks).
//
// Window-aware lowering (the extension of ProgramLowering below): in the row function's copy of
// the kernel, `len(values)` is a constant, reductions over constant-length arrays are straight-line
// code (median: a sorting network) and short `for x in values` loops are unrolled, so the interior
// loop vectorises across pixels. For integer images, comparisons and selections of converted
// elements are moved back to the integers (`NativeSelection`). Every rewrite keeps the operations
// and their order, so the bits equal the callback path's (the tests check it).

import Foundation
internal import CLLVM
import FilterLang
import KernelABI

/// Where the fields of `fj_row_arguments` (KernelABI's header) lie, as the row kernel reads them.
enum RowKernelABI {
    struct Offsets {
        let taps: Int, output: Int, count: Int, parameters: Int, scratch: Int
    }
    static let offsets = Offsets(taps: MemoryLayout<fj_row_arguments>.offset(of: \.taps)!,
                                 output: MemoryLayout<fj_row_arguments>.offset(of: \.output)!,
                                 count: MemoryLayout<fj_row_arguments>.offset(of: \.count)!,
                                 parameters: MemoryLayout<fj_row_arguments>.offset(of: \.parameters)!,
                                 scratch: MemoryLayout<fj_row_arguments>.offset(of: \.scratch)!)
}

/// A NumPy element type as fused kernels load and store it: the array functions' dtype (one enum of
/// NumPy's element types in the language model; raw values are NumPy's names).
public typealias FusedElementType = ArrayDType

extension ArrayDType {
    /// The type of a KernelABI element code (every code names one).
    public init(abiCode: fj_element_code) {
        switch abiCode {
        case FJ_ELEMENT_BOOL: self = .bool
        case FJ_ELEMENT_INT8: self = .int8
        case FJ_ELEMENT_INT16: self = .int16
        case FJ_ELEMENT_INT32: self = .int32
        case FJ_ELEMENT_INT64: self = .int64
        case FJ_ELEMENT_UINT8: self = .uint8
        case FJ_ELEMENT_UINT16: self = .uint16
        case FJ_ELEMENT_UINT32: self = .uint32
        case FJ_ELEMENT_UINT64: self = .uint64
        case FJ_ELEMENT_FLOAT32: self = .float32
        case FJ_ELEMENT_FLOAT64: self = .float64
        default: preconditionFailure("\(abiCode.rawValue) is not a KernelABI element code")
        }
    }

    var isSigned: Bool { self == .int8 || self == .int16 || self == .int32 || self == .int64 }

    /// Integer types of at most 32 bits: every value is a distinct double, never NaN or -0.0.
    var convertsExactlyToDouble: Bool {
        switch self {
        case .bool, .int8, .int16, .int32, .uint8, .uint16, .uint32: return true
        default: return false
        }
    }
}

/// "Compare and select in the native type": rewrites `select(fcmp p (itofp a), (itofp b)), itofp a, itofp b)`
/// (either arm order) into `itofp(select(icmp p' a b, a, b))` when a and b are integers of at most
/// 32 bits converted the same way. Such doubles are exact, ordered and never NaN or -0.0, so the
/// comparison and the chosen bits are unchanged; min/max chains and median networks over integer
/// images then run on the integers (`pminub` on 32 bytes instead of `minpd` on 4 doubles), and
/// LLVM folds the conversion back to the output type.
enum NativeSelection {
    static func rewrite(_ module: LLVMModuleRef) {
        guard let context = LLVMGetModuleContext(module), let builder = LLVMCreateBuilderInContext(context) else { return }
        defer { LLVMDisposeBuilder(builder) }
        var function = LLVMGetFirstFunction(module)
        while let f = function {
            var block = LLVMGetFirstBasicBlock(f)
            while let b = block {
                var instruction = LLVMGetFirstInstruction(b)
                while let i = instruction {
                    instruction = LLVMGetNextInstruction(i)
                    rewriteSelect(i, builder: builder)
                }
                block = LLVMGetNextBasicBlock(b)
            }
            function = LLVMGetNextFunction(f)
        }
    }

    private static func rewriteSelect(_ select: LLVMValueRef, builder: LLVMBuilderRef) {
        guard LLVMGetInstructionOpcode(select) == LLVMSelect, let condition = LLVMGetOperand(select, 0),
              LLVMIsAInstruction(condition) != nil, LLVMGetInstructionOpcode(condition) == LLVMFCmp,
              let a = LLVMGetOperand(condition, 0), let b = LLVMGetOperand(condition, 1),
              let onTrue = LLVMGetOperand(select, 1), let onFalse = LLVMGetOperand(select, 2),
              (onTrue == a && onFalse == b) || (onTrue == b && onFalse == a),
              let conversion = sharedConversion(a, b) else { return }
        let signed = conversion == LLVMSIToFP
        let predicate: LLVMIntPredicate
        switch LLVMGetFCmpPredicate(condition) {
        case LLVMRealOLT, LLVMRealULT: predicate = signed ? LLVMIntSLT : LLVMIntULT
        case LLVMRealOLE, LLVMRealULE: predicate = signed ? LLVMIntSLE : LLVMIntULE
        case LLVMRealOGT, LLVMRealUGT: predicate = signed ? LLVMIntSGT : LLVMIntUGT
        case LLVMRealOGE, LLVMRealUGE: predicate = signed ? LLVMIntSGE : LLVMIntUGE
        case LLVMRealOEQ, LLVMRealUEQ: predicate = LLVMIntEQ
        case LLVMRealONE, LLVMRealUNE: predicate = LLVMIntNE
        default: return
        }
        guard let x = LLVMGetOperand(a, 0), let y = LLVMGetOperand(b, 0),
              let chosenTrue = LLVMGetOperand(onTrue, 0), let chosenFalse = LLVMGetOperand(onFalse, 0) else { return }
        LLVMPositionBuilderBefore(builder, select)
        let compare = LLVMBuildICmp(builder, predicate, x, y, "")
        let chosen = LLVMBuildSelect(builder, compare, chosenTrue, chosenFalse, "")
        let converted = signed ? LLVMBuildSIToFP(builder, chosen, LLVMTypeOf(select), "")
                               : LLVMBuildUIToFP(builder, chosen, LLVMTypeOf(select), "")
        if let converted { LLVMReplaceAllUsesWith(select, converted) }
    }

    /// The conversion opcode when `a` and `b` are both `uitofp` or both `sitofp` from one integer
    /// type of at most 32 bits.
    private static func sharedConversion(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMOpcode? {
        guard LLVMIsAInstruction(a) != nil, LLVMIsAInstruction(b) != nil else { return nil }
        let opcode = LLVMGetInstructionOpcode(a)
        guard opcode == LLVMGetInstructionOpcode(b), opcode == LLVMUIToFP || opcode == LLVMSIToFP,
              let x = LLVMGetOperand(a, 0), let y = LLVMGetOperand(b, 0) else { return nil }
        let type = LLVMTypeOf(x)!
        guard type == LLVMTypeOf(y) else { return nil }
        let scalar = LLVMGetTypeKind(type) == LLVMVectorTypeKind ? LLVMGetElementType(type)! : type
        guard LLVMGetTypeKind(scalar) == LLVMIntegerTypeKind, LLVMGetIntTypeWidth(scalar) <= 32 else { return nil }
        return opcode
    }
}

/// What a fused kernel is compiled for (everything else is a run-time argument).
public struct FusedLayout: Hashable, Sendable {
    /// The input's element type.
    public var inputType: FusedElementType
    /// The output's element type.
    public var outputType: FusedElementType
    /// For `@filter` kernels: the number of taps (true footprint entries), i.e. `len(values)`;
    /// for `@line_filter` kernels: the filter size.
    public var tapCount: Int

    /// Creates a layout.
    public init(inputType: FusedElementType, outputType: FusedElementType, tapCount: Int) {
        self.inputType = inputType
        self.outputType = outputType
        self.tapCount = tapCount
    }
}

/// Windows up to this length have their reductions unrolled into straight-line code.
public let maximumUnrolledWindow = 128
/// Sorting networks (median) are built for windows up to this length; longer ones call the runtime.
let maximumNetworkWindow = 32
/// `for x in values` is unrolled for windows up to this length.
let maximumUnrolledLoop = 32
/// The longest constant-length array whose `for v in a` an array function unrolls (`lowerUnrolledForEach`).
let maximumUnrolledConstantLoop = 16

extension Codegen {
    /// Lowers the fused row function of a `@filter` program (or the fused line function of a
    /// `@line_filter` program) for `layout`, exported as `options.exportName`, and verifies it.
    /// `lanes`: the line function runs `LineLanes.count` lines at once, one per lane (LineLanes.swift),
    /// with the line function's ABI; a kernel `LineLanes.analyse` refuses is an error.
    public static func lowerFused(_ program: TypedProgram, layout: FusedLayout, options: CodegenOptions,
                                  lanes: Bool = false, in context: ThreadSafeContext) throws -> Module {
        guard program.kind == .filter || program.kind == .lineFilter else {
            throw LLVMError("only @filter and @line_filter kernels can be fused")
        }
        let laneSlots = lanes ? LineLanes.analyse(program) : nil
        if lanes && laneSlots == nil { throw LLVMError("this line filter's lines cannot run in lanes") }
        guard let module = LLVMModuleCreateWithNameInContext(options.exportName, context.context) else {
            throw LLVMError("cannot create a module")
        }
        let owned = Module(handle: module, context: context)
        try validateShape(program)
        let emitter = Emitter(context: context.context, module: module)
        // Windows too long to unroll (a 31x31 window is 961 taps) keep the callback path's body
        // (loops over the window, runtime reductions) and gather their taps with a loop: per-tap
        // code would cost a long compile and gain nothing.
        let unrollsWindow = program.kind == .lineFilter || layout.tapCount <= maximumUnrolledWindow
        let lowering = ProgramLowering(program: program, emitter: emitter, prefix: options.internalPrefix)
        if program.kind == .filter && unrollsWindow && !reassigns(slot: 0, in: program.kernel.body) {
            lowering.windowLength = layout.tapCount
        }
        if program.kind == .lineFilter && layout.tapCount >= 1
            && !reassigns(slot: 0, in: program.kernel.body) && !reassigns(slot: 1, in: program.kernel.body) {
            lowering.lineFilterSize = layout.tapCount
        }
        lowering.lanes = laneSlots
        try lowering.lowerFunctions()
        let fused = FusedEmitter(program: program, lowering: lowering, layout: layout)
        // The kernel body is inlined into each loop that calls it, so the window lives in registers.
        fused.addAttribute("alwaysinline", to: lowering.functions[program.kernelIndex].function)
        if program.kind == .filter {
            try fused.emitFilterRow(name: options.exportName)
        } else {
            try fused.emitLine(name: options.exportName)
        }
        try owned.verify()
        return owned
    }

    /// Lowers, verifies and optimises a fused module in a fresh context (see `prepare`).
    public static func prepareFused(_ program: TypedProgram, layout: FusedLayout, options: CodegenOptions,
                                    lanes: Bool = false, level: OptimizationLevel, machine: TargetMachine,
                                    keepText: Bool = true) throws -> PreparedModule {
        try prepareStages(program, machine: machine, keepText: keepText,
                          lower: { try lowerFused(program, layout: layout, options: options, lanes: lanes, in: $0) }) { module in
            guard !level.pipeline.isEmpty else { return }
            if program.kind == .lineFilter {
                // Vectorise the kernel's own loops over the line before GVN's load PRE turns
                // `line[i] + line[i + 1] + ...` into a chain of recurrences the vectoriser refuses.
                try module.optimize(pipeline: "always-inline,function(sroa,early-cse,instcombine,simplifycfg,loop-simplify,lcssa,loop-rotate,indvars,loop-unroll-full,simplifycfg,instcombine,loop-simplify,lcssa,indvars,loop-vectorize,instcombine,simplifycfg)",
                                    machine: machine, vectorize: level.vectorize)
            }
            if layout.inputType.convertsExactlyToDouble {
                // Inline the body into the pixel loops and promote the window to registers, then
                // let comparisons and selections work on the native integers (see below).
                try module.optimize(pipeline: "always-inline,function(sroa,instcombine)", machine: machine)
                if let handle = module.handle { NativeSelection.rewrite(handle) }
            }
            try module.optimize(pipeline: level.pipeline, level: level, machine: machine)
        }
    }

    /// Whether a `@line_filter` kernel stores every element of `out` before anything can read it or
    /// leave. Its statements up to a loop `for i in range(k, len(out))` (k >= 0 a literal, step 1, `i` an
    /// int the body never assigns) neither mention `out` nor leave, except `out[c] = e` for literals
    /// `c` (which must cover 0 ..< k); the loop's body stores `out[i] = e` after statements that neither
    /// mention `out` nor leave nor continue, and `e` never mentions `out` (nor calls a function, nor reads an
    /// array other than `line`, which a later statement could have bound to `out`; neither `line` nor `out`
    /// is ever assigned); the rest of the body neither reads `out` nor leaves the loop early
    /// (`neitherReadsOutputNorLeaves`). The line driver then need not zero `out` first: every element it
    /// would have zeroed is overwritten before it can be seen. (A failing kernel leaves the failing line's
    /// later elements as they were instead of zero; the driver zeroes that line and runs it again.) SciPy's
    /// running sum (`total` summed first, `out[0]` stored, then `for i in range(1, len(out))`) is one.
    public static func lineKernelStoresEveryOutputFirst(_ program: TypedProgram) -> Bool {
        guard program.kind == .lineFilter else { return false }
        let kernel = program.kernel
        guard kernel.parameterCount >= 2, !reassigns(slot: 0, in: kernel.body), !reassigns(slot: 1, in: kernel.body) else {
            return false
        }
        let locals = kernel.locals
        var stored = Set<Int64>()  // literal indices of `out` stored so far
        for statement in kernel.body {
            if case .forRange(let counter, let start, let stop, let step, let body) = statement.kind,
               locals[counter].type == .int, counter != 1,
               case .intConstant(let first) = start.kind, first >= 0, first <= 64, (0..<first).allSatisfy(stored.contains),
               case .intConstant(1) = step.kind,
               case .length(let measured) = stop.kind, case .local(1) = measured.kind,
               !reassigns(slot: counter, in: body) {
                // The loop that stores the rest: `out[counter] = e` after statements that cannot skip it or see `out`.
                guard let storeAt = body.firstIndex(where: { statement in
                    guard case .assign(let targets, let values) = statement.kind, targets.count == 1, values.count == 1,
                          case .element(let array, let index) = targets[0],
                          case .local(1) = array.kind, case .local(counter) = index.kind else { return false }
                    return true
                }), case .assign(_, let values) = body[storeAt].kind else { return false }
                return neitherReadsOutputNorLeaves(body[..<storeAt], locals: locals, counter: -1, loopDepth: 0, continues: false)
                    && neverMentionsOutput(values[0], locals: locals)
                    && neitherReadsOutputNorLeaves(body[(storeAt + 1)...], locals: locals, counter: counter, loopDepth: 0)
            }
            if case .assign(let targets, let values) = statement.kind, targets.count == 1, values.count == 1,
               case .element(let array, let index) = targets[0], case .local(1) = array.kind,
               case .intConstant(let c) = index.kind, c >= 0, neverMentionsOutput(values[0], locals: locals) {
                stored.insert(c)
                continue
            }
            // Anything else before the loop: neither reads `out` nor leaves (`counter` -1: no element is known stored).
            guard neitherReadsOutputNorLeaves([statement][...], locals: locals, counter: -1, loopDepth: 0, continues: false)
            else { return false }
        }
        return false
    }

    /// Whether the rest of the loop body can neither see an element of `out` not yet stored nor leave
    /// the loop before every element is: its expressions never mention `out` (`neverMentionsOutput`)
    /// except `out[counter]`, stored first in this iteration; it may store into `out`, which reads
    /// nothing, and `counter` is never assigned. It assigns only scalar locals and elements of `out`,
    /// and it has no `return`, no failure statement, no call for effect and no `break` of the loop
    /// itself (`loopDepth` 0; a nested loop's `break` stays inside it), nor a `continue` of it where
    /// `continues` is false (statements before the store). Conservative: anything else counts as seeing
    /// or leaving.
    static func neitherReadsOutputNorLeaves(_ statements: ArraySlice<TStmt>, locals: [LocalVariable], counter: Int,
                                            loopDepth: Int, continues: Bool = true) -> Bool {
        func clean(_ e: TExpr) -> Bool { neverMentionsOutput(e, locals: locals, storedIndex: counter) }
        func nested(_ body: [TStmt], _ depth: Int) -> Bool {
            neitherReadsOutputNorLeaves(body[...], locals: locals, counter: counter, loopDepth: depth,
                                        continues: continues || depth > 0)
        }
        return statements.allSatisfy { statement in
            switch statement.kind {
            case .assign(let targets, let values):
                return values.allSatisfy(clean) && targets.allSatisfy { target in
                    switch target {
                    case .local(let slot):
                        return slot > 1 && slot < locals.count && !locals[slot].type.isArray && locals[slot].type != .ndarray
                    case .element(let array, let index):
                        if case .local(1) = array.kind { return clean(index) }
                        return false
                    case .ndElement:
                        return false
                    }
                }
            case .ifStatement(let condition, let then, let orElse):
                return clean(condition) && nested(then, loopDepth) && nested(orElse, loopDepth)
            case .whileLoop(let condition, let body):
                return clean(condition) && nested(body, loopDepth + 1)
            case .forRange(let slot, let start, let stop, let step, let body):
                return slot > 1 && clean(start) && clean(stop) && clean(step) && nested(body, loopDepth + 1)
            case .breakLoop:
                return loopDepth > 0
            case .continueLoop:
                return continues || loopDepth > 0
            case .expression, .forEach, .returnValue, .callbackFailure:
                return false
            }
        }
    }

    /// Whether `expression` is built only from constants, scalar locals, `line` (slot 0),
    /// arithmetic, comparisons, conversions, conditionals, element reads and lengths of such arrays,
    /// `len(out)` (no element), and builtins of those that store nothing: conservative (anything else
    /// counts as a mention).
    /// `storedIndex`: the loop counter whose `out[counter]` was stored this iteration and may be read.
    static func neverMentionsOutput(_ expression: TExpr, locals: [LocalVariable], storedIndex: Int? = nil) -> Bool {
        func clean(_ e: TExpr) -> Bool { neverMentionsOutput(e, locals: locals, storedIndex: storedIndex) }
        switch expression.kind {
        case .intConstant, .floatConstant, .boolConstant: return true
        case .local(let slot): return slot == 0 || (slot != 1 && slot < locals.count && !locals[slot].type.isArray && locals[slot].type != .ndarray)
        case .length(let a):
            if case .local(1) = a.kind { return true }  // len(out) reads no element
            return clean(a)
        case .convert(_, let a), .negate(let a), .not(let a): return clean(a)
        case .arithmetic(_, let a, let b), .logical(_, let a, let b): return clean(a) && clean(b)
        case .compare(let operands, _, _): return operands.allSatisfy(clean)
        case .conditional(let condition, let then, let orElse):
            return clean(condition) && clean(then) && clean(orElse)
        case .element(let array, let index):
            if let storedIndex, case .local(1) = array.kind, case .local(storedIndex) = index.kind { return true }
            return clean(array) && clean(index)
        case .builtin(let builtin, let arguments):
            // (`a.sort()` stores into its array: a kernel that changes its line would not fail the
            // same way twice, see LineRun.run.)
            return builtin != .sortInPlace && arguments.allSatisfy(clean)
        default: return false
        }
    }

    /// Whether `statements` ever store into local `slot` (assignment or loop variable).
    static func reassigns(slot: Int, in statements: [TStmt]) -> Bool {
        statements.contains { statement in
            switch statement.kind {
            case .assign(let targets, _):
                return targets.contains { if case .local(slot) = $0 { return true } else { return false } }
            case .ifStatement(_, let then, let orElse): return reassigns(slot: slot, in: then) || reassigns(slot: slot, in: orElse)
            case .whileLoop(_, let body): return reassigns(slot: slot, in: body)
            case .forRange(let target, _, _, _, let body), .forEach(let target, _, let body):
                return target == slot || reassigns(slot: slot, in: body)
            default: return false
            }
        }
    }

}


// MARK: - Window-aware lowering

extension ProgramLowering {
    /// The constant length of the kernel's window when `slot` is it and the module is fused.
    func constantWindowLength(slot: Int) -> Int? {
        guard let windowLength, loweringKernel, slot == 0, program.kind == .filter else { return nil }
        return windowLength
    }

    /// The value of a constant integer, if `value` is one.
    func constantInteger(_ value: LLVMValueRef) -> Int? {
        guard LLVMIsAConstantInt(value) != nil else { return nil }
        return Int(LLVMConstIntGetSExtValue(value))
    }

    /// In fused modules, reductions over an array of constant length become straight-line code with
    /// the same operations in the same order as the loops and runtime routines they replace, so
    /// the bits are equal; LLVM can then vectorise them across neighbouring pixels. Nil: not handled.
    func lowerConstantLengthReduction(_ builtin: Builtin, _ values: [Lowered]) throws -> Lowered? {
        guard windowLength != nil, let first = values.first, case .array(let pointer, let length) = first,
              let n = constantInteger(length), n >= 1, n <= maximumUnrolledWindow else { return nil }
        let double = types.double
        func elements() -> [LLVMValueRef] {
            (0..<n).map { emitter.load(double, emitter.elementAddress(double, pointer, emitter.int64(Int64($0)))) }
        }
        func fadd(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildFAdd(builder, a, b, "")! }
        switch builtin {
        case .pyMin, .pyMax:
            let a = elements()
            let predicate = builtin == .pyMin ? LLVMRealOLT : LLVMRealOGT
            return .scalar(a.dropFirst().reduce(a[0]) { r, x in emitter.select(emitter.fcmp(predicate, x, r), x, r) })
        case .npMin, .npMax:
            // The loop keeps the first NaN once it sees one, else the least (greatest) value as
            // CPython's min does. Computed as two independent chains, the plain min/max and the
            // first NaN, which gives the same bits with a shorter dependency chain per tap.
            let a = elements()
            let predicate = builtin == .npMin ? LLVMRealOLT : LLVMRealOGT
            let extreme = a.dropFirst().reduce(a[0]) { r, x in emitter.select(emitter.fcmp(predicate, x, r), x, r) }
            // Ends at the first NaN if there is one, else at the last element (not NaN): so it is
            // NaN exactly when some element is.
            let firstNaN = a.dropLast().reversed().reduce(a[n - 1]) { f, x in emitter.select(emitter.isNaN(x), x, f) }
            return .scalar(emitter.select(emitter.isNaN(firstNaN), firstNaN, extreme))
        case .argmin, .argmax:
            let a = elements()
            let predicate = builtin == .argmin ? LLVMRealOLT : LLVMRealOGT
            var best = a[0], index = emitter.int64(0)
            for k in 1..<n {
                let take = emitter.and(emitter.not(emitter.isNaN(best)), emitter.or(emitter.isNaN(a[k]), emitter.fcmp(predicate, a[k], best)))
                best = emitter.select(take, a[k], best)
                index = emitter.select(take, emitter.int64(Int64(k)), index)
            }
            return .scalar(index)
        case .pySum:
            return .scalar(elements().reduce(emitter.double(0)) { fadd($0, $1) })
        case .prod:
            return .scalar(elements().reduce(emitter.double(1)) { LLVMBuildFMul(builder, $0, $1, "")! })
        case .any, .all:
            let truths = elements().map { emitter.fcmp(LLVMRealUNE, $0, emitter.double(0)) }
            return .scalar(truths.reduce(emitter.bool(builtin == .all)) { builtin == .any ? emitter.or($0, $1) : emitter.and($0, $1) })
        case .npSum:
            return .scalar(numpySum(elements()))
        case .mean:
            return .scalar(mean(elements()))
        case .variance, .std:
            let a = elements()
            let m = mean(a)
            let deviations = a.map { x -> LLVMValueRef in
                let d = LLVMBuildFSub(builder, x, m, "")!
                return LLVMBuildFMul(builder, d, d, "")!
            }
            let variance = LLVMBuildFDiv(builder, numpySum(deviations), emitter.double(Double(n)), "")!
            return .scalar(builtin == .std ? emitter.callMath("llvm.sqrt.f64", [variance]) : variance)
        case .median:
            guard n <= maximumNetworkWindow else { return nil }
            return .scalar(median(elements()))
        default:
            return nil
        }
    }

    /// `np.mean` of constant-length data: NumPy's sum over n.
    private func mean(_ a: [LLVMValueRef]) -> LLVMValueRef {
        LLVMBuildFDiv(builder, numpySum(a), emitter.double(Double(a.count)), "")!
    }

    /// `np.sum` of constant-length data as `Numerics.npSum` computes it: add.reduce starts from its identity
    /// +0.0, so a window of -0.0 sums to +0.0 at every length (the 8-accumulator branch alone gives -0.0).
    /// `0.0 + x` is x for every other x, and LLVM keeps it (it folds only `x + -0.0`).
    private func numpySum(_ a: [LLVMValueRef]) -> LLVMValueRef {
        LLVMBuildFAdd(builder, emitter.double(0), pairwiseSum(a[...]), "")!
    }

    /// NumPy's pairwise summation (ndimage-semantics.md section 7), unrolled at compile time.
    private func pairwiseSum(_ a: ArraySlice<LLVMValueRef>) -> LLVMValueRef {
        func add(_ x: LLVMValueRef, _ y: LLVMValueRef) -> LLVMValueRef { LLVMBuildFAdd(builder, x, y, "")! }
        let n = a.count
        let base = a.startIndex
        if n < 8 { return a.reduce(emitter.double(0)) { add($0, $1) } }
        if n <= 128 {
            var r = (0..<8).map { a[base + $0] }
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] = add(r[j], a[base + i + j]) }
                i += 8
            }
            var sum = add(add(add(r[0], r[1]), add(r[2], r[3])), add(add(r[4], r[5]), add(r[6], r[7])))
            while i < n {
                sum = add(sum, a[base + i])
                i += 1
            }
            return sum
        }
        var half = n / 2
        half -= half % 8
        return add(pairwiseSum(a[base..<(base + half)]), pairwiseSum(a[(base + half)...]))
    }

    /// `np.median` as the runtime computes it (stable sort with NaN last, middle element or
    /// `(0.0 + lo + hi) / 2`, NaN if any NaN), as a branch-free sorting network.
    private func median(_ a: [LLVMValueRef]) -> LLVMValueRef {
        let n = a.count
        let sorted = sortingNetwork(a)
        let result: LLVMValueRef
        if n % 2 == 1 {
            result = stableZero(sorted[n / 2], position: n / 2, a)
        } else {
            let low = stableZero(sorted[n / 2 - 1], position: n / 2 - 1, a)
            let high = stableZero(sorted[n / 2], position: n / 2, a)
            // As the runtime (np.median takes np.mean of the two): (0.0 + lo + hi) / 2.
            let sum = LLVMBuildFAdd(builder, LLVMBuildFAdd(builder, emitter.double(0), low, "")!, high, "")!
            result = LLVMBuildFDiv(builder, sum, emitter.double(2), "")!
        }
        let anyNaN = a.map { emitter.isNaN($0) }.reduce(emitter.bool(false)) { emitter.or($0, $1) }
        return emitter.select(anyNaN, emitter.double(.nan), result)
    }

    /// Batcher's odd-even merge sort over `a` (padded to a power of two with +inf placeholders,
    /// which are resolved at compile time). Comparators whose outputs are unused are removed by
    /// LLVM, so asking for one element leaves a selection network. Exact for values that are not
    /// NaN, except that -0.0 and +0.0 may trade places (see `stableZero`).
    private func sortingNetwork(_ a: [LLVMValueRef]) -> [LLVMValueRef] {
        var size = 1
        while size < a.count { size *= 2 }
        var slots: [LLVMValueRef?] = a + Array(repeating: nil, count: size - a.count)
        func exchange(_ i: Int, _ j: Int) {
            switch (slots[i], slots[j]) {
            case (.some(let x), .some(let y)):
                let swap = emitter.fcmp(LLVMRealOLT, y, x)
                slots[i] = emitter.select(swap, y, x)
                slots[j] = emitter.select(swap, x, y)
            case (nil, .some):
                slots.swapAt(i, j)   // +inf placeholder moves up
            default:
                break
            }
        }
        var p = 1
        while p < size {
            var k = p
            while k >= 1 {
                var j = k % p
                while j + k < size {
                    for i in 0..<min(k, size - j - k) where (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                        exchange(i + j, i + j + k)
                    }
                    j += 2 * k
                }
                k /= 2
            }
            p *= 2
        }
        return slots.prefix(a.count).map { $0! }
    }

    /// Makes the zero at sorted `position` carry the sign a stable sort gives it: the k-th zero of
    /// the input in order, where k = position - (count of negative values). No effect otherwise.
    private func stableZero(_ value: LLVMValueRef, position: Int, _ a: [LLVMValueRef]) -> LLVMValueRef {
        let int64 = types.int64
        let negatives = a.reduce(emitter.int64(0)) { count, x in
            emitter.add(count, LLVMBuildZExt(builder, emitter.fcmp(LLVMRealOLT, x, emitter.double(0)), int64, "")!)
        }
        let wanted = emitter.sub(emitter.int64(Int64(position)), negatives)
        var zerosBefore = emitter.int64(0)
        var result = value
        for x in a {
            let isZero = emitter.fcmp(LLVMRealOEQ, x, emitter.double(0))
            result = emitter.select(emitter.and(isZero, emitter.icmp(LLVMIntEQ, zerosBefore, wanted)), x, result)
            zerosBefore = emitter.add(zerosBefore, LLVMBuildZExt(builder, isZero, int64, "")!)
        }
        return result
    }

    /// In a fused line filter, `for i in range(k, len(out))` (k >= 0 a literal, step 1, `i` an int
    /// the body never assigns) keeps `0 <= i < len(out)` in the body, so `line[i + c]` for a
    /// literal `0 <= c < filterSize` and `out[i]` are in bounds (`len(line) == len(out) + filterSize - 1`,
    /// and neither array is ever reassigned): their checks can go, and the loop can vectorise.
    func isProvenLineCounter(slot: Int, start: TExpr, stop: TExpr, step: TExpr, body: [TStmt]) -> Bool {
        guard lineFilterSize != nil, loweringKernel, function.locals[slot].type == .int,
              case .intConstant(let first) = start.kind, first >= 0,
              case .intConstant(1) = step.kind,
              case .length(let measured) = stop.kind, case .local(1) = measured.kind,
              !Codegen.reassigns(slot: slot, in: body) else { return false }
        return true
    }

    /// The unchecked address of `line[i + c]` or `out[i]` when `isProvenLineCounter` covers `i`; else nil.
    func provenLineElementAddress(array: TExpr, index: TExpr) throws -> LLVMValueRef? {
        guard let size = lineFilterSize, loweringKernel, !provenCounters.isEmpty,
              case .local(let arraySlot) = array.kind, arraySlot == 0 || arraySlot == 1, index.type == .int else { return nil }
        let counter: Int, offset: Int64
        switch index.kind {
        case .local(let slot):
            (counter, offset) = (slot, 0)
        case .arithmetic(.add, let a, let b):
            if case .local(let slot) = a.kind, case .intConstant(let c) = b.kind { (counter, offset) = (slot, c) }
            else if case .intConstant(let c) = a.kind, case .local(let slot) = b.kind { (counter, offset) = (slot, c) }
            else { return nil }
        default:
            return nil
        }
        let limit: Int64 = arraySlot == 0 ? Int64(size - 1) : 0
        guard provenCounters.contains(counter), offset >= 0, offset <= limit else { return nil }
        let pointer = try lower(array).array.pointer
        let indexValue = try lower(index).scalar
        return emitter.elementAddress(types.double, pointer, indexValue)
    }

    /// `for i in range(a, b, c)` in a fused kernel whose bounds are literals or `len(values)`, with
    /// at most `maximumUnrolledLoop` iterations: one copy of the body per value of `i`, so loops over
    /// the window need no unrolling by LLVM. False: not handled (emit the loop).
    func lowerUnrolledForRange(slot: Int, start: TExpr, stop: TExpr, step: TExpr, body: [TStmt]) throws -> Bool {
        guard windowLength != nil else { return false }
        func literal(_ expression: TExpr) -> Int64? {
            switch expression.kind {
            case .intConstant(let value): return value
            case .length(let array):
                if case .local(let arraySlot) = array.kind, let length = constantWindowLength(slot: arraySlot) { return Int64(length) }
                return nil
            default: return nil
            }
        }
        guard let first = literal(start), let end = literal(stop), let increment = literal(step), increment != 0,
              first.magnitude < 1 << 40, end.magnitude < 1 << 40, increment.magnitude < 1 << 40 else { return false }
        let values = Array(stride(from: first, to: end, by: Int(increment)).prefix(maximumUnrolledLoop + 1))
        guard values.count <= maximumUnrolledLoop else { return false }
        let exit = emitter.block("range.exit")
        for value in values {
            let next = emitter.block("range.next")
            store(.scalar(try coerce(emitter.int64(value), from: .int, to: function.locals[slot].type)), into: slot)
            loops.append((next, exit))
            try lower(body)
            loops.removeLast()
            emitter.branch(to: next)
            emitter.position(at: next)
        }
        emitter.branch(to: exit)
        emitter.position(at: exit)
        return true
    }

    /// `for x in array` over a short constant-length array in a fused module or an array function: one
    /// copy of the body per element, so LLVM need not unroll it. False: not handled (emit the loop).
    func lowerUnrolledForEach(slot: Int, array: (pointer: LLVMValueRef, length: LLVMValueRef),
                              elementType arrayType: ValueType, body: [TStmt]) throws -> Bool {
        // Fused kernels unroll loops over their window; array functions loops over a short constant array (a
        // frozen module global such as skan's 8 `steps`) whose body is straight-line: no counter, no cancellation
        // poll, and each copy's element folds to a constant. A body with branches stays a loop: its copies multiply
        // the blocks the code generator works through (skan's build_graph: machine code about 7 ms more, the call
        // 3-5% faster; docs/status.md, sixth session).
        let limit = windowLength != nil ? maximumUnrolledLoop : (program.kind == .arrayFunction ? maximumUnrolledConstantLoop : -1)
        guard let n = constantInteger(array.length), n >= 0, n <= limit else {
            return false
        }
        if windowLength == nil, !body.allSatisfy(\.isStraightLine) { return false }
        let exit = emitter.block("each.exit")
        let valueType: ValueType = arrayType.elementType ?? .float
        let llvmType = elementType(arrayType)
        for k in 0..<n {
            let next = emitter.block("each.next")
            let element = emitter.load(llvmType, emitter.elementAddress(llvmType, array.pointer, emitter.int64(Int64(k))))
            store(.scalar(try coerce(element, from: valueType, to: function.locals[slot].type)), into: slot)
            loops.append((next, exit))
            try lower(body)
            loops.removeLast()
            emitter.branch(to: next)
            emitter.position(at: next)
        }
        emitter.branch(to: exit)
        emitter.position(at: exit)
        return true
    }
}

extension TStmt {
    /// Whether the statement has no control flow of its own (no `if`, loop, `break`, `continue` or `return`).
    var isStraightLine: Bool {
        switch kind {
        case .expression, .assign: return true
        case .ifStatement, .whileLoop, .forRange, .forEach, .breakLoop, .continueLoop, .returnValue, .callbackFailure:
            return false
        }
    }
}

// MARK: - The fused entry points

/// Emits the fused entry function of one program into the module of `lowering`.
final class FusedEmitter {
    let program: TypedProgram
    let lowering: ProgramLowering
    let layout: FusedLayout
    var emitter: Emitter { lowering.emitter }
    var types: IRTypes { emitter.types }
    var builder: LLVMBuilderRef { emitter.builder }

    init(program: TypedProgram, lowering: ProgramLowering, layout: FusedLayout) {
        self.program = program
        self.lowering = lowering
        self.layout = layout
    }

    /// Adds a function attribute (or a parameter attribute when `parameter` is given, 0-based).
    func addAttribute(_ name: String, to function: LLVMValueRef, parameter: Int? = nil) {
        let kind = LLVMGetEnumAttributeKindForName(name, name.utf8.count)
        guard kind != 0, let attribute = LLVMCreateEnumAttribute(emitter.context, kind, 0) else { return }
        let index = parameter.map { UInt32($0 + 1) } ?? UInt32.max
        LLVMAddAttributeAtIndex(function, index, attribute)
    }

    private func addFunction(_ name: String, returning result: LLVMTypeRef, _ parameters: [LLVMTypeRef]) -> LLVMValueRef {
        var parameterTypes: [LLVMTypeRef?] = parameters
        let type = parameterTypes.withUnsafeMutableBufferPointer {
            LLVMFunctionType(result, $0.baseAddress, UInt32($0.count), 0)
        }!
        return LLVMAddFunction(emitter.module, name, type)!
    }

    private func typedPointer(_ raw: LLVMValueRef, _ type: FusedElementType) -> LLVMValueRef {
        LLVMBuildBitCast(builder, raw, LLVMPointerType(lowering.memoryType(type), 0), "")!
    }

    /// Loads the element at `base[offset]` (any alignment) as a double, as `ElementType.loadDouble`.
    private func loadElement(_ base: LLVMValueRef, _ offset: LLVMValueRef, _ type: FusedElementType) -> LLVMValueRef {
        let raw = emitter.load(lowering.memoryType(type), emitter.elementAddress(lowering.memoryType(type), base, offset))
        LLVMSetAlignment(raw, 1)
        switch type {
        case .float64: return raw
        case .float32: return LLVMBuildFPExt(builder, raw, types.double, "")!
        case .int8, .int16, .int32, .int64: return LLVMBuildSIToFP(builder, raw, types.double, "")!
        case .bool, .uint8, .uint16, .uint32, .uint64: return LLVMBuildUIToFP(builder, raw, types.double, "")!
        }
    }

    /// x86-64 `cvttsd2si` (32-bit): truncation, or INT32_MIN for NaN and out of range; never poison.
    private func truncateToInt32(_ x: LLVMValueRef) -> LLVMValueRef {
        let inRange = emitter.and(emitter.fcmp(LLVMRealOGT, x, emitter.double(-2147483649.0)),
                                  emitter.fcmp(LLVMRealOLT, x, emitter.double(2147483648.0)))
        let converted = LLVMBuildFPToSI(builder, emitter.select(inRange, x, emitter.double(0)), types.int32, "")!
        return emitter.select(inRange, converted, emitter.int32(Int32.min))
    }

    /// x86-64 `cvttsd2si` (64-bit).
    private func truncateToInt64(_ x: LLVMValueRef) -> LLVMValueRef {
        let inRange = emitter.and(emitter.fcmp(LLVMRealOGE, x, emitter.double(-9223372036854775808.0)),
                                  emitter.fcmp(LLVMRealOLT, x, emitter.double(9223372036854775808.0)))
        let converted = LLVMBuildFPToSI(builder, emitter.select(inRange, x, emitter.double(0)), types.int64, "")!
        return emitter.select(inRange, converted, emitter.int64(Int64.min))
    }

    /// GCC's `(uint64_t)x` on x86-64, NaN giving 0 (as `truncatingToUInt64LikeX86`).
    private func truncateToUInt64(_ x: LLVMValueRef) -> LLVMValueRef {
        let small = emitter.fcmp(LLVMRealOLT, x, emitter.double(9223372036854775808.0))
        let fits = emitter.fcmp(LLVMRealOLT, x, emitter.double(18446744073709551616.0))
        let large = emitter.and(emitter.not(small), fits)
        let high = LLVMBuildFPToUI(builder, emitter.select(large, x, emitter.double(0)), types.int64, "")!
        let result = emitter.select(small, truncateToInt64(x), emitter.select(large, high, emitter.int64(0)))
        return emitter.select(emitter.isNaN(x), emitter.int64(0), result)
    }

    /// Stores `x` at `base[offset]` with generic_filter's casting rules (`ElementType.storeDouble`).
    private func storeElement(_ x: LLVMValueRef, _ base: LLVMValueRef, _ offset: LLVMValueRef, _ type: FusedElementType) {
        let target = lowering.memoryType(type)
        let value: LLVMValueRef
        func unsigned(_ convert: (LLVMValueRef) -> LLVMValueRef) -> LLVMValueRef {
            // value > -1 ? (T)value : -(T)(-value), both halves computed without poison.
            let positive = LLVMBuildTrunc(builder, convert(x), target, "")!
            let negative = emitter.sub(LLVMConstNull(target), LLVMBuildTrunc(builder, convert(LLVMBuildFNeg(builder, x, "")!), target, "")!)
            return emitter.select(emitter.fcmp(LLVMRealOGT, x, emitter.double(-1)), positive, negative)
        }
        switch type {
        case .float64: value = x
        case .float32: value = LLVMBuildFPTrunc(builder, x, target, "")!
        case .int8, .int16: value = LLVMBuildTrunc(builder, truncateToInt32(x), target, "")!
        case .int32: value = truncateToInt32(x)
        case .int64: value = truncateToInt64(x)
        case .bool, .uint8, .uint16: value = unsigned(truncateToInt32)
        case .uint32: value = unsigned(truncateToInt64)
        case .uint64:
            let positive = truncateToUInt64(x)
            let negative = emitter.sub(emitter.int64(0), truncateToUInt64(LLVMBuildFNeg(builder, x, "")!))
            value = emitter.select(emitter.fcmp(LLVMRealOGT, x, emitter.double(-1)), positive, negative)
        }
        let store = LLVMBuildStore(builder, value, emitter.elementAddress(target, base, offset))!
        LLVMSetAlignment(store, 1)
    }

    /// Loads and converts the run-time parameters from `values` (never NULL here: the driver always
    /// passes the array), as the callback wrapper does. On an invalid int parameter, records the
    /// failure and branches to `failure`.
    private func loadParameters(_ values: LLVMValueRef, failure: LLVMBasicBlockRef) throws -> [LLVMValueRef] {
        let kernel = program.kernel
        var result: [LLVMValueRef] = []
        for slot in program.kind.arrayParameterCount..<kernel.parameterCount {
            guard let index = program.parameters.firstIndex(where: { $0.slot == slot }) else {
                throw LLVMError("kernel parameter slot \(slot) has no run-time parameter")
            }
            let declared = program.parameters[index]
            var value = emitter.load(types.double, emitter.elementAddress(types.double, values, emitter.int64(Int64(index))))
            var valueType = ValueType.float
            if declared.type == .int || declared.type == .bool {
                value = emitter.intParameter(value, index: index, kernel: kernel, failure: failure)
                valueType = .int
            }
            result.append(try lowering.coerce(value, from: valueType, to: kernel.locals[slot].type))
        }
        return result
    }

    /// Per-call state shared by the pixel loops of one function: arena, result slot, window buffer.
    private struct CallState {
        let arena: LLVMValueRef
        let result: LLVMValueRef?
        let window: LLVMValueRef
        let parameters: [LLVMValueRef]
    }

    /// `scratch` is the caller's buffer of `windowLength` doubles, used instead of the stack for
    /// windows too long to be kept in registers (a huge footprint must not overflow a thread's stack).
    private func makeCallState(windowLength: Int, parameters: [LLVMValueRef], scratch: LLVMValueRef) -> CallState {
        let arenaType = LLVMArrayType(types.int64, 2)!
        let arenaStorage = LLVMBuildAlloca(builder, arenaType, "arena")!
        emitter.store(LLVMConstNull(arenaType), arenaStorage)
        let arena = LLVMBuildBitCast(builder, arenaStorage, types.bytePointer, "")!
        let result = program.kernel.returnType.map { LLVMBuildAlloca(builder, lowering.scalarType($0), "result")! }
        let window: LLVMValueRef
        if windowLength <= maximumUnrolledWindow {
            let windowType = LLVMArrayType(types.double, UInt32(max(windowLength, 1)))!
            window = LLVMBuildBitCast(builder, LLVMBuildAlloca(builder, windowType, "window")!, types.doublePointer, "")!
        } else {
            window = scratch
        }
        return CallState(arena: arena, result: result, window: window, parameters: parameters)
    }

    /// Calls the kernel body on the window; returns its result as a double, or branches to
    /// `failure` when it fails. Local arrays are released after every call.
    private func callFilterBody(_ state: CallState, failure: LLVMBasicBlockRef, body lowering: ProgramLowering) -> LLVMValueRef {
        var arguments: [LLVMValueRef] = [state.arena]
        if let result = state.result { arguments.append(result) }
        arguments += [state.window, emitter.int64(Int64(layout.tapCount))]
        arguments += state.parameters
        let ok = emitter.call(lowering.functions[program.kernelIndex], arguments)
        if lowering.usesArena {
            emitter.call(emitter.declare("filterjit_release", returning: types.void, [types.bytePointer]), [state.arena])
        }
        let success = emitter.block("call.ok")
        emitter.branch(if: ok, then: success, else: failure)
        emitter.position(at: success)
        guard let result = state.result, let returnType = program.kernel.returnType else { return emitter.double(0) }
        let value = emitter.load(lowering.scalarType(returnType), result)
        // The wrapper's conversion of the kernel's result to the double SciPy receives.
        switch returnType {
        case .int: return LLVMBuildSIToFP(builder, value, types.double, "")!
        case .bool: return LLVMBuildUIToFP(builder, value, types.double, "")!
        default: return value
        }
    }

    /// The row kernel (`fj_row_kernel`, see the file comment): an exported entry that reads the
    /// argument block and calls the row loop, whose `noalias` output tells LLVM that storing a
    /// result never changes a tap (so the loop vectorises without run-time alias checks).
    func emitFilterRow(name: String) throws {
        let i64 = types.int64, pointer = types.bytePointer
        let bytePointerPointer = LLVMPointerType(pointer, 0)!
        // (taps, output, count, parameters, scratch) -> i64
        let loop = addFunction(name + ".row", returning: i64,
                               [bytePointerPointer, pointer, i64, types.doublePointer, types.doublePointer])
        LLVMSetLinkage(loop, LLVMInternalLinkage)
        addAttribute("noalias", to: loop, parameter: 1)
        addAttribute("noalias", to: loop, parameter: 4)
        try emitRowLoop(in: loop)

        let offsets = RowKernelABI.offsets
        emitArgumentBlockEntry(name, calling: loop, fields: [(offsets.taps, bytePointerPointer), (offsets.output, pointer),
                                                             (offsets.count, i64), (offsets.parameters, types.doublePointer),
                                                             (offsets.scratch, types.doublePointer)])
    }

    /// The exported `i64 name(i8* block)` of a fused kernel: loads `fields` (byte offset, type) of the
    /// argument block, in order, and returns what `loop` returns for them.
    func emitArgumentBlockEntry(_ name: String, calling loop: LLVMValueRef, fields: [(offset: Int, type: LLVMTypeRef)]) {
        let entry = addFunction(name, returning: types.int64, [types.bytePointer])
        emitter.position(at: LLVMAppendBasicBlockInContext(emitter.context, entry, "entry")!)
        let block = LLVMGetParam(entry, 0)!
        var arguments: [LLVMValueRef?] = fields.map { offset, type in
            let address = emitter.elementAddress(types.int8, block, emitter.int64(Int64(offset)))
            return emitter.load(type, LLVMBuildBitCast(builder, address, LLVMPointerType(type, 0), "")!)
        }
        let type = LLVMGlobalGetValueType(loop)!
        let result = arguments.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder, type, loop, $0.baseAddress, UInt32($0.count), "")!
        }
        LLVMBuildRet(builder, result)
    }

    /// Caps the vectorisation factor of the loop entered from `preheader` (the pixel loop of a window
    /// of more than 9 taps) at 8 lanes. LLVM otherwise widens an 8-bit image's loop to the whole group
    /// (64 doubles per value, 8 registers each), which multiplies the code to select and allocate by 8
    /// for no gain: the arithmetic is in doubles, 8 to an AVX-512 register.
    private func limitVectorWidth(ofLoopEnteredFrom preheader: LLVMBasicBlockRef) {
        // Measured (compile CPU / 1024x1024 run): 9x9 uint8 mean 103 ms / 10.2 ms uncapped, 38 ms / 8.2 ms
        // at 8 lanes; 5x5 median 46 / 17 at 8, 82 / 28 at 16.
        let width = 8
        guard layout.tapCount > 9 else { return }
        // The header is the preheader's one successor; the latch is the other block that branches
        // unconditionally to it (the loop helper's back edge).
        guard let entry = LLVMGetBasicBlockTerminator(preheader), let header = LLVMGetSuccessor(entry, 0),
              let function = LLVMGetBasicBlockParent(preheader) else { return }
        var block = LLVMGetFirstBasicBlock(function)
        var backEdge: LLVMValueRef?
        while let current = block {
            if current != preheader, let terminator = LLVMGetBasicBlockTerminator(current),
               LLVMGetNumSuccessors(terminator) == 1, LLVMGetSuccessor(terminator, 0) == header {
                backEdge = terminator
            }
            block = LLVMGetNextBasicBlock(current)
        }
        guard let branch = backEdge else { return }
        let context = emitter.context
        let temporary = LLVMTemporaryMDNode(context, nil, 0)!
        let name = "llvm.loop.vectorize.width"
        var widthOperands: [LLVMMetadataRef?] = [LLVMMDStringInContext2(context, name, name.utf8.count),
                                                 LLVMValueAsMetadata(emitter.int32(Int32(width)))]
        let widthNode = widthOperands.withUnsafeMutableBufferPointer { LLVMMDNodeInContext2(context, $0.baseAddress, $0.count) }
        var loopOperands: [LLVMMetadataRef?] = [temporary, widthNode]
        let loopID = loopOperands.withUnsafeMutableBufferPointer { LLVMMDNodeInContext2(context, $0.baseAddress, $0.count) }!
        // The loop ID refers to itself, as LLVM requires.
        LLVMMetadataReplaceAllUsesWith(temporary, loopID)
        let kind = LLVMGetMDKindIDInContext(context, "llvm.loop", UInt32("llvm.loop".utf8.count))
        LLVMSetMetadata(branch, kind, LLVMMetadataAsValue(context, loopID))
    }

    /// The row loop: for each pixel i, the window `taps[t][i]` converted to doubles, the kernel body
    /// (inlined), the result stored at `output[i]`. Returns -1, or the failing pixel's index.
    private func emitRowLoop(in function: LLVMValueRef) throws {
        emitter.position(at: LLVMAppendBasicBlockInContext(emitter.context, function, "entry")!)
        func parameter(_ index: UInt32) -> LLVMValueRef { LLVMGetParam(function, index)! }
        let taps = parameter(0)
        let output = typedPointer(parameter(1), layout.outputType)
        let count = parameter(2)
        let failure = emitter.block("fail")
        let failedIndexSlot = LLVMBuildAlloca(builder, types.int64, "failed")!
        emitter.store(emitter.int64(0), failedIndexSlot)
        let parameters = try loadParameters(parameter(3), failure: failure)
        let state = makeCallState(windowLength: layout.tapCount, parameters: parameters, scratch: parameter(4))
        let unrolled = layout.tapCount <= maximumUnrolledWindow
        func tapPointer(_ t: LLVMValueRef) -> LLVMValueRef {
            typedPointer(emitter.load(types.bytePointer, emitter.elementAddress(types.bytePointer, taps, t)), layout.inputType)
        }
        // Loop-invariant per-tap pointers, read once per row.
        let tapPointers = unrolled ? (0..<layout.tapCount).map { tapPointer(emitter.int64(Int64($0))) } : []
        // Pixels in groups of `FJ_ROW_GROUP` (the driver passes count >= FJ_ROW_GROUP): the inner loop's
        // constant trip count lets the vectoriser drop its scalar remainder loop, a second copy of
        // the kernel body that would double the code to optimise and emit. The last group is moved
        // back to end at `count`, recomputing (and rewriting the same bits of) a few pixels.
        let group = emitter.int64(Int64(FJ_ROW_GROUP))
        let groups = LLVMBuildSDiv(builder, emitter.add(count, emitter.int64(Int64(FJ_ROW_GROUP) - 1)), group, "")!
        let lastStart = emitter.sub(count, group)
        _ = emitter.loop(from: emitter.int64(0), to: groups, carrying: []) { g, _ in
          let start = LLVMBuildMul(builder, g, group, "")!
          let first = emitter.select(emitter.icmp(LLVMIntSLT, start, lastStart), start, lastStart)
          let laneLoop = emitter.block("lanes")
          emitter.branch(to: laneLoop)
          emitter.position(at: laneLoop)
          defer { limitVectorWidth(ofLoopEnteredFrom: laneLoop) }
          return emitter.loop(from: emitter.int64(0), to: group, carrying: []) { lane, _ in
            let i = emitter.add(first, lane)
            if unrolled {
                for (t, base) in tapPointers.enumerated() {
                    let value = loadElement(base, i, layout.inputType)
                    emitter.store(value, emitter.elementAddress(types.double, state.window, emitter.int64(Int64(t))))
                }
            } else {
                // A long window: gather it with a loop over the taps (no per-tap code to compile).
                _ = emitter.loop(from: emitter.int64(0), to: emitter.int64(Int64(layout.tapCount)), carrying: []) { t, _ in
                    emitter.store(loadElement(tapPointer(t), i, layout.inputType),
                                  emitter.elementAddress(types.double, state.window, t))
                    return []
                }
            }
            emitter.store(i, failedIndexSlot)
            let result = callFilterBody(state, failure: failure, body: lowering)
            storeElement(result, output, i, layout.outputType)
            return []
          }
        }
        LLVMBuildRet(builder, emitter.int64(-1))
        emitter.position(at: failure)
        LLVMBuildRet(builder, emitter.load(types.int64, failedIndexSlot))
    }

    /// The fused line kernel (see the file comment): SciPy's generic_filter1d ABI, specialised for one
    /// filter size; the NDImage line driver extends each line and stores the results.
    func emitLine(name: String) throws {
        let i64 = types.int64
        let function = addFunction(name, returning: types.int32,
                                   [types.doublePointer, i64, types.doublePointer, i64, types.bytePointer])
        for parameter in [0, 2] { addAttribute("noalias", to: function, parameter: parameter) }
        emitter.position(at: LLVMAppendBasicBlockInContext(emitter.context, function, "entry")!)
        func parameter(_ index: UInt32) -> LLVMValueRef { LLVMGetParam(function, index)! }
        let line = parameter(0), out = parameter(2), n = parameter(3)
        // n + filterSize - 1 (the driver extends every line to that length): written so that LLVM knows
        // how the two lengths relate and can drop the kernel's bounds checks on `line[i + k]`.
        let extendedLength = LLVMBuildNUWAdd(builder, n, emitter.int64(Int64(max(layout.tapCount, 1) - 1)), "")!
        let failure = emitter.block("fail")
        let parameters = try loadParameters(LLVMBuildBitCast(builder, parameter(4), types.doublePointer, "")!,
                                            failure: failure)
        let arenaType = LLVMArrayType(types.int64, 2)!
        let arenaStorage = LLVMBuildAlloca(builder, arenaType, "arena")!
        emitter.store(LLVMConstNull(arenaType), arenaStorage)
        let arena = LLVMBuildBitCast(builder, arenaStorage, types.bytePointer, "")!
        // The driver zeroes `out`; the kernel may rely on that, as SciPy's callers do.
        let ok = emitter.call(lowering.functions[program.kernelIndex], [arena, line, extendedLength, out, n] + parameters)
        if lowering.usesArena {
            emitter.call(emitter.declare("filterjit_release", returning: types.void, [types.bytePointer]), [arena])
        }
        let success = emitter.block("ok")
        emitter.branch(if: ok, then: success, else: failure)
        emitter.position(at: success)
        LLVMBuildRet(builder, emitter.int32(1))
        emitter.position(at: failure)
        LLVMBuildRet(builder, emitter.int32(0))
    }
}

// MARK: - Fused transform rows

/// Where the fields of `fj_transform_row_arguments` (KernelABI's header) lie, as the row kernel reads them.
enum TransformRowABI {
    struct Offsets {
        let outputIndex: Int, first: Int, count: Int, coordinates: Int, parameters: Int
    }
    static let offsets = Offsets(
        outputIndex: MemoryLayout<fj_transform_row_arguments>.offset(of: \.output_index)!,
        first: MemoryLayout<fj_transform_row_arguments>.offset(of: \.first)!,
        count: MemoryLayout<fj_transform_row_arguments>.offset(of: \.count)!,
        coordinates: MemoryLayout<fj_transform_row_arguments>.offset(of: \.coordinates)!,
        parameters: MemoryLayout<fj_transform_row_arguments>.offset(of: \.parameters)!)
}

/// What a fused `@transform` row kernel is compiled for: the ranks its coordinate code sees, as
/// constants (so `len(out_coords)`, `len(in_coords)` and the bounds checks fold away). The spline
/// order, the element types, the mode and cval do not change this code: the interpolation runs in
/// NDImage's precompiled driver.
public struct TransformLayout: Hashable, Sendable {
    /// The output's rank (`len(out_coords)`).
    public var outputRank: Int
    /// The input's rank (`len(in_coords)`).
    public var inputRank: Int

    /// Creates a layout.
    public init(outputRank: Int, inputRank: Int) {
        self.outputRank = outputRank
        self.inputRank = inputRank
    }
}

extension Codegen {
    /// Lowers the fused transform row kernel (`fj_transform_row_kernel`) of a `@transform` program
    /// for `layout`, exported as `options.exportName`, and verifies it.
    public static func lowerFusedTransform(_ program: TypedProgram, layout: TransformLayout, options: CodegenOptions,
                                           in context: ThreadSafeContext) throws -> Module {
        guard program.kind == .transform else { throw LLVMError("only @transform kernels have fused transform rows") }
        guard layout.outputRank >= 1, layout.inputRank >= 1 else { throw LLVMError("transform ranks must be at least 1") }
        guard let module = LLVMModuleCreateWithNameInContext(options.exportName, context.context) else {
            throw LLVMError("cannot create a module")
        }
        let owned = Module(handle: module, context: context)
        try validateShape(program)
        let emitter = Emitter(context: context.context, module: module)
        // The row-invariant part of the coordinate code (trigonometry of parameters, say) is hoisted
        // out of the point loop by LLVM; libm calls must be side-effect free for that.
        emitter.hoistableMath = true
        let lowering = ProgramLowering(program: program, emitter: emitter, prefix: options.internalPrefix)
        try lowering.lowerFunctions()
        // (A transform row reads no window and stores no element: the emitter's filter layout is unused.)
        let fused = FusedEmitter(program: program, lowering: lowering,
                                 layout: FusedLayout(inputType: .float64, outputType: .float64, tapCount: 0))
        fused.addAttribute("alwaysinline", to: lowering.functions[program.kernelIndex].function)
        try fused.emitTransformRow(name: options.exportName, layout: layout)
        try owned.verify()
        return owned
    }

    /// Lowers, verifies and optimises a fused transform module in a fresh context (see `prepare`).
    public static func prepareFusedTransform(_ program: TypedProgram, layout: TransformLayout, options: CodegenOptions,
                                             level: OptimizationLevel, machine: TargetMachine,
                                             keepText: Bool = true) throws -> PreparedModule {
        try prepareStages(program, machine: machine, keepText: keepText,
                          lower: { try lowerFusedTransform(program, layout: layout, options: options, in: $0) },
                          optimize: { try $0.optimize(pipeline: level.pipeline, level: level, machine: machine) })
    }
}

extension FusedEmitter {
    /// The transform row kernel (`fj_transform_row_kernel`): an exported entry that reads the argument
    /// block and calls the point loop. The loop's index and coordinate pointers are `noalias`, so
    /// LLVM keeps the row's leading output coordinates in registers and hoists what depends only on
    /// them and the parameters (the row-invariant part of an affine map) out of the loop; each
    /// point's coordinates are still computed by the kernel's own formula, so the bits equal the
    /// callback's.
    func emitTransformRow(name: String, layout: TransformLayout) throws {
        let i64 = types.int64
        let indexPointer = types.int64Pointer
        // (output_index, first, count, coordinates, parameters) -> i64
        let loop = addFunction(name + ".row", returning: i64,
                               [indexPointer, i64, i64, types.doublePointer, types.doublePointer])
        LLVMSetLinkage(loop, LLVMInternalLinkage)
        addAttribute("noalias", to: loop, parameter: 0)
        addAttribute("noalias", to: loop, parameter: 3)
        try emitTransformLoop(in: loop, layout: layout)

        let offsets = TransformRowABI.offsets
        emitArgumentBlockEntry(name, calling: loop, fields: [(offsets.outputIndex, indexPointer), (offsets.first, i64),
                                                             (offsets.count, i64), (offsets.coordinates, types.doublePointer),
                                                             (offsets.parameters, types.doublePointer)])
    }

    /// The point loop: for point i, `output_index[last] = first + i`, its coordinates zeroed, the kernel
    /// body (inlined) filling them. Returns -1, or the failing point's index.
    private func emitTransformLoop(in function: LLVMValueRef, layout: TransformLayout) throws {
        emitter.position(at: LLVMAppendBasicBlockInContext(emitter.context, function, "entry")!)
        func parameter(_ index: UInt32) -> LLVMValueRef { LLVMGetParam(function, index)! }
        let index = parameter(0), first = parameter(1), count = parameter(2), coordinates = parameter(3)
        let failure = emitter.block("fail")
        let failedIndexSlot = LLVMBuildAlloca(builder, types.int64, "failed")!
        emitter.store(emitter.int64(0), failedIndexSlot)
        let parameters = try loadParameters(parameter(4), failure: failure)
        let arenaType = LLVMArrayType(types.int64, 2)!
        let arenaStorage = LLVMBuildAlloca(builder, arenaType, "arena")!
        emitter.store(LLVMConstNull(arenaType), arenaStorage)
        let arena = LLVMBuildBitCast(builder, arenaStorage, types.bytePointer, "")!
        let outputRank = emitter.int64(Int64(layout.outputRank)), inputRank = emitter.int64(Int64(layout.inputRank))
        let lastAxis = emitter.int64(Int64(layout.outputRank - 1))
        _ = emitter.loop(from: emitter.int64(0), to: count, carrying: []) { i, _ in
            emitter.store(emitter.add(first, i), emitter.elementAddress(types.int64, index, lastAxis))
            let point = emitter.elementAddress(types.double, coordinates, LLVMBuildMul(builder, i, inputRank, "")!)
            for axis in 0..<layout.inputRank {
                emitter.store(emitter.double(0), emitter.elementAddress(types.double, point, emitter.int64(Int64(axis))))
            }
            emitter.store(i, failedIndexSlot)
            let ok = emitter.call(lowering.functions[program.kernelIndex],
                                  [arena, index, outputRank, point, inputRank] + parameters)
            if lowering.usesArena {
                emitter.call(emitter.declare("filterjit_release", returning: types.void, [types.bytePointer]), [arena])
            }
            let success = emitter.block("call.ok")
            emitter.branch(if: ok, then: success, else: failure)
            emitter.position(at: success)
            return []
        }
        LLVMBuildRet(builder, emitter.int64(-1))
        emitter.position(at: failure)
        LLVMBuildRet(builder, emitter.load(types.int64, failedIndexSlot))
    }
}
