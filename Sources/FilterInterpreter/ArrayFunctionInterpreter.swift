// The reference semantics of array functions (issue 15): n-dimensional strided arrays, bounds-checked
// element loads and stores with the casts of `ArrayDType`, and arrays the function allocates.

import FilterLang

/// An n-dimensional array value: a view of caller memory or of a buffer the function made (`owner`).
final class NDBox {
    let view: NDArrayView
    /// The buffer when the function allocated this array (keeps its memory alive).
    let owner: NDBuffer?

    init(view: NDArrayView, owner: NDBuffer?) {
        self.view = view
        self.owner = owner
    }
}

extension Interpreter {
    /// Runs an array function on `arguments` (one per parameter, matching `program.arraySignature`);
    /// returns its result: `.none`, a scalar, `.buffer` for a new array, or `.array` when it returns one
    /// of its arguments.
    public func runArrayFunction(_ arguments: [ArrayFunctionValue]) throws(KernelRuntimeError) -> ArrayFunctionValue {
        guard program.functions.indices.contains(program.kernelIndex), program.kind == .arrayFunction,
              let signature = program.arraySignature else {
            throw KernelRuntimeError("the program is not an array function", at: .none)
        }
        let kernel = program.kernel
        guard arguments.count == signature.arguments.count, arguments.count == kernel.parameterCount else {
            throw KernelRuntimeError("'\(kernel.name)' takes \(kernel.parameterCount) arguments, got \(arguments.count)", at: kernel.range)
        }
        var frame = [Value?](repeating: nil, count: kernel.locals.count)
        for (slot, (argument, type)) in zip(arguments, signature.arguments).enumerated() {
            guard argument.argumentType == type else {
                throw KernelRuntimeError("argument \(slot + 1) of '\(kernel.name)' is \(argument.argumentType?.description ?? "None"), but the function was compiled for \(type)", at: kernel.range)
            }
            switch argument {
            case .int(let x): frame[slot] = .int(x)
            case .float(let x): frame[slot] = .float(x)
            case .bool(let x): frame[slot] = .bool(x)
            case .array(let view): frame[slot] = .nd(NDBox(view: view, owner: nil))
            case .buffer(let buffer): frame[slot] = .nd(NDBox(view: buffer.view, owner: buffer))
            case .none: throw KernelRuntimeError("None is not a valid argument", at: kernel.range)
            }
        }
        var run = Execution(program: program, stepBudget: stepBudget)
        run.currentLocals = kernel.locals
        let result = try run.call(kernel, frame: &frame)
        switch result {
        case nil: return .none
        case .int(let x)?: return .int(x)
        case .float(let x)?: return .float(x)
        case .bool(let x)?: return .bool(x)
        case .nd(let box)?: return box.owner.map { .buffer($0) } ?? .array(box.view)
        case .array?: throw KernelRuntimeError("a 1-D local array cannot be returned", at: kernel.range)
        }
    }
}

extension Execution {
    /// The n-dimensional array in `slot`.
    func ndBox(_ slot: Int, in frame: [Value?], at range: SourceRange) throws(KernelRuntimeError) -> NDBox {
        guard frame.indices.contains(slot), case .nd(let box)? = frame[slot] else {
            throw KernelRuntimeError("expected an n-dimensional array", at: range)
        }
        return box
    }

    /// The address of `box[indices]`, each index bounds-checked (negative counts from the end).
    mutating func elementAddress(_ box: NDBox, slot: Int, indices: [TExpr], at range: SourceRange,
                                 frame: inout [Value?]) throws(KernelRuntimeError) -> UnsafeMutableRawPointer {
        let view = box.view
        guard indices.count == view.shape.count, let data = view.data else {
            throw KernelRuntimeError(view.data == nil ? "index into an empty array" : "wrong number of indices", at: range)
        }
        var offset = 0
        for (axis, indexExpression) in indices.enumerated() {
            let index = try int(indexExpression, frame: &frame)
            let extent = view.shape[axis]
            let position = index < 0 ? index &+ Int64(extent) : index
            guard position >= 0, position < Int64(extent) else {
                let name = currentLocals.indices.contains(slot) ? currentLocals[slot].name : "?"
                throw KernelRuntimeError(RuntimeMessages.ndIndex(array: name, index: index, axis: axis, shape: view.shape),
                                         at: indexExpression.range)
            }
            offset += Int(position) * view.strides[axis]
        }
        return data + offset
    }

    /// `a[i, ...] = value` (`TTarget.ndElement`).
    mutating func storeElement(slot: Int, indices: [TExpr], value: Value, at range: SourceRange,
                               frame: inout [Value?]) throws(KernelRuntimeError) {
        let box = try ndBox(slot, in: frame, at: range)
        let scalar: ScalarValue
        switch value {
        case .int(let x): scalar = .int(x)
        case .float(let x): scalar = .float(x)
        case .bool(let x): scalar = .bool(x)
        case .array, .nd: throw KernelRuntimeError("cannot store an array into an element", at: range)
        }
        let address = try elementAddress(box, slot: slot, indices: indices, at: range, frame: &frame)
        guard box.view.dtype.store(scalar, at: address) else {
            guard case .float(let x) = scalar else { throw KernelRuntimeError("store failed", at: range) }
            throw KernelRuntimeError(RuntimeMessages.floatToIntStore(x), at: range)
        }
    }

    /// The `nd...` expression forms.
    @inline(never)
    mutating func evaluateArrayFunctionForm(_ expression: TExpr, frame: inout [Value?]) throws(KernelRuntimeError) -> Value {
        let range = expression.range
        switch expression.kind {
        case .ndElement(let slot, let indices):
            let box = try ndBox(slot, in: frame, at: range)
            let address = try elementAddress(box, slot: slot, indices: indices, at: range, frame: &frame)
            switch box.view.dtype.load(address) {
            case .int(let x): return .int(x)
            case .float(let x): return .float(x)
            case .bool(let x): return .bool(x)
            }
        case .ndShape(let slot, let axis):
            let box = try ndBox(slot, in: frame, at: range)
            guard box.view.shape.indices.contains(axis) else { throw KernelRuntimeError("axis \(axis) out of range", at: range) }
            return .int(Int64(box.view.shape[axis]))
        case .ndReduce(let operation, let slot):
            let box = try ndBox(slot, in: frame, at: range)
            switch operation.reduce(box.view) {
            case nil: throw KernelRuntimeError(operation.emptyMessage, at: range)
            case .int(let x)?: return .int(x)
            case .float(let x)?: return .float(x)
            case .bool(let x)?: return .bool(x)
            }
        case .ndSize(let slot):
            let box = try ndBox(slot, in: frame, at: range)
            return .int(Int64(box.view.shape.reduce(1, *)))
        case .ndAllocate(let layout, let shapeExpressions):
            var shape: [Int] = []
            for extent in shapeExpressions { shape.append(Int(try int(extent, frame: &frame))) }
            guard shape.count == layout.rank, let buffer = NDBuffer.zeroed(dtype: layout.dtype, shape: shape) else {
                throw KernelRuntimeError(RuntimeMessages.ndAllocation(shape: shape, itemSize: layout.dtype.itemSize), at: range)
            }
            return .nd(NDBox(view: buffer.view, owner: buffer))
        default:
            throw KernelRuntimeError("internal error: not an array-function form", at: range)
        }
    }
}
