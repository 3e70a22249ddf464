import Foundation
import NDImage
import Testing

/// Issue 15: Numba's raw-pointer SciPy callback form, as published, through the CLI (no Numba needed).
@Suite struct NumbaCFuncTests {
    @Test func publishedNbminEqualsGreyErosionOnBothEngines() throws {
        let scratch = try ScratchDirectory()
        let image = try randomImage(shape: [31, 44], seed: 15)
        try NPYFile.write(image, path: scratch.path("x.npy"))
        for engine in ["fused", "callback"] {
            let output = scratch.path("y-\(engine).npy")
            let result = try runCLI(["run", "examples/nbmin_cfunc.py", "--input", scratch.path("x.npy"), "--footprint", "cross",
                                     "--output", output, "--engine", engine, "--no-disk-cache"])
            #expect(result.status == 0, "\(engine): \(result.stderr)")
            #expect(try NPYFile.read(path: output).doubleValues() == crossErosionReflect(image), "\(engine)")
        }
        let check = try runCLI(["check", "examples/nbmin_cfunc.py"])
        #expect(check.status == 0, "\(check.stderr)")
        let bench = try runCLI(["bench", "examples/nbmin_cfunc.py", "--shape", "32x32", "--size", "3", "--repeat", "2"])
        #expect(bench.status == 0, "\(bench.stderr)")
        let typed = try runCLI(["show", "examples/nbmin_cfunc.py", "--stage", "typed"])
        #expect(typed.stdout.hasPrefix("kind filter"), "\(typed.stdout)")
    }

    @Test func returnZeroFailsTheRunAndNamesTheElement() throws {
        let scratch = try ScratchDirectory()
        var values = [Double](repeating: 0, count: 36)
        values[14] = 5
        try NPYFile.write(try NDArray.make(shape: [6, 6], elementType: .float64, values: values), path: scratch.path("x.npy"))
        let source = """
            from numba import cfunc
            from numba.types import intc, intp, float64, voidptr, CPointer

            @cfunc(intc(CPointer(float64), intp, CPointer(float64), voidptr))
            def centre(values_ptr, len_values, result, data):
                result[0] = values_ptr[len_values // 2]
                if result[0] > 1.0:
                    return 0
                return 1

            """
        try source.write(toFile: scratch.path("centre.py"), atomically: true, encoding: .utf8)
        for engine in ["fused", "callback"] {
            let result = try runCLI(["run", scratch.path("centre.py"), "--input", scratch.path("x.npy"), "--size", "3",
                                     "--output", scratch.path("y.npy"), "--engine", engine, "--no-disk-cache"])
            #expect(result.status == 1, "\(engine)")
            #expect(result.stderr.contains("kernel 'centre' failed at element (2, 2): the callback returned 0 (failure) at line 8"),
                    "\(engine): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path("y.npy")))
        }
    }

    @Test func wrongSignatureNamesTheExpectedOnes() throws {
        let scratch = try ScratchDirectory()
        let source = (try String(contentsOf: repositoryRoot.appendingPathComponent("examples/nbmin_cfunc.py"), encoding: .utf8))
            .replacingOccurrences(of: "intp, CPointer(float64), voidptr", with: "intc, CPointer(float64), voidptr")
        try source.write(toFile: scratch.path("bad.py"), atomically: true, encoding: .utf8)
        let result = try runCLI(["check", scratch.path("bad.py")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("expected one of SciPy's callback signatures: intc(CPointer(float64), intp, CPointer(float64), voidptr)"),
                "\(result.stderr)")
    }
}
