// Array functions (w15c): a new array that the next loop overwrites element by element is not zero-filled
// (`allocationIsOverwritten`), every other one is; new arrays start on a cache line; the results are the
// interpreter's either way.

import Testing
import Foundation
import FilterLang
import NDImage
import FilterCodegen
@testable import FilterJIT

@Suite struct ArrayFunctionAllocationTests {
    /// Compiles `source`, calls it on both engines with `x` (float64, 1-D) and returns the optimised IR.
    func irAfterCalling(_ source: String, _ x: [Double]) throws -> String {
        let function = try sharedEngine.compileFunction(source)
        try callBoth(function, [.array(try ndArray(x, .float64))])
        return try function.inspectIR(for: function.signatures[0])
    }

    func isUninitialized(_ ir: String) -> Bool { ir.contains("@filterjit_nd_alloc_uninitialized(") }
    func isZeroFilled(_ ir: String) -> Bool { ir.contains("@filterjit_nd_alloc(") }

    @Test func anArrayTheNextLoopOverwritesIsNotZeroFilled() throws {
        let x: [Double] = [1.5, -2, 3, 4, 5]
        for body in [
            // addarr's form, and the other spellings of the array's length and of its allocation.
            "    r = np.zeros_like(x)\n    for i in range(x.size):\n        r[i] = x[i] * 2\n    return r",
            "    r = np.empty_like(x)\n    for i in range(len(r)):\n        t = x[i] + len(r)\n        r[i] = t\n        x[i] = t\n    return r",
            "    n = len(x)\n    r = np.zeros(n, np.int32)\n    for i in range(n):\n        r[i] = i\n    return r",
            "    r = np.zeros(x.shape, np.uint8)\n    for i in range(r.shape[0]):\n        r[i] = x[i]\n        if x[i] > 2:\n            x[i] = 0\n    return r",
        ] {
            let ir = try irAfterCalling("import numpy as np\n\ndef f(x):\n" + body + "\n", x)
            #expect(isUninitialized(ir) && !isZeroFilled(ir), "\(body)")
        }
    }

    @Test func anArrayNotSurelyOverwrittenFirstIsZeroFilled() throws {
        let x: [Double] = [1.5, -2, 3, 4, 5]
        for body in [
            // A conditional store, a loop that skips element 0, a break, a continue, a read of the array in the
            // loop, another array's length, a store at another index, a statement between allocation and loop.
            "    r = np.zeros_like(x)\n    for i in range(x.size):\n        if x[i] > 2:\n            r[i] = x[i]\n    return r",
            "    r = np.zeros_like(x)\n    for i in range(1, x.size):\n        r[i] = x[i]\n    return r",
            "    r = np.zeros_like(x)\n    for i in range(x.size):\n        if x[i] > 2:\n            break\n        r[i] = x[i]\n    return r",
            "    r = np.zeros_like(x)\n    for i in range(x.size):\n        if x[i] > 2:\n            continue\n        r[i] = x[i]\n    return r",
            "    r = np.zeros_like(x)\n    for i in range(x.size):\n        r[i] = r[(i + 1) % len(r)] + x[i]\n    return r",
            "    r = np.zeros(3)\n    for i in range(x.size):\n        r[i % 3] = x[i]\n    return r",
            "    r = np.zeros(len(x) + 1)\n    for i in range(len(x)):\n        r[i] = x[i]\n    return r",
            "    r = np.zeros_like(x)\n    for i in range(x.size):\n        r[len(r) - 1 - i] = x[i]\n    return r",
            "    r = np.zeros_like(x)\n    s = np.max(r)\n    for i in range(x.size):\n        r[i] = x[i] + s\n    return r",
        ] {
            let ir = try irAfterCalling("import numpy as np\n\ndef f(x):\n" + body + "\n", x)
            #expect(isZeroFilled(ir) && !isUninitialized(ir), "\(body)")
        }
    }

    @Test func aLoopThatFailsHalfwayLeavesNoArrayBehind() throws {
        // The store fails at NaN (no int value): the call fails on both engines the same way.
        let function = try sharedEngine.compileFunction("import numpy as np\n\ndef f(x):\n    r = np.empty(len(x), np.int16)\n    for i in range(len(x)):\n        r[i] = x[i]\n    return r\n")
        do {
            try callBoth(function, [.array(try ndArray([1, 2, .nan, 4], .float64))])
            Issue.record("did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message.contains("cannot convert nan"))
        }
    }

    @Test func newArraysStartOnACacheLine() throws {
        let function = try sharedEngine.compileFunction(ArrayFunctionTests.addarr)
        for count in [1, 3, 100, 4097] {
            let x = try ndArray((0..<count).map(Double.init), .uint8)
            guard case .array(let sum) = try function.call([.array(x), .array(x)]) else { Issue.record("no array"); return }
            #expect(Int(bitPattern: sum.firstElementPointer) % 64 == 0)
            #expect(elements(sum) == (0..<count).map { Double((2 * $0) % 256) })
        }
    }

    @Test func callDescriptorsRunsLaidOutArguments() throws {
        let function = try sharedEngine.compileFunction(ArrayFunctionTests.addarr)
        var x: [Int32] = [1, 2, 3], y: [Int32] = [10, 20, 30]
        try x.withUnsafeMutableBytes { xBytes in
            try y.withUnsafeMutableBytes { yBytes in
                var words: [Int64] = [Int64(Int(bitPattern: xBytes.baseAddress)), 3, 4, Int64(Int(bitPattern: yBytes.baseAddress)), 3, 4]
                try words.withUnsafeMutableBufferPointer { buffer in
                    var pointers: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(buffer.baseAddress!),
                                                                UnsafeMutableRawPointer(buffer.baseAddress! + 3)]
                    let layout = NDLayout(dtype: .int32, rank: 1)
                    let result = try pointers.withUnsafeMutableBufferPointer {
                        try function.callDescriptors([.array(layout), .array(layout)], pointers: $0.baseAddress!)
                    }
                    guard case .value(.array(let sum)) = result else { Issue.record("no new array: \(result)"); return }
                    #expect(elements(sum) == [11, 22, 33] && sum.elementType == .int32)
                }
            }
        }
    }

    @Test func onlyFunctionsWithAStraightLineInnermostLoopTakeTheVectorisingPipeline() throws {
        let addarr = try sharedEngine.compileFunction(ArrayFunctionTests.addarr)
        let x = try ndArray([1, 2], .float64)
        _ = try addarr.call([.array(x), .array(x)])
        let branchy = try sharedEngine.compileFunction("def f(x):\n    s = 0.0\n    for i in range(len(x)):\n        if x[i] > 0:\n            s += x[i]\n    return s\n")
        _ = try branchy.call([.array(x)])
        let level = OptimizationLevel.standard
        #expect(Codegen.arrayFunctionPipeline(try addarr.kernel(for: addarr.signatures[0]).program, level) == level.arrayFunctionPipeline)
        #expect(Codegen.arrayFunctionPipeline(try branchy.kernel(for: branchy.signatures[0]).program, level) == level.callbackPipeline)
        #expect(try addarr.inspectIR(for: addarr.signatures[0]).contains(" x double>"))  // vectorised
    }
}
