// What `genericFilter`'s callback engine calls per window: a C callback (SciPy's LowLevelCallable
// ABI) or a Swift closure. The rows, modes and threads are the one row driver's (RowKernelDriver.swift).

/// What the hot loop calls per window: the C function pointer, or a Swift closure.
///
/// The requirement does not throw: a typed-throws requirement was called through its witness
/// thunk (not inlined) in the release library, which cost about 20% on a 5-tap kernel.
protocol WindowKernel {
    /// Writes the filter's value for the window `buffer[0..<count]` (output element `flatIndex`,
    /// C order) to `result`; false when the kernel failed (then `failure(at:)` says why).
    func evaluate(_ buffer: UnsafeMutablePointer<Double>, _ count: Int, _ flatIndex: Int,
                  _ result: UnsafeMutablePointer<Double>) -> Bool
    /// The error for the failed evaluation of element `flatIndex`.
    func failure(at flatIndex: Int) -> NDImageError
}

/// SciPy's LowLevelCallable ABI, called directly (no closure layer); 0 from the callback is a failure.
struct CCallbackKernel: WindowKernel {
    let callback: FilterCallback
    let userData: UnsafeMutableRawPointer?
    @inline(__always)
    func evaluate(_ buffer: UnsafeMutablePointer<Double>, _ count: Int, _ flatIndex: Int,
                  _ result: UnsafeMutablePointer<Double>) -> Bool {
        callback(buffer, count, result, userData) != 0
    }
    func failure(at flatIndex: Int) -> NDImageError { .callbackFailed(elementIndex: flatIndex) }
}

/// A Swift closure given (window, count, flat index); a `callbackFailed` it throws is renamed to the element.
struct ClosureKernel: WindowKernel {
    /// Where a thrown error waits for `failure(at:)`.
    final class ErrorSlot { var error: NDImageError? }
    let function: (UnsafeMutablePointer<Double>, Int, Int) throws(NDImageError) -> Double
    let slot = ErrorSlot()
    @inline(__always)
    func evaluate(_ buffer: UnsafeMutablePointer<Double>, _ count: Int, _ flatIndex: Int,
                  _ result: UnsafeMutablePointer<Double>) -> Bool {
        do { result.pointee = try function(buffer, count, flatIndex); return true }
        catch { slot.error = error; return false }
    }
    func failure(at flatIndex: Int) -> NDImageError {
        switch slot.error {
        case .callbackFailed?, nil: return .callbackFailed(elementIndex: flatIndex)
        case let error?: return error
        }
    }
}
