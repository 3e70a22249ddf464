// The typed IR: what Sema produces and what every back end consumes.
//
// It is the contract between the front end and the two back ends (the
// reference interpreter and LLVM codegen), so it leaves them nothing to decide:
// names are resolved to local slots, every call is resolved to a helper
// function or a `Builtin`, implicit conversions are explicit `.convert` nodes,
// operands of arithmetic and comparisons already have one common type, `elif`
// is nested `if`, augmented assignment is plain assignment (with a hidden
// temporary for an index evaluated once), and `pass` is gone.

/// The value types of the language.
public enum ValueType: String, Hashable, Sendable {
    /// 64-bit two's-complement integer (wraps on overflow).
    case int
    /// IEEE double.
    case float
    /// `True`/`False`; as a number 1/0.
    case bool
    /// An unsigned 64-bit integer (wraps on overflow): only the elements of uint64 arrays in array functions
    /// (and arithmetic between two of them) have this type, as in Numba; held as the int64 of the same bits.
    /// Sema converts it wherever the scalar language expects an int or a float (docs/array-functions.md).
    case uint64
    /// A one-dimensional array of doubles (`values`, `line`, `out`, `in_coords`, local arrays).
    case floatArray
    /// A one-dimensional array of 64-bit ints (`out_coords` of a `@transform`, int literals, `.astype(int)`).
    case intArray
    /// A one-dimensional array of bools (a comparison of arrays, `values > t`: NumPy's boolean masks).
    case boolArray
    /// An n-dimensional strided array of an array function (`@array_function`): an argument or one the
    /// function made. Its dtype and rank are the slot's `LocalVariable.layout` (or the allocating node's);
    /// only `.local`, `.ndAllocate` and the `nd...` nodes handle it (it is not `isArray`).
    case ndarray

    /// Whether this is one of the array types.
    public var isArray: Bool { self == .floatArray || self == .intArray || self == .boolArray }

    /// The scalar type of an array's elements (nil for scalars).
    public var elementType: ValueType? {
        switch self {
        case .floatArray: return .float
        case .intArray: return .int
        case .boolArray: return .bool
        default: return nil
        }
    }

    /// The array type holding elements of this scalar type (nil for arrays).
    public var arrayType: ValueType? {
        switch self {
        case .float: return .floatArray
        case .int: return .intArray
        case .bool: return .boolArray
        default: return nil
        }
    }
}

/// The three kernel kinds and their SciPy callback ABIs.
public enum KernelKind: String, Hashable, Sendable {
    /// `int f(double *buffer, intptr_t filter_size, double *return_value, void *user_data)`.
    case filter
    /// `int f(double *input_line, intptr_t input_length, double *output_line, intptr_t output_length, void *user_data)`.
    case lineFilter = "line_filter"
    /// `int f(intptr_t *output_coordinates, double *input_coordinates, int output_rank, int input_rank, void *user_data)`.
    case transform
    /// An array function (`@array_function`, `@jit`; issue 15): any array and scalar parameters, typed per
    /// call signature (`ArrayFunctionSignature`); ABI `int f(void **arguments, void *result)` (ArrayFunctions.swift).
    case arrayFunction = "array_function"

    /// How many leading parameters of the kernel function are arrays.
    public var arrayParameterCount: Int {
        switch self {
        case .filter: return 1
        case .lineFilter, .transform: return 2
        case .arrayFunction: return 0  // every parameter's type comes from the call's signature
        }
    }
}

/// A run-time parameter of a kernel (`t=0.5` in `def f(values, t=0.5)`).
public struct KernelParameter: Hashable, Sendable {
    /// Its name.
    public var name: String
    /// `.int` when the default is an int or a bool, else `.float`.
    public var type: ValueType
    /// The default as a double (ints exactly representable); 0 for a required parameter.
    public var defaultValue: Double
    /// The local slot of the kernel function that holds it.
    public var slot: Int
    /// Whether it was declared without a default, so every call must give its value
    /// (`def shift(output_coords, dy, dx)`, SciPy's `extra_arguments` style).
    public var isRequired: Bool

    /// Creates a kernel parameter.
    public init(name: String, type: ValueType, defaultValue: Double, slot: Int, isRequired: Bool = false) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.slot = slot
        self.isRequired = isRequired
    }
}

/// A local variable slot of a function (parameters first, then locals, then hidden temporaries).
public struct LocalVariable: Hashable, Sendable {
    /// The source name; hidden temporaries start with `$`.
    public var name: String
    /// Its one type for the whole function.
    public var type: ValueType
    /// For arrays: whether statements may store into it (outputs and local arrays).
    public var isWritable: Bool
    /// For an `.ndarray` slot: its dtype and rank.
    public var layout: NDLayout?

    /// Creates a local slot.
    public init(name: String, type: ValueType, isWritable: Bool = false, layout: NDLayout? = nil) {
        self.name = name
        self.type = type
        self.isWritable = isWritable
        self.layout = layout
    }
}

/// A checked function: the kernel or a helper.
public struct TypedFunction: Hashable, Sendable {
    /// The `def` name (`expression` for the one-line form).
    public var name: String
    /// Slots; the first `parameterCount` are the parameters in order.
    public var locals: [LocalVariable]
    /// How many leading slots are parameters.
    public var parameterCount: Int
    /// The return type: `.float` for a `@filter` kernel; a scalar type or nil (no value) for helpers;
    /// nil for line filters and transforms.
    public var returnType: ValueType?
    /// The body.
    public var body: [TStmt]
    /// The `def` (or the whole expression for the one-line form).
    public var range: SourceRange

    /// Creates a typed function.
    public init(name: String, locals: [LocalVariable], parameterCount: Int, returnType: ValueType?, body: [TStmt], range: SourceRange) {
        self.name = name
        self.locals = locals
        self.parameterCount = parameterCount
        self.returnType = returnType
        self.body = body
        self.range = range
    }
}

/// A checked program: the kernel function, the helpers it may call, and its interface.
public struct TypedProgram: Hashable, Sendable {
    /// Every checked function; `.call` refers to them by index.
    public var functions: [TypedFunction]
    /// Index of the kernel in `functions`.
    public var kernelIndex: Int
    /// The kernel kind (from its decorator; `@filter` when none).
    public var kind: KernelKind
    /// The run-time parameters in declaration order (they follow the array parameters).
    public var parameters: [KernelParameter]
    /// For an array function: the argument types it was checked for (its parameters, in order).
    public var arraySignature: ArrayFunctionSignature?
    /// For an array function returning an array: the result's dtype and rank.
    public var resultLayout: NDLayout?

    /// Creates a typed program.
    public init(functions: [TypedFunction], kernelIndex: Int, kind: KernelKind, parameters: [KernelParameter],
                arraySignature: ArrayFunctionSignature? = nil, resultLayout: NDLayout? = nil) {
        self.functions = functions
        self.kernelIndex = kernelIndex
        self.kind = kind
        self.parameters = parameters
        self.arraySignature = arraySignature
        self.resultLayout = resultLayout
    }

    /// The kernel function.
    public var kernel: TypedFunction { functions[kernelIndex] }
}

/// A typed statement.
public struct TStmt: Hashable, Sendable {
    /// What it does.
    public var kind: TStmtKind
    /// Where it was written.
    public var range: SourceRange

    /// Creates a typed statement.
    public init(_ kind: TStmtKind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// A target of a (tuple) assignment.
public enum TTarget: Hashable, Sendable {
    /// A local slot; the value already has the slot's type.
    case local(Int)
    /// `array[index]` on a writable float array; the value is a float, the index an int
    /// (negative counts from the end; out of range is a run-time error).
    case element(array: TExpr, index: TExpr)
    /// `a[i, j, ...] = value` on the `.ndarray` slot `slot` (array functions): one index per axis, each an
    /// `.int` (negative counts from the end; out of range is a run-time error naming array, index and
    /// shape). The value is an `.int`, `.float` or `.bool` and is stored by `ArrayDType.store` (NumPy's casts).
    case ndElement(slot: Int, indices: [TExpr])
}

/// The typed statements.
public indirect enum TStmtKind: Hashable, Sendable {
    /// Evaluate for effect (helper call, `a.sort()`).
    case expression(TExpr)
    /// Evaluate every value left to right, then store into the targets left to right
    /// (`a, b = b, a`; a single assignment has one of each). For an element target the
    /// array and index are evaluated after all values, just before the store, as Python does.
    case assign(targets: [TTarget], values: [TExpr])
    /// `if`; `orElse` is empty when absent (`elif` is a nested `if` in `orElse`).
    case ifStatement(condition: TExpr, then: [TStmt], orElse: [TStmt])
    /// `while condition:` (condition is `.bool`). Checks the cancellation flag / step budget each iteration.
    case whileLoop(condition: TExpr, body: [TStmt])
    /// `for slot in range(start, stop, step)`: all three ints, evaluated once, in order.
    /// A zero step is a run-time error. A hidden counter runs; each iteration stores it into
    /// `slot` (converted to the slot's type), so assigning the variable in the body does
    /// not change the iteration. An empty range leaves `slot` unassigned.
    case forRange(slot: Int, start: TExpr, stop: TExpr, step: TExpr, body: [TStmt])
    /// `for slot in array`: the array is evaluated once and its length read once; each
    /// iteration stores `array[i]` (converted to the slot's type) into `slot`.
    case forEach(slot: Int, array: TExpr, body: [TStmt])
    /// `break`.
    case breakLoop
    /// `continue`.
    case continueLoop
    /// `return` (nil) or `return value` (converted to the function's return type).
    case returnValue(TExpr?)
    /// `return 0` in Numba's raw SciPy callback form (`@cfunc`): the kernel fails, as any run-time error does
    /// (the ABI status is 0; the message says the callback returned 0). Ends its path like `return`.
    case callbackFailure
}

/// A typed expression: its kind, its type and where it was written.
public struct TExpr: Hashable, Sendable {
    /// What it computes.
    public var kind: TExprKind
    /// Its type.
    public var type: ValueType
    /// Where it was written.
    public var range: SourceRange

    /// Creates a typed expression.
    public init(_ kind: TExprKind, _ type: ValueType, _ range: SourceRange) {
        self.kind = kind
        self.type = type
        self.range = range
    }
}

/// Arithmetic on operands of one type (`.int` or `.float`; bools are converted first).
public enum TArithmetic: String, Hashable, Sendable {
    /// Wrapping for ints.
    case add, subtract, multiply
    /// Float only (Sema converts int operands): IEEE division, `x/0.0` is ±inf or nan.
    case trueDivide
    /// Python floor division: ints floor (zero divisor: run-time error; `INT64_MIN // -1` wraps to
    /// `INT64_MIN`); floats as NumPy's `npy_divmod` (`1 // 0.1 == 9.0`; divisor 0 gives `a / b`).
    case floorDivide
    /// Python modulo, sign of the divisor: ints (zero divisor: run-time error; `INT64_MIN % -1 == 0`);
    /// floats as NumPy's `npy_divmod` (divisor 0 gives `fmod(a, 0)`, i.e. nan).
    case modulo
    /// Floats: C `pow`. Ints (only when the exponent is a non-negative literal): wrapping
    /// repeated multiplication.
    case power
}

/// A scalar conversion made explicit by Sema.
public enum TConversion: String, Hashable, Sendable {
    /// int or bool to float (round to nearest for |x| > 2^53).
    case toFloat
    /// bool to int (0/1).
    case toInt
    /// Truth value of an int or float: `x != 0` (NaN is true).
    case truth
}

/// The typed expressions.
public indirect enum TExprKind: Hashable, Sendable {
    /// An int constant.
    case intConstant(Int64)
    /// A float constant (also `inf`, `nan`, `pi`, `e`).
    case floatConstant(Double)
    /// A bool constant.
    case boolConstant(Bool)
    /// Read a local slot (scalar or array).
    case local(Int)
    /// A conversion (the result type is the node's type).
    case convert(TConversion, TExpr)
    /// `-x` on an int (wrapping) or float.
    case negate(TExpr)
    /// `not x` (operand is `.bool`).
    case not(TExpr)
    /// Arithmetic on two operands of the node's type.
    case arithmetic(TArithmetic, TExpr, TExpr)
    /// A comparison chain `a < b <= c`: each operand is evaluated at most once, left to right,
    /// stopping at the first false comparison. Comparison i is `operands[i] ops[i] operands[i+1]`
    /// done in `compareTypes[i]` (`.int` or `.float`; an operand of another type is converted
    /// for that comparison). Result `.bool`. A single comparison is a chain of two operands.
    case compare(operands: [TExpr], ops: [CompareOperator], compareTypes: [ValueType])
    /// `a and b` / `a or b` with both operands already of the node's type: the deciding operand.
    case logical(LogicalOperator, TExpr, TExpr)
    /// `then if condition else orElse`; condition `.bool`, branches of the node's type.
    case conditional(condition: TExpr, then: TExpr, orElse: TExpr)
    /// `array[index]`: index `.int`, negative counts from the end, out of range is a run-time error.
    case element(array: TExpr, index: TExpr)
    /// `len(a)`, `a.size`, `a.shape[0]`: an `.int`.
    case length(TExpr)
    /// A call of the helper `functions[function]`; arguments already converted to its parameter types.
    case call(function: Int, arguments: [TExpr])
    /// A built-in; arguments already converted to the types `Builtin` documents.
    case builtin(Builtin, [TExpr])
    /// A constant `.floatArray` (a list or tuple literal of numbers with a float among them,
    /// `np.array([...])`, or a module-level constant). Read-only: Sema never stores into it.
    case floatArrayConstant([Double])
    /// A constant `.intArray` (a literal of ints, `order = [0, 1, 2, 5]`, `W = (1, 2, 1)`). Read-only.
    case intArrayConstant([Int64])
    /// NumPy fancy indexing `array[indices]` with an `.intArray` of indices: a fresh array of the
    /// node's type (`array`'s type) holding `array[indices[k]]` for each k in order (negative
    /// indices count from the end; one out of range is a run-time error). Writable: it is a copy.
    case gather(array: TExpr, indices: TExpr)
    /// A list or tuple literal of scalar expressions (`[values[0], values[4], x]`): a fresh array of
    /// the node's type, the elements (already converted to its element type: `.float` for a
    /// `.floatArray`, `.int` for an `.intArray`) evaluated left to right. Writable: it is fresh.
    case arrayOf([TExpr])
    /// An `.intArray` or `.boolArray` converted to a fresh `.floatArray` (each element as `.toFloat`
    /// converts it), so reductions take them (`np.sum(W)` with `W = (1, 2, 1)`; the result is a float here).
    case floatArrayOf(TExpr)
    /// NumPy element-wise evaluation (issue 13): `inputs` (arrays and scalars, at least one array) are
    /// evaluated once, left to right; the arrays must have one length n, or length 1 (broadcast, as a
    /// scalar is), else it is a run-time error ("operands could not be broadcast together"). The result
    /// is a fresh array of the node's type (`body.type`'s array type) whose element k is `body`
    /// evaluated with `.lane(j)` reading element k of input j (element 0 of a length-1 array, the value
    /// of a scalar input), for k = 0 ..< n in order. `values - m`, `np.abs(a)`, `values > t`,
    /// `np.where(c, a, b)`, `a.astype(int)`; nested element-wise expressions are one `map`.
    case map(inputs: [TExpr], body: TExpr)
    /// Inside a `map` body: the current element of input j (typed as that element or scalar).
    case lane(Int)
    /// `array[mask]` with a `.boolArray` mask of `array`'s length (else a run-time error): a fresh
    /// array of the elements where the mask is true, in order.
    case compress(array: TExpr, mask: TExpr)
    /// `array[start:stop:step]` with Python's slice rules (each bound an `.int` or absent; negative
    /// counts from the end; out-of-range bounds clamp; step 0 is a run-time error). Read-only.
    case slice(array: TExpr, start: TExpr?, stop: TExpr?, step: TExpr?)
    /// `a[i, j, ...]` of the `.ndarray` slot `slot`: one `.int` index per axis (negative from the end; out
    /// of range is a run-time error). The node's type is the dtype's `ArrayDType.scalarType` (the element
    /// loaded as `ArrayDType.load` says).
    case ndElement(slot: Int, indices: [TExpr])
    /// `a.shape[axis]` (`len(a)` is axis 0) of the `.ndarray` slot `slot`; `axis` is in 0..<rank. `.int`.
    case ndShape(slot: Int, axis: Int)
    /// `a.size`: the product of the slot's shape. `.int`.
    case ndSize(slot: Int)
    /// A new C-contiguous `.ndarray` of `layout` and shape `shape` (one `.int` per axis, evaluated left to
    /// right; a negative one is a run-time error), zero-filled (`np.empty` is zero-filled too).
    case ndAllocate(NDLayout, shape: [TExpr])
    /// `np.max(a)`, `np.min(a)`, `a.max()`, `a.min()` of the `.ndarray` slot `slot` (`NDReduction`): the node's
    /// type is the dtype's `scalarType`; an empty array is a run-time error.
    case ndReduce(NDReduction, slot: Int)
}

/// The built-in functions, resolved from both spellings (`min` and `np.min` are different
/// built-ins). Argument and result types are fixed per case; "num" means `.int` or `.float`
/// (all arguments converted to one of them, the result of that type).
public enum Builtin: String, Hashable, Sendable, CaseIterable {
    // MARK: Reductions over a float array (one `.floatArray` argument)

    /// CPython `min(a)`: keep the first, replace by each later strictly smaller one. Empty: error. `.float`.
    case pyMin
    /// CPython `max(a)`, the mirror of `pyMin`. Empty: error. `.float`.
    case pyMax
    /// CPython 3.11 `sum(a)`: `0.0 + a[0] + a[1] ...` in order. Empty: 0.0. `.float`.
    case pySum
    /// `np.min`: NaN if any element is NaN, else the least. Empty: error. `.float`.
    case npMin
    /// `np.max`: NaN-propagating. Empty: error. `.float`.
    case npMax
    /// `np.sum`, `a.sum()`: NumPy's pairwise sum (ndimage-semantics.md section 7). `.float`.
    case npSum
    /// `prod`, `np.prod`, `a.prod()`: product from 1.0, first to last. `.float`.
    case prod
    /// `mean`, `np.mean`, `a.mean()`: `npSum / n`; empty: NaN. `.float`.
    case mean
    /// `median`, `np.median`: middle element, or `(lo + hi) / 2`; NaN if any NaN; empty: NaN. `.float`.
    case median
    /// `var`, `np.var`, `a.var()`: population variance as NumPy computes it; empty: NaN. `.float`.
    case variance
    /// `std`, `np.std`, `a.std()`: `sqrt(variance)`. `.float`.
    case std
    /// `any`, `np.any`: some element is non-zero (NaN counts as true). `.bool`.
    case any
    /// `all`, `np.all`: every element is non-zero. `.bool`.
    case all
    /// `argmin`, `np.argmin`, `a.argmin()`: index of the first least element, or of the first NaN. Empty: error. `.int`.
    case argmin
    /// `argmax`: as `argmin` for the greatest. `.int`.
    case argmax
    /// `np.percentile(a, q)`: NumPy's default linear method; `q` a `.float` in [0, 100] (else error);
    /// NaN if any element is NaN. Empty: error. `.float`.
    case percentile
    /// `np.quantile(a, q)`: `q` in [0, 1]. `.float`.
    case quantile
    /// `np.nanmin`: least non-NaN element; all NaN: NaN; empty: error. `.float`.
    case nanmin
    /// `np.nanmax`. `.float`.
    case nanmax
    /// `np.nansum`: NaN replaced by 0, then pairwise sum. `.float`.
    case nansum
    /// `np.nanmean`: `nansum / count of non-NaN` (NaN when none). `.float`.
    case nanmean
    /// `np.nanmedian`: median of the non-NaN elements (NaN when none). `.float`.
    case nanmedian

    // MARK: Local array constructors (return a fresh `.floatArray`)

    /// `np.zeros(n)`: n an `.int`; negative or above 1,048,576: error.
    case zeros
    /// `np.ones(n)`.
    case ones
    /// `np.empty(n)`: zero-filled here (its contents are unspecified in NumPy).
    case empty
    /// `a.copy()`: a copy of a float array.
    case copy
    /// `np.sort(a)`, `sorted(a)`: a sorted copy, ascending, NaN last.
    case sorted
    /// `a.sort()` on a writable array: sorts in place (NaN last). No value: only as a statement.
    case sortInPlace

    // MARK: Scalars

    /// CPython `min(x, y, ...)` (two or more num arguments): first, replaced by each strictly smaller later one. num.
    case pyMinOf
    /// CPython `max(x, y, ...)`. num.
    case pyMaxOf
    /// `np.minimum(x, y)`: NaN if either is NaN. num.
    case minimum
    /// `np.maximum(x, y)`: NaN-propagating. num.
    case maximum
    /// `np.fmin(x, y)`: the non-NaN one if one is NaN. num.
    case fmin
    /// `np.fmax(x, y)`. num.
    case fmax
    /// `abs(x)`: num (ints wrap: `abs(INT64_MIN) == INT64_MIN`).
    case abs
    /// `clip(x, lo, hi)`, `np.clip`: `minimum(maximum(x, lo), hi)`. num.
    case clip
    /// `sqrt` (`.float` -> `.float`; negative gives NaN).
    case sqrt
    /// `exp`.
    case exp
    /// `log` (natural; 0 gives -inf, negative NaN).
    case log
    /// `log2`.
    case log2
    /// `log10`.
    case log10
    /// `sin`.
    case sin
    /// `cos`.
    case cos
    /// `tan`.
    case tan
    /// `asin`.
    case asin
    /// `acos`.
    case acos
    /// `atan`.
    case atan
    /// `sinh`.
    case sinh
    /// `cosh`.
    case cosh
    /// `tanh`.
    case tanh
    /// `atan2(y, x)`: two `.float`.
    case atan2
    /// `hypot(x, y)`, `math.hypot`: CPython 3.8+'s algorithm (`Numerics.hypot`), not libm's.
    case hypot
    /// `copysign(x, y)`.
    case copysign
    /// `math.pow(x, y)`, `np.power` on floats: C `pow`. (Bare `pow` is `**`.)
    case pow
    /// `floor`, `math.floor`: `.float` -> `.int`; NaN, ±inf or outside the 64-bit range: error.
    case floorToInt
    /// `ceil`, `math.ceil`: -> `.int` with the same errors.
    case ceilToInt
    /// `trunc`, `math.trunc`: -> `.int`.
    case truncToInt
    /// `round(x)`: half to even -> `.int`.
    case roundToInt
    /// `int(x)`: truncation -> `.int` (same errors as `truncToInt`).
    case toInt
    /// `np.floor`: `.float` -> `.float`, never fails.
    case npFloor
    /// `np.ceil`.
    case npCeil
    /// `np.trunc`.
    case npTrunc
    /// `np.round`, `np.rint`: half to even, `.float`.
    case npRound
    /// `isnan`: `.float` -> `.bool`.
    case isnan
    /// `isinf`.
    case isinf
    /// `isfinite`.
    case isfinite
    /// `np.hypot(x, y)`: NumPy's, i.e. libm's `hypot` (`hypot` and `math.hypot` are CPython's, `.hypot`).
    case npHypot
    /// `np.average(a, weights=w)` (two `.floatArray`s -> `.float`): `np.sum(a * w) / np.sum(w)`, both sums
    /// pairwise as NumPy's; lengths that differ or weights summing to zero are run-time errors.
    case average
    /// `np.dot(a, b)` of two 1-D arrays (two `.floatArray`s -> `.float`): NumPy's own bits on this platform
    /// (OpenBLAS's ddot order, `Numerics.dot`); lengths that differ are a run-time error.
    case dot
    /// `np.cumsum(a)`, `a.cumsum()` (`.floatArray` -> a fresh `.floatArray`): running sums first to last,
    /// as NumPy's `add.accumulate`.
    case cumsum
    /// `np.bincount(x, minlength=m)` (`.intArray`, `.int` -> a fresh `.intArray` of length
    /// `max(max(x) + 1, m)`): how often each value occurs. A negative element or `m` is a run-time error.
    case bincount
    /// `np.unique(a)` (`.floatArray` -> a fresh `.floatArray`): the sorted distinct values, NaNs as one
    /// (NumPy's `equal_nan=True`).
    case unique
    /// The counts of `np.unique(a, return_counts=True)` (`.floatArray` -> a fresh `.intArray`).
    case uniqueCounts
    /// `np.histogram(a, bins, range=(lo, hi))`'s counts: arguments `.floatArray`, `.int` bins, `.float` lo,
    /// `.float` hi, `.bool` autodetect (true: no `range`, lo and hi unused) -> a fresh `.intArray` of
    /// `bins` counts, computed as NumPy 2.x does for equal bins (values outside the range and NaN are
    /// dropped). Bad bins or ranges are run-time errors (`RuntimeMessages.histogram`).
    case histogram
    /// The bin edges of `np.histogram` (same arguments) -> a fresh `.floatArray` of `bins + 1`
    /// (NumPy's `linspace`).
    case histogramEdges
}

/// A run-time failure of a kernel, with the source location that caused it.
public struct KernelRuntimeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, e.g. `index 9 is out of range for an array of length 9`.
    public var message: String
    /// Where in the source.
    public var range: SourceRange

    /// Creates a run-time error.
    public init(_ message: String, at range: SourceRange) {
        self.message = message
        self.range = range
    }

    public var description: String { message }
}

/// The largest local array, in elements.
public let maximumLocalArrayLength = 1_048_576

/// The most elements all local arrays of one kernel call may hold together (512 MiB of doubles), so
/// that a loop allocating arrays cannot exhaust the machine before it is cancelled. Both back ends
/// enforce it: the JIT's per-call arena and the interpreter's count.
public let maximumLocalArrayElementsPerCall = 64 * 1_048_576

/// Run-time error messages both back ends give in the same words (issue 13's array expressions).
public enum RuntimeMessages {
    /// `return 0` in a raw `@cfunc` callback (`TStmt.callbackFailure`).
    public static let callbackFailure = "the callback returned 0 (failure)"
    /// NumPy's words for element-wise operands of different lengths.
    public static func broadcast(_ a: Int, _ b: Int) -> String {
        "operands could not be broadcast together with shapes (\(a),) (\(b),)"
    }
    /// Python's words for `a[::0]`.
    public static let zeroSliceStep = "slice step cannot be zero"
    /// NumPy's words for `np.average` weights of another length.
    public static let averageShapes = "Axis must be specified when shapes of a and weights differ."
    /// NumPy's words for `np.dot` of 1-D arrays of different lengths.
    public static func dotShapes(_ a: Int, _ b: Int) -> String {
        "shapes (\(a),) and (\(b),) not aligned: \(a) (dim 0) != \(b) (dim 0)"
    }
    /// NumPy's words for `np.average` weights summing to zero.
    public static let averageZeroWeights = "Weights sum to zero, can't be normalized"
    /// NumPy's words for a negative element in `np.bincount`.
    public static let bincountNegative = "'list' argument must have no negative elements"
    /// NumPy's words for a negative `minlength`.
    public static let bincountMinlength = "'minlength' must not be negative"
    /// NumPy's words for `np.histogram` errors (`Numerics.histogram` status 1...5).
    public static func histogram(_ status: Int) -> String {
        switch status {
        case 1: return "`bins` must be positive, when an integer"
        case 2: return "max must be larger than min in range parameter."
        case 3: return "supplied range of the histogram is not finite"
        case 5: return "Too many bins for data range. Cannot create finite-sized bins."
        default: return "autodetected range of the histogram is not finite"
        }
    }
    /// NumPy's words for a boolean mask of the wrong length.
    public static func maskLength(_ arrayLength: Int, _ maskLength: Int) -> String {
        "boolean index did not match indexed array along axis 0; size of axis is \(arrayLength) but size of corresponding boolean axis is \(maskLength)"
    }
}
