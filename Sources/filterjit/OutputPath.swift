import Foundation
import NDImage

/// Checks, before any work, that an image can be written at `path`: a `.npy`, `.png`, `.tif` or `.tiff` name, not a
/// directory, in an existing writable directory. Without this, `run` compiled and filtered the whole
/// image before failing, and the message named the hidden temporary file instead of `path`.
func checkOutputPath(_ path: String) throws {
    guard !path.isEmpty else { throw UserError("the output path is empty") }
    let url = URL(fileURLWithPath: path)
    let name = url.lastPathComponent
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw UserError("cannot write '\(path)': it is a directory")
    }
    guard ImageFile.extensions.contains(ImageFile.fileExtension(name)), !path.hasSuffix("/") else {
        throw UserError("cannot tell the format of '\(path)': \(ImageFile.formatsHint)")
    }
    let directory = url.deletingLastPathComponent().path
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw UserError("cannot write '\(path)': the directory '\(directory)' does not exist")
    }
    guard access(directory, W_OK) == 0 else {
        throw UserError("cannot write '\(path)': the directory '\(directory)' is not writable")
    }
}
