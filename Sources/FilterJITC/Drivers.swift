// filterjit_generic_filter and filterjit_generic_filter1d: caller buffers in, the kernel's driver
// (`Kernel.genericFilter`: the fused whole-image kernel, threaded, or the SciPy callback path), the
// result written straight into the caller's output. Caller buffers aligned for their element type are
// viewed in place (no copy); unaligned ones are copied in and out.

import Foundation
import FilterJIT
import FilterLang
import NDImage

/// The user_data array: the caller's values, or the defaults when `parameters` is NULL.
func userDataValues(_ kernel: Kernel, _ parameters: UnsafePointer<Double>?, _ count: Int) throws -> [Double] {
    guard let parameters else {
        if let missing = kernel.parameters.first(where: \.isRequired) {
            throw APIFailure(.argument, "kernel '\(kernel.name)' needs a value for parameter '\(missing.name)' (it has no default)")
        }
        return kernel.parameters.map(\.defaultValue)
    }
    guard count == kernel.parameters.count else {
        throw APIFailure(.argument, "kernel '\(kernel.name)' has \(kernel.parameters.count) parameters, \(count) given")
    }
    return (0..<count).map { parameters[$0] }
}

/// The engine of a `FILTERJIT_ENGINE_*` code.
func executionEngine(_ code: Int32) throws -> ExecutionEngine {
    switch code {
    case 0: return .callback
    case 1: return .fused
    default:
        throw APIFailure(.argument, "engine code \(code) is neither FILTERJIT_ENGINE_CALLBACK (0) nor FILTERJIT_ENGINE_FUSED (1)")
    }
}

/// The parameters by name, as `Kernel.genericFilter` takes them.
func namedParameters(_ kernel: Kernel, _ values: [Double]) -> [String: Double] {
    Dictionary(zip(kernel.parameters.map(\.name), values), uniquingKeysWith: { first, _ in first })
}

/// The thread count of the C API as the driver takes it: 0 or less is nil (the filters: as many cores as the work
/// keeps busy, `RowThreads.count`; transforms: every core).
func threadCount(_ threads: Int32) -> Int? {
    threads <= 0 ? nil : Int(threads)
}

/// Runs `body` on arrays for the caller's input and output, then brings the result back: views of the
/// caller's memory when aligned for their element type, else C-ordered copies.
/// `copyingOut: false` leaves the caller's output untouched (a preparation that writes nothing).
func withArrays(_ source: CallerArray, _ destination: CallerArray, copyingOut: Bool = true,
                        _ body: (NDArray, NDArray) throws -> Void) throws {
    let image = try source.borrowedView() ?? source.copiedIn()
    if let output = try destination.borrowedView() {
        try translatingErrors { try body(image, output) }
    } else {
        let result: NDArray
        do { result = try NDArray(shape: destination.shape, elementType: destination.elementType) } catch { throw APIFailure(error) }
        try translatingErrors { try body(image, result) }
        if copyingOut { destination.copyOut(from: result) }
    }
}

/// Maps the driver's errors to the C API's statuses.
func translatingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as KernelFailure {
        throw APIFailure(.kernel, failure.description)
    } catch let failure as KernelCallError {
        throw APIFailure(.argument, failure.description)
    } catch {
        throw APIFailure(error)
    }
}

/// The kernel of a handle, checked to be of `kind`; the error names the function to use instead.
func checkedKernel(_ handle: OpaquePointer?, kind: KernelKind) throws -> Kernel {
    guard let box = kernelBox(handle) else { throw APIFailure(.argument, "kernel is NULL") }
    let kernel = box.kernel
    guard kernel.kind == kind else {
        let use: String
        switch kernel.kind {
        case .filter: use = "generic_filter"
        case .lineFilter: use = "generic_filter1d"
        case .transform: use = "geometric_transform"
        case .arrayFunction: use = "filterjit_array_function_call"
        }
        throw APIFailure(.argument, "kernel '\(kernel.name)' is a @\(kernel.kind.rawValue) kernel; use it with \(use)")
    }
    return kernel
}

// MARK: generic_filter

/// `FILTERJIT_FLAG_FAST_MATH`: float window sums/means may take the fast-math box sums.
let fastMathFlag: Int32 = 1

/// `int filterjit_generic_filter_flags(...)`: filterjit_generic_filter with `flags` (FILTERJIT_FLAG_*).
@_cdecl("filterjit_generic_filter_flags")
public func filterjit_generic_filter_flags(
    _ kernelHandle: OpaquePointer?,
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
    _ footprint: UnsafePointer<UInt8>?, _ footprintRank: Int32, _ footprintShape: UnsafePointer<Int>?,
    _ axes: UnsafePointer<Int>?, _ origins: UnsafePointer<Int>?,
    _ mode: Int32, _ cval: Double,
    _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
    _ engine: Int32, _ threads: Int32, _ flags: Int32,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guard flags & ~fastMathFlag == 0 else {
        return withStatus(errorText) {
            throw APIFailure(.argument, "unknown flags \(flags & ~fastMathFlag) (known: FILTERJIT_FLAG_FAST_MATH = 1)")
        }
    }
    return genericFilter(kernelHandle, input, inputDtype, rank, shape, inputStrides, output, outputDtype, outputStrides,
                         footprint, footprintRank, footprintShape, axes, origins, mode, cval, parameters, parameterCount,
                         engine, threads, strategy: flags & fastMathFlag != 0 ? .fastMath : .auto, errorText)
}

/// `int filterjit_generic_filter(...)`: see filterjit.h.
@_cdecl("filterjit_generic_filter")
public func filterjit_generic_filter(
    _ kernelHandle: OpaquePointer?,
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
    _ footprint: UnsafePointer<UInt8>?, _ footprintRank: Int32, _ footprintShape: UnsafePointer<Int>?,
    _ axes: UnsafePointer<Int>?, _ origins: UnsafePointer<Int>?,
    _ mode: Int32, _ cval: Double,
    _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
    _ engine: Int32, _ threads: Int32,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    genericFilter(kernelHandle, input, inputDtype, rank, shape, inputStrides, output, outputDtype, outputStrides,
                  footprint, footprintRank, footprintShape, axes, origins, mode, cval, parameters, parameterCount,
                  engine, threads, strategy: .auto, errorText)
}

/// A filter call's input and output buffers of one shape, read and checked (input first).
private func callerArrays(_ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
                          _ inputStrides: UnsafePointer<Int>?, _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32,
                          _ outputStrides: UnsafePointer<Int>?) throws -> (CallerArray, CallerArray) {
    (try CallerArray(base: input, dtype: inputDtype, rank: rank, shape: shape, strides: inputStrides, role: "input"),
     try CallerArray(base: UnsafeRawPointer(output), dtype: outputDtype, rank: rank, shape: shape, strides: outputStrides,
                     role: "output"))
}

/// The arguments of a generic_filter call, read and checked in the C API's order.
private struct GenericFilterCall {
    let kernel: Kernel
    let source: CallerArray
    let destination: CallerArray
    let options: FilterOptions
    let parameters: [String: Double]
    let engine: ExecutionEngine
    let threads: Int?

    init(_ kernelHandle: OpaquePointer?,
         _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
         _ inputStrides: UnsafePointer<Int>?,
         _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
         _ footprint: UnsafePointer<UInt8>?, _ footprintRank: Int32, _ footprintShape: UnsafePointer<Int>?,
         _ axes: UnsafePointer<Int>?, _ origins: UnsafePointer<Int>?,
         _ mode: Int32, _ cval: Double,
         _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
         _ engine: Int32, _ threads: Int32) throws {
        let kernel = try checkedKernel(kernelHandle, kind: .filter)
        let (source, destination) = try callerArrays(input, inputDtype, rank, shape, inputStrides, output, outputDtype,
                                                     outputStrides)
        guard footprintRank >= 0, footprintRank <= 64 else {
            throw APIFailure(.argument, "footprint rank \(footprintRank) is out of range (0...64)")
        }
        let filteredAxes = Int(footprintRank)
        guard let footprintDims = readIntegers(footprintShape, count: filteredAxes) else {
            throw APIFailure(.argument, "footprint shape is NULL")
        }
        let tapCount: Int
        do { tapCount = try NDArray.checkedElementCount(shape: footprintDims, itemSize: 1) } catch { throw APIFailure(error) }
        let entries: [Bool]
        if tapCount == 0 {
            entries = []
        } else if let footprint {
            entries = UnsafeBufferPointer(start: footprint, count: tapCount).map { $0 != 0 }
        } else {
            throw APIFailure(.argument, "footprint is NULL")
        }
        let mask: Footprint
        do { mask = try Footprint(shape: footprintDims, mask: entries) } catch { throw APIFailure(error) }
        options = FilterOptions(footprint: mask, mode: try boundaryMode(code: mode), cval: cval,
                                origin: readIntegers(origins, count: filteredAxes) ?? [],
                                axes: axes == nil ? nil : readIntegers(axes, count: filteredAxes))
        let values = try userDataValues(kernel, parameters, parameterCount)
        self.engine = try executionEngine(engine)
        self.threads = threadCount(threads)
        self.kernel = kernel
        self.source = source
        self.destination = destination
        self.parameters = namedParameters(kernel, values)
    }
}

private func genericFilter(
    _ kernelHandle: OpaquePointer?,
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
    _ footprint: UnsafePointer<UInt8>?, _ footprintRank: Int32, _ footprintShape: UnsafePointer<Int>?,
    _ axes: UnsafePointer<Int>?, _ origins: UnsafePointer<Int>?,
    _ mode: Int32, _ cval: Double,
    _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
    _ engine: Int32, _ threads: Int32, strategy: WindowStrategyChoice,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    withStatus(errorText) {
        let call = try GenericFilterCall(kernelHandle, input, inputDtype, rank, shape, inputStrides, output, outputDtype,
                                         outputStrides, footprint, footprintRank, footprintShape, axes, origins, mode, cval,
                                         parameters, parameterCount, engine, threads)
        try withArrays(call.source, call.destination) { image, output in
            _ = try call.kernel.genericFilter(image, options: call.options, output: .array(output),
                                              parameters: call.parameters, engine: call.engine,
                                              strategy: strategy, threads: call.threads)
        }
    }
}

// MARK: prepared generic_filter

/// What a `filterjit_filter_plan` handle points to: a generic_filter or generic_filter1d call prepared for
/// one layout (`PreparedGenericFilter`, `PreparedGenericFilter1D`: its `run`) and the caller arrays' layout,
/// whose addresses each run supplies.
final class FilterPlanBox {
    let run: (NDArray, NDArray) throws -> Void
    let source: CallerArray
    let destination: CallerArray

    init(run: @escaping (NDArray, NDArray) throws -> Void, source: CallerArray, destination: CallerArray) {
        self.run = run
        self.source = source
        self.destination = destination
    }
}

/// `filterjit_filter_plan *filterjit_generic_filter_prepare(...)`: see filterjit.h.
@_cdecl("filterjit_generic_filter_prepare")
public func filterjit_generic_filter_prepare(
    _ kernelHandle: OpaquePointer?,
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
    _ footprint: UnsafePointer<UInt8>?, _ footprintRank: Int32, _ footprintShape: UnsafePointer<Int>?,
    _ axes: UnsafePointer<Int>?, _ origins: UnsafePointer<Int>?,
    _ mode: Int32, _ cval: Double,
    _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
    _ engine: Int32, _ threads: Int32, _ flags: Int32,
    _ status: UnsafeMutablePointer<Int32>?,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> OpaquePointer? {
    var plan: FilterPlanBox?
    let code = withStatus(errorText) {
        guard flags & ~fastMathFlag == 0 else {
            throw APIFailure(.argument, "unknown flags \(flags & ~fastMathFlag) (known: FILTERJIT_FLAG_FAST_MATH = 1)")
        }
        let call = try GenericFilterCall(kernelHandle, input, inputDtype, rank, shape, inputStrides, output, outputDtype,
                                         outputStrides, footprint, footprintRank, footprintShape, axes, origins, mode, cval,
                                         parameters, parameterCount, engine, threads)
        try withArrays(call.source, call.destination, copyingOut: false) { image, output in
            let prepared = try call.kernel.prepareGenericFilter(
                input: image, options: call.options, output: output, parameters: call.parameters, engine: call.engine,
                strategy: flags & fastMathFlag != 0 ? .fastMath : .auto, threads: call.threads)
            plan = FilterPlanBox(run: prepared.run, source: call.source, destination: call.destination)
        }
    }
    status?.pointee = code
    guard let plan else { return nil }
    return OpaquePointer(Unmanaged.passRetained(plan).toOpaque())
}

/// `int filterjit_filter_plan_run(const filterjit_filter_plan *, const void *input, void *output, char **error)`.
@_cdecl("filterjit_filter_plan_run")
public func filterjit_filter_plan_run(
    _ handle: OpaquePointer?, _ input: UnsafeRawPointer?, _ output: UnsafeMutableRawPointer?,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    withStatus(errorText) {
        guard let handle else { throw APIFailure(.argument, "filter plan is NULL") }
        let plan = Unmanaged<FilterPlanBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
        let source = try plan.source.rebased(input, role: "input")
        let destination = try plan.destination.rebased(UnsafeRawPointer(output), role: "output")
        try withArrays(source, destination) { image, output in
            try plan.run(image, output)
        }
    }
}

/// `void filterjit_filter_plan_free(filterjit_filter_plan *)`.
@_cdecl("filterjit_filter_plan_free")
public func filterjit_filter_plan_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<FilterPlanBox>.fromOpaque(UnsafeRawPointer(handle)).release()
}

// MARK: generic_filter1d

/// The arguments of a generic_filter1d call, read and checked (the C entry and its prepared form share them).
private struct GenericFilter1DCall {
    let kernel: Kernel
    let source: CallerArray
    let destination: CallerArray
    let options: LineFilterOptions
    let parameters: [String: Double]
    let engine: ExecutionEngine
    let threads: Int?

    init(_ kernelHandle: OpaquePointer?,
         _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
         _ inputStrides: UnsafePointer<Int>?,
         _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
         _ filterSize: Int, _ axis: Int32, _ mode: Int32, _ cval: Double, _ origin: Int,
         _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
         _ engine: Int32, _ threads: Int32) throws {
        kernel = try checkedKernel(kernelHandle, kind: .lineFilter)
        (source, destination) = try callerArrays(input, inputDtype, rank, shape, inputStrides, output, outputDtype,
                                                 outputStrides)
        options = LineFilterOptions(filterSize: filterSize, axis: Int(axis), mode: try boundaryMode(code: mode),
                                    cval: cval, origin: origin)
        let values = try userDataValues(kernel, parameters, parameterCount)
        self.engine = try executionEngine(engine)
        self.threads = threadCount(threads)
        self.parameters = namedParameters(kernel, values)
    }
}

/// `int filterjit_generic_filter1d(...)`: see filterjit.h.
@_cdecl("filterjit_generic_filter1d")
public func filterjit_generic_filter1d(
    _ kernelHandle: OpaquePointer?,
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
    _ filterSize: Int, _ axis: Int32, _ mode: Int32, _ cval: Double, _ origin: Int,
    _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
    _ engine: Int32, _ threads: Int32,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    withStatus(errorText) {
        let call = try GenericFilter1DCall(kernelHandle, input, inputDtype, rank, shape, inputStrides, output, outputDtype,
                                           outputStrides, filterSize, axis, mode, cval, origin, parameters, parameterCount,
                                           engine, threads)
        try withArrays(call.source, call.destination) { image, output in
            _ = try call.kernel.genericFilter1D(image, options: call.options, output: .array(output),
                                                parameters: call.parameters, engine: call.engine, threads: call.threads)
        }
    }
}

/// `filterjit_filter_plan *filterjit_generic_filter1d_prepare(...)`: see filterjit.h.
@_cdecl("filterjit_generic_filter1d_prepare")
public func filterjit_generic_filter1d_prepare(
    _ kernelHandle: OpaquePointer?,
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ rank: Int32, _ shape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
    _ filterSize: Int, _ axis: Int32, _ mode: Int32, _ cval: Double, _ origin: Int,
    _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
    _ engine: Int32, _ threads: Int32,
    _ status: UnsafeMutablePointer<Int32>?,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> OpaquePointer? {
    var plan: FilterPlanBox?
    let code = withStatus(errorText) {
        let call = try GenericFilter1DCall(kernelHandle, input, inputDtype, rank, shape, inputStrides, output, outputDtype,
                                           outputStrides, filterSize, axis, mode, cval, origin, parameters, parameterCount,
                                           engine, threads)
        try withArrays(call.source, call.destination, copyingOut: false) { image, output in
            let prepared = try call.kernel.prepareGenericFilter1D(input: image, options: call.options, output: output,
                                                                  parameters: call.parameters, engine: call.engine,
                                                                  threads: call.threads)
            plan = FilterPlanBox(run: prepared.run, source: call.source, destination: call.destination)
        }
    }
    status?.pointee = code
    guard let plan else { return nil }
    return OpaquePointer(Unmanaged.passRetained(plan).toOpaque())
}
