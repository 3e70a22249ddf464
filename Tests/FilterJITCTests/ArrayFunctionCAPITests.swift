// The array-function C API called as C would call it: results, argument errors and hostile arguments
// (NULL pointers, unknown kinds and dtypes, absurd ranks) give a status and a message, never a crash.

import Testing
import Foundation
@testable import FilterJITC

@Suite struct ArrayFunctionCAPITests {
    static let source = """
    import numpy as np

    def scaled(x, k):
        out = np.empty_like(x)
        for i in range(len(x)):
            out[i] = x[i] * k
        return out
    """

    /// An engine and the `scaled` function; both freed by `body`'s caller.
    func withFunction(_ body: (OpaquePointer?) throws -> Void) rethrows {
        var error: UnsafeMutablePointer<CChar>?
        let engine = filterjit_engine_create(&error)
        defer { filterjit_engine_free(engine) }
        var status: Int32 = -1
        let function = Self.source.withCString { filterjit_array_function_create(engine, $0, nil, nil, 0, 0, &status, &error) }
        defer { filterjit_array_function_free(function) }
        #expect(status == 0 && function != nil)
        try body(function)
    }

    /// Calls with one int16 array of `values` and the int `k`; returns the status, the message and the result's values.
    func call(_ function: OpaquePointer?, _ values: [Int16], k: Int64, kinds: [Int32] = [0, 1], dtype: Int32 = 2,
              rank: Int32 = 1) -> (status: Int32, message: String, values: [Int16]) {
        var input = values
        let shape = [values.count], strides = [2]
        var ints: [Int64] = [0, k], floats: [Double] = [0, 0]
        var error: UnsafeMutablePointer<CChar>?
        var result: OpaquePointer?
        let status = input.withUnsafeMutableBytes { bytes -> Int32 in
            shape.withUnsafeBufferPointer { shapePointer in
                strides.withUnsafeBufferPointer { stridePointer in
                    var data: [UnsafeMutableRawPointer?] = [bytes.baseAddress, nil]
                    var dtypes: [Int32] = [dtype, 0], ranks: [Int32] = [rank, 0]
                    var shapes: [UnsafePointer<Int>?] = [shapePointer.baseAddress, nil]
                    var allStrides: [UnsafePointer<Int>?] = [stridePointer.baseAddress, nil]
                    return filterjit_array_function_call(function, kinds.count, kinds, &data, &dtypes, &ranks, &shapes, &allStrides,
                                                         &ints, &floats, 0, &result, &error)
                }
            }
        }
        defer { filterjit_result_free(result) }
        let message = error.map { String(cString: $0) } ?? ""
        filterjit_string_free(error)
        guard status == 0, filterjit_result_kind(result) == 4, let data = filterjit_result_data(result) else { return (status, message, []) }
        let count = filterjit_result_shape(result)![0]
        return (status, message, (0..<count).map { data.load(fromByteOffset: 2 * $0, as: Int16.self) })
    }

    @Test func callsReturnNewArraysAndSignatures() {
        withFunction { function in
            let (status, _, values) = call(function, [1, -2, 300], k: 200)
            #expect(status == 0)
            #expect(values == [200, -400, Int16(truncatingIfNeeded: 60000)])  // int16 wraps as NumPy's astype
            #expect(filterjit_array_function_signature_count(function) == 1)
            let text = filterjit_array_function_signature(function, 0)
            #expect(text.map { String(cString: $0) } == "(int16[:], int64)")
            filterjit_string_free(text)
            #expect(filterjit_array_function_signature(function, 5) == nil)
        }
    }

    @Test func hostileArgumentsGiveAStatusAndAMessage() {
        withFunction { function in
            #expect(call(function, [1], k: 1, kinds: [0, 9]).status == 1)
            #expect(call(function, [1], k: 1, dtype: 42).status == 1)
            #expect(call(function, [1], k: 1, rank: 33).status == 1)
            #expect(call(function, [1], k: 1, rank: -1).status == 1)
            let uint64 = call(function, [1, 2, 3, 4], k: 1, dtype: 8)
            #expect(uint64.status == 4 && uint64.message.contains("uint64 arrays are not supported"))
            let wrongCount = call(function, [1], k: 1, kinds: [0])
            #expect(wrongCount.status == 4 && wrongCount.message.contains("takes 2 arguments"))
            var error: UnsafeMutablePointer<CChar>?
            var result: OpaquePointer?
            #expect(filterjit_array_function_call(nil, 0, nil, nil, nil, nil, nil, nil, nil, nil, 0, &result, &error) == 1)
            filterjit_string_free(error)
            #expect(filterjit_array_function_call(function, 2, [0, 1], nil, nil, nil, nil, nil, nil, nil, 0, &result, &error) == 1)
            filterjit_string_free(error)
            #expect(filterjit_result_kind(nil) == -1)
        }
    }
}
