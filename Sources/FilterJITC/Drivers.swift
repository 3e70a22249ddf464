// filterjit_generic_filter and filterjit_generic_filter1d: caller buffers in, NDImage's driver
// (split across threads), caller buffers out.
//
// Threads: NDImage's driver is single-threaded and plans over the whole image, so the work is split
// here. Line filters and filters whose window is 1 long on axis 0 split into independent slabs
// (views). Otherwise each thread filters a slab of rows extended by the rows its windows reach (a
// view of the image for interior slabs; for the few border rows, a copy with the outside rows
// already mapped through the boundary mode), so axis 0 never needs the mode inside the slab; the
// extension rows' own windows are skipped (the driver visits windows in C order, so a counter knows
// which output element each call is for). Results are identical to one thread.

import Dispatch
import Foundation
import FilterJIT
import FilterLang
import NDImage

/// Collects the first failure (lowest C-order element) of a threaded run.
private final class FailureCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: (element: Int, error: APIFailure)?

    func record(element: Int, _ error: APIFailure) {
        lock.lock()
        if let current = failure, current.element <= element {
            // An earlier element's failure is already recorded.
        } else {
            failure = (element, error)
        }
        lock.unlock()
    }

    func throwIfFailed() throws {
        lock.lock()
        let first = failure
        lock.unlock()
        if let first { throw first.error }
    }
}

/// What every slab of one threaded run shares (read-only while the slabs run).
private struct SlabJob<Callback>: @unchecked Sendable {
    var kernel: Kernel
    var callback: Callback
    var userData: UnsafeMutableRawPointer?
    var image: NDArray
    var result: NDArray
}

/// The kernel-failure message for output element `flat` of an array of `shape` (call on the
/// thread that saw the failure: the kernel's reason is thread-local).
private func kernelFailure(_ kernel: Kernel, flat: Int, shape: [Int]) -> APIFailure {
    let index = multiIndex(flat, shape: shape).map(String.init).joined(separator: ", ")
    return APIFailure(.kernel, "kernel '\(kernel.name)' failed at element (\(index)): \(kernel.lastFailureDescription())")
}

/// The user_data array: the caller's values, or the defaults when `parameters` is NULL.
private func userDataValues(_ kernel: Kernel, _ parameters: UnsafePointer<Double>?, _ count: Int) throws -> [Double] {
    guard let parameters else { return kernel.parameters.map(\.defaultValue) }
    guard count == kernel.parameters.count else {
        throw APIFailure(.argument, "kernel '\(kernel.name)' has \(kernel.parameters.count) parameters, \(count) given")
    }
    return (0..<count).map { parameters[$0] }
}

/// Checks a `FILTERJIT_ENGINE_*` code.
private func checkEngine(_ engine: Int32) throws {
    guard engine == 0 || engine == 1 else {
        throw APIFailure(.argument, "engine code \(engine) is neither FILTERJIT_ENGINE_CALLBACK (0) nor FILTERJIT_ENGINE_FUSED (1)")
    }
}

/// How many slabs to run: `threads` (0: one per processor), fewer for small images.
private func slabCount(threads: Int32, elements: Int) -> Int {
    let wanted = threads > 0 ? Int(threads) : ProcessInfo.processInfo.activeProcessorCount
    // Below ~16k elements per slab, starting threads costs more than it saves.
    return max(1, min(wanted, elements / 16_384))
}

/// The kernel of a handle, checked to be of `kind`; the error names the function to use instead.
private func checkedKernel(_ handle: OpaquePointer?, kind: KernelKind) throws -> Kernel {
    guard let box = kernelBox(handle) else { throw APIFailure(.argument, "kernel is NULL") }
    let kernel = box.kernel
    guard kernel.kind == kind else {
        let use: String
        switch kernel.kind {
        case .filter: use = "generic_filter"
        case .lineFilter: use = "generic_filter1d"
        case .transform: use = "geometric_transform"
        }
        throw APIFailure(.argument, "kernel '\(kernel.name)' is a @\(kernel.kind.rawValue) kernel; use it with \(use)")
    }
    return kernel
}

// MARK: generic_filter

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
    withStatus(errorText) {
        let kernel = try checkedKernel(kernelHandle, kind: .filter)
        guard let callback: NDImage.FilterCallback = kernel.filterCallback else { throw APIFailure(.internal, "no filter callback") }
        let source = try CallerArray(base: input, dtype: inputDtype, rank: rank, shape: shape, strides: inputStrides, role: "input")
        let destination = try CallerArray(base: UnsafeRawPointer(output), dtype: outputDtype, rank: rank, shape: shape,
                                          strides: outputStrides, role: "output")
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
        let options = FilterOptions(footprint: mask, mode: try boundaryMode(code: mode), cval: cval,
                                    origin: readIntegers(origins, count: filteredAxes) ?? [],
                                    axes: axes == nil ? nil : readIntegers(axes, count: filteredAxes))
        var userData = try userDataValues(kernel, parameters, parameterCount)
        // `engine` selects fused or callback; no fused driver exists yet, so both run the callback driver.
        try checkEngine(engine)

        let image = try source.copiedIn()
        let result: NDArray
        do { result = try NDArray(shape: image.shape, elementType: destination.elementType) } catch { throw APIFailure(error) }
        try userData.withUnsafeMutableBytes { data in
            try withExtendedLifetime(kernel) { () in
                try runFilter(kernel: kernel, callback: callback, userData: data.baseAddress, image: image,
                              result: result, options: options, threads: threads)
            }
        }
        destination.copyOut(from: result)
    }
}

/// Filters `image` into `result` (C-ordered, same shape), in slabs along axis 0 when threads help.
private func runFilter(kernel: Kernel, callback: NDImage.FilterCallback, userData: UnsafeMutableRawPointer?,
                       image: NDArray, result: NDArray, options: FilterOptions, threads: Int32) throws {
    // Validate everything once, with the driver's own messages, on an empty array of the same rank.
    do {
        let probe = try NDArray(shape: Array(repeating: 0, count: image.rank), elementType: .float64)
        _ = try NDImage.genericFilter(input: probe, callback: callback, userData: userData, options: options)
    } catch { throw APIFailure(error) }

    let slabs = image.rank == 0 ? 1 : min(slabCount(threads: threads, elements: image.count), image.shape[0])
    if slabs <= 1 {
        do {
            _ = try NDImage.genericFilter(input: image, callback: callback, userData: userData, options: options,
                                          output: .array(result))
        } catch NDImageError.callbackFailed(let flat) {
            throw kernelFailure(kernel, flat: flat, shape: image.shape)
        } catch { throw APIFailure(error) }
        return
    }

    // The window's length and centre along axis 0 (validated above, so the lookups are in range).
    let rank = image.rank
    let axes = (options.axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
    let window0: Int, centre0: Int
    if let position = axes.firstIndex(of: 0), let footprint = options.footprint {
        window0 = footprint.shape[position]
        let origin = options.origin.isEmpty ? 0 : (options.origin.count == 1 ? options.origin[0] : options.origin[position])
        centre0 = window0 / 2 + origin
    } else {
        window0 = 1
        centre0 = 0
    }
    let length = image.shape[0]
    // Padding each slab costs window - 1 extra rows; when that outweighs the slab, stay on one thread.
    if window0 - 1 > length / slabs {
        return try runFilter(kernel: kernel, callback: callback, userData: userData, image: image, result: result,
                             options: options, threads: 1)
    }
    // The rows whose windows reach past either end (which need mode-mapped padding) form their own
    // small slabs, so the interior slabs can read the image's own rows without a copy.
    let top = min(centre0, length)
    let bottom = min(max(window0 - 1 - centre0, 0), length - top)
    let rows = (top > 0 ? [0..<top] : [])
        + splitRanges(length - top - bottom, into: slabs).map { (top + $0.lowerBound)..<(top + $0.upperBound) }
        + (bottom > 0 ? [(length - bottom)..<length] : [])
    let failures = FailureCollector()
    let job = SlabJob(kernel: kernel, callback: callback, userData: userData, image: image, result: result)
    DispatchQueue.concurrentPerform(iterations: rows.count) { part in
        do {
            if window0 == 1 {
                try filterSlabView(kernel: job.kernel, callback: job.callback, userData: job.userData, image: job.image,
                                   result: job.result, options: options, rows: rows[part])
            } else {
                try filterPaddedSlab(kernel: job.kernel, callback: job.callback, userData: job.userData, image: job.image,
                                     result: job.result, options: options, rows: rows[part], window: window0, centre: centre0)
            }
        } catch {
            let failure = APIFailure(error)
            failures.record(element: failure.status == .kernel ? rows[part].lowerBound : Int.max, failure)
        }
    }
    try failures.throwIfFailed()
}

/// One slab when the window does not extend along axis 0: plain views of input and output.
private func filterSlabView(kernel: Kernel, callback: NDImage.FilterCallback, userData: UnsafeMutableRawPointer?,
                            image: NDArray, result: NDArray, options: FilterOptions, rows: Range<Int>) throws {
    let input = try slice(image, axis: 0, range: rows)
    let output = try slice(result, axis: 0, range: rows)
    do {
        _ = try NDImage.genericFilter(input: input, callback: callback, userData: userData, options: options,
                                      output: .array(output))
    } catch NDImageError.callbackFailed(let flat) {
        let rowSize = image.count / max(image.shape[0], 1)
        throw kernelFailure(kernel, flat: rows.lowerBound * rowSize + flat, shape: image.shape)
    } catch { throw APIFailure(error) }
}

/// `count` rows starting at row `firstRow` (which may lie outside the image), each mapped through the
/// boundary mode, as a float64 array (rows that take `cval` are filled with it).
private func paddedRows(_ image: NDArray, options: FilterOptions, firstRow: Int, count: Int) throws -> NDArray {
    let length = image.shape[0]
    let rowSize = image.count / max(length, 1)
    let slab: NDArray
    do { slab = try NDArray(shape: [count] + image.shape.dropFirst(), elementType: .float64) } catch { throw APIFailure(error) }
    let sourceType = image.elementType, sourceSize = sourceType.itemSize
    let sourceBase = UnsafeRawPointer(image.firstElementPointer)
    let slabValues = slab.storage.baseAddress.assumingMemoryBound(to: Double.self)
    for row in 0..<count {
        let target = slabValues + row * rowSize
        if let mapped = options.mode.mapIndex(firstRow + row, length: length) {
            let start = sourceBase + mapped * rowSize * sourceSize
            if sourceType == .float64 {
                memcpy(target, start, rowSize * sourceSize)
            } else {
                for element in 0..<rowSize { target[element] = sourceType.loadDouble(from: start + element * sourceSize) }
            }
        } else {
            target.update(repeating: options.cval, count: rowSize)
        }
    }
    return slab
}

/// Why a padded slab stopped: the kernel failed at this output element of the whole image.
private struct SlabKernelFailure: Error {
    var failure: APIFailure
}

/// One slab of rows plus the rows its windows reach along axis 0: a view of the image when those are
/// all real rows, else a copy with the outside rows mapped through the mode.
private func filterPaddedSlab(kernel: Kernel, callback: NDImage.FilterCallback, userData: UnsafeMutableRawPointer?,
                              image: NDArray, result: NDArray, options: FilterOptions, rows: Range<Int>,
                              window: Int, centre: Int) throws {
    let length = image.shape[0]
    let rowSize = image.count / max(length, 1)
    let padded = rows.count + window - 1
    let firstRow = rows.lowerBound - centre
    let slab: NDArray
    if firstRow >= 0, firstRow + padded <= length {
        // Every row the windows reach is a real row: a view, no copy.
        slab = try slice(image, axis: 0, range: firstRow..<(firstRow + padded))
    } else {
        slab = try paddedRows(image, options: options, firstRow: firstRow, count: padded)
    }
    // Slab element k belongs to image element k - firstReal + rows.lowerBound * rowSize when in range.
    let firstReal = centre * rowSize, endReal = (centre + rows.count) * rowSize
    let shift = rows.lowerBound * rowSize - firstReal
    let outType = result.elementType, outSize = outType.itemSize
    let outBase = result.firstElementPointer
    var call = 0
    do {
        // The driver's own output is a throwaway: results are stored into `result` directly.
        _ = try NDImage.genericFilter(input: slab, options: options, output: .elementType(.bool)) { window in
            let element = call
            call += 1
            guard element >= firstReal, element < endReal else { return 0 }
            var value = 0.0
            guard callback(UnsafeMutablePointer(mutating: window.baseAddress), window.count, &value, userData) != 0 else {
                throw SlabKernelFailure(failure: kernelFailure(kernel, flat: element + shift, shape: image.shape))
            }
            outType.storeDouble(value, to: outBase + (element + shift) * outSize)
            return 0
        }
    } catch {
        // The closure's SlabKernelFailure reaches us as its description inside callbackThrew.
        if case .callbackThrew(_, let message) = error { throw APIFailure(.kernel, message) }
        throw APIFailure(error)
    }
    // The element numbering above assumes one call per element; anything else is a driver change.
    guard call == slab.count else {
        throw APIFailure(.internal, "the ndimage driver made \(call) calls for \(slab.count) elements")
    }
}

extension SlabKernelFailure: CustomStringConvertible {
    var description: String { failure.message }
}

// MARK: generic_filter1d

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
        let kernel = try checkedKernel(kernelHandle, kind: .lineFilter)
        guard let callback: NDImage.LineFilterCallback = kernel.lineFilterCallback else {
            throw APIFailure(.internal, "no line filter callback")
        }
        let source = try CallerArray(base: input, dtype: inputDtype, rank: rank, shape: shape, strides: inputStrides, role: "input")
        let destination = try CallerArray(base: UnsafeRawPointer(output), dtype: outputDtype, rank: rank, shape: shape,
                                          strides: outputStrides, role: "output")
        let options = LineFilterOptions(filterSize: filterSize, axis: Int(axis), mode: try boundaryMode(code: mode),
                                        cval: cval, origin: origin)
        var userData = try userDataValues(kernel, parameters, parameterCount)
        try checkEngine(engine)  // No fused driver yet: both engines run the callback driver.

        let image = try source.copiedIn()
        let result: NDArray
        do { result = try NDArray(shape: image.shape, elementType: destination.elementType) } catch { throw APIFailure(error) }
        try userData.withUnsafeMutableBytes { data in
            try withExtendedLifetime(kernel) { () in
                try runLineFilter(kernel: kernel, callback: callback, userData: data.baseAddress, image: image,
                                  result: result, options: options, threads: threads)
            }
        }
        destination.copyOut(from: result)
    }
}

/// Runs the line filter, in slabs along another axis than the lines' when threads help.
private func runLineFilter(kernel: Kernel, callback: NDImage.LineFilterCallback, userData: UnsafeMutableRawPointer?,
                           image: NDArray, result: NDArray, options: LineFilterOptions, threads: Int32) throws {
    do {
        let probe = try NDArray(shape: Array(repeating: 0, count: image.rank), elementType: .float64)
        _ = try NDImage.genericFilter1D(input: probe, callback: callback, userData: userData, options: options)
    } catch { throw APIFailure(error) }

    let lineAxis = options.axis < 0 ? options.axis + image.rank : options.axis
    let splitAxis = (0..<image.rank).first { $0 != lineAxis && image.shape[$0] >= 2 }
    let slabs = splitAxis.map { min(slabCount(threads: threads, elements: image.count), image.shape[$0]) } ?? 1
    guard let splitAxis, slabs > 1 else {
        do {
            _ = try NDImage.genericFilter1D(input: image, callback: callback, userData: userData, options: options,
                                            output: .array(result))
        } catch NDImageError.callbackFailed(let flat) {
            throw kernelFailure(kernel, flat: flat, shape: image.shape)
        } catch { throw APIFailure(error) }
        return
    }
    let ranges = splitRanges(image.shape[splitAxis], into: slabs)
    let failures = FailureCollector()
    let job = SlabJob(kernel: kernel, callback: callback, userData: userData, image: image, result: result)
    DispatchQueue.concurrentPerform(iterations: ranges.count) { part in
        do {
            let input = try slice(job.image, axis: splitAxis, range: ranges[part])
            let output = try slice(job.result, axis: splitAxis, range: ranges[part])
            do {
                _ = try NDImage.genericFilter1D(input: input, callback: job.callback, userData: job.userData,
                                                options: options, output: .array(output))
            } catch NDImageError.callbackFailed(let flat) {
                var index = multiIndex(flat, shape: input.shape)
                index[splitAxis] += ranges[part].lowerBound
                let shape = job.image.shape
                let whole = index.enumerated().reduce(0) { total, entry in total * shape[entry.offset] + entry.element }
                failures.record(element: whole, kernelFailure(job.kernel, flat: whole, shape: shape))
            } catch let error as NDImageError {
                throw APIFailure(error)
            } catch {
                throw APIFailure(.internal, "\(error)")
            }
        } catch {
            failures.record(element: Int.max, APIFailure(error))
        }
    }
    try failures.throwIfFailed()
}
