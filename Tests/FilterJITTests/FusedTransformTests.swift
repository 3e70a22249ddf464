// Fused transforms (`KernelVariant.transform`) against the callback engine, which equals SciPy's
// geometric_transform bit for bit (TransformDriverTests, the NDImage fixtures): random kernels,
// ranks, orders, modes, element types, output shapes and thread counts; hostile kernels; and the
// cache key (mode, cval, order and element types do not recompile).
//
// The random test prints its seed; rerun one with FILTERJIT_TRANSFORM_SEED=<seed> swift test
// --filter FusedTransformTests.

import Testing
import Foundation
import FilterLang
import NDImage
import FilterCodegen
@testable import FilterJIT

private let engine: Engine = {
    do { return try Engine(cacheCapacity: 64) } catch { fatalError("cannot start the engine: \(error)") }
}()

/// An array's elements as comparable bits (NaN payloads included).
private func bits(_ array: NDArray) -> [Int64] {
    switch array.elementType {
    case .float32: return array.doubleValues().map { Int64(Float($0).bitPattern) }
    case .float64: return array.doubleValues().map { Int64(bitPattern: $0.bitPattern) }
    default: return array.int64Bits()
    }
}

/// Equal bits, except that two NaNs are equal whatever their sign and payload: where a coordinate
/// combines two different NaNs (a NaN parameter times an `inf * 0`), which one survives depends on
/// the operand order LLVM picks in each module (x86 keeps the first operand's NaN).
private func sameBitsOrBothNaN(_ a: NDArray, _ b: NDArray) -> Bool {
    guard a.elementType.isFloatingPoint else { return bits(a) == bits(b) }
    return zip(a.doubleValues(), b.doubleValues()).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        && a.count == b.count
}

/// A small deterministic generator (SplitMix64), so a printed seed reproduces a run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Kernels of several shapes: any rank (generic), affine with parameters, polynomial, one that
/// leaves coordinates unwritten, one that reads `in_coords`, SciPy's mapping form, one with an
/// int parameter and a loop.
private let randomKernelSources: [(name: String, source: String, parameters: [String])] = [
    ("general", """
        @transform
        def general(out_coords, in_coords, s=1.0, t=0.0, k=0.0):
            n = len(in_coords)
            m = len(out_coords)
            for d in range(n):
                in_coords[d] = s * out_coords[d % m] + t * d + k * out_coords[m - 1] * out_coords[0]
        """, ["s", "t", "k"]),
    ("affine", """
        @transform
        def affine(out_coords, in_coords, a=1.0, b=0.0, c=0.0, d=1.0, ty=0.0, tx=0.0):
            y = out_coords[0]
            x = out_coords[len(out_coords) - 1]
            in_coords[0] = a * y + b * x + ty
            if len(in_coords) > 1:
                in_coords[len(in_coords) - 1] = c * y + d * x + tx
        """, ["a", "b", "c", "d", "ty", "tx"]),
    ("lens", """
        @transform
        def lens(out_coords, in_coords, k1=-0.2, k2=0.05, cy=3.0, cx=4.0, scale=5.0):
            m = len(out_coords)
            y = (out_coords[0] - cy) / scale
            x = (out_coords[m - 1] - cx) / scale
            r2 = y * y + x * x
            factor = 1.0 + k1 * r2 + k2 * r2 * r2
            for d in range(len(in_coords)):
                in_coords[d] = (cy + y * factor * scale) if d % 2 == 0 else (cx + x * factor * scale)
        """, ["k1", "k2", "cy", "cx", "scale"]),
    ("sparse", """
        @transform
        def sparse(out_coords, in_coords, s=0.5):
            # Only the last input coordinate is written; the others stay 0 (zeroed per point).
            in_coords[len(in_coords) - 1] = s * out_coords[len(out_coords) - 1] + 0.25
        """, ["s"]),
    ("carries", """
        @transform
        def carries(out_coords, in_coords, s=1.0):
            # Reads its own in_coords (zeroed before each point) before writing them.
            for d in range(len(in_coords)):
                in_coords[d] = in_coords[d] + s * out_coords[d % len(out_coords)] - 0.5
        """, ["s"]),
    ("mapping", """
        @transform
        def mapping(output_coords, dy, dx):
            return (output_coords[0] - dy, output_coords[len(output_coords) - 1] - dx, output_coords[0] * 0.5)
        """, ["dy", "dx"]),
    ("steps", """
        @transform
        def steps(out_coords, in_coords, n=3, big=1.0):
            total = 0.0
            for i in range(n):
                total = total + out_coords[len(out_coords) - 1] * 0.5
            for d in range(len(in_coords)):
                in_coords[d] = total * big - d
        """, ["big"]),
]

@Test func fusedTransformsEqualTheCallbackEngineOnRandomTransforms() throws {
    let seed = ProcessInfo.processInfo.environment["FILTERJIT_TRANSFORM_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 0...UInt64(UInt32.max))
    print("fusedTransformsEqualTheCallbackEngineOnRandomTransforms: seed \(seed) "
          + "(rerun: FILTERJIT_TRANSFORM_SEED=\(seed) swift test --filter FusedTransformTests)")
    var random = SeededGenerator(state: seed)
    let kernels = try randomKernelSources.map { try engine.compile($0.source) }
    let types = ElementType.allCases
    let cvals: [Double] = [0, 7.5, -3.25, .nan, .infinity, 300]
    var failures: [String] = []
    for trial in 0..<160 {
        let which = Int.random(in: 0..<kernels.count, using: &random)
        let kernel = kernels[which]
        let inputRank = Int.random(in: 1...3, using: &random)
        let outputRank = Int.random(in: 1...3, using: &random)
        let inputShape = (0..<inputRank).map { _ in Int.random(in: 1...(inputRank == 3 ? 6 : 11), using: &random) }
        var outputShape = (0..<outputRank).map { _ in Int.random(in: 1...(outputRank == 3 ? 7 : 13), using: &random) }
        // Some long rows, so that a row takes several runs of the fused loop.
        if trial % 5 == 0 { outputShape[outputRank - 1] = Int.random(in: 250...700, using: &random) }
        let inputType = types[Int.random(in: 0..<types.count, using: &random)]
        let outputType = types[Int.random(in: 0..<types.count, using: &random)]
        let count = inputShape.reduce(1, *)
        let values: [Double] = (0..<count).map { _ in
            let special: [Double] = [.nan, .infinity, -.infinity, -0.0]
            if inputType.isFloatingPoint && Int.random(in: 0..<12, using: &random) == 0 {
                return special[Int.random(in: 0..<special.count, using: &random)]
            }
            return Double(Int.random(in: 0...120, using: &random))
        }
        let input = try NDArray.make(shape: inputShape, elementType: inputType, values: values)
        var parameters: [String: Double] = [:]
        for name in randomKernelSources[which].parameters {
            // Mostly moderate values; sometimes far-out or non-finite coordinates.
            switch Int.random(in: 0..<10, using: &random) {
            case 0: parameters[name] = [1e300, -1e18, 9.3e18, .nan, .infinity][Int.random(in: 0..<5, using: &random)]
            default: parameters[name] = Double.random(in: -2...2, using: &random).rounded(toPlaces: 3)
            }
        }
        let mode = InterpolationMode.allCases[Int.random(in: 0..<InterpolationMode.allCases.count, using: &random)]
        let options = InterpolationOptions(order: Int.random(in: 0...5, using: &random), mode: mode,
                                           cval: cvals[Int.random(in: 0..<cvals.count, using: &random)],
                                           prefilter: Int.random(in: 0..<4, using: &random) != 0)
        let describe = "trial \(trial): \(randomKernelSources[which].name) \(inputShape)\(inputType) -> \(outputShape)\(outputType) "
            + "order \(options.order) \(mode.rawValue) cval \(options.cval) prefilter \(options.prefilter) \(parameters)"
        let expected: NDArray
        do {
            expected = try kernel.geometricTransform(input, outputShape: outputShape, output: .elementType(outputType),
                                                     options: options, parameters: parameters, engine: .callback, threads: 1)
        } catch {
            // The same error on the fused engine.
            for threads in [1, 3] {
                do {
                    _ = try kernel.geometricTransform(input, outputShape: outputShape, output: .elementType(outputType),
                                                      options: options, parameters: parameters, engine: .fused,
                                                      threads: threads)
                    failures.append("\(describe): the callback failed (\(error)), fused did not")
                } catch let fusedError {
                    if "\(fusedError)" != "\(error)" { failures.append("\(describe): \(fusedError) != \(error)") }
                }
            }
            continue
        }
        for threads in [1, 3] {
            let result = try kernel.geometricTransform(input, outputShape: outputShape, output: .elementType(outputType),
                                                       options: options, parameters: parameters, engine: .fused,
                                                       threads: threads)
            if !sameBitsOrBothNaN(result, expected) { failures.append("\(describe) threads \(threads)") }
        }
    }
    #expect(failures.isEmpty, "seed \(seed): \(failures.count) differences: \(failures.prefix(5))")
}

@Test func fusedTransformKernelWritingBeyondInCoordinatesFailsLikeTheCallback() throws {
    let kernel = try engine.compile("""
        @transform
        def bad(out_coords, in_coords):
            in_coords[0] = out_coords[0]
            in_coords[1] = out_coords[1] * 0.5
            if out_coords[0] == 3 and out_coords[1] == 290:
                in_coords[len(in_coords) + 5] = 1.0
        """)
    let input = try NDArray(shape: [6, 300], elementType: .float64)
    var messages: [String] = []
    for engineChoice in [ExecutionEngine.callback, .fused] {
        for threads in [1, 2, 3] {
            do {
                _ = try kernel.geometricTransform(input, engine: engineChoice, threads: threads)
                Issue.record("expected a failure (\(engineChoice), \(threads) threads)")
            } catch let failure as KernelFailure {
                #expect(failure.element == [3, 290])
                #expect(failure.reason.contains("out of range") && failure.reason.contains("line 6"), "\(failure.reason)")
                messages.append("\(failure)")
            }
        }
    }
    #expect(Set(messages).count == 1, "\(Set(messages))")
}

@Test func fusedTransformStoresThePointsBeforeAFailureAsTheCallbackDoes() throws {
    let kernel = try engine.compile("""
        @transform
        def stop(out_coords, in_coords, at=7.0):
            if out_coords[0] * 10 + out_coords[1] == at:
                in_coords[2] = 0.0
            in_coords[0] = out_coords[0] + 0.25
            in_coords[1] = out_coords[1] - 0.5
        """)
    let input = try NDArray.make(shape: [4, 10], elementType: .float64, values: (0..<40).map { Double($0 * 3 % 11) })
    var outputs: [[Int64]] = []
    for engineChoice in [ExecutionEngine.callback, .fused] {
        let output = try NDArray(shape: [4, 10], elementType: .float64)
        #expect(throws: KernelFailure.self) {
            try kernel.geometricTransform(input, output: .array(output), options: InterpolationOptions(order: 1),
                                          parameters: ["at": 27], engine: engineChoice, threads: 1)
        }
        outputs.append(bits(output))
    }
    #expect(outputs[0] == outputs[1])
}

@Test func fusedTransformsWithNaNOrHugeCoordinatesEqualTheCallbackAndDoNotCrash() throws {
    let kernel = try engine.compile("""
        @transform
        def wild(out_coords, in_coords, big=1e300):
            in_coords[0] = np.nan if out_coords[0] == 0 else big * out_coords[1]
            in_coords[1] = -big * out_coords[0] + 9.3e18
        """)
    let input = try NDArray.make(shape: [4, 5], elementType: .float64, values: (0..<20).map(Double.init))
    for mode in InterpolationMode.allCases {
        for order in 0...5 {
            for big in [1e300, 1e16, -4.5e15, .infinity, .nan] {
                let options = InterpolationOptions(order: order, mode: mode, cval: -1)
                let fused = try kernel.geometricTransform(input, options: options, parameters: ["big": big],
                                                          engine: .fused, threads: 2)
                let callback = try kernel.geometricTransform(input, options: options, parameters: ["big": big],
                                                             engine: .callback, threads: 1)
                #expect(bits(fused) == bits(callback), "\(mode) order \(order) big \(big)")
            }
        }
    }
}

@Test func modeCvalOrderAndElementTypesDoNotRecompileAFusedTransform() throws {
    let local = try Engine(cacheCapacity: 16)
    let kernel = try local.compile("""
        @transform
        def shift(out_coords, in_coords, dy=0.5, dx=0.25):
            in_coords[0] = out_coords[0] - dy
            in_coords[1] = out_coords[1] - dx
        """)
    let input = try NDArray.make(shape: [8, 9], elementType: .float64, values: (0..<72).map(Double.init))
    _ = try kernel.geometricTransform(input, engine: .fused, threads: 1)
    let misses = local.cache.statistics.misses
    for mode in InterpolationMode.allCases {
        for (order, cval) in [(0, 0.0), (1, 2.5), (3, -1.5), (5, -7.0)] {
            for type in [ElementType.uint8, .float32, .int64] {
                _ = try kernel.geometricTransform(try input.converted(to: type), output: .elementType(.int16),
                                                  options: InterpolationOptions(order: order, mode: mode, cval: cval),
                                                  parameters: ["dx": Double(order)], engine: .fused, threads: 2)
            }
        }
    }
    #expect(local.cache.statistics.misses == misses, "a mode, cval, order, type or parameter change recompiled")
    // Another output rank is another variant: one compile, then cached.
    _ = try kernel.geometricTransform(input, outputShape: [2, 3, 4], engine: .fused, threads: 1)
    #expect(local.cache.statistics.misses == misses + 1)
    _ = try kernel.geometricTransform(input, outputShape: [5, 3, 4], options: InterpolationOptions(mode: .wrap),
                                      engine: .fused, threads: 1)
    #expect(local.cache.statistics.misses == misses + 1)
    // prepareRun compiles the same variant the run uses.
    let prepared = try kernel.prepareRun(shape: [8, 9], elementType: .float64, outputRank: 4, engine: .fused)
    #expect(prepared.compiled == [.transform(TransformLayout(outputRank: 4, inputRank: 2))])
    #expect(local.cache.statistics.misses == misses + 2)
    _ = try kernel.geometricTransform(input, outputShape: [2, 3, 2, 5], engine: .fused, threads: 1)
    #expect(local.cache.statistics.misses == misses + 2)
}

@Test func aFusedTransformRunCompilesOnlyItsRowKernel() throws {
    let local = try Engine(cacheCapacity: 16)
    let kernel = try local.compile("""
        @transform
        def shift(out_coords, in_coords, dy=0.5, dx=0.25):
            in_coords[0] = out_coords[0] - dy
            in_coords[1] = out_coords[1] - dx
        """)
    let prepared = try kernel.prepareRun(shape: [8, 9], elementType: .float64, engine: .fused)
    #expect(prepared.compiled == [.transform(TransformLayout(outputRank: 2, inputRank: 2))])
    let code = try kernel.fusedCode(shape: [8, 9], elementType: .float64)
    #expect(code.ir.contains("fj_transform_row") || code.ir.contains(".row"))
    #expect(!code.optimizedIR.isEmpty)
}

private extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10.0, Double(places))
        return (self * scale).rounded() / scale
    }
}

@Test func aFusedTransformReportsTheFirstFailureInCOrderAcrossRunsAndThreads() throws {
    // (2, 280) lies in a row's second run of points, (5, 10) in a later row's first: C order puts (2, 280) first.
    let kernel = try engine.compile("""
        @transform
        def twoFailures(out_coords, in_coords):
            in_coords[0] = out_coords[0] * 0.5
            in_coords[1] = out_coords[1] * 0.5
            if (out_coords[0] == 2 and out_coords[1] == 280) or (out_coords[0] == 5 and out_coords[1] == 10):
                in_coords[7] = 1.0
        """)
    let input = try NDArray(shape: [20, 150], elementType: .float64)
    for engineChoice in [ExecutionEngine.callback, .fused] {
        for threads in [1, 2] {
            do {
                _ = try kernel.geometricTransform(input, outputShape: [40, 300], engine: engineChoice, threads: threads)
                Issue.record("expected a failure")
            } catch let failure as KernelFailure {
                #expect(failure.element == [2, 280], "\(engineChoice) \(threads) threads")
            }
        }
    }
}

/// Issue 14 asks for affine kernels' coordinates to cost little per point. They are not stepped
/// incrementally (that would round differently from the kernel's own `a * j + b`, which SciPy evaluates),
/// but the kernel is inlined into the point loop: what depends only on the row and the parameters
/// (here `cos`/`sin` of the angle) is computed once per run, and the per-point arithmetic is vectorised
/// across output points. This pins both facts in the optimised IR of `examples/rotate.filter`'s kernel.
@Test func aRotationsCoordinateLoopIsVectorisedWithItsTrigonometryHoisted() throws {
    let kernel = try engine.compile("""
        @transform
        def rotate(out_coords, in_coords, angle=30.0, cy=1023.5, cx=1023.5):
            t = angle * np.pi / 180.0
            c = np.cos(t)
            s = np.sin(t)
            y = out_coords[0] - cy
            x = out_coords[1] - cx
            in_coords[0] = c * y + s * x + cy
            in_coords[1] = -s * y + c * x + cx
        """)
    let ir = try kernel.fusedCode(shape: [64, 64], elementType: .float64).optimizedIR
    // Basic blocks: a label line, then its instructions up to the next blank line.
    var blocks: [String: [String]] = [:]
    var current = "entry"
    for line in ir.split(separator: "\n", omittingEmptySubsequences: false) {
        if let colon = line.firstIndex(of: ":"), !line.hasPrefix(" "), !line.hasPrefix(";"),
           !line.hasPrefix("define"), !line.hasPrefix("declare"), !line.hasPrefix("!") {
            current = String(line[..<colon])
            blocks[current] = []
        } else {
            blocks[current, default: []].append(String(line))
        }
    }
    let vectorBody = try #require(blocks["vector.body"], "the point loop was not vectorised:\n\(ir)")
    #expect(vectorBody.contains { $0.contains("x double>") }, "the vector loop holds no vector arithmetic")
    #expect(!vectorBody.contains { $0.contains("call ") }, "the vector loop calls a function per group of points")
    let trigonometry = ir.split(separator: "\n").filter { $0.contains("call double @cos(") || $0.contains("call double @sin(") }
    #expect(trigonometry.count == 2, "cos and sin should be computed once per run of points: \(trigonometry)")
}
