// `@transform` kernels run by FilterJIT's own interpolating driver (NDImage.geometricTransform):
// the compiled SciPy-ABI callback is called per output point, output rows split across threads.

import Foundation
import FilterCodegen
import FilterLang
import NDImage

extension Kernel {
    /// Runs `scipy.ndimage.geometric_transform` with this `@transform` kernel as the mapping.
    ///
    /// Equal to SciPy's geometric_transform called with this kernel's `LowLevelCallable`, bit for
    /// bit: spline orders 0 to 5 with the spline prefilter, the eight interpolation modes, `cval`,
    /// `outputShape` (nil: the input's shape; another rank is allowed), and SciPy's rounding and
    /// clamping store for integer outputs. `parameters` sets run-time parameters by name.
    /// Output rows are split across `threads` threads (nil: every core); the bits do not depend
    /// on it. A failing kernel stops the run with a `KernelFailure` naming the output element
    /// (the first in C order) and the kernel's reason.
    public func geometricTransform(_ input: NDArray, outputShape: [Int]? = nil, output: FilterOutput = .sameAsInput,
                                   options: InterpolationOptions = InterpolationOptions(),
                                   parameters: [String: Double] = [:], threads: Int? = nil) throws -> NDArray {
        guard let callback = try transformCallback else {
            throw KernelCallError.wrongKind(expected: .transform, actual: kind)
        }
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        var userData = try parameterValues(parameters)
        let shape = outputShape ?? input.shape
        // Asked on the failing worker thread, where the kernel's thread-local error record lives.
        let reason: @Sendable () -> String = { [self] in lastFailureDescription() }
        return try userData.withUnsafeMutableBytes { data in
            try withExtendedLifetime(self) {
                do {
                    return try NDImage.geometricTransform(
                        input: input, callback: callback, userData: data.baseAddress, outputShape: shape,
                        output: output, options: options, threads: threadCount, failureReason: reason)
                } catch NDImageError.callbackThrew(let flat, let message) {
                    throw KernelFailure(kernelName: name, element: Self.multiIndex(flat, shape: shape), reason: message)
                } catch NDImageError.callbackFailed(let flat) {
                    throw KernelFailure(kernelName: name, element: Self.multiIndex(flat, shape: shape),
                                        reason: "the kernel returned its error status")
                }
            }
        }
    }
}
