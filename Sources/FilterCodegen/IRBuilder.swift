// Low-level IR emission helpers shared by the lowering: types, constants, blocks,
// loops and checks. Nothing here knows the filter language.

internal import CLLVM

/// The LLVM types the lowering uses, created once per context.
struct IRTypes {
    let bool: LLVMTypeRef
    let int8: LLVMTypeRef
    let int32: LLVMTypeRef
    let int64: LLVMTypeRef
    let double: LLVMTypeRef
    let void: LLVMTypeRef
    let doublePointer: LLVMTypeRef
    let int64Pointer: LLVMTypeRef
    let bytePointer: LLVMTypeRef

    init(_ context: LLVMContextRef) {
        bool = LLVMInt1TypeInContext(context)
        int8 = LLVMInt8TypeInContext(context)
        int32 = LLVMInt32TypeInContext(context)
        int64 = LLVMInt64TypeInContext(context)
        double = LLVMDoubleTypeInContext(context)
        void = LLVMVoidTypeInContext(context)
        // Typed pointers on LLVM 14; opaque `ptr` on newer versions.
        doublePointer = LLVMPointerType(double, 0)
        int64Pointer = LLVMPointerType(int64, 0)
        bytePointer = LLVMPointerType(int8, 0)
    }
}

/// A declared function and its type (calls need both with the `*2` builders).
struct Callee {
    let function: LLVMValueRef
    let type: LLVMTypeRef
}

/// Emission state over one LLVM builder positioned in one function. (The LLVM builder and
/// constructor functions never return NULL for valid arguments, so their results are unwrapped.)
final class Emitter {
    let context: LLVMContextRef
    let module: LLVMModuleRef
    let builder: LLVMBuilderRef
    let types: IRTypes
    private var declared: [String: Callee] = [:]
    /// Whether libm calls are marked free of side effects (`readnone`, `nounwind`, `willreturn`), so
    /// that LLVM may hoist a call with loop-invariant arguments out of a loop (fused transform rows:
    /// `np.cos(angle)` once per run instead of once per point). The call and its bits are unchanged;
    /// only `errno`, which nothing reads, is no longer kept in order.
    var hoistableMath = false

    init(context: LLVMContextRef, module: LLVMModuleRef) {
        self.context = context
        self.module = module
        self.builder = LLVMCreateBuilderInContext(context)
        self.types = IRTypes(context)
    }

    deinit { LLVMDisposeBuilder(builder) }

    // MARK: Constants

    func int64(_ value: Int64) -> LLVMValueRef { LLVMConstInt(types.int64, UInt64(bitPattern: value), 1) }
    func int32(_ value: Int32) -> LLVMValueRef { LLVMConstInt(types.int32, UInt64(UInt32(bitPattern: value)), 1) }
    func bool(_ value: Bool) -> LLVMValueRef { LLVMConstInt(types.bool, value ? 1 : 0, 0) }
    func double(_ value: Double) -> LLVMValueRef { LLVMConstReal(types.double, value) }

    // MARK: Declarations

    /// Declares (once) an external function, e.g. a libm or runtime symbol, or an intrinsic.
    func declare(_ name: String, returning result: LLVMTypeRef, _ parameters: [LLVMTypeRef]) -> Callee {
        if let existing = declared[name] { return existing }
        var parameterTypes: [LLVMTypeRef?] = parameters
        let type = parameterTypes.withUnsafeMutableBufferPointer {
            LLVMFunctionType(result, $0.baseAddress, UInt32($0.count), 0)
        }!
        let function = LLVMGetNamedFunction(module, name) ?? LLVMAddFunction(module, name, type)!
        let callee = Callee(function: function, type: type)
        declared[name] = callee
        return callee
    }

    @discardableResult
    func call(_ callee: Callee, _ arguments: [LLVMValueRef]) -> LLVMValueRef {
        var values: [LLVMValueRef?] = arguments
        return values.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder, callee.type, callee.function, $0.baseAddress, UInt32($0.count), "")
        }!
    }

    /// A call of a `double (double...)` libm function or intrinsic.
    ///
    /// libm calls are marked `nobuiltin`: otherwise LLVM rewrites e.g. `pow(x, 2.0)` to `x * x` and
    /// `pow(x, 0.5)` to `sqrt(x)`, which differ from glibc's `pow` (what CPython and the interpreter
    /// call) in about 0.1% of inputs, and folds constants with the compiler's libm.
    func callMath(_ name: String, _ arguments: [LLVMValueRef]) -> LLVMValueRef {
        let result = call(declare(name, returning: types.double, Array(repeating: types.double, count: arguments.count)), arguments)
        if !name.hasPrefix("llvm.") {
            let kind = LLVMGetEnumAttributeKindForName("nobuiltin", 9)
            // Index ~0 is the function itself (LLVMAttributeFunctionIndex).
            LLVMAddCallSiteAttribute(result, UInt32.max, LLVMCreateEnumAttribute(context, kind, 0))
            if hoistableMath {
                for attribute in ["readnone", "nounwind", "willreturn"] {
                    let kind = LLVMGetEnumAttributeKindForName(attribute, attribute.utf8.count)
                    LLVMAddCallSiteAttribute(result, UInt32.max, LLVMCreateEnumAttribute(context, kind, 0))
                }
            }
        }
        return result
    }

    // MARK: Blocks

    var currentFunction: LLVMValueRef { LLVMGetBasicBlockParent(LLVMGetInsertBlock(builder))! }
    var currentBlock: LLVMBasicBlockRef { LLVMGetInsertBlock(builder)! }

    func block(_ name: String) -> LLVMBasicBlockRef {
        LLVMAppendBasicBlockInContext(context, currentFunction, name)!
    }

    func position(at block: LLVMBasicBlockRef) { LLVMPositionBuilderAtEnd(builder, block) }

    /// Whether the current block already ends in a terminator.
    var isTerminated: Bool { LLVMGetBasicBlockTerminator(currentBlock) != nil }

    func branch(to block: LLVMBasicBlockRef) {
        if !isTerminated { LLVMBuildBr(builder, block) }
    }

    func branch(if condition: LLVMValueRef, then thenBlock: LLVMBasicBlockRef, else elseBlock: LLVMBasicBlockRef) {
        LLVMBuildCondBr(builder, condition, thenBlock, elseBlock)
    }

    /// Continues emission in a fresh block with no predecessors (code after `return`/`break`).
    func startDeadBlock() { position(at: block("dead")) }

    func phi(_ type: LLVMTypeRef, _ incoming: [(LLVMValueRef, LLVMBasicBlockRef)]) -> LLVMValueRef {
        let node = LLVMBuildPhi(builder, type, "")!
        addIncoming(node, incoming)
        return node
    }

    func addIncoming(_ phi: LLVMValueRef, _ incoming: [(LLVMValueRef, LLVMBasicBlockRef)]) {
        var values: [LLVMValueRef?] = incoming.map { $0.0 }
        var blocks: [LLVMBasicBlockRef?] = incoming.map { $0.1 }
        values.withUnsafeMutableBufferPointer { valuePointer in
            blocks.withUnsafeMutableBufferPointer { blockPointer in
                LLVMAddIncoming(phi, valuePointer.baseAddress, blockPointer.baseAddress, UInt32(incoming.count))
            }
        }
    }

    // MARK: Memory

    func load(_ type: LLVMTypeRef, _ pointer: LLVMValueRef) -> LLVMValueRef {
        LLVMBuildLoad2(builder, type, pointer, "")!
    }

    func store(_ value: LLVMValueRef, _ pointer: LLVMValueRef) {
        LLVMBuildStore(builder, value, pointer)
    }

    func elementAddress(_ elementType: LLVMTypeRef, _ base: LLVMValueRef, _ index: LLVMValueRef) -> LLVMValueRef {
        var indices: [LLVMValueRef?] = [index]
        return indices.withUnsafeMutableBufferPointer {
            LLVMBuildInBoundsGEP2(builder, elementType, base, $0.baseAddress, 1, "")
        }!
    }

    /// A private constant global `[n x elementType]` holding `values` (constants of `elementType`);
    /// returns the global (its address is the first element's, after a bitcast).
    func constantArrayGlobal(_ elementType: LLVMTypeRef, _ values: [LLVMValueRef], name: String) -> LLVMValueRef {
        var elements: [LLVMValueRef?] = values
        let initializer = elements.withUnsafeMutableBufferPointer {
            LLVMConstArray(elementType, $0.baseAddress, UInt32($0.count))
        }!
        let global = LLVMAddGlobal(module, LLVMArrayType(elementType, UInt32(values.count)), name)!
        LLVMSetInitializer(global, initializer)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetLinkage(global, LLVMPrivateLinkage)
        return global
    }

    // MARK: Arithmetic shorthands

    func icmp(_ predicate: LLVMIntPredicate, _ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef {
        LLVMBuildICmp(builder, predicate, a, b, "")!
    }

    func fcmp(_ predicate: LLVMRealPredicate, _ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef {
        LLVMBuildFCmp(builder, predicate, a, b, "")!
    }

    func select(_ condition: LLVMValueRef, _ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef {
        LLVMBuildSelect(builder, condition, a, b, "")!
    }

    func and(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildAnd(builder, a, b, "")! }
    func or(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildOr(builder, a, b, "")! }
    func not(_ a: LLVMValueRef) -> LLVMValueRef { LLVMBuildNot(builder, a, "")! }
    func add(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildAdd(builder, a, b, "")! }
    func sub(_ a: LLVMValueRef, _ b: LLVMValueRef) -> LLVMValueRef { LLVMBuildSub(builder, a, b, "")! }
    func isNaN(_ x: LLVMValueRef) -> LLVMValueRef { fcmp(LLVMRealUNO, x, x) }

    // MARK: Loops

    /// Emits `for i in start..<count` with loop-carried values; `body` returns the next values.
    /// Returns the values after the loop.
    func loop(from start: LLVMValueRef, to count: LLVMValueRef, carrying initial: [(LLVMTypeRef, LLVMValueRef)],
              body: (_ index: LLVMValueRef, _ carried: [LLVMValueRef]) -> [LLVMValueRef]) -> [LLVMValueRef] {
        let preheader = currentBlock
        let header = block("loop")
        let bodyBlock = block("loop.body")
        let exit = block("loop.exit")
        branch(to: header)
        position(at: header)
        let index = phi(types.int64, [(start, preheader)])
        let carried = initial.map { phi($0.0, [($0.1, preheader)]) }
        branch(if: icmp(LLVMIntSLT, index, count), then: bodyBlock, else: exit)
        position(at: bodyBlock)
        let next = body(index, carried)
        let nextIndex = add(index, int64(1))
        let latch = currentBlock
        branch(to: header)
        addIncoming(index, [(nextIndex, latch)])
        for (node, value) in zip(carried, next) { addIncoming(node, [(value, latch)]) }
        position(at: exit)
        return carried
    }
}
