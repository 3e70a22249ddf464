// libFuzzer target: the .npy, PNG and TIFF readers on arbitrary bytes (a PNG or TIFF signature chooses
// that reader, anything else goes to the .npy reader, so one corpus holds all three and real files
// are seeds).
// Every input must be an array or an NDImageError, never a crash.

import Foundation
import NDImage

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReaders(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let array: NDArray
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            array = try PNGFile.read(bytes)
        } else if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A])
                    || bytes.starts(with: [0x49, 0x49, 0x2B, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2B]) {
            array = try TIFFFile.read(bytes)  // classic and BigTIFF, either byte order
        } else {
            array = try NPYFile.read(bytes)
        }
        // Touch every element: a wrong stride or size would read outside the buffer (ASan).
        _ = array.doubleValues()
    } catch {
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
exit(LLVMFuzzerRunDriver(&fuzzArgc, &fuzzArgv, { fuzzReaders($0, $1) }))
