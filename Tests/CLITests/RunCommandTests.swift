import Foundation
import NDImage
import Testing

/// A scratch directory removed when the test ends.
final class ScratchDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("filterjit-run-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A seeded pseudo-random float64 image.
func randomImage(shape: [Int], seed: UInt64) throws -> NDArray {
    var state = seed
    let count = shape.reduce(1, *)
    let values = (0..<count).map { _ -> Double in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    return try NDArray.make(shape: shape, elementType: .float64, values: values)
}

/// The grey erosion with a cross footprint and reflect mode, computed directly: the test's oracle.
func crossErosionReflect(_ image: NDArray) -> [Double] {
    let rows = image.shape[0], columns = image.shape[1]
    let values = image.doubleValues()
    func reflect(_ index: Int, _ length: Int) -> Int {
        index < 0 ? -index - 1 : (index >= length ? 2 * length - 1 - index : index)
    }
    var result = [Double](repeating: 0, count: values.count)
    for row in 0..<rows {
        for column in 0..<columns {
            let taps = [(row - 1, column), (row, column - 1), (row, column), (row, column + 1), (row + 1, column)]
            var least = Double.infinity
            for (r, c) in taps {
                let value = values[reflect(r, rows) * columns + reflect(c, columns)]
                if value < least { least = value }
            }
            result[row * columns + column] = least
        }
    }
    return result
}

@Suite struct RunCommandTests {
    @Test func fminOnNpyEqualsGreyErosionWithCross() throws {
        let scratch = try ScratchDirectory()
        let image = try randomImage(shape: [37, 53], seed: 7)
        try NPYFile.write(image, path: scratch.path("x.npy"))
        let result = try runCLI(["run", "examples/fmin.filter", "--input", scratch.path("x.npy"),
                                 "--footprint", "cross", "--output", scratch.path("y.npy"), "--engine", "callback"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try NPYFile.read(path: scratch.path("y.npy"))
        #expect(output.shape == [37, 53])
        #expect(output.elementType == .float64)
        #expect(output.doubleValues() == crossErosionReflect(image))
    }

    @Test func pngInAndOutWithOutputDtype() throws {
        let scratch = try ScratchDirectory()
        let image = try NDArray.make(shape: [4, 5], elementType: .uint8, values: (0..<20).map { Double($0 * 12) })
        try PNGFile.write(image, path: scratch.path("in.png"))
        let result = try runCLI(["run", "-e", "max(values)", "--input", scratch.path("in.png"), "--size", "3",
                                 "--mode", "nearest", "--output", scratch.path("out.png")])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try PNGFile.read(path: scratch.path("out.png"))
        #expect(output.elementType == .uint8)
        // With nearest mode and a 3x3 box, the maximum sits at the window's lower-right tap.
        let expected = (0..<20).map { index -> Double in
            let row = min(index / 5 + 1, 3), column = min(index % 5 + 1, 4)
            return Double((row * 5 + column) * 12)
        }
        #expect(output.doubleValues() == expected)
    }

    @Test func undecoratedDefsRunAsTheKindTheOptionsName() throws {
        // SciPy takes plain functions for generic_filter1d and geometric_transform; so does `run`:
        // --line-size makes an undecorated def a line filter, --kind transform a transform (here SciPy's
        // mapping form), each equal to the decorated program.
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [9, 13], seed: 5), path: scratch.path("x.npy"))
        let body = "def smooth(line, out):\n    for i in range(len(out)):\n        out[i] = (line[i] + 2.0 * line[i + 1] + line[i + 2]) / 4.0\n"
        try body.write(toFile: scratch.path("plain.py"), atomically: true, encoding: .utf8)
        try ("@line_filter\n" + body).write(toFile: scratch.path("decorated.py"), atomically: true, encoding: .utf8)
        for name in ["plain", "decorated"] {
            let result = try runCLI(["run", scratch.path("\(name).py"), "--input", scratch.path("x.npy"), "--line-size", "3",
                                     "--axis", "0", "--mode", "wrap", "--output", scratch.path("\(name)-line.npy")])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try NPYFile.read(path: scratch.path("plain-line.npy")).doubleValues()
                == NPYFile.read(path: scratch.path("decorated-line.npy")).doubleValues())

        try "def shift(out):\n    return (out[0] - 0.5, out[1] - 0.25)\n"
            .write(toFile: scratch.path("mapping.py"), atomically: true, encoding: .utf8)
        let mapping = try runCLI(["run", scratch.path("mapping.py"), "--kind", "transform", "--input", scratch.path("x.npy"),
                                  "--order", "1", "--output", scratch.path("mapping.npy")])
        #expect(mapping.status == 0, "\(mapping.stderr)")
        let example = try runCLI(["run", "examples/shift.filter", "--input", scratch.path("x.npy"), "--order", "1",
                                  "--output", scratch.path("example.npy")])
        #expect(example.status == 0, "\(example.stderr)")
        #expect(try NPYFile.read(path: scratch.path("mapping.npy")).doubleValues()
                == NPYFile.read(path: scratch.path("example.npy")).doubleValues())

        let bad = try runCLI(["run", scratch.path("mapping.py"), "--kind", "lines", "--input", scratch.path("x.npy"),
                              "--output", scratch.path("bad.npy")])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("invalid --kind 'lines': expected filter, line_filter or transform"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("bad.npy")))
    }

    /// `show` of a `@line_filter` says whether its lines run in SIMD lanes and then prints the lanes kernel
    /// after the line kernel: a running mean does (4 lines or more), a FIR filter does not.
    @Test func showSaysWhetherLinesRunInLanes() throws {
        let scratch = try ScratchDirectory()
        let running = """
            @line_filter
            def running(line, out):
                total = 0.0
                for i in range(len(out)):
                    total += line[i + 2] - line[i]
                    out[i] = total / 3
            """
        try running.write(toFile: scratch.path("running.py"), atomically: true, encoding: .utf8)
        let lanes = try runCLI(["show", scratch.path("running.py"), "--line-size", "3", "--shape", "8x100", "--no-disk-cache"])
        #expect(lanes.status == 0, "\(lanes.stderr)")
        #expect(lanes.stdout.hasPrefix("; lines run 4 at a time in SIMD lanes"), "\(lanes.stdout.prefix(200))")
        #expect(lanes.stdout.contains("; the lanes kernel (4 lines per call)"))
        #expect(lanes.stdout.contains("<4 x double>"))
        let few = try runCLI(["show", scratch.path("running.py"), "--line-size", "3", "--shape", "3x100", "--no-disk-cache"])
        #expect(few.stdout.hasPrefix("; lines run one at a time"), "\(few.stdout.prefix(200))")
        // Along axis 0 the lines go in groups of at most the last axis's length: 3 here.
        let narrow = try runCLI(["show", scratch.path("running.py"), "--line-size", "3", "--shape", "100x3", "--axis", "0",
                                 "--no-disk-cache"])
        #expect(narrow.stdout.hasPrefix("; lines run one at a time"), "\(narrow.stdout.prefix(200))")
        let wide = try runCLI(["show", scratch.path("running.py"), "--line-size", "3", "--shape", "100x8", "--axis", "0",
                               "--no-disk-cache"])
        #expect(wide.stdout.hasPrefix("; lines run 4 at a time"), "\(wide.stdout.prefix(200))")
        let off = try runCLI(["show", scratch.path("running.py"), "--line-size", "3", "--shape", "8x100", "--no-disk-cache"],
                             environment: ["FILTERJIT_LINE_LANES": "0"])
        #expect(off.stdout.hasPrefix("; lines run one at a time"), "FILTERJIT_LINE_LANES=0: \(off.stdout.prefix(200))")
        let firText = """
            @line_filter
            def fir(line, out):
                for i in range(len(out)):
                    out[i] = 0.25 * line[i] + 0.5 * line[i + 1] + 0.25 * line[i + 2]
            """
        try firText.write(toFile: scratch.path("fir.py"), atomically: true, encoding: .utf8)
        let fir = try runCLI(["show", scratch.path("fir.py"), "--line-size", "3", "--shape", "8x100", "--asm", "--no-disk-cache"])
        #expect(fir.status == 0, "\(fir.stderr)")
        #expect(fir.stdout.hasPrefix("# lines run one at a time"), "\(fir.stdout.prefix(200))")
    }

    /// `--fast-math`: show and bench name the fast-math box sums, run gives a mean within the stated
    /// bound of the exact one (here random data in [0, 1): far inside it), and without the flag the
    /// bits are the literal kernel's.
    @Test func fastMathIsNamedByShowAndBenchAndRunsTheBoxSums() throws {
        let scratch = try ScratchDirectory()
        let image = try randomImage(shape: [40, 70], seed: 11)
        try NPYFile.write(image, path: scratch.path("x.npy"))
        let show = try runCLI(["show", "-e", "np.mean(values)", "--shape", "64x64", "--size", "15", "--fast-math", "--no-disk-cache"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.hasPrefix("; window strategy: window reductions [box sums (fast-math)], written directly"), "\(show.stdout.prefix(200))")
        let plain = try runCLI(["show", "-e", "np.mean(values)", "--shape", "64x64", "--size", "15", "--no-disk-cache"])
        #expect(plain.stdout.hasPrefix("; window strategy: window reductions [sum]"), "\(plain.stdout.prefix(200))")
        let bench = try runCLI(["bench", "-e", "np.mean(values)", "--shape", "64x64", "--size", "9", "--repeat", "1", "--json",
                                "--fast-math", "--no-disk-cache"])
        #expect(try benchJSON(bench)["strategy"] as? String == "box sums (fast-math)")
        // A Fortran-order file has strided rows: the run sums exactly, and bench says so.
        try NPYFile.write(try randomImage(shape: [70, 40], seed: 12), path: scratch.path("t.npy"))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.path("t.npy")))
        let cHeader = Data("'fortran_order': False, 'shape': (70, 40), }".utf8)
        let fortranHeader = Data("'fortran_order': True, 'shape': (40, 70), } ".utf8)
        let headerRange = try #require(bytes.range(of: cHeader))
        bytes.replaceSubrange(headerRange, with: fortranHeader)
        try bytes.write(to: URL(fileURLWithPath: scratch.path("f.npy")))
        let fortran = try runCLI(["bench", "-e", "np.mean(values)", "--input", scratch.path("f.npy"), "--size", "9",
                                  "--repeat", "1", "--json", "--fast-math", "--no-disk-cache"])
        #expect(try benchJSON(fortran)["strategy"] as? String == "sum", "\(fortran.stdout)")
        let both = try runCLI(["run", "-e", "np.mean(values)", "--input", scratch.path("x.npy"), "--size", "9",
                               "--fast-math", "--strategy", "literal", "--output", scratch.path("z.npy")])
        #expect(both.status == 1 && both.stderr.contains("--fast-math cannot be combined with --strategy literal"), "\(both.stderr)")
        var outputs: [[Double]] = []
        for flags in [["--fast-math"], [], ["--strategy", "literal"]] {
            let run = try runCLI(["run", "-e", "np.mean(values)", "--input", scratch.path("x.npy"), "--size", "9", "--mode", "wrap",
                                  "--output", scratch.path("y.npy"), "--no-disk-cache"] + flags)
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(try NPYFile.read(path: scratch.path("y.npy")).doubleValues())
        }
        #expect(outputs[1].map(\.bitPattern) == outputs[2].map(\.bitPattern))
        // sum|x| <= 81 per window: the bound is (9 + 9 + 81/8 + log2 81 + 15) 2^-53 81 / 81 < 1e-14.
        #expect(zip(outputs[0], outputs[2]).allSatisfy { abs($0 - $1) <= 1e-14 })
    }

    /// 3-D boxes (branch w12m): show and bench name the fast-math box sums of a 3-D float mean, the
    /// exact strategies otherwise ("sum": the integer plane sums, the float pairwise rows), and a 3-D
    /// fast-math run stays within the stated bound of the exact one while the default run is bit-exact.
    @Test func volumeBoxSumsAreNamedByShowAndBench() throws {
        let show = try runCLI(["show", "-e", "np.mean(values)", "--shape", "24x24x24", "--size", "5", "--fast-math",
                               "--no-disk-cache"])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.hasPrefix("; window strategy: window reductions [box sums (fast-math)], written directly"),
                "\(show.stdout.prefix(200))")
        let bench = try runCLI(["bench", "-e", "np.mean(values)", "--shape", "16x16x16", "--size", "7", "--repeat", "1",
                                "--json", "--fast-math", "--no-disk-cache"])
        #expect(try benchJSON(bench)["strategy"] as? String == "box sums (fast-math)", "\(bench.stdout.suffix(300))")
        for (dtype, fastMath) in [("float64", false), ("float32", false), ("uint8", false), ("uint16", true)] {
            let exact = try runCLI(["bench", "-e", "np.mean(values)", "--shape", "16x16x16", "--dtype", dtype, "--size", "3",
                                    "--repeat", "1", "--json", "--no-disk-cache"] + (fastMath ? ["--fast-math"] : []))
            // (Float sums of 27 taps take the pairwise strategy only with AVX-512 or AVX2: from 129 taps without.)
            let portable = !childVectorisesPairwiseSums() && dtype.hasPrefix("float")
            #expect(try benchJSON(exact)["strategy"] as? String == (portable ? "literal" : "sum"), "\(dtype): \(exact.stdout.suffix(300))")
        }
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [9, 10, 11], seed: 5), path: scratch.path("v.npy"))
        var outputs: [[Double]] = []
        for flags in [["--fast-math"], [], ["--strategy", "literal"]] {
            let run = try runCLI(["run", "-e", "np.mean(values)", "--input", scratch.path("v.npy"), "--size", "5",
                                  "--mode", "reflect", "--output", scratch.path("w.npy"), "--no-disk-cache"] + flags)
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(try NPYFile.read(path: scratch.path("w.npy")).doubleValues())
        }
        #expect(outputs[1].map(\.bitPattern) == outputs[2].map(\.bitPattern))
        // |x| < 1: sum|x| <= 125 per window, bound (5 + 5 + 5 + 125/8 + log2 125 + 15) 2^-53 < 1e-14.
        #expect(zip(outputs[0], outputs[2]).allSatisfy { abs($0 - $1) <= 1e-14 })
    }

    @Test func llvmRemarksDoNotReachStderr() throws {
        // A pow call keeps the pixel loop scalar; LLVM's default handler printed "remark: ... loop not vectorized".
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [6, 7], seed: 2), path: scratch.path("x.npy"))
        let result = try runCLI(["run", "-e", "values[0] ** 2.5 + values[4] ** 0.5", "--size", "3", "--input", scratch.path("x.npy"),
                                 "--output", scratch.path("y.npy"), "--no-disk-cache"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func negativeNumbersAreValuesNotFlags() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [6, 6], seed: 3), path: scratch.path("x.npy"))
        let result = try runCLI(["run", "-e", "min(values)", "--input", scratch.path("x.npy"), "--mode", "constant",
                                 "--cval", "-1.5", "--origin", "-1,0", "--size", "3", "--output", scratch.path("y.npy")])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try NPYFile.read(path: scratch.path("y.npy"))
        // Origin -1 on axis 0 moves the window down: the last row's window leaves the image, reading cval.
        #expect(output.doubleValues().suffix(6).allSatisfy { $0 == -1.5 })
    }

    @Test func kernelFailureNamesKernelAndElementAndWritesNothing() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [5, 5], seed: 1), path: scratch.path("x.npy"))
        let result = try runCLI(["run", "-e", "values[9]", "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("kernel 'expression' failed at element (0, 0)"), "\(result.stderr)")
        #expect(result.stderr.contains("out of range"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["x.npy"])
    }

    @Test func errorPathsExitOneAndLeaveNoOutput() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [5, 5], seed: 2), path: scratch.path("x.npy"))
        let cases: [([String], String)] = [
            (["--input", scratch.path("missing.npy")], "missing.npy"),
            (["--input", scratch.path("x.npy"), "--mode", "sideways"], "mode"),
            (["--input", scratch.path("x.npy"), "--size", "3", "--origin", "2"], "origin"),
            (["--input", scratch.path("x.npy"), "--param", "t=1"], "unknown parameter 't'"),
            (["--input", scratch.path("x.npy"), "--output-dtype", "complex128"], "complex128"),
        ]
        for (arguments, mention) in cases {
            let result = try runCLI(["run", "-e", "min(values)", "--output", scratch.path("y.npy")] + arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("error:") && result.stderr.contains(mention), "\(arguments): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["x.npy"])
    }

    @Test func malformedCommandLineExits64() throws {
        let result = try runCLI(["run", "-e", "min(values)", "--input", "x.npy", "--output", "y.npy", "--no-such-flag"])
        #expect(result.status == 64)
        let missing = try runCLI(["run", "-e", "min(values)", "--input", "x.npy"])
        #expect(missing.status == 64)
    }

    @Test func runAppliesATransformKernelAsGeometricTransform() throws {
        let scratch = try ScratchDirectory()
        let image = try randomImage(shape: [9, 7], seed: 2)
        try NPYFile.write(image, path: scratch.path("x.npy"))
        let result = try runCLI(["run", "examples/shift.filter", "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy"),
                                 "--order", "3", "--output-shape", "12x5", "--mode", "nearest", "--param", "dx=-1.5",
                                 "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try NPYFile.read(path: scratch.path("y.npy"))
        let expected = try geometricTransform(input: image, outputShape: [12, 5],
                                              options: InterpolationOptions(order: 3, mode: .nearest)) { o, c in
            c[1] = Double(o[1]) - -1.5
            c[0] = Double(o[0]) - 0.5
        }
        #expect(output.shape == [12, 5])
        #expect(output.doubleValues().map(\.bitPattern) == expected.doubleValues().map(\.bitPattern))
        // The default mode of a transform is constant (SciPy's), with --no-prefilter and an integer output.
        let plain = try runCLI(["run", "examples/shift.filter", "--input", scratch.path("x.npy"), "--output", scratch.path("z.npy"),
                                "--no-prefilter", "--output-dtype", "uint8", "--cval", "300"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let constant = try geometricTransform(input: image, output: .elementType(.uint8),
                                              options: InterpolationOptions(order: 3, cval: 300, prefilter: false)) { o, c in
            c[1] = Double(o[1]) - 0.25
            c[0] = Double(o[0]) - 0.5
        }
        #expect(try NPYFile.read(path: scratch.path("z.npy")).int64Bits() == constant.int64Bits())
    }

    @Test func runRejectsBadTransformOptions() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [5, 5], seed: 2), path: scratch.path("x.npy"))
        let badOrder = try runCLI(["run", "examples/shift.filter", "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy"), "--order", "6"])
        #expect(badOrder.status == 1)
        #expect(badOrder.stderr.contains("--order"))
        let badShape = try runCLI(["run", "examples/shift.filter", "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy"), "--output-shape", "4xq"])
        #expect(badShape.status == 1)
        #expect(badShape.stderr.contains("shape"))
        let badMode = try runCLI(["run", "examples/rotate.filter", "--input", scratch.path("x.npy"), "--output", scratch.path("y.npy"), "--mode", "edge"])
        #expect(badMode.status == 1)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("y.npy")))
    }

    @Test func replRunsATransformBlockWithItsOptions() throws {
        let input = """
            :order 1
            :output-shape 20x10
            :param dy=2
            @transform
            def shift(output_coords, dy, dx=0.0):
                return (output_coords[0] - dy, output_coords[1] - dx)

            :order 9
            :quit

            """
        let result = try runCLI(["repl", "--shape", "16x16"], input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("20x10 float64"), "\(result.stdout)")
        #expect(result.stdout.contains("cached run"))
        #expect(result.stderr.contains(":order N"))
    }

    @Test func runGivesTheSameTransformOnBothEnginesAndShowPrintsTheFusedRow() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try randomImage(shape: [40, 300], seed: 5), path: scratch.path("x.npy"))
        var outputs: [[UInt64]] = []
        for engine in ["fused", "callback"] {
            let result = try runCLI(["run", "examples/rotate.filter", "--input", scratch.path("x.npy"),
                                     "--output", scratch.path("\(engine).npy"), "--order", "3", "--mode", "reflect",
                                     "--param", "cy=20", "--param", "cx=150", "--engine", engine, "--threads", "2",
                                     "--no-disk-cache"])
            #expect(result.status == 0, "\(result.stderr)")
            outputs.append(try NPYFile.read(path: scratch.path("\(engine).npy")).doubleValues().map(\.bitPattern))
        }
        #expect(outputs[0] == outputs[1])
        let fused = try runCLI(["show", "examples/rotate.filter", "--stage", "opt", "--no-disk-cache"])
        #expect(fused.status == 0, "\(fused.stderr)")
        #expect(fused.stdout.contains("_fused") && fused.stdout.contains("@cos"), "\(fused.stdout.prefix(400))")
        let callback = try runCLI(["show", "examples/rotate.filter", "--stage", "ir", "--engine", "callback", "--no-disk-cache"])
        #expect(callback.status == 0 && !callback.stdout.contains("_fused"))
    }

    @Test func benchTimesATransformKernel() throws {
        let result = try runCLI(["bench", "examples/lens.filter", "--shape", "32x32", "--repeat", "2", "--order", "1", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("(transform)"))
        #expect(result.stdout.contains("\"cached_best_ms\""))
    }
}

@Suite struct SwiftAPIExampleTests {
    @Test func apiExampleErodesLikeTheCommandLine() throws {
        let scratch = try ScratchDirectory()
        let image = try randomImage(shape: [21, 34], seed: 11)
        try NPYFile.write(image, path: scratch.path("x.npy"))
        let example = filterjitExecutable().deletingLastPathComponent().appendingPathComponent("filterjit-api-example")
        let process = Process()
        process.executableURL = example
        process.arguments = ["examples/fmin.filter", scratch.path("x.npy"), scratch.path("y.npy")]
        process.currentDirectoryURL = repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        let child = try Child(launching: process)
        child.waitForExit()
        #expect(process.terminationStatus == 0)
        #expect(try NPYFile.read(path: scratch.path("y.npy")).doubleValues() == crossErosionReflect(image))
    }
}
