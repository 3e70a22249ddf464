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
            // (uint64 arrays are accepted since w15d: ArrayFunctionUInt64Tests.)
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

    /// A packed call (`filterjit_array_function_call_packed`) of `function` with `words`; returns the status, the
    /// message and `out` (the result handle in out[6] is freed after `inspect` saw it).
    func packed(_ function: OpaquePointer?, _ count: Int, _ words: [Int64], engine: Int32 = 0, wordCount: Int? = nil,
                inspect: ([Int64]) -> Void = { _ in }) -> (status: Int32, message: String, out: [Int64]) {
        var out = [Int64](repeating: -7, count: 40)
        var error: UnsafeMutablePointer<CChar>?
        let status = words.withUnsafeBufferPointer {
            filterjit_array_function_call_packed(function, count, $0.baseAddress, wordCount ?? words.count, engine, &out, &error)
        }
        let message = error.map { String(cString: $0) } ?? ""
        filterjit_string_free(error)
        if status == 0 { inspect(out) }
        if status == 0, out[6] != 0 { filterjit_result_free(OpaquePointer(bitPattern: Int(out[6]))) }
        return (status, message, out)
    }

    @Test func packedCallsAgreeWithFlatCallsOnBothEngines() {
        withFunction { function in
            var input: [Int16] = [1, -2, 300]
            input.withUnsafeMutableBytes { bytes in
                let data = Int64(Int(bitPattern: bytes.baseAddress))
                for engine: Int32 in [0, 1] {
                    let result = packed(function, 2, [0, 2, 1, data, 3, 2, 1, 200], engine: engine) { out in
                        #expect(out[0] == 4 && out[2] == -1 && out[3] == 2 && out[4] == 1 && out[8] == 3 && out[6] != 0)
                        let values = (0..<3).map { UnsafeRawPointer(bitPattern: Int(out[5]))!.load(fromByteOffset: 2 * $0, as: Int16.self) }
                        #expect(values == [200, -400, Int16(truncatingIfNeeded: 60000)])
                    }
                    #expect(result.status == 0, "\(result.message)")
                }
                // A reversed view (stride -2 from the last element), as NumPy's x[::-1].
                let last = data + 4
                let reversed = packed(function, 2, [0, 2, 1, last, 3, -2, 1, 1]) { out in
                    let values = (0..<3).map { UnsafeRawPointer(bitPattern: Int(out[5]))!.load(fromByteOffset: 2 * $0, as: Int16.self) }
                    #expect(values == [300, -2, 1])
                }
                #expect(reversed.status == 0)
            }
        }
    }

    /// `filterjit_array_function_call_objects` reads an array from a header laid out as NumPy's PyArrayObject
    /// (data at 16, nd at 24, dimensions at 32, strides at 40, descr at 56, flags at 64) and refuses a read-only one
    /// and one whose descr is not the one the dtype code was read from.
    @Test func objectCallsReadTheArrayHeader() {
        filterjit_set_array_object_layout(16, 24, 32, 40, 56, 64, 0x400, nil, nil)
        withFunction { function in
            var input: [Int16] = [1, -2, 300]
            var shape = [3], strides = [-2]
            let header = UnsafeMutableRawPointer.allocate(byteCount: 96, alignment: 8)
            defer { header.deallocate() }
            header.initializeMemory(as: UInt8.self, repeating: 0, count: 96)
            input.withUnsafeMutableBytes { bytes in
                shape.withUnsafeMutableBufferPointer { shapePointer in
                    strides.withUnsafeMutableBufferPointer { stridePointer in
                        // The reversed view x[::-1]: data at the last element, stride -2.
                        header.storeBytes(of: Int(bitPattern: bytes.baseAddress! + 4), toByteOffset: 16, as: Int.self)
                        header.storeBytes(of: Int32(1), toByteOffset: 24, as: Int32.self)
                        header.storeBytes(of: Int(bitPattern: shapePointer.baseAddress), toByteOffset: 32, as: Int.self)
                        header.storeBytes(of: Int(bitPattern: stridePointer.baseAddress), toByteOffset: 40, as: Int.self)
                        header.storeBytes(of: Int32(0x400 | 0x1), toByteOffset: 64, as: Int32.self)
                        let descr: Int64 = 0x5151_0000
                        header.storeBytes(of: Int(descr), toByteOffset: 56, as: Int.self)
                        let address = Int64(Int(bitPattern: header))
                        for engine: Int32 in [0, 1] {
                            var out = [Int64](repeating: -7, count: 40)
                            let words: [Int64] = [4, 2, address, descr, 1, 2]
                            let status = words.withUnsafeBufferPointer {
                                filterjit_array_function_call_objects(function, 2, $0.baseAddress, words.count, engine, &out)
                            }
                            #expect(status == 0)
                            if status == 0 {
                                let values = (0..<3).map { UnsafeRawPointer(bitPattern: Int(out[5]))!.load(fromByteOffset: 2 * $0, as: Int16.self) }
                                #expect(values == [600, -4, 2] && out[8] == 3)
                                filterjit_result_free(OpaquePointer(bitPattern: Int(out[6])))
                            }
                        }
                        // Another descr than the one the code came from (a dtype changed by another thread).
                        var out = [Int64](repeating: 0, count: 40)
                        let changed: [Int64] = [4, 2, address, descr + 8, 1, 2]
                        let changedStatus = changed.withUnsafeBufferPointer {
                            filterjit_array_function_call_objects(function, 2, $0.baseAddress, changed.count, 0, &out)
                        }
                        let changedError = UnsafeMutablePointer<CChar>(bitPattern: Int(out[7]))
                        let changedMessage = changedError.map { String(cString: $0) } ?? ""
                        filterjit_string_free(changedError)
                        #expect(changedStatus != 0 && changedMessage.contains("dtype changed"), "\(changedMessage)")
                        header.storeBytes(of: Int32(0x1), toByteOffset: 64, as: Int32.self)
                        let words: [Int64] = [4, 2, address, descr, 1, 2]
                        let status = words.withUnsafeBufferPointer {
                            filterjit_array_function_call_objects(function, 2, $0.baseAddress, words.count, 0, &out)
                        }
                        let error = UnsafeMutablePointer<CChar>(bitPattern: Int(out[7]))
                        let message = error.map { String(cString: $0) } ?? ""
                        filterjit_string_free(error)
                        #expect(status != 0 && message.contains("read-only"), "\(message)")
                        // Packed kinds pass through; unknown kinds and short words are refused.
                        for bad: [Int64] in [[9, 0], [4, 2], [4, 2, address], [0, 2, 40, 0, 1, 5]] {
                            let status = bad.withUnsafeBufferPointer {
                                filterjit_array_function_call_objects(function, 2, $0.baseAddress, bad.count, 0, &out)
                            }
                            #expect(status != 0 && out[7] != 0)
                            filterjit_string_free(UnsafeMutablePointer<CChar>(bitPattern: Int(out[7])))
                        }
                    }
                }
            }
        }
    }

    @Test func packedScalarsArgumentsAndNone() {
        var error: UnsafeMutablePointer<CChar>?
        let engine = filterjit_engine_create(&error)
        defer { filterjit_engine_free(engine) }
        var status: Int32 = -1
        // One function per source: the whole file is checked, and a helper cannot return an array.
        let f = "def f(a, k, x, b):\n    if b:\n        return a\n    a[0] = k + x\n    return a\n".withCString {
            filterjit_array_function_create(engine, $0, nil, nil, 0, 0, &status, &error)
        }
        let g = "def g(k, x, b):\n    return x * k\n".withCString { filterjit_array_function_create(engine, $0, nil, nil, 0, 0, &status, &error) }
        let h = "def h(k, x, b):\n    return\n".withCString { filterjit_array_function_create(engine, $0, nil, nil, 0, 0, &status, &error) }
        defer { filterjit_array_function_free(f); filterjit_array_function_free(g); filterjit_array_function_free(h) }
        let bits = Int64(bitPattern: (2.5).bitPattern)
        for backEnd: Int32 in [0, 1] {
            let product = packed(g, 3, [1, 3, 2, bits, 3, 1], engine: backEnd)
            #expect(product.status == 0 && product.out[0] == 2 && Double(bitPattern: UInt64(bitPattern: product.out[1])) == 7.5
                    && product.out[6] == 0, "\(product)")
            let none = packed(h, 3, [1, 3, 2, bits, 3, 0], engine: backEnd)
            #expect(none.status == 0 && none.out[0] == 0 && none.out[6] == 0)
            var array: [Double] = [0, 1]
            array.withUnsafeMutableBytes { bytes in
                let data = Int64(Int(bitPattern: bytes.baseAddress))
                let same = packed(f, 4, [0, 10, 1, data, 2, 8, 1, 3, 2, bits, 3, 0], engine: backEnd)
                #expect(same.status == 0 && same.out[0] == 4 && same.out[2] == 0 && same.out[6] == 0, "\(same)")
            }
            #expect(array == [5.5, 1])
        }
    }

    @Test func hostilePackedWordsGiveAStatusNotACrash() {
        withFunction { function in
            var input: [Int16] = [1, 2]
            input.withUnsafeMutableBytes { bytes in
                let data = Int64(Int(bitPattern: bytes.baseAddress))
                #expect(packed(nil, 2, [0, 2, 1, data, 2, 2, 1, 3]).status == 1)
                #expect(packed(function, 2, [0, 2, 1, data, 2, 2, 1, 3], engine: 5).status == 1)
                #expect(packed(function, 2, [0, 2, 1, data, 2, 2, 1]).status == 1)                  // the words end early
                #expect(packed(function, 2, [0, 2, 1, data, 2, 2, 1, 3], wordCount: 5).status == 1)
                #expect(packed(function, 2, [9, 2, 1, data, 2, 2, 1, 3]).status == 1)                // unknown kind
                #expect(packed(function, 2, [0, 99, 1, data, 2, 2, 1, 3]).status == 1)               // unknown dtype
                #expect(packed(function, 2, [0, -1, 1, data, 2, 2, 1, 3]).status == 1)
                #expect(packed(function, 2, [0, 2, 33, data, 2, 2, 1, 3]).status == 1)               // rank
                #expect(packed(function, 2, [0, 2, -1, data, 2, 2, 1, 3]).status == 1)
                #expect(packed(function, 2, [0, 2, 1, data, -2, 2, 1, 3]).status != 0)               // negative extent
                #expect(packed(function, 2, [0, 2, 1, 0, 2, 2, 1, 3]).status == 1)                   // NULL data
                #expect(packed(function, 2, [0, 2, 1, data, Int64.max, 2, 1, 3]).status != 0)        // too many elements
                #expect(packed(function, 2, [0, 2, 1, data, 3, Int64.max, 1, 3]).status != 0)       // strides overflow
                // Each extent fits an Int but their sum does not (rank 2, strides 2^62): a status, both engines.
                for engine: Int32 in [0, 1] {
                    #expect(packed(function, 2, [0, 2, 2, data, 2, 2, 1 << 62, 1 << 62, 1, 3], engine: engine).status != 0)
                }
                #expect(packed(function, -1, []).status == 1)
                #expect(packed(function, 1 << 40, []).status == 1)
                let wrongCount = packed(function, 1, [0, 2, 1, data, 2, 2])
                #expect(wrongCount.status == 4 && wrongCount.message.contains("takes 2 arguments"))
                // An empty array with NULL data is fine: no element is read.
                let empty = packed(function, 2, [0, 2, 1, 0, 0, 2, 1, 3]) { out in #expect(out[0] == 4 && out[8] == 0) }
                #expect(empty.status == 0, "\(empty.message)")
            }
        }
    }

    /// `filterjit_array_function_kernel` (what the Python package's C call uses): the code of a signature, run
    /// directly with laid-out arguments; a new array taken out of the arena, a failure's message, and refusals.
    @Test func kernelHandlesRunTheMachineCodeDirectly() {
        typealias Entry = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?,
                                          UnsafeMutableRawPointer?) -> Int32
        withFunction { function in
            var kinds: [Int32] = [0, 1], dtypes: [Int32] = [2, 0], ranks: [Int32] = [1, 0]
            var info = [Int64](repeating: 0, count: 4)
            var status: Int32 = -1
            var error: UnsafeMutablePointer<CChar>?
            let kernel = filterjit_array_function_kernel(function, 2, &kinds, &dtypes, &ranks, &info, &status, &error)
            defer { filterjit_array_kernel_free(kernel) }
            #expect(status == 0 && kernel != nil && info[0] != 0 && info[1] == 4 && info[2] == 2 && info[3] == 1)
            guard let kernel, let entryAddress = UnsafeRawPointer(bitPattern: Int(info[0])) else { return }
            let entry = unsafeBitCast(entryAddress, to: Entry.self)
            var input: [Int16] = [1, -2, 300]
            input.withUnsafeMutableBytes { bytes in
                // x[::-1] (data at the last element, stride -2) and k = 2.
                var descriptor: [Int64] = [Int64(Int(bitPattern: bytes.baseAddress! + 4)), 3, -2]
                var k: Int64 = 2
                descriptor.withUnsafeMutableBufferPointer { descriptorPointer in
                    withUnsafeMutablePointer(to: &k) { kPointer in
                        var pointers: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(descriptorPointer.baseAddress),
                                                                    UnsafeMutableRawPointer(kPointer)]
                        var result: Int64 = 0
                        var arena: (Int64, Int64) = (0, 0)
                        let ran = withUnsafeMutablePointer(to: &arena) { arenaPointer in
                            let ran = entry(&pointers, &result, UnsafeMutableRawPointer(arenaPointer))
                            if ran == 1, let returned = UnsafeMutableRawPointer(bitPattern: Int(result)) {
                                let block = filterjit_array_arena_detach(UnsafeMutableRawPointer(arenaPointer), returned)
                                #expect(block != nil)
                                let words = returned.assumingMemoryBound(to: Int64.self)
                                #expect(words[1] == 3 && words[2] == 2)
                                let values = (0..<3).map { UnsafeRawPointer(bitPattern: Int(words[0]))!.load(fromByteOffset: 2 * $0, as: Int16.self) }
                                #expect(values == [600, -4, 2])
                                free(block)
                            }
                            filterjit_array_arena_release(UnsafeMutableRawPointer(arenaPointer))
                            #expect(arenaPointer.pointee.0 == 0)
                            return ran
                        }
                        #expect(ran == 1)
                    }
                }
            }
            // A compile error for a signature the function cannot take (a float where an array is indexed).
            var badKinds: [Int32] = [2, 1]
            let bad = filterjit_array_function_kernel(function, 2, &badKinds, &dtypes, &ranks, &info, &status, &error)
            #expect(bad == nil && status == 4 && error != nil)
            filterjit_string_free(error)
            var unknown: [Int32] = [7, 1]
            #expect(filterjit_array_function_kernel(function, 2, &unknown, &dtypes, &ranks, &info, &status, &error) == nil && status == 1)
            filterjit_string_free(error)
            #expect(filterjit_array_function_kernel(nil, 2, &kinds, &dtypes, &ranks, &info, &status, &error) == nil && status == 1)
            filterjit_string_free(error)
        }
    }

    /// A kernel handle's failed run: `filterjit_array_kernel_error` gives the call functions' message.
    @Test func kernelHandlesReportARunsFailure() {
        typealias Entry = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutableRawPointer?,
                                          UnsafeMutableRawPointer?) -> Int32
        var error: UnsafeMutablePointer<CChar>?
        let engine = filterjit_engine_create(&error)
        defer { filterjit_engine_free(engine) }
        var status: Int32 = -1
        let function = "def at(x, i):\n    return x[i]\n".withCString {
            filterjit_array_function_create(engine, $0, nil, nil, 0, 0, &status, &error)
        }
        defer { filterjit_array_function_free(function) }
        var kinds: [Int32] = [0, 1], dtypes: [Int32] = [10, 0], ranks: [Int32] = [1, 0]
        var info = [Int64](repeating: 0, count: 4)
        let kernel = filterjit_array_function_kernel(function, 2, &kinds, &dtypes, &ranks, &info, &status, &error)
        defer { filterjit_array_kernel_free(kernel) }
        #expect(status == 0 && info[1] == 2)
        guard let kernel, let entryAddress = UnsafeRawPointer(bitPattern: Int(info[0])) else { return }
        let entry = unsafeBitCast(entryAddress, to: Entry.self)
        var values: [Double] = [1.5, 2.5, 3.5]
        values.withUnsafeMutableBytes { bytes in
            var descriptor: [Int64] = [Int64(Int(bitPattern: bytes.baseAddress!)), 3, 8]
            for (index, expected) in [(Int64(-1), 3.5), (5, .nan)] {
                var i = index
                var result: Int64 = 0
                var arena: (Int64, Int64) = (0, 0)
                let ran = descriptor.withUnsafeMutableBufferPointer { d in
                    withUnsafeMutablePointer(to: &i) { iPointer in
                        withUnsafeMutablePointer(to: &arena) { arenaPointer -> Int32 in
                            var pointers: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(d.baseAddress), UnsafeMutableRawPointer(iPointer)]
                            let ran = entry(&pointers, &result, UnsafeMutableRawPointer(arenaPointer))
                            filterjit_array_arena_release(UnsafeMutableRawPointer(arenaPointer))
                            return ran
                        }
                    }
                }
                if expected.isNaN {
                    #expect(ran != 1)
                    let message = filterjit_array_kernel_error(kernel, 0)
                    let text = message.map { String(cString: $0) } ?? ""
                    filterjit_string_free(message)
                    #expect(text == "at: index 5 is out of bounds for axis 0 with size 3 (array 'x' of shape (3,)) at line 2, column 14", "\(text)")
                } else {
                    #expect(ran == 1 && Double(bitPattern: UInt64(bitPattern: result)) == expected)
                }
            }
        }
        for reason: Int32 in [1, 2] {
            let message = filterjit_array_kernel_error(kernel, reason)
            #expect((message.map { String(cString: $0) } ?? "").hasPrefix("at: the "))
            filterjit_string_free(message)
        }
    }
}
