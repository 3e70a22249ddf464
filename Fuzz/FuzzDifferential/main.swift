// libFuzzer target: programs that pass the checker run through the interpreter and the JIT on the same
// window; both must give the same bits or both fail (the JIT's error kinds mirror the interpreter's).
// Endless programs end on the interpreter's step budget and are then not run by the JIT.

import FilterCodegen
import FilterInterpreter
import FilterJIT
import FilterLang
import FilterSema
import Foundation

nonisolated(unsafe) let engine = try! Engine()
let window: [Double] = [0.5, -1, 2, 3.25, 0, 7, -0.0, 1e300, 4]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDifferential(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard case .success(let program) = FrontEnd.check(SourceFile(name: "<fuzz>", text: text)),
          program.kind == .filter else { return 0 }
    let interpreted = Result { try Interpreter(program: program, stepBudget: 100_000).runFilter(values: window) }
    if case .failure(let error) = interpreted, "\(error)".contains("step budget") { return 0 }
    let kernel: Kernel
    do { kernel = try engine.compile(program: program) } catch {
        // Only the documented compile-time bound may refuse a checked program.
        guard error is KernelTooLargeError else { fatalError("checked program failed to compile: \(error)\n\(text)") }
        return 0
    }
    let compiled = Result { try kernel.callFilter(values: window) }
    switch (interpreted, compiled) {
    case (.success(let a), .success(let b)):
        if a.bitPattern != b.bitPattern && !(a.isNaN && b.isNaN) && !(a == 0 && b == 0) {
            fatalError("interpreter \(a) != JIT \(b) for:\n\(text)")
        }
    case (.failure, .failure):
        break
    default:
        fatalError("interpreter \(interpreted) vs JIT \(compiled) for:\n\(text)")
    }
    return 0
}

// libFuzzer's own main is not used: SwiftPM makes this file's top-level code the program's entry,
// which hands the callback to libFuzzer's driver (flags, corpus directories and -max_total_time as usual).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var fuzzArgc = CommandLine.argc
var fuzzArgv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv, { fuzzDifferential($0, $1) }))
