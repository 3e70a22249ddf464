// libFuzzer target: lexer, parser and checker on arbitrary bytes. Any input must give a typed program
// or diagnostics, never a crash, a trap or a hang (scripts/fuzz.sh runs it).

import Foundation
import FilterLang
import FilterSema

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrontEnd(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    switch FrontEnd.check(SourceFile(name: "<fuzz>", text: text)) {
    case .success(let program):
        // The typed IR of an accepted program must print (the dump the cache keys use).
        _ = String(reflecting: program)
    case .failure(let error):
        _ = error.description
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
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv, { fuzzFrontEnd($0, $1) }))
