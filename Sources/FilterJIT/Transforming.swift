// `@transform` kernels run by FilterJIT's own interpolating driver (NDImage.geometricTransform), on
// one of two engines with the same bits: the fused engine compiles the kernel's coordinate code into
// a row kernel (`KernelVariant.transform`: one loop over a run of output points, no call per point);
// the callback engine calls the compiled SciPy-ABI callback per output point.

import Foundation
import FilterCodegen
import FilterLang
import KernelABI
import NDImage

extension Kernel {
    /// Runs `scipy.ndimage.geometric_transform` with this `@transform` kernel as the mapping.
    ///
    /// Equal to SciPy's geometric_transform called with this kernel's `LowLevelCallable`, bit for
    /// bit: spline orders 0 to 5 with the spline prefilter, the eight interpolation modes, `cval`,
    /// `outputShape` (nil: the input's shape; another rank is allowed), and SciPy's rounding and
    /// clamping store for integer outputs. `parameters` sets run-time parameters by name.
    /// `engine` `.fused` (the default) runs the kernel's fused transform row kernel, compiled for
    /// the output and input ranks only (order, mode, cval and element types are run-time
    /// arguments); `.callback` calls the SciPy callback per point. Output rows are split across
    /// `threads` threads (nil: every core); the bits depend on neither. A failing kernel stops the
    /// run with a `KernelFailure` naming the output element (the first in C order) and the
    /// kernel's reason.
    public func geometricTransform(_ input: NDArray, outputShape: [Int]? = nil, output: FilterOutput = .sameAsInput,
                                   options: InterpolationOptions = InterpolationOptions(),
                                   parameters: [String: Double] = [:], engine: ExecutionEngine = .fused,
                                   threads: Int? = nil) throws -> NDArray {
        guard kind == .transform else { throw KernelCallError.wrongKind(expected: .transform, actual: kind) }
        let threadCount = threads ?? RowThreads.processorCount
        var userData = try parameterValues(parameters)
        let shape = outputShape ?? input.shape
        // Asked on the failing worker thread, where the kernel's thread-local error record lives.
        let reason: @Sendable () -> String = { [self] in lastFailureDescription() }
        do {
            switch engine {
            case .fused:
                let fused = try fusedTransformKernel(outputRank: shape.count, inputRank: input.rank)
                guard let fused else { break }
                let row = unsafeBitCast(UnsafeRawPointer(bitPattern: try fused.address), to: fj_transform_row_kernel.self)
                // Never empty: the kernel reads its parameters from a valid pointer.
                if userData.isEmpty { userData = [0] }
                return try userData.withUnsafeBufferPointer { values in
                    try withExtendedLifetime((self, fused)) {
                        try NDImage.geometricTransform(
                            input: input, rowKernel: row, parameters: values.baseAddress!, outputShape: shape,
                            output: output, options: options, threads: threadCount, failureReason: reason)
                    }
                }
            case .callback:
                break
            }
            guard let callback = try transformCallback else {
                throw KernelCallError.wrongKind(expected: .transform, actual: kind)
            }
            return try userData.withUnsafeMutableBytes { data in
                try withExtendedLifetime(self) {
                    try NDImage.geometricTransform(
                        input: input, callback: callback, userData: data.baseAddress, outputShape: shape,
                        output: output, options: options, threads: threadCount, failureReason: reason)
                }
            }
        } catch NDImageError.callbackThrew(let flat, let message) {
            throw KernelFailure(kernelName: name, element: Self.multiIndex(flat, shape: shape), reason: message)
        } catch NDImageError.callbackFailed(let flat) {
            throw KernelFailure(kernelName: name, element: Self.multiIndex(flat, shape: shape),
                                reason: "the kernel returned its error status")
        }
    }

    /// The fused transform row kernel for these ranks (cached by variant), or nil when the ranks are
    /// not a transform's (the driver then reports the argument error).
    func fusedTransformKernel(outputRank: Int, inputRank: Int) throws -> Kernel? {
        guard outputRank >= 1, inputRank >= 1 else { return nil }
        return try fusionEngine.kernel(self, variant: .transform(TransformLayout(outputRank: outputRank,
                                                                               inputRank: inputRank)))
    }
}
