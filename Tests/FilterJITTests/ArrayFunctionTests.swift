// Array functions (issue 15): `Engine.compileFunction`, both back ends agreeing, NumPy's element
// arithmetic and casts, bounds checks with locations, layouts, the signature cache.

import Testing
import Foundation
import FilterLang
import NDImage
@testable import FilterJIT

/// An array of `type` and `shape` holding `values` (C order), as NumPy's `np.array(values, dtype).reshape(shape)`.
func ndArray(_ values: [Double], _ type: ElementType, _ shape: [Int]? = nil) throws -> NDArray {
    try NDArray.make(shape: shape ?? [values.count], elementType: type, values: values)
}

/// The elements of `array` in C order as doubles.
func elements(_ array: NDArray) -> [Double] { array.doubleValues() }

/// The elements of `array` in C order as bits: a 64-bit integer's own, else the double's (exact for the others).
func elementBits(_ array: NDArray) -> [UInt64] {
    if array.elementType == .int64 || array.elementType == .uint64 { return array.int64Bits().map { UInt64(bitPattern: $0) } }
    return elements(array).map(\.bitPattern)
}

/// Calls `function` on both engines with fresh copies of the arrays; checks that they agree on the result and
/// on every argument array afterwards, and returns the JIT's result and arguments.
@discardableResult
func callBoth(_ function: ArrayFunction, _ arguments: [ArrayFunctionArgument],
              sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> (ArrayFunctionResult, [ArrayFunctionArgument]) {
    func copies() throws -> [ArrayFunctionArgument] {
        try arguments.map { argument in
            guard case .array(let array) = argument else { return argument }
            // Keep the layout (strides, negative strides): copy the storage bytes, view them the same way.
            let storage = try NDArrayStorage(byteCount: array.storage.byteCount)
            storage.baseAddress.copyMemory(from: array.storage.baseAddress, byteCount: array.storage.byteCount)
            return .array(try NDArray(storage: storage, elementType: array.elementType, shape: array.shape,
                                      strides: array.strides, byteOffset: array.byteOffset))
        }
    }
    let jitArguments = try copies()
    let interpreterArguments = try copies()
    let jit = Result { try function.call(jitArguments, engine: .jit) }
    let interpreted = Result { try function.call(interpreterArguments, engine: .interpreter) }
    switch (jit, interpreted) {
    case (.success(let a), .success(let b)):
        #expect(describe(a) == describe(b), "JIT and interpreter results differ", sourceLocation: sourceLocation)
    case (.failure(let a as KernelRuntimeError), .failure(let b as KernelRuntimeError)):
        #expect(a == b, "JIT and interpreter fail differently: \(a) / \(b)", sourceLocation: sourceLocation)
    default:
        Issue.record("JIT \(jit) but interpreter \(interpreted)", sourceLocation: sourceLocation)
    }
    for (a, b) in zip(jitArguments, interpreterArguments) {
        if case .array(let x) = a, case .array(let y) = b {
            #expect(elementBits(x) == elementBits(y), "arguments differ after the call",
                    sourceLocation: sourceLocation)
        }
    }
    return (try jit.get(), jitArguments)
}

/// A comparable text of a result (bit patterns for floats).
func describe(_ result: ArrayFunctionResult) -> String {
    switch result {
    case .none: return "None"
    case .int(let x): return "int \(x)"
    case .uint64(let x): return "uint64 \(x)"
    case .float(let x): return "float \(x.bitPattern)"
    case .bool(let x): return "bool \(x)"
    case .array(let array):
        return "\(array.elementType) \(array.shape) " + elementBits(array).map { "\($0)" }.joined(separator: ",")
    }
}

@Suite struct ArrayFunctionTests {
    static let addarr = """
    import numpy as np

    def addarr(x, y):
        result = np.zeros_like(x)
        for i in range(x.size):
            result[i] = x[i] + y[i]
        return result
    """

    @Test func addarrAddsFloat64ArraysAsNumPyDoes() throws {
        let function = try sharedEngine.compileFunction(Self.addarr)
        let x = try ndArray([1.5, -2, 1e308, .nan], .float64)
        let y = try ndArray([0.25, 2, 1e308, 1], .float64)
        let (result, _) = try callBoth(function, [.array(x), .array(y)])
        guard case .array(let sum) = result else { Issue.record("no array"); return }
        #expect(sum.elementType == .float64 && sum.shape == [4])
        let values = elements(sum)
        #expect(values[0] == 1.75 && values[1] == 0 && values[2] == .infinity && values[3].isNaN)
        #expect(function.signatures.map(\.description) == ["(float64[:], float64[:])"])
    }

    @Test func addarrOnUInt8WrapsAsNumPyDoes() throws {
        let function = try sharedEngine.compileFunction(Self.addarr)
        let x = try ndArray([200, 255, 0, 7], .uint8)
        let y = try ndArray([100, 1, 0, 8], .uint8)
        let (result, _) = try callBoth(function, [.array(x), .array(y)])
        guard case .array(let sum) = result else { Issue.record("no array"); return }
        #expect(sum.elementType == .uint8)
        #expect(elements(sum) == [44, 0, 0, 15])  // np.array([200,255,0,7], np.uint8) + np.array([100,1,0,8], np.uint8)
    }

    @Test func everyDTypeAndRankCompilesItsOwnSignatureAndAgrees() throws {
        let oneD = try sharedEngine.compileFunction("""
        import numpy as np

        @jit
        def scale(a, k):
            out = np.empty_like(a)
            for i in range(a.shape[0]):
                out[i] = a[i] * k - 1
            return out
        """)
        let twoD = try sharedEngine.compileFunction("""
        import numpy as np

        @array_function
        def scale2(a, k):
            out = np.zeros(a.shape, a.dtype)
            for i in range(a.shape[0]):
                for j in range(a.shape[-1]):
                    out[i, j] = a[i, j] * k - 1
            return out
        """)
        // No element or product overflows a uint32 array to a value NumPy would not wrap the same way.
        let values: [Double] = [0, 1, 2, 3, 100, 127]
        for type in ElementType.allCases {
            for (function, shape) in [(oneD, [6]), (twoD, [2, 3])] {
                let a = try ndArray(type == .bool ? values.map { $0 > 1 ? 1 : 0 } : values, type, shape)
                let (int, _) = try callBoth(function, [.array(a), .int(3)])
                let (float, _) = try callBoth(function, [.array(a), .float(0.5)])
                guard case .array(let r1) = int, case .array(let r2) = float else { Issue.record("no array"); continue }
                #expect(r1.elementType == type && r1.shape == shape && r2.elementType == type)
                if type == .float64 || type == .int64 {
                    #expect(elements(r1) == values.map { $0 * 3 - 1 })
                    #expect(elements(r2) == values.map { type == .int64 ? ($0 * 0.5 - 1).rounded(.towardZero) : $0 * 0.5 - 1 })
                }
            }
        }
        // 11 dtypes x 2 scalar types per function.
        #expect(oneD.signatures.count == 22 && twoD.signatures.count == 22)
    }

    @Test func integerStoresWrapAndFloatStoresTruncate() throws {
        let source = """
        def store(a, b, c, v, w):
            a[0] = v          # int into int8: wraps
            a[1] = -v
            b[0] = w          # float into uint16: truncates toward zero, then wraps
            b[1] = -w
            c[0] = v * 1000000007 * 1000000007   # int64 arithmetic wraps, then into int32
            c[1] = True
        """
        let function = try sharedEngine.compileFunction(source)
        let a = try ndArray([0, 0], .int8), b = try ndArray([0, 0], .uint16), c = try ndArray([0, 0], .int32)
        let (_, arrays) = try callBoth(function, [.array(a), .array(b), .array(c), .int(300), .float(70000.9)])
        guard case .array(let a2) = arrays[0], case .array(let b2) = arrays[1], case .array(let c2) = arrays[2] else { return }
        // NumPy: np.array([300, -300]).astype(np.int8) == [44, -44]; np.array([70000, -70000]).astype(np.uint16) == [4464, 61072]
        #expect(elements(a2) == [44, -44])
        #expect(elements(b2) == [4464, 61072])
        let wrapped = Int64(300) &* 1000000007 &* 1000000007
        #expect(elements(c2) == [Double(Int32(truncatingIfNeeded: wrapped)), 1])
    }

    @Test func aFloatWithoutAnIntValueStoredIntoAnIntArrayFailsOnBothEngines() throws {
        let function = try sharedEngine.compileFunction("def f(a, x):\n    a[0] = x\n")
        let a = try ndArray([0], .int16)
        for x in [Double.nan, .infinity, 1e19] {
            #expect(throws: KernelRuntimeError.self) { try callBoth(function, [.array(a), .float(x)]) }
        }
    }

    @Test func outOfBoundsIndicesFailWithArrayIndexShapeAndLine() throws {
        let source = """
        def get(a, i, j):
            return a[i, j]
        """
        let function = try sharedEngine.compileFunction(source)
        let a = try ndArray([1, 2, 3, 4, 5, 6], .float64, [2, 3])
        try callBoth(function, [.array(a), .int(-2), .int(-3)])
        for (i, j) in [(2, 0), (0, 3), (-3, 0), (0, -4)] {
            do {
                _ = try callBoth(function, [.array(a), .int(Int64(i)), .int(Int64(j))])
                Issue.record("a[\(i), \(j)] did not fail")
            } catch let error as KernelRuntimeError {
                let axis = i >= 2 || i < -2 ? 0 : 1
                let size = axis == 0 ? 2 : 3
                let index = axis == 0 ? i : j
                #expect(error.message == "index \(index) is out of bounds for axis \(axis) with size \(size) (array 'a' of shape (2, 3))")
                #expect(function.describe(error).hasSuffix("at line 2, column \(axis == 0 ? 14 : 17)"))
            }
        }
    }

    /// An array assigned on some paths only: every kind of use is the compile error Python's
    /// UnboundLocalError would be (indexing, len, shape, reductions and iteration used to read an
    /// undefined data pointer and shape in the JIT).
    @Test func anArrayAssignedOnSomePathsCannotBeUsed() throws {
        let uses = ["out[0] = x[0]", "y = out[0]", "n = len(out)", "n = out.shape[0]", "n = out.size",
                    "m = np.max(out)", "for v in out:\n        pass"]
        let x = try ndArray([1, 2, 3], .float64)
        for use in uses {
            let source = "import numpy as np\ndef f(x, flag):\n    if flag:\n        out = np.zeros_like(x)\n    \(use)\n"
            let function = try sharedEngine.compileFunction(source)
            for flag in [true, false] {
                do {
                    _ = try function.call([.array(x), .bool(flag)])
                    Issue.record("compiled: \(use)")
                } catch let error as CompileError {
                    #expect(error.description.contains("'out' may be used before it is assigned"), "\(use): \(error.description)")
                }
            }
        }
    }

    /// Loops over array extents skip the cancellation poll only when innermost: two nested ones over
    /// arrays of 10^6 elements (10^12 iterations) used to be impossible to stop.
    @Test func nestedLoopsOverArrayExtentsStopOnCancel() throws {
        let engine = try Engine()
        let function = try engine.compileFunction("""
            def f(a, b):
                s = 0.0
                for i in range(len(a)):
                    for j in range(len(b)):
                        s += a[i] * b[j]
                return s
            """)
        let a = try ndArray(Array(repeating: 1, count: 1_000_000), .float64)
        // The canceller is its own thread, cancelling every 0.1 s until the call returns: a block on
        // DispatchQueue.global() waited up to 47 s behind other tests' parallel loops in a loaded CI run,
        // and a cancel that lands while the function is still compiling must not be the only one.
        let finished = DeadlineFlag()
        let canceller = Thread {
            while !finished.isSet {
                Thread.sleep(forTimeInterval: 0.1)
                engine.cancel()
            }
        }
        canceller.start()
        defer { finished.set() }
        let start = Date()
        do {
            _ = try function.call([.array(a), .array(a)])
            Issue.record("10^12 iterations finished")
        } catch let error as KernelRuntimeError {
            #expect(error.message.contains("cancelled"), "\(error.message)")
        }
        #expect(Date().timeIntervalSince(start) < 30)
    }

    /// A new array of a negative extent or of more bytes than the bound fails alike on both engines, with
    /// NumPy's message for the first and the bound for the second.
    @Test func newArraysOfNegativeOrHugeShapesFailWithTheirReason() throws {
        let function = try sharedEngine.compileFunction("import numpy as np\ndef f(n):\n    a = np.zeros(n)\n    return len(a)\n")
        try callBoth(function, [.int(3)])
        for (n, message) in [(Int64(-1), "negative dimensions are not allowed"),
                             (Int64(1) << 40, "cannot allocate an array of shape (1099511627776,): more than 68719476736 bytes")] {
            do {
                try callBoth(function, [.int(n)])
                Issue.record("np.zeros(\(n)) did not fail")
            } catch let error as KernelRuntimeError {
                #expect(error.message == message, "\(error.message)")
            }
        }
        // An empty array whose strides would overflow (NumPy: "array is too big"); it used to trap the process.
        let empty = try sharedEngine.compileFunction("import numpy as np\ndef f(n):\n    a = np.zeros((0, n, n))\n    return a.ndim\n")
        try callBoth(empty, [.int(3)])
        do {
            try callBoth(empty, [.int(1 << 40)])
            Issue.record("np.zeros((0, 2**40, 2**40)) did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message.hasPrefix("array is too big"), "\(error.message)")
        }
    }

    @Test func negativeIndicesCountFromTheEnd() throws {
        let function = try sharedEngine.compileFunction("def last(a):\n    return a[-1] + a[-len(a)]\n")
        let (result, _) = try callBoth(function, [.array(try ndArray([3, 4, 5], .int32))])
        #expect(describe(result) == "int 8")
    }

    @Test func writesIntoStridedAndReversedViewsTouchOnlyTheirElements() throws {
        // A 4x6 int16 array, viewed as every other column, reversed rows: shape (4, 3), strides (-12, 4).
        let base = try ndArray((0..<24).map(Double.init), .int16, [4, 6])
        let view = try NDArray(storage: base.storage, elementType: .int16, shape: [4, 3], strides: [-12, 4], byteOffset: 36)
        let source = """
        def bump(a):
            m, n = a.shape
            for i in range(m):
                for j in range(n):
                    a[i, j] += 100 * i + j
            return a[0, 0]
        """
        let function = try sharedEngine.compileFunction(source)
        let (result, arrays) = try callBoth(function, [.array(view)])
        #expect(describe(result) == "int 18")
        guard case .array(let written) = arrays[0] else { return }
        let all = elements(try NDArray(storage: written.storage, elementType: .int16, shape: [4, 6], strides: [12, 2], byteOffset: 0))
        var expected = (0..<24).map(Double.init)
        for i in 0..<4 {
            for j in 0..<3 { expected[(3 - i) * 6 + 2 * j] += Double(100 * i + j) }
        }
        #expect(all == expected)
    }

    @Test func scalarsNoneAndArgumentResults() throws {
        let source = """
        import numpy as np

        def pick(a, mode):
            if mode == 0:
                return None
            a[0] = 1
        """
        let none = try sharedEngine.compileFunction(source)
        let (result, _) = try callBoth(none, [.array(try ndArray([0], .float32)), .int(1)])
        #expect(describe(result) == "None")
        let same = try sharedEngine.compileFunction("def same(a):\n    a[0] = 2\n    return a\n")
        let a = try ndArray([0, 1], .float32)
        guard case .array(let returned) = try same.call([.array(a)]) else { Issue.record("no array"); return }
        #expect(returned === a)
        let sum = try sharedEngine.compileFunction("def total(a):\n    s = 0\n    for i in range(len(a)):\n        s += a[i]\n    return s\n")
        #expect(describe(try callBoth(sum, [.array(try ndArray([1, 2, 3], .uint32))]).0) == "int 6")
        #expect(describe(try callBoth(sum, [.array(try ndArray([0.5, 2], .float32))]).0) == "float \(2.5.bitPattern)")
        #expect(describe(try callBoth(sum, [.array(try ndArray([1, 0, 1], .bool))]).0) == "int 2")
    }

    @Test func newArraysOfGivenShapesAndDTypes() throws {
        let source = """
        import numpy as np

        def make(n, m):
            z = np.zeros((n, m), dtype=np.int32)
            for i in range(n):
                for j in range(m):
                    z[i, j] = i * 10 + j - 5
            return z
        """
        let function = try sharedEngine.compileFunction(source)
        let (result, _) = try callBoth(function, [.int(2), .int(3)])
        guard case .array(let z) = result else { Issue.record("no array"); return }
        #expect(z.elementType == .int32 && z.shape == [2, 3] && elements(z) == [-5, -4, -3, 5, 6, 7])
        #expect(throws: KernelRuntimeError.self) { try callBoth(function, [.int(-1), .int(3)]) }
        let empty = try sharedEngine.compileFunction("import numpy as np\ndef e(n):\n    return np.empty(n, np.uint8)\n")
        guard case .array(let e) = try callBoth(empty, [.int(0)]).0 else { return }
        #expect(e.shape == [0] && e.elementType == .uint8)
    }

    @Test func signaturesAreCachedPerDTypeAndRank() throws {
        let engine = try Engine(cacheCapacity: 16)
        let function = try engine.compileFunction(Self.addarr)
        let x = try ndArray([1, 2], .float64), y = try ndArray([3, 4], .float64)
        _ = try function.call([.array(x), .array(y)])
        let misses = engine.cache.statistics.misses
        _ = try function.call([.array(y), .array(x)])
        #expect(engine.cache.statistics.misses == misses)
        _ = try function.call([.array(try ndArray([1, 2], .int16)), .array(y)])
        #expect(engine.cache.statistics.misses == misses + 1)
        #expect(function.signatures.count == 2)
        #expect(try function.inspectIR(for: function.signatures[0]).contains("define"))
    }

    @Test func refusedFormsSayWhy() throws {
        let cases: [(String, String)] = [
            ("def f(a):\n    return a + 1\n", "'a' is an n-dimensional array"),
            ("def f(a):\n    return a[0]\n", "has 2 dimensions: index every axis"),
            ("def f(a):\n    return a[0, 0, 0]\n", "too many indices"),
            ("def f(a):\n    return a[1.5, 0]\n", "array indices must be ints"),
            ("def f(a):\n    a = 3\n", "cannot assign to array parameter 'a'"),
            ("import numpy as np\ndef f(a):\n    b = np.zeros(3, dtype=np.complex128)\n", "unsupported dtype"),
            ("def f(a):\n    if a[0, 0] > 0:\n        return a\n    return 1\n", "every return must give the same type"),
        ]
        let a = try ndArray([1, 2, 3, 4], .float64, [2, 2])
        for (source, message) in cases {
            let function = try sharedEngine.compileFunction(source)
            do {
                _ = try function.call([.array(a)])
                Issue.record("compiled: \(source)")
            } catch let error as CompileError {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
        // A uint64 value is returned as itself (ArrayFunctionUInt64Tests).
        let uint64 = try sharedEngine.compileFunction("def f(a):\n    return a[0]\n")
        #expect(describe(try callBoth(uint64, [.array(try ndArray([1], .uint64))]).0) == "uint64 1")
    }
}

/// The JIT against the interpreter on random array functions (seeded; FILTERJIT_FUZZ_SEED reproduces a run).
@Suite struct ArrayFunctionFuzzTests {
    /// A random int or float expression over the elements of `a`, `b` and the scalar `k` at loop index `i`.
    static func expression(_ random: inout SplitMix64, depth: Int) -> String {
        if depth == 0 || random.chance(0.3) {
            switch random.below(7) {
            case 0: return "a[i % len(a)]"
            case 1: return "b[-1 - i % b.shape[0]]"
            case 2: return "k"
            case 3: return "\(Int(random.below(600)) - 300)"
            case 4: return random.pick(["0.5", "-1.25", "1e10", "3.0"])
            case 5: return "i"
            default: return "a[(i + \(random.below(3))) % a.size]"
            }
        }
        let x = expression(&random, depth: depth - 1), y = expression(&random, depth: depth - 1)
        switch random.below(9) {
        case 0: return "(\(x) + \(y))"
        case 1: return "(\(x) - \(y))"
        case 2: return "(\(x) * \(y))"
        case 3: return "(\(x) // (\(y)))"
        case 4: return "(\(x) % (\(y)))"
        case 5: return "(\(x) if \(x) > \(y) else \(y))"
        case 6: return "abs(\(x))"
        case 7: return "min(\(x), \(y))"
        default: return "(\(x) / 7)"
        }
    }

    @Test func randomArrayFunctionsAgreeOnBothEngines() throws {
        let seed = ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970)
        print("randomArrayFunctionsAgreeOnBothEngines seed \(seed)")
        var random = SplitMix64(seed: seed)
        let types = ElementType.allCases
        for _ in 0..<40 {
            let source = """
            import numpy as np

            def f(a, b, out, k):
                total = 0
                i = 0
                for i in range(len(out)\(random.chance(0.1) ? " + 1" : "")):
                    out[i] = \(Self.expression(&random, depth: 3))
                    total += out[i]
                extra = np.zeros_like(out)
                extra[0] = \(Self.expression(&random, depth: 2))
                return total
            """
            let function = try sharedEngine.compileFunction(source)
            let (ta, tb, tout) = (random.pick(types), random.pick(types), random.pick(types))
            func values(_ n: Int, _ type: ElementType) -> [Double] {
                (0..<n).map { _ in
                    // uint64 arrays also get values at and above 2^63 (negative as int64 bits).
                    if type == .uint64, random.chance(0.3) { return random.pick([0x1p63, 9.3e18, 1.2e19, 1.8e19]) }
                    return type == .bool ? Double(random.below(2)) : Double(Int(random.below(200)) - (type.rawValue.hasPrefix("u") ? 0 : 100))
                }
            }
            let a = try ndArray(values(1 + random.below(6), ta), ta)
            let b = try ndArray(values(1 + random.below(6), tb), tb)
            let out = try ndArray(values(1 + random.below(8), tout), tout)
            let k: ArrayFunctionArgument = random.chance(0.5) ? .int(Int64(random.below(9)) - 4) : .float(Double(random.below(9)) - 4.5)
            do {
                try callBoth(function, [.array(a), .array(b), .array(out), k])
            } catch is KernelRuntimeError {
                // Both engines failed alike (callBoth compared them): an index or a division by zero.
            } catch let error as CompileError {
                Issue.record("seed \(seed): \(error)\n\(source)")
            }
        }
    }
}

@Suite struct ArrayFunctionExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func thePublishedAddarrCompilesUnchangedFromItsFile() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("examples/addarr.py"), encoding: .utf8)
        let function = try sharedEngine.compileFunction(text, function: "addarr", fileName: "examples/addarr.py")
        for type in ElementType.allCases {
            let x = try ndArray((0..<50).map { Double($0 % 2 == 0 ? $0 * 7 : 1) }, type)
            let y = try ndArray((0..<50).map { Double($0 % 3) }, type)
            try callBoth(function, [.array(x), .array(y)])
        }
    }

    @Test func arrayFunctionsLoadFromTheDiskCacheInANewEngine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fj-array-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let x = try ndArray([1, 2, 3], .int32)
        let first = try Engine(diskCache: DiskKernelCache(directory: directory))
        let function = try first.compileFunction(ArrayFunctionTests.addarr)
        _ = try function.call([.array(x), .array(x)])
        #expect(try !function.kernel(for: function.signatures[0]).loadedFromDiskCache)
        let second = try Engine(diskCache: DiskKernelCache(directory: directory))
        let again = try second.compileFunction(ArrayFunctionTests.addarr)
        guard case .array(let sum) = try again.call([.array(x), .array(x)]) else { Issue.record("no array"); return }
        #expect(elements(sum) == [2, 4, 6])
        #expect(try again.kernel(for: again.signatures[0]).loadedFromDiskCache)
    }
}

@Suite struct ArrayFunctionReductionTests {
    @Test func maxAndMinOfArraysAgreeWithNumPy() throws {
        let function = try sharedEngine.compileFunction("""
        import numpy as np

        def extremes(a):
            return np.max(a) - a.min()
        """)
        #expect(describe(try callBoth(function, [.array(try ndArray([3, -7, 12, 0], .int16))]).0) == "int 19")
        #expect(describe(try callBoth(function, [.array(try ndArray([3, -7, 12, 0, 5, 5], .float32, [2, 3]))]).0) == "float \(19.0.bitPattern)")
        guard case .float(let nan) = try callBoth(function, [.array(try ndArray([1, .nan, 3], .float64))]).0 else { return }
        #expect(nan.isNaN)
        do {
            _ = try callBoth(function, [.array(try ndArray([], .int8))])
            Issue.record("empty reduction did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message == "zero-size array to reduction operation maximum which has no identity")
        }
    }

    @Test func skansBuildGraphCompilesUnchangedWithItsFrozenSteps() throws {
        // The published function, with the module global `steps` frozen as filterjit.jit freezes it (7x9 image).
        let source = """
        import numpy as np

        steps = np.array([-10, -9, -8, -1, 1, 8, 9, 10], dtype=int)

        def build_graph(labeled_pixels, steps_to_neighbours, row, col):
            start = np.max(steps_to_neighbours)
            end = len(labeled_pixels) - start
            elem = 0  # row/col index
            for k in range(start, end):
                i = labeled_pixels[k]
                if i != 0:
                    for s in steps:
                        neighbour = k + s
                        j = labeled_pixels[neighbour]
                        if j != 0:
                            row[elem] = i
                            col[elem] = j
                            elem += 1
        """
        let function = try sharedEngine.compileFunction(source)
        var labels = [Double](repeating: 0, count: 63)
        var label = 1.0
        for (y, x) in [(1, 1), (2, 2), (3, 3), (3, 4), (3, 5), (2, 6), (1, 7), (4, 3), (5, 3), (5, 5), (5, 6), (5, 7)] {
            labels[y * 9 + x] = label
            label += 1
        }
        let steps = try ndArray([-10, -9, -8, -1, 1, 8, 9, 10], .int64)
        let row = try ndArray([Double](repeating: 0, count: 22), .int32), col = try ndArray([Double](repeating: 0, count: 22), .int32)
        let (result, arrays) = try callBoth(function, [.array(try ndArray(labels, .int32)), .array(steps), .array(row), .array(col)])
        #expect(describe(result) == "None")
        guard case .array(let rows) = arrays[2], case .array(let cols) = arrays[3] else { return }
        // Every edge both ways, no zero left: 22 directed edges.
        let pairs = Set(zip(elements(rows), elements(cols)).map { "\(Int($0)),\(Int($1))" })
        #expect(pairs.count == 22 && !elements(rows).contains(0))
        for pair in pairs {
            let parts = pair.split(separator: ",")
            #expect(pairs.contains("\(parts[1]),\(parts[0])"))
        }
        // `for s in steps` over the 8 frozen steps stays a loop in both versions: its body branches, and one copy of it
        // per step made the code generator's work 7 ms longer (build_graph's compile 19.7 -> 12-13 ms rolled, the call
        // 3-5% slower). The steps are read from one constant array.
        for signature in function.signatures {
            let ir = try function.inspectIR(for: signature)
            #expect(ir.contains("[8 x i64] [i64 -10, i64 -9, i64 -8, i64 -1, i64 1, i64 8, i64 9, i64 10]"), "the frozen steps")
            let loopReads = ir.components(separatedBy: "[8 x i64]* @filterjit.constant0, i64 0, i64 %each.counter").count - 1
            #expect(loopReads == 2, "\(loopReads) versions read the steps in a loop (unrolled copies read none)")
            // `labeled_pixels[neighbour]` (neighbour = k + s) is proven in bounds in the unchecked version (w15e): its
            // index check is left only in the checked version's loop (16 checks before w15e, 8 before it was rolled).
            let utf8 = Array(source.utf8), needle = Array("labeled_pixels[neighbour]".utf8)
            let at = (0...(utf8.count - needle.count)).first { Array(utf8[$0..<($0 + needle.count)]) == needle }!
            let start = at + "labeled_pixels[".utf8.count
            let failures = ir.components(separatedBy: "@filterjit_nd_index_fail(i64 \(start), i64 \(start + 9),").count - 1
            #expect(failures == 1, "\(failures) checks of labeled_pixels[neighbour]")
        }
    }

    /// A straight-line body over a short constant array is still one copy per element in the unchecked version (each
    /// offset a constant); the checked version keeps the loop.
    @Test func straightLineLoopsOverConstantsAreUnrolled() throws {
        let function = try sharedEngine.compileFunction("""
        import numpy as np

        offsets = np.array([-1, 0, 1], dtype=int)

        def smooth(x, out):
            for k in range(1, len(x) - 1):
                total = 0
                for s in offsets:
                    total += x[k + s]
                out[k] = total
        """)
        let x = try ndArray([3, 1, 4, 1, 5, 9, 2, 6], .int64), out = try ndArray([Double](repeating: 0, count: 8), .int64)
        let (_, arrays) = try callBoth(function, [.array(x), .array(out)])
        guard case .array(let smoothed) = arrays[1] else { return }
        #expect(elements(smoothed) == [0, 8, 6, 10, 15, 16, 17, 0])
        for signature in function.signatures {
            let ir = try function.inspectIR(for: signature)
            let loopReads = ir.components(separatedBy: "[3 x i64]* @filterjit.constant0, i64 0, i64 %each.counter").count - 1
            #expect(loopReads == 1, "\(loopReads) versions read the offsets in a loop (the checked one only)")
        }
    }
}

@Suite struct ArrayFunctionLoopVersionTests {
    /// `for i in range(len(out))` with `out[i]`, `x[i]`: the unchecked loop version runs only when every such index
    /// is proven in bounds and every stride is whole elements; the checked version covers the rest.
    @Test func uncheckedAndCheckedLoopVersionsAgree() throws {
        let function = try sharedEngine.compileFunction("""
        def scaled(x, out, k):
            for i in range(len(out)):
                out[i] = x[i] * k
            return out[len(out) - 1]
        """)
        // Odd byte strides (3 bytes for uint16 elements): the checked version.
        let storage = try NDArrayStorage(byteCount: 64)
        for byte in 0..<64 { storage.baseAddress.storeBytes(of: UInt8(byte), toByteOffset: byte, as: UInt8.self) }
        let odd = try NDArray(storage: storage, elementType: .uint16, shape: [10], strides: [3], byteOffset: 1)
        let reversed = try ndArray((0..<10).map(Double.init), .int32).reversed(axis: 0)
        for (x, out) in [(odd, try ndArray([Double](repeating: 0, count: 10), .uint16)),
                         (reversed, try ndArray([Double](repeating: 0, count: 10), .int64)),
                         (try ndArray((0..<10).map(Double.init), .float64), odd)] {
            try callBoth(function, [.array(x), .array(out), .int(3)])
        }
        // x shorter than out: the loop fails at x's end on both engines, after writing what came before.
        let short = try ndArray([1, 2, 3], .float32)
        do {
            _ = try callBoth(function, [.array(short), .array(try ndArray([0, 0, 0, 0, 0], .float32)), .float(2)])
            Issue.record("did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message == "index 3 is out of bounds for axis 0 with size 3 (array 'x' of shape (3,))")
        }
    }
}

@Suite struct ArrayFunctionBoundsCheckTests {
    @Test func boundscheckFalseDropsTheChecksFromTheMachineCodeOnly() throws {
        let unchecked = try sharedEngine.compileFunction(ArrayFunctionTests.addarr, boundsChecked: false)
        let x = try ndArray([1, 2, 3], .int32), y = try ndArray([10, 20, 30], .int32)
        guard case .array(let sum) = try unchecked.call([.array(x), .array(y)]) else { Issue.record("no array"); return }
        #expect(elements(sum) == [11, 22, 33])
        #expect(unchecked.signatures.map(\.description) == ["(int32[:], int32[:]) boundscheck=False"])
        let ir = try unchecked.inspectIR(for: unchecked.signatures[0])
        #expect(!ir.contains("call void @filterjit_nd_index_fail"))
        let checked = try sharedEngine.compileFunction(ArrayFunctionTests.addarr)
        _ = try checked.call([.array(x), .array(y)])
        #expect(try checked.inspectIR(for: checked.signatures[0]).contains("call void @filterjit_nd_index_fail"))
        // The interpreter (the oracle) checks regardless.
        #expect(throws: KernelRuntimeError.self) {
            try unchecked.call([.array(x), .array(try ndArray([1], .int32))], engine: .interpreter)
        }
    }
}

@Suite struct ArrayFunctionIterationTests {
    @Test func forEachElementOfAOneDimensionalArray() throws {
        let function = try sharedEngine.compileFunction("""
        import numpy as np

        def stats(a, b):
            s = 0.0
            n = 0
            for v in a:
                s += v
                if v > 2:
                    n += 1
            for w in b:
                for v in a:
                    s -= w * v
            return s + n
        """)
        for type in [ElementType.int16, .float32, .uint8, .bool] {
            let a = try ndArray(type == .bool ? [1, 0, 1] : [1, 3, 5], type)
            let b = try ndArray([2, -1], .int64).reversed(axis: 0)
            try callBoth(function, [.array(a), .array(b)])
        }
        let (result, _) = try callBoth(function, [.array(try ndArray([1, 3, 5], .int32)), .array(try ndArray([2], .int8))])
        #expect(describe(result) == "float \((9.0 - 18.0 + 2.0).bitPattern)")
        let rows = try sharedEngine.compileFunction("def f(a):\n    for row in a:\n        pass\n")
        #expect(throws: CompileError.self) { try rows.call([.array(try ndArray([1, 2, 3, 4], .float64, [2, 2]))]) }
        let reassigned = try sharedEngine.compileFunction("import numpy as np\ndef f(a):\n    c = np.zeros_like(a)\n    for v in c:\n        c = np.zeros_like(a)\n")
        #expect(throws: CompileError.self) { try reassigned.call([.array(try ndArray([1, 2], .float64))]) }
    }
}

/// Indices `k + v` proven from one check before the loop (w15e): `a[i - 1]`, `a[i + c]`, skan's `neighbour = k + s`
/// over the steps of a constant array. Each path is forced: in range (the unchecked version), out of range at the
/// start (negative indices, which count from the end as in Python) and at the end (the error, at the same index
/// on both engines), and a local that does not hold `k + s` where it is read.
@Suite struct ArrayFunctionOffsetIndexTests {
    static let neighbours = """
    import numpy as np

    steps = np.array([-4, -3, -1, 1, 3, 4])

    def graph(labels, row, col, start, end):
        elem = 0
        for k in range(start, end):
            i = labels[k]
            if i != 0:
                for s in steps:
                    neighbour = k + s
                    j = labels[neighbour]
                    if j != 0:
                        row[elem] = i
                        col[elem] = j
                        elem += 1
        return elem
    """

    @Test func neighboursOfAConstantStepArrayInRangeAndAtBothEnds() throws {
        let function = try sharedEngine.compileFunction(Self.neighbours)
        let labels = try ndArray([1, 0, 2, 3, 0, 4, 0, 5, 6, 0, 7, 8, 9, 0, 10, 11], .int32)
        func call(_ start: Int64, _ end: Int64) throws -> ArrayFunctionResult {
            let row = try ndArray([Double](repeating: 0, count: 120), .int32), col = try ndArray([Double](repeating: 0, count: 120), .int32)
            return try callBoth(function, [.array(labels), .array(row), .array(col), .int(start), .int(end)]).0
        }
        // In range: start + min(steps) = 0 and end - 1 + max(steps) = 15 (the unchecked version).
        #expect(describe(try call(4, 12)) != "None")
        // Negative neighbours (start 0..3): they count from the end, as in Python (the checked version).
        for start in Int64(0)...3 { _ = try call(start, 12) }
        _ = try call(-3, 5)
        // Past the end: labels[16] fails on both engines with the same message.
        for end in Int64(13)...16 {
            do {
                _ = try call(4, end)
                Issue.record("end \(end) did not fail")
            } catch let error as KernelRuntimeError {
                #expect(error.message.hasPrefix("index ") && error.message.hasSuffix("is out of bounds for axis 0 with size 16 (array 'labels' of shape (16,))"))
                #expect(function.describe(error).contains("at line 12"))
            }
        }
        // Empty loops and strided views (the body branches, so a view that is not contiguous, reversed
        // or every other element, runs the checked version: same results).
        _ = try call(9, 3)
        let view = try ndArray((0..<32).map { Double($0 % 3) }, .int32).reversed(axis: 0)
        let row = try ndArray([Double](repeating: 0, count: 200), .int32), col = try ndArray([Double](repeating: 0, count: 200), .int32)
        try callBoth(function, [.array(view), .array(row), .array(col), .int(4), .int(28)])
        let storage = try NDArrayStorage(byteCount: 128)
        for k in 0..<32 { storage.baseAddress.storeBytes(of: Int32(k % 3), toByteOffset: 4 * k, as: Int32.self) }
        let everyOther = try NDArray(storage: storage, elementType: .int32, shape: [16], strides: [8], byteOffset: 0)
        try callBoth(function, [.array(everyOther), .array(row), .array(col), .int(4), .int(12)])
        // row too short: fails at row's end on both engines, after the writes before it.
        let short = try ndArray([0, 0, 0], .int32)
        #expect(throws: KernelRuntimeError.self) {
            try callBoth(function, [.array(labels), .array(short), .array(try ndArray([0, 0, 0, 0, 0, 0], .int32)), .int(4), .int(12)])
        }
    }

    @Test func constantOffsetsAndTheLoopsOwnBounds() throws {
        let function = try sharedEngine.compileFunction("""
        def smooth(a, out, start, stop):
            for i in range(start, stop):
                out[i - 1] = a[i - 1] + 2 * a[i] + a[i + 1]
            for i in range(1, len(a)):
                out[i - 1] += a[i] - a[i - 1]
            for i in range(len(a)):
                if i + 1 < len(a):
                    out[i] += a[i + 1]
            return out[0]
        """)
        let a = try ndArray((0..<9).map { Double($0 * $0) }, .float64)
        for (start, stop) in [(1, 8), (0, 8), (-2, 3), (1, 9), (2, 10), (5, 2)] as [(Int64, Int64)] {
            let out = try ndArray([Double](repeating: 0, count: 9), .float64)
            do {
                try callBoth(function, [.array(a), .array(out), .int(start), .int(stop)])
                #expect(stop < 9, "stop \(stop) did not fail")
            } catch let error as KernelRuntimeError {
                #expect(stop >= 9 && error.message == "index 9 is out of bounds for axis 0 with size 9 (array 'a' of shape (9,))")
            }
        }
        // Bounds at the ends of int64: `i - 1` and `i + 1` wrap (as the language's ints do); the hoisted comparisons
        // must not (the loop runs checked and fails at the same index on both engines).
        for (start, stop) in [(Int64.max - 2, Int64.max), (Int64.min, Int64.min + 2), (Int64.min, Int64.max)] {
            let out = try ndArray([Double](repeating: 0, count: 9), .float64)
            #expect(throws: KernelRuntimeError.self) { try callBoth(function, [.array(a), .array(out), .int(start), .int(stop)]) }
        }
        // The unchecked version of the first loop vectorises (no check left in it).
        let signature = function.signatures[0]
        #expect(try function.inspectIR(for: signature).contains("x double>"))
    }

    /// A local that holds `k + s` only after its assignment: a read before it (of the previous value) stays checked.
    @Test func aLocalReadBeforeItsAssignmentIsChecked() throws {
        let function = try sharedEngine.compileFunction("""
        import numpy as np

        steps = np.array([-1, 1])

        def f(a, start, end):
            total = 0
            n = -100
            for k in range(start, end):
                for s in steps:
                    total += a[n]
                    n = k + s
                    total += a[n]
            return total
        """)
        let a = try ndArray((0..<8).map(Double.init), .int64)
        do {
            try callBoth(function, [.array(a), .int(1), .int(7)])
            Issue.record("a[-100] did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message == "index -100 is out of bounds for axis 0 with size 8 (array 'a' of shape (8,))")
        }
        let later = try sharedEngine.compileFunction("""
        import numpy as np

        steps = np.array([-1, 1])

        def f(a, start, end):
            total = 0
            n = 0
            for k in range(start, end):
                for s in steps:
                    if s > 0:
                        n = k + s
                    total += a[n]
                n = 0
            return total
        """)
        try callBoth(later, [.array(a), .int(1), .int(7)])
        try callBoth(later, [.array(a), .int(0), .int(7)])
        // `n` assigned once, inside the if: its fact must not outlive the if (the read after it may see
        // the value from before the loop, out of range here, with start and end in range for k + s).
        let scoped = try sharedEngine.compileFunction("""
        import numpy as np

        steps = np.array([-1, 1])

        def f(a, start, end):
            total = 0
            n = 100
            for k in range(start, end):
                for s in steps:
                    if s > 0:
                        n = k + s
                    total += a[n]
            return total
        """)
        do {
            try callBoth(scoped, [.array(a), .int(1), .int(7)])
            Issue.record("a[100] did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message == "index 100 is out of bounds for axis 0 with size 8 (array 'a' of shape (8,))")
        }
        // An offset of -2^63 (a module constant can hold it) is not an offset the loop versions prove:
        // it compiles, with its checks.
        let lowest = try sharedEngine.compileFunction("""
        LOW = -9223372036854775807 - 1

        def f(a, n):
            t = 0
            for k in range(n):
                t += a[k + LOW]
            return t
        """)
        try callBoth(lowest, [.array(a), .int(0)])
        do {
            try callBoth(later, [.array(a), .int(0), .int(8)])
            Issue.record("a[8] did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message == "index 8 is out of bounds for axis 0 with size 8 (array 'a' of shape (8,))")
        }
    }

    /// Random loops over `k + v` indices with random bounds near both ends (seeded; FILTERJIT_FUZZ_SEED reproduces).
    @Test func randomOffsetLoopsAgreeOnBothEngines() throws {
        let seed = ProcessInfo.processInfo.environment["FILTERJIT_FUZZ_SEED"].flatMap { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970)
        print("randomOffsetLoopsAgreeOnBothEngines seed \(seed)")
        var random = SplitMix64(seed: seed)
        for _ in 0..<30 {
            let steps = (0..<(1 + random.below(5))).map { _ in Int(random.below(9)) - 4 }
            let c = Int(random.below(5)) - 2
            let index = random.pick(["k + s", "s + k", "k - s", "k + \(c)", "k - \(c)", "k"])
            let neighbour = random.chance(0.5) ? "n = \(index)\n                v = a[n]" : "v = a[\(index)]"
            let guarded = random.chance(0.5) ? "if a[k] != 0:" : "if True:"
            let source = """
            import numpy as np

            steps = np.array([\(steps.map(String.init).joined(separator: ", "))])

            def f(a, out, start, end):
                m = 0
                for k in range(start, end):
                    \(guarded)
                        for s in steps:
                            \(neighbour)
                            out[m % len(out)] += v * s
                            m += 1
                return m
            """
            let function = try sharedEngine.compileFunction(source)
            let type = random.pick([ElementType.int32, .float64, .uint8, .int64])
            let n = 1 + random.below(12)
            let a = try ndArray((0..<n).map { _ in Double(random.below(3)) }, type)
            let view = random.chance(0.3) ? try a.reversed(axis: 0) : a
            let out = try ndArray([Double](repeating: 0, count: 5), .int64)
            let start = Int64(random.below(9)) - 4, end = Int64(n) + Int64(random.below(9)) - 4
            do {
                try callBoth(function, [.array(view), .array(out), .int(start), .int(end)])
            } catch is KernelRuntimeError {
                // Both engines failed alike (callBoth compared them).
            } catch let error as CompileError {
                Issue.record("seed \(seed): \(error)\n\(source)")
            }
        }
    }
}

/// A flag one thread sets and another polls (the canceller's stop signal).
final class DeadlineFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
