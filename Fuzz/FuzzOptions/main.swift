// libFuzzer target: the option values of the command line (lists, shapes, numbers, modes, footprints
// by name), as `run`, `bench` and the REPL parse them. Every text must parse or be an NDImageError.

import Foundation
import NDImage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOptions(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? OptionParsing.integerList(text)
    _ = try? OptionParsing.shape(text)
    _ = try? OptionParsing.double(text)
    _ = try? BoundaryMode.parse(text)
    if !text.lowercased().hasSuffix(".npy") {
        for rank in 1...3 { _ = try? Footprint.named(text, rank: rank) }
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
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv, { fuzzOptions($0, $1) }))
