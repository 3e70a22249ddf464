// uint64 arrays in array functions (branch w15d): Numba's rules on both engines. The expected values are
// what Numba 0.68.1 gives for the same function on this machine (python/tests/test_array_functions.py
// `uint64_rules` runs it against Numba and NumPy); docs/array-functions.md states the rules.

import Testing
import Foundation
import FilterLang
import NDImage
@testable import FilterJIT

/// A uint64 array holding `values` exactly.
func uint64Array(_ values: [UInt64]) throws -> NDArray {
    let array = try NDArray.make(shape: [values.count], elementType: .uint64, values: [Double](repeating: 0, count: values.count))
    for (k, value) in values.enumerated() { array.firstElementPointer.storeBytes(of: value, toByteOffset: 8 * k, as: UInt64.self) }
    return array
}

@Suite struct ArrayFunctionUInt64Tests {
    static let rules = """
    import numpy as np

    def uint64_rules(u, i, o, s, f, c):
        o[0] = u[0] + u[1]
        o[1] = u[1] - u[0]
        o[2] = u[0] * u[1]
        o[3] = u[0] // u[1]
        o[4] = u[0] % u[1]
        o[5] = -u[1]
        o[6] = -1.5
        o[7] = 1e19
        o[8] = -1
        o[9] = np.max(u)
        o[10] = u.min()
        o[11] = u[1] - 1.0
        s[0] = u[0] + i[0]
        s[1] = u[0] // i[1]
        s[2] = u[0] + 1
        s[3] = u[0] * 2
        s[4] = int(u[0])
        s[5] = u[1] ** 2
        s[6] = u[4] // i[3]
        s[7] = i[0] // u[4]
        s[8] = u[0]
        s[9] = i[u[3]]
        s[10] = u[2] + True
        total = 0
        for v in u:
            total += v
        s[11] = total
        f[0] = u[0]
        f[1] = u[0] / u[1]
        f[2] = u[0] + 1.5
        f[3] = float(u[0])
        f[4] = max(u[1], 1)
        f[5] = u[2] / i[0]
        c[0] = u[0] > i[0]
        c[1] = u[0] < i[0]
        c[2] = u[0] > u[2]
        c[3] = u[0] == -1
        c[4] = u[6] == i[4]
        c[5] = u[6] > i[4]
        c[6] = u[0] > -1
        c[7] = u[6] == u[6] - u[5]
        c[8] = not u[5]
        c[9] = u[0] >= u[2] > u[1]
    """

    @Test func numbasRulesOnBothEngines() throws {
        let function = try sharedEngine.compileFunction(Self.rules)
        let u = try uint64Array([UInt64.max, 5, 1 << 63, 3, 7, 0, (1 << 53) + 1])
        let i = try ndArray([-1, 2, 1, -7, 9007199254740992, 0, 9], .int64)
        let zeros = { (n: Int, type: ElementType) in try ndArray([Double](repeating: 0, count: n), type) }
        let (_, arrays) = try callBoth(function, [.array(u), .array(i), .array(try zeros(12, .uint64)), .array(try zeros(12, .int64)),
                                                   .array(try zeros(6, .float64)), .array(try zeros(10, .bool))])
        guard case .array(let o) = arrays[2], case .array(let s) = arrays[3], case .array(let f) = arrays[4],
              case .array(let c) = arrays[5] else { Issue.record("arrays"); return }
        // Numba 0.68.1's values, except o[6]: -1.5 stored into uint64 is NumPy's astype (2^64 - 1); Numba's is unspecified.
        #expect(o.int64Bits().map { UInt64(bitPattern: $0) } == [4, 6, 18446744073709551611, 3689348814741910323, 0, 18446744073709551611,
                                                                18446744073709551615, 10000000000000000000, 18446744073709551615,
                                                                18446744073709551615, 0, 4])
        #expect(s.int64Bits() == [-2, -1, 0, -2, -1, 25, -1, -1, -1, -7, -9223372036854775807, -9214364837600034801])
        #expect(elements(f) == [0x1p64, 3.6893488147419105e18, 0x1p64, 0x1p64, 5, -0x1p63])
        #expect(elements(c) == [1, 0, 1, 0, 1, 0, 1, 1, 1, 1])
        #expect(function.signatures.map(\.description) == ["(uint64[:], int64[:], uint64[:], int64[:], float64[:], bool[:])"])
    }

    @Test func indicesStoresAndFailures() throws {
        let read = try sharedEngine.compileFunction("def read(a, u, k):\n    return a[u[k]]\n")
        let a = try ndArray([0, 10, 20, 30, 40], .int64)
        let u = try uint64Array([2, UInt64.max, 1 << 63, 4])
        #expect(describe(try callBoth(read, [.array(a), .array(u), .int(0)]).0) == "int 20")
        for k: Int64 in [1, 2] {
            do {
                _ = try callBoth(read, [.array(a), .array(u), .int(k)])
                Issue.record("index \(k) did not fail")
            } catch let error as KernelRuntimeError {
                #expect(error.message.contains("is out of bounds for axis 0 with size 5"), "\(error.message)")
            }
        }
        let store = try sharedEngine.compileFunction("def store(out, x):\n    out[0] = x\n")
        // NumPy's astype: truncation toward zero, then the low 64 bits.
        for (value, expected) in [(3.7, UInt64(3)), (-3.7, UInt64.max - 2), (0x1p63, 1 << 63), (1.8e19, 18000000000000000000),
                                  (-0x1p63, 1 << 63)] {
            let out = try uint64Array([0])
            let (_, arrays) = try callBoth(store, [.array(out), .float(value)])
            guard case .array(let stored) = arrays[0] else { continue }
            #expect(UInt64(bitPattern: stored.int64Bits()[0]) == expected, "\(value)")
        }
        for value in [0x1p64, .nan, .infinity, -0x1p64] {
            #expect(throws: KernelRuntimeError.self) { try callBoth(store, [.array(try uint64Array([0])), .float(value)]) }
        }
        let divide = try sharedEngine.compileFunction("def divide(u, o, k):\n    o[0] = u[0] // u[k]\n    o[1] = u[0] % u[k]\n")
        let (_, arrays) = try callBoth(divide, [.array(try uint64Array([UInt64.max, 10])), .array(try uint64Array([0, 0])), .int(1)])
        if case .array(let o) = arrays[1] { #expect(o.int64Bits().map { UInt64(bitPattern: $0) } == [UInt64.max / 10, UInt64.max % 10]) }
        do {
            _ = try callBoth(divide, [.array(try uint64Array([7, 0])), .array(try uint64Array([0, 0])), .int(1)])
            Issue.record("division by zero did not fail")
        } catch let error as KernelRuntimeError {
            #expect(error.message == "integer division by zero")
        }
    }

    @Test func uint64ValuesAreReturned() throws {
        let u = try uint64Array([UInt64.max, 5, 1 << 63])
        for (source, expected) in [("def f(u):\n    return u[0]\n", "uint64 18446744073709551615"),
                                   ("def f(u):\n    return u.max() - u[1]\n", "uint64 18446744073709551610"),
                                   ("def f(u):\n    return u[0] + 1\n", "int 0"),
                                   ("def f(u):\n    return u[2] / 2\n", "float \((0x1p62).bitPattern)"),
                                   ("def f(u):\n    if u[1] > 3:\n        return u[1]\n    return -1\n", "int 5"),
                                   ("def f(u):\n    s = 0\n    for k in range(u[1]):\n        s += k\n    for k in range(u[0]):\n        s += 100\n    return s\n", "int 10")] {
            let function = try sharedEngine.compileFunction(source)
            #expect(describe(try callBoth(function, [.array(u)]).0) == expected, "\(source)")
        }
    }

    @Test func newUInt64ArraysAndLocals() throws {
        let function = try sharedEngine.compileFunction("""
        import numpy as np

        def f(u):
            r = np.zeros_like(u)
            s = np.empty(2, np.uint64)
            best = u[0]
            for k in range(1, u.size):
                if u[k] > best:
                    best = u[k]
            r[0] = best
            r[1] = best + u[1]
            s[0] = best
            r[2] = s[0] // 3
            return r
        """)
        let (result, _) = try callBoth(function, [.array(try uint64Array([5, UInt64.max - 1, 9]))])
        guard case .array(let r) = result else { Issue.record("no array"); return }
        #expect(r.elementType == .uint64)
        // s[0] // 3 is a uint64 with an int: int64 floor division on the bits (-2 // 3 == -1), as in Numba.
        #expect(r.int64Bits().map { UInt64(bitPattern: $0) } == [UInt64.max - 1, UInt64.max - 3, UInt64.max])
    }
}
