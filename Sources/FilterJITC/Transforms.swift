// filterjit_geometric_transform and filterjit_map_coordinates: caller buffers in (input, output
// and coordinates each with their own shape), NDImage's interpolating driver, the result written
// into the caller's output.

import Foundation
import FilterJIT
import FilterLang
import NDImage

/// The interpolation mode of a `FILTERJIT_MODE_*` code (the filter modes' table; here grid-* are not aliases).
private func interpolationMode(code: Int32) throws -> InterpolationMode {
    let modes: [InterpolationMode] = [.reflect, .constant, .nearest, .mirror, .wrap, .gridMirror, .gridConstant, .gridWrap]
    guard code >= 0, Int(code) < modes.count else { throw APIFailure(.argument, "boundary mode not supported (code \(code))") }
    return modes[Int(code)]
}

/// The options of both entry points, checked.
private func interpolationOptions(order: Int32, mode: Int32, cval: Double, prefilter: Int32) throws -> InterpolationOptions {
    guard (0...5).contains(order) else { throw APIFailure(.argument, "spline order not supported: \(order) (expected 0 to 5)") }
    return InterpolationOptions(order: Int(order), mode: try interpolationMode(code: mode), cval: cval, prefilter: prefilter != 0)
}

/// `int filterjit_geometric_transform(...)`: see filterjit.h.
@_cdecl("filterjit_geometric_transform")
public func filterjit_geometric_transform(
    _ kernelHandle: OpaquePointer?,
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ inputRank: Int32, _ inputShape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputRank: Int32, _ outputShape: UnsafePointer<Int>?,
    _ outputStrides: UnsafePointer<Int>?,
    _ order: Int32, _ mode: Int32, _ cval: Double, _ prefilter: Int32,
    _ parameters: UnsafePointer<Double>?, _ parameterCount: Int,
    _ engine: Int32, _ threads: Int32,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    withStatus(errorText) {
        let kernel = try checkedKernel(kernelHandle, kind: .transform)
        let engine = try executionEngine(engine)
        let source = try CallerArray(base: input, dtype: inputDtype, rank: inputRank, shape: inputShape,
                                     strides: inputStrides, role: "input")
        let destination = try CallerArray(base: UnsafeRawPointer(output), dtype: outputDtype, rank: outputRank,
                                          shape: outputShape, strides: outputStrides, role: "output")
        let options = try interpolationOptions(order: order, mode: mode, cval: cval, prefilter: prefilter)
        let values = try userDataValues(kernel, parameters, parameterCount)
        try withArrays(source, destination) { image, result in
            _ = try kernel.geometricTransform(image, outputShape: result.shape, output: .array(result), options: options,
                                              parameters: namedParameters(kernel, values), engine: engine,
                                              threads: threadCount(threads))
        }
    }
}

/// `int filterjit_map_coordinates(...)`: see filterjit.h.
@_cdecl("filterjit_map_coordinates")
public func filterjit_map_coordinates(
    _ input: UnsafeRawPointer?, _ inputDtype: Int32, _ inputRank: Int32, _ inputShape: UnsafePointer<Int>?,
    _ inputStrides: UnsafePointer<Int>?,
    _ coordinates: UnsafeRawPointer?, _ coordinatesDtype: Int32, _ coordinatesRank: Int32,
    _ coordinatesShape: UnsafePointer<Int>?, _ coordinatesStrides: UnsafePointer<Int>?,
    _ output: UnsafeMutableRawPointer?, _ outputDtype: Int32, _ outputStrides: UnsafePointer<Int>?,
    _ order: Int32, _ mode: Int32, _ cval: Double, _ prefilter: Int32, _ threads: Int32,
    _ errorText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    withStatus(errorText) {
        let source = try CallerArray(base: input, dtype: inputDtype, rank: inputRank, shape: inputShape,
                                     strides: inputStrides, role: "input")
        let mapping = try CallerArray(base: coordinates, dtype: coordinatesDtype, rank: coordinatesRank,
                                      shape: coordinatesShape, strides: coordinatesStrides, role: "coordinates")
        guard coordinatesRank >= 1, let shape = coordinatesShape else {
            throw APIFailure(.argument, "input and output rank must be > 0 (the coordinate array is 0-d)")
        }
        let destination = try CallerArray(base: UnsafeRawPointer(output), dtype: outputDtype, rank: coordinatesRank - 1,
                                          shape: shape + 1, strides: outputStrides, role: "output")
        let options = try interpolationOptions(order: order, mode: mode, cval: cval, prefilter: prefilter)
        let points = try mapping.borrowedView() ?? mapping.copiedIn()
        try withArrays(source, destination) { image, result in
            _ = try mapCoordinates(input: image, coordinates: points, output: .array(result), options: options,
                                   threads: threadCount(threads) ?? RowThreads.processorCount)
        }
    }
}
