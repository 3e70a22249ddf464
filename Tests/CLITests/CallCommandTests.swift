import Foundation
import NDImage
import Testing

/// Issue 15: `filterjit call` runs an array function on .npy arrays and numbers.
@Suite struct CallCommandTests {
    @Test func addarrFromItsFileWritesTheSumOnBothEngines() throws {
        let scratch = try ScratchDirectory()
        let x = try NDArray.make(shape: [4], elementType: .uint8, values: [200, 255, 0, 7])
        let y = try NDArray.make(shape: [4], elementType: .uint8, values: [100, 1, 0, 8])
        try NPYFile.write(x, path: scratch.path("x.npy"))
        try NPYFile.write(y, path: scratch.path("y.npy"))
        for engine in ["jit", "interpreter"] {
            let output = scratch.path("sum-\(engine).npy")
            let result = try runCLI(["call", "examples/addarr.py", "--arg", scratch.path("x.npy"), "--arg", scratch.path("y.npy"),
                                     "--output", output, "--engine", engine])
            #expect(result.status == 0, "\(engine): \(result.stderr)")
            let sum = try NPYFile.read(path: output)
            #expect(sum.elementType == .uint8 && sum.doubleValues() == [44, 0, 0, 15], "\(engine)")
        }
    }

    @Test func writesBackArgumentsReadsConstantsAndPrintsNumbers() throws {
        let scratch = try ScratchDirectory()
        let source = """
        def fill(a, k, flag):
            for i in range(len(a)):
                a[i] = k * OFFSETS[i % len(OFFSETS)] + SCALE
            if flag:
                return a[0] * 2
            return 0
        """
        try source.write(toFile: scratch.path("fill.py"), atomically: true, encoding: .utf8)
        try NPYFile.write(try NDArray.make(shape: [5], elementType: .int16, values: [0, 0, 0, 0, 0]), path: scratch.path("a.npy"))
        try NPYFile.write(try NDArray.make(shape: [2], elementType: .int64, values: [1, -1]), path: scratch.path("offsets.npy"))
        let result = try runCLI(["call", scratch.path("fill.py"), "--arg", scratch.path("a.npy"), "--arg", "3", "--arg", "true",
                                 "--write", scratch.path("a.npy"), "--const", "OFFSETS=" + scratch.path("offsets.npy"), "--const", "SCALE=10"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "26\n")
        #expect(try NPYFile.read(path: scratch.path("a.npy")).doubleValues() == [13, 7, 13, 7, 13])
    }

    @Test func aFileGivenTwiceIsOneArrayAsInPython() throws {
        // Was two copies: writes through the second argument were lost when --write saved the first.
        let scratch = try ScratchDirectory()
        try "def f(a, b):\n    b[0] = 5.0\n    a[1] = 7.0\n".write(toFile: scratch.path("alias.py"), atomically: true, encoding: .utf8)
        try NPYFile.write(try NDArray.make(shape: [3], elementType: .float64, values: [0, 0, 0]), path: scratch.path("x.npy"))
        let result = try runCLI(["call", scratch.path("alias.py"), "--arg", scratch.path("x.npy"), "--arg", scratch.path("x.npy"),
                                 "--write", scratch.path("x.npy")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try NPYFile.read(path: scratch.path("x.npy")).doubleValues() == [5, 7, 0])
    }

    @Test func outOfBoundsIndexNamesArrayShapeAndLineAndWritesNothing() throws {
        let scratch = try ScratchDirectory()
        let x = try NDArray.make(shape: [4], elementType: .float64, values: [1, 2, 3, 4])
        try NPYFile.write(x, path: scratch.path("x.npy"))
        try NPYFile.write(try NDArray.make(shape: [2], elementType: .float64, values: [1, 2]), path: scratch.path("y.npy"))
        let result = try runCLI(["call", "examples/addarr.py", "--arg", scratch.path("x.npy"), "--arg", scratch.path("y.npy"),
                                 "--output", scratch.path("sum.npy")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("addarr: index 2 is out of bounds for axis 0 with size 2 (array 'y' of shape (2,)) at line 15, column 30"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("sum.npy")))
        let bad = try runCLI(["call", "examples/addarr.py", "--arg", "oops"])
        #expect(bad.status == 1 && bad.stderr.contains("not a .npy file, an int, a float or true/false"))
    }
}

/// w15c: `filterjit bench FILE --arg ...` times an array function: compile by stage, first and cached calls.
@Suite struct ArrayFunctionBenchCommandTests {
    @Test func benchOfAddarrPrintsStagesAndCallTimes() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try NDArray.make(shape: [1000], elementType: .uint8, values: (0..<1000).map { Double($0 % 256) }),
                          path: scratch.path("x.npy"))
        let result = try runCLI(["bench", "examples/addarr.py", "--arg", scratch.path("x.npy"), "--arg", scratch.path("x.npy"),
                                 "--repeat", "3", "--no-disk-cache", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("function     addarr(uint8[:], uint8[:])"))
        #expect(result.stdout.contains("compile      ") && result.stdout.contains("optimise"))
        #expect(result.stdout.contains("first call   ") && result.stdout.contains("cached calls best"))
        let json = try #require(result.stdout.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["signature"] as? String == "(uint8[:], uint8[:])")
        #expect((object["compile_ms"] as? Double ?? 0) > 0 && (object["cached_best_ms"] as? Double ?? -1) >= 0)
        #expect(object["disk_cache_hit"] as? Bool == false)
    }

    @Test func benchOfAFailingCallSaysWhereAndExitsOne() throws {
        let scratch = try ScratchDirectory()
        try NPYFile.write(try NDArray.make(shape: [4], elementType: .float64, values: [1, 2, 3, 4]), path: scratch.path("x.npy"))
        try NPYFile.write(try NDArray.make(shape: [2], elementType: .float64, values: [1, 2]), path: scratch.path("y.npy"))
        let result = try runCLI(["bench", "examples/addarr.py", "--arg", scratch.path("x.npy"), "--arg", scratch.path("y.npy"),
                                 "--no-disk-cache"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("index 2 is out of bounds for axis 0 with size 2 (array 'y' of shape (2,))"))
    }
}
