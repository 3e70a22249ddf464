// The C API called as C would call it (through the @_cdecl functions), without Python.

import Testing
import Foundation
import FilterJIT
import NDImage
@testable import FilterJITC

/// Takes ownership of a string the library handed out.
private func take(_ text: UnsafeMutablePointer<CChar>?) -> String {
    defer { filterjit_string_free(text) }
    return text.map { String(cString: $0) } ?? ""
}

/// A compiled kernel handle, or the rendered error.
private func compile(_ source: String, function: String? = nil, file: String? = nil, lineOffset: Int = 0)
    -> (kernel: OpaquePointer?, status: Int32, error: String)
{
    var error: UnsafeMutablePointer<CChar>?
    let engine = filterjit_engine_create(&error)
    defer { filterjit_engine_free(engine) }
    var status: Int32 = -1
    let kernel = source.withCString { text in
        withOptionalCString(function) { name in
            withOptionalCString(file) { fileName in
                filterjit_compile(engine, text, name, fileName, lineOffset, &status, &error)
            }
        }
    }
    return (kernel, status, take(error))
}

private func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

/// Runs filterjit_generic_filter on Double arrays with the given strides (in elements).
private func genericFilter(_ kernel: OpaquePointer?, input: [Double], shape: [Int], inputStrides: [Int],
                           footprint: [UInt8], footprintShape: [Int], origins: [Int]? = nil, mode: Int32 = 0,
                           cval: Double = 0, parameters: [Double]? = nil, threads: Int32 = 1)
    -> (status: Int32, output: [Double], error: String)
{
    let count = shape.reduce(1, *)
    var output = [Double](repeating: .nan, count: count)
    let outputStrides = NDArray.contiguousStrides(shape: shape, itemSize: 8)
    var error: UnsafeMutablePointer<CChar>?
    let byteStrides = inputStrides.map { $0 * 8 }
    let status = input.withUnsafeBytes { inputBytes in
        output.withUnsafeMutableBytes { outputBytes in
            withOptionalArray(origins) { originPointer in
                withOptionalArray(parameters) { parameterPointer in
                    filterjit_generic_filter(kernel, inputBytes.baseAddress, 10, Int32(shape.count), shape, byteStrides,
                                             outputBytes.baseAddress, 10, outputStrides,
                                             footprint, Int32(footprintShape.count), footprintShape, nil, originPointer,
                                             mode, cval, parameterPointer, parameters?.count ?? 0, 1, threads, &error)
                }
            }
        }
    }
    return (status, output, take(error))
}

private func withOptionalArray<T, R>(_ values: [T]?, _ body: (UnsafePointer<T>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}

@Suite struct CAPITests {
    @Test func compileErrorIsRenderedWithTheFileNameAndLineOffset() {
        let result = compile("def f(values):\n    return valuez\n", file: "kernels.py", lineOffset: 40)
        #expect(result.kernel == nil)
        #expect(result.status == 4)
        #expect(result.error.hasPrefix("kernels.py:42:12: error: unknown name 'valuez'"))
    }

    @Test func kernelInterfaceListsKindNameAndParameters() throws {
        let result = compile("@line_filter\ndef smooth(line, out, w=0.5, n=3):\n    out[0] = line[0] * w + n\n")
        let kernel = try #require(result.kernel)
        defer { filterjit_kernel_free(kernel) }
        #expect(filterjit_kernel_kind(kernel) == 1)
        #expect(String(cString: try #require(filterjit_kernel_name(kernel))) == "smooth")
        #expect(filterjit_kernel_parameter_count(kernel) == 2)
        #expect(String(cString: try #require(filterjit_kernel_parameter_name(kernel, 1))) == "n")
        #expect(filterjit_kernel_parameter_type(kernel, 0) == 0)
        #expect(filterjit_kernel_parameter_type(kernel, 1) == 1)
        #expect(filterjit_kernel_parameter_default(kernel, 0) == 0.5)
        #expect(filterjit_kernel_parameter_name(kernel, 2) == nil)
        #expect(filterjit_kernel_parameter_default(kernel, -1).isNaN)
        #expect(filterjit_kernel_address(kernel) != nil)
    }

    @Test func nanOrNegativeZeroCheckFindsEitherAnywhereAndNothingElse() {
        // float64 (code 10) and float32 (9) over more than one block of 4,096: NaN of either sign, -0.0, at the
        // first, a block's last and the last element; 0.0 and infinities are no finding; integer types never hold
        // one; bad arguments give -1.
        let count = 9_000
        for position in [0, 4_095, 4_096, count - 1] {
            for special in [Double.nan, -Double.nan, -0.0, 0.0, .infinity, -.infinity] {
                let expected: Int32 = special.isNaN || (special == 0 && special.sign == .minus) ? 1 : 0
                var doubles = [Double](repeating: 1.5, count: count)
                doubles[position] = special
                var floats = [Float](repeating: -1.5, count: count)
                floats[position] = Float(special)
                #expect(filterjit_has_nan_or_negative_zero(doubles, 10, count) == expected, "float64 \(special) at \(position)")
                #expect(filterjit_has_nan_or_negative_zero(floats, 9, count) == expected, "float32 \(special) at \(position)")
                // Only the first `position` elements: the special value is outside them.
                #expect(filterjit_has_nan_or_negative_zero(doubles, 10, position) == 0)
                #expect(filterjit_has_nan_or_negative_zero(floats, 9, position) == 0)
                // One element further into the array: an address that is not a multiple of the element size.
                doubles.withUnsafeBytes { bytes in
                    var shifted = [UInt8](repeating: 0, count: bytes.count + 1)
                    shifted.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: 1).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                    shifted.withUnsafeBytes {
                        #expect(filterjit_has_nan_or_negative_zero($0.baseAddress!.advanced(by: 1), 10, count) == expected)
                    }
                }
            }
        }
        let minusZeroBits = [UInt64](repeating: 0x8000_0000_0000_0000, count: 8)
        #expect(filterjit_has_nan_or_negative_zero(minusZeroBits, 4, 8) == 0)   // int64: just an integer
        #expect(filterjit_has_nan_or_negative_zero(nil, 10, 0) == 0)
        #expect(filterjit_has_nan_or_negative_zero(nil, 10, 1) == -1)
        #expect(filterjit_has_nan_or_negative_zero(minusZeroBits, 10, -1) == -1)
        #expect(filterjit_has_nan_or_negative_zero(minusZeroBits, 99, 8) == -1)
    }

    /// filterjit_generic_filter_flags: 0 is filterjit_generic_filter (bits), FILTERJIT_FLAG_FAST_MATH runs the
    /// fast-math box sums (within the stated bound, far inside it here), an unknown flag is an argument error.
    @Test func genericFilterFlagsTakesFastMath() throws {
        let result = compile("np.mean(values)")
        let kernel = try #require(result.kernel)
        defer { filterjit_kernel_free(kernel) }
        let shape = [30, 40], count = 1200
        let input = (0..<count).map { Double(($0 * 7919) % 1000) / 1000 }
        let strides = NDArray.contiguousStrides(shape: shape, itemSize: 8)
        let footprint = [UInt8](repeating: 1, count: 81), footprintShape = [9, 9]
        func run(_ flags: Int32) -> (Int32, [Double], String) {
            var output = [Double](repeating: .nan, count: count)
            var error: UnsafeMutablePointer<CChar>?
            let status = input.withUnsafeBytes { inputBytes in
                output.withUnsafeMutableBytes { outputBytes in
                    filterjit_generic_filter_flags(kernel, inputBytes.baseAddress, 10, 2, shape, strides,
                                                   outputBytes.baseAddress, 10, strides, footprint, 2, footprintShape,
                                                   nil, nil, 2, 0, nil, 0, 1, 2, flags, &error)
                }
            }
            return (status, output, take(error))
        }
        let exact = genericFilter(kernel, input: input, shape: shape, inputStrides: [40, 1], footprint: footprint,
                                  footprintShape: footprintShape, mode: 2)
        let plain = run(0), fast = run(1), bad = run(6)
        #expect(plain.0 == 0 && fast.0 == 0, "\(plain.2) \(fast.2)")
        #expect(plain.1.map(\.bitPattern) == exact.output.map(\.bitPattern))
        #expect(zip(fast.1, exact.output).allSatisfy { abs($0 - $1) <= 1e-14 })
        #expect(bad.0 == 1 && bad.2.contains("unknown flags 6"), "\(bad.2)")
    }

    /// filterjit_generic_filter_prepare / filterjit_filter_plan_run: a plan made on one array runs on others
    /// of the layout with the bits of filterjit_generic_filter_flags; bad arguments fail the preparation
    /// with the call's status and message, a NULL plan or data pointer fails the run.
    @Test func preparedCallsRunOnOtherArraysOfTheLayout() throws {
        let result = compile("max(values) - min(values)")
        let kernel = try #require(result.kernel)
        defer { filterjit_kernel_free(kernel) }
        let shape = [23, 37], count = 23 * 37
        let strides = NDArray.contiguousStrides(shape: shape, itemSize: 8)
        let footprint = [UInt8](repeating: 1, count: 15), footprintShape = [3, 5]
        let first = (0..<count).map { Double(($0 * 7919) % 1000) }
        var scratch = [Double](repeating: 0, count: count)
        var error: UnsafeMutablePointer<CChar>?
        var status: Int32 = -1
        let plan = first.withUnsafeBytes { inputBytes in
            scratch.withUnsafeMutableBytes { outputBytes in
                filterjit_generic_filter_prepare(kernel, inputBytes.baseAddress, 10, 2, shape, strides,
                                                 outputBytes.baseAddress, 10, strides, footprint, 2, footprintShape,
                                                 nil, nil, 4, 0, nil, 0, 1, 3, 0, &status, &error)
            }
        }
        #expect(status == 0, "\(take(error))")
        let handle = try #require(plan)
        defer { filterjit_filter_plan_free(handle) }
        #expect(scratch.allSatisfy { $0 == 0 }, "preparation wrote the output")
        for round in 0..<3 {
            let input = (0..<count).map { Double(($0 * (round + 3) * 104729) % 997) - 400 }
            let expected = genericFilter(kernel, input: input, shape: shape, inputStrides: [37, 1], footprint: footprint,
                                         footprintShape: footprintShape, mode: 4, threads: 3)
            var output = [Double](repeating: .nan, count: count)
            let runStatus = input.withUnsafeBytes { inputBytes in
                output.withUnsafeMutableBytes { outputBytes in
                    filterjit_filter_plan_run(handle, inputBytes.baseAddress, outputBytes.baseAddress, &error)
                }
            }
            #expect(runStatus == 0 && expected.status == 0, "\(take(error))")
            #expect(output.map(\.bitPattern) == expected.output.map(\.bitPattern))
        }
        var output = [Double](repeating: 0, count: count)
        let nullInput = output.withUnsafeMutableBytes { filterjit_filter_plan_run(handle, nil, $0.baseAddress, &error) }
        #expect(nullInput == 1 && take(error).contains("input data pointer is NULL"))
        #expect(filterjit_filter_plan_run(nil, nil, nil, &error) == 1 && take(error).contains("plan is NULL"))
        // The preparation checks as the call does: an unknown flag, a bad mode.
        for (flags, mode, message) in [(Int32(6), Int32(4), "unknown flags 6"), (0, 99, "mode")] {
            let bad = first.withUnsafeBytes { inputBytes in
                scratch.withUnsafeMutableBytes { outputBytes in
                    filterjit_generic_filter_prepare(kernel, inputBytes.baseAddress, 10, 2, shape, strides,
                                                     outputBytes.baseAddress, 10, strides, footprint, 2, footprintShape,
                                                     nil, nil, mode, 0, nil, 0, 1, 1, flags, &status, &error)
                }
            }
            #expect(bad == nil && status == 1)
            #expect(take(error).contains(message))
        }
    }

    /// filterjit_generic_filter1d_prepare: a line filter's plan, run by filterjit_filter_plan_run on other arrays
    /// of the layout, gives filterjit_generic_filter1d's bits on both engines; a failing line fails the run with
    /// the call's status and message; bad arguments fail the preparation as the call does.
    @Test func preparedLineFilterCallsRunOnOtherArraysOfTheLayout() throws {
        let result = compile("@line_filter\ndef k(line, out):\n    for i in range(len(out)):\n"
                             + "        out[i] = line[i] + 2.0 * line[i + 2 + int(line[0] > 5000) * 100]\n")
        let kernel = try #require(result.kernel, "\(result.error)")
        defer { filterjit_kernel_free(kernel) }
        let shape = [23, 37], count = 23 * 37
        let strides = NDArray.contiguousStrides(shape: shape, itemSize: 8)
        var error: UnsafeMutablePointer<CChar>?
        var status: Int32 = -1
        func call(_ input: [Double], engine: Int32) -> (Int32, [Double], String) {
            var output = [Double](repeating: .nan, count: count)
            let status = input.withUnsafeBytes { inputBytes in
                output.withUnsafeMutableBytes { outputBytes in
                    filterjit_generic_filter1d(kernel, inputBytes.baseAddress, 10, 2, shape, strides, outputBytes.baseAddress,
                                               10, strides, 3, 0, 4, 1.5, 0, nil, 0, engine, 2, &error)
                }
            }
            return (status, output, take(error))
        }
        for engine in [Int32(1), 0] {
            var scratch = [Double](repeating: 0, count: count)
            let plan = scratch.withUnsafeBytes { inputBytes in
                scratch.withUnsafeMutableBytes { outputBytes in
                    filterjit_generic_filter1d_prepare(kernel, inputBytes.baseAddress, 10, 2, shape, strides,
                                                       outputBytes.baseAddress, 10, strides, 3, 0, 4, 1.5, 0, nil, 0,
                                                       engine, 2, &status, &error)
                }
            }
            #expect(status == 0, "\(take(error))")
            let handle = try #require(plan)
            defer { filterjit_filter_plan_free(handle) }
            for round in 0..<3 {
                var input = (0..<count).map { Double(($0 * (round + 3) * 104729) % 997) - 400 }
                if round == 2 { for row in 0..<23 { input[row * 37 + 5] = 6000 } }  // line 5 (a column) fails
                let expected = call(input, engine: engine)
                var output = [Double](repeating: .nan, count: count)
                let runStatus = input.withUnsafeBytes { inputBytes in
                    output.withUnsafeMutableBytes { outputBytes in
                        filterjit_filter_plan_run(handle, inputBytes.baseAddress, outputBytes.baseAddress, &error)
                    }
                }
                let message = take(error)
                #expect(runStatus == expected.0 && message == expected.2, "engine \(engine) round \(round): \(message)")
                #expect((runStatus != 0) == (round == 2) && (round < 2 || message.contains("(0, 5)")),
                        "engine \(engine) round \(round): \(runStatus) \(message)")
                if round < 2 { #expect(output.map(\.bitPattern) == expected.1.map(\.bitPattern), "engine \(engine)") }
            }
        }
        // The preparation checks as the call does: a bad mode, an axis out of range, a filter size of 0.
        for (size, axis, mode, message) in [(3, Int32(0), Int32(99), "mode"), (3, 2, 4, "axis"), (0, 0, 4, "filter")] {
            let input = [Double](repeating: 1, count: count)
            var output = [Double](repeating: 0, count: count)
            let bad = input.withUnsafeBytes { inputBytes in
                output.withUnsafeMutableBytes { outputBytes in
                    filterjit_generic_filter1d_prepare(kernel, inputBytes.baseAddress, 10, 2, shape, strides,
                                                       outputBytes.baseAddress, 10, strides, size, axis, mode, 0, 0, nil, 0,
                                                       1, 1, &status, &error)
                }
            }
            #expect(bad == nil && status == 1, "\(message)")
            #expect(take(error).lowercased().contains(message))
        }
    }

    @Test func compileAsGivesAnUndecoratedDefTheCallersKind() throws {
        var error: UnsafeMutablePointer<CChar>?
        var status: Int32 = 0
        let engine = filterjit_engine_create(&error)
        defer { filterjit_engine_free(engine) }
        let line = "def smooth(line, out):\n    for i in range(len(out)):\n        out[i] = line[i]\n"
        let lineKernel = try #require(filterjit_compile_as(engine, line, nil, nil, 0, 1, &status, &error))
        #expect(filterjit_kernel_kind(lineKernel) == 1)
        filterjit_kernel_free(lineKernel)
        let mapping = "def shift(out):\n    return (out[0] - 0.5, out[1])\n"
        let transform = try #require(filterjit_compile_as(engine, mapping, nil, nil, 0, 2, &status, &error))
        #expect(filterjit_kernel_kind(transform) == 2)
        filterjit_kernel_free(transform)
        // A decorator wins over the caller's kind (the caller's kind check then names the mismatch).
        let decorated = try #require(filterjit_compile_as(engine, "@filter\ndef f(values):\n    return values[0]\n", nil, nil, 0, 1,
                                                          &status, &error))
        #expect(filterjit_kernel_kind(decorated) == 0)
        filterjit_kernel_free(decorated)
        #expect(filterjit_compile_as(engine, line, nil, nil, 0, 3, &status, &error) == nil)
        #expect(status == 1)
        let message = error.map { String(cString: $0) } ?? ""
        #expect(message.contains("invalid kernel kind 3"))
        filterjit_string_free(error)
    }

    @Test func nullHandlesAreErrorsNotCrashes() {
        var error: UnsafeMutablePointer<CChar>?
        var status: Int32 = 0
        #expect(filterjit_compile(nil, "min(values)", nil, nil, 0, &status, &error) == nil)
        #expect(status == 1 && take(error).contains("engine is NULL"))
        #expect(filterjit_kernel_kind(nil) == -1)
        #expect(filterjit_kernel_name(nil) == nil)
        #expect(filterjit_kernel_parameter_count(nil) == 0)
        let run = genericFilter(nil, input: [1, 2, 3], shape: [3], inputStrides: [1], footprint: [1], footprintShape: [1])
        #expect(run.status == 1 && run.error.contains("kernel is NULL"))
        filterjit_kernel_free(nil)
        filterjit_engine_free(nil)
        filterjit_string_free(nil)
    }

    @Test func stridedInputEqualsTheSwiftDriverOnAContiguousCopy() throws {
        let kernel = try #require(compile("def low(values, bias=0.0):\n    return min(values) + bias\n").kernel)
        defer { filterjit_kernel_free(kernel) }
        // A 4x5 view of every other element of a 40-element buffer, reversed along the rows.
        let buffer = (0..<40).map { Double(($0 * 7) % 13) }
        let input = Array(buffer.reversed())
        let strided = genericFilter(kernel, input: input, shape: [4, 5], inputStrides: [10, 2],
                                    footprint: [1, 0, 1, 1, 1, 0], footprintShape: [2, 3], origins: [-1, 1], mode: 1,
                                    cval: -2.5, parameters: [0.25])
        #expect(strided.status == 0, "\(strided.error)")
        var picked: [Double] = []
        for row in 0..<4 { for column in 0..<5 { picked.append(input[row * 10 + column * 2]) } }
        let array = try NDArray.make(shape: [4, 5], elementType: .float64, values: picked)
        let swiftKernel = try Engine().compile("def low(values, bias=0.0):\n    return min(values) + bias\n")
        let options = FilterOptions(footprint: try Footprint(shape: [2, 3], mask: [true, false, true, true, true, false]),
                                    mode: .constant, cval: -2.5, origin: [-1, 1])
        let expected = try swiftKernel.genericFilter(array, options: options, parameters: ["bias": 0.25]).doubleValues()
        #expect(strided.output == expected)
    }

    @Test func threadedRunsEqualOneThread() throws {
        let kernel = try #require(compile("np.mean(values) * values[0]").kernel)
        defer { filterjit_kernel_free(kernel) }
        let shape = [300, 120]
        let input: [Double] = (0..<(300 * 120)).map { (index: Int) -> Double in
            let scrambled: Int = (index &* 2_654_435_761) % 1000
            return Double(scrambled) / 7
        }
        for mode: Int32 in 0..<8 {
            let one = genericFilter(kernel, input: input, shape: shape, inputStrides: [120, 1],
                                    footprint: [UInt8](repeating: 1, count: 12), footprintShape: [4, 3], origins: [1, 0],
                                    mode: mode, cval: 3, threads: 1)
            let three = genericFilter(kernel, input: input, shape: shape, inputStrides: [120, 1],
                                      footprint: [UInt8](repeating: 1, count: 12), footprintShape: [4, 3], origins: [1, 0],
                                      mode: mode, cval: 3, threads: 3)
            #expect(one.status == 0 && three.status == 0)
            #expect(one.output == three.output, "mode \(mode)")
        }
    }

    @Test func wrongKindAndBadArgumentsAreReportedWithStatus() throws {
        let kernel = try #require(compile("min(values)").kernel)
        defer { filterjit_kernel_free(kernel) }
        let badOrigin = genericFilter(kernel, input: [1, 2, 3], shape: [3], inputStrides: [1], footprint: [1, 1, 1],
                                      footprintShape: [3], origins: [2])
        #expect(badOrigin.status == 1 && badOrigin.error.contains("invalid origin"))
        let badMode = genericFilter(kernel, input: [1, 2, 3], shape: [3], inputStrides: [1], footprint: [1],
                                    footprintShape: [1], mode: 9)
        #expect(badMode.status == 1 && badMode.error.contains("boundary mode not supported"))
        let badParameters = genericFilter(kernel, input: [1, 2, 3], shape: [3], inputStrides: [1], footprint: [1],
                                          footprintShape: [1], parameters: [1, 2])
        #expect(badParameters.status == 1 && badParameters.error.contains("0 parameters, 2 given"))
        var error: UnsafeMutablePointer<CChar>?
        let line: [Double] = [1, 2, 3]
        var out: [Double] = [0, 0, 0]
        let status = filterjit_generic_filter1d(kernel, line, 10, 1, [3], [8], &out, 10, [8], 3, -1, 0, 0, 0, nil, 0, 0, 1, &error)
        #expect(status == 1)
        #expect(take(error).contains("use it with generic_filter"))
    }

    @Test func kernelFailureNamesTheElement() throws {
        let kernel = try #require(compile("def bad(values):\n    if values[0] > 1:\n        return values[7]\n    return 0.0\n").kernel)
        defer { filterjit_kernel_free(kernel) }
        var input = [Double](repeating: 0, count: 400 * 100)
        input[150 * 100 + 42] = 5
        for threads: Int32 in [1, 2] {
            let run = genericFilter(kernel, input: input, shape: [400, 100], inputStrides: [100, 1],
                                    footprint: [1, 1, 1], footprintShape: [3, 1], threads: threads)
            #expect(run.status == 2)
            #expect(run.error.contains("kernel 'bad' failed at element (151, 42)"), "\(run.error)")
        }
    }
}
