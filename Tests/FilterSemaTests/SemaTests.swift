import FilterLang
import FilterSema
import Foundation
import Testing

/// The kernel's body as compact text, or the diagnostics when the program does not check.
private func kernelBody(_ text: String, function: String? = nil) -> String {
    let (program, errors) = compile(text, function: function)
    guard let program else { return "ERROR: " + errors }
    return dump(program.kernel.body)
}

private func slotTypes(_ function: TypedFunction) -> [String] {
    function.locals.map { "\($0.name):\($0.type.rawValue)\($0.isWritable ? "!" : "")" }
}

@Test func numbaFminTextChecksUnchanged() throws {
    let text = """
    def fmin(values):
        result = np.inf
        for v in values:
            if v < result:
                result = v
        return result
    """
    let (program, errors) = compile(text)
    let checked = try #require(program, "\(errors)")
    #expect(checked.kind == .filter)
    #expect(checked.parameters.isEmpty)
    #expect(checked.kernel.name == "fmin")
    #expect(checked.kernel.returnType == .float)
    #expect(slotTypes(checked.kernel) == ["values:floatArray", "result:float", "v:float"])
    #expect(dump(checked.kernel.body) == """
    $1 = inf
    for $2 in $0:floatArray
      if (cmp <:float $2:float $1:float)
        $1 = $2:float
    return $1:float
    """)
}

@Test func oneLineFormIsAFilterNamedExpressionReturningFloat() throws {
    let (program, errors) = compile("values[4] > 0")
    let checked = try #require(program, "\(errors)")
    #expect(checked.kernel.name == "expression")
    #expect(checked.kernel.parameterCount == 1)
    #expect(slotTypes(checked.kernel) == ["values:floatArray"])
    #expect(dump(checked.kernel.body) == "return (toFloat (cmp >:float (elem:float $0:floatArray 4) 0))")
}

@Test func intAndFloatAssignmentsUnifyToFloatWithExplicitConversions() throws {
    let text = """
    def f(values):
        x = 0
        x = x + 1.5
        return x
    """
    let (program, errors) = compile(text)
    let checked = try #require(program, "\(errors)")
    #expect(slotTypes(checked.kernel) == ["values:floatArray", "x:float"])
    #expect(dump(checked.kernel.body) == """
    $1 = (toFloat 0)
    $1 = (add:float $1:float 1.5)
    return $1:float
    """)
}

@Test func boolAndIntUnifyToInt() {
    let text = """
    def f(values):
        flag = True
        flag = 2
        return flag
    """
    #expect(kernelBody(text) == """
    $1 = (toInt true)
    $1 = 2
    return (toFloat $1:int)
    """)
}

@Test func operatorsFollowPythonTyping() {
    #expect(kernelBody("1 / 2") == "return (trueDivide:float (toFloat 1) (toFloat 2))")
    #expect(kernelBody("7 // 2 + 7 % 2") == "return (toFloat (add:int (floorDivide:int 7 2) (modulo:int 7 2)))")
    #expect(kernelBody("2 ** 3") == "return (toFloat (power:int 2 3))")
    #expect(kernelBody("2 ** -1") == "return (power:float (toFloat 2) (toFloat (neg:int 1)))")
    #expect(kernelBody("-2 ** 2") == "return (toFloat (neg:int (power:int 2 2)))")
    #expect(kernelBody("2.0 ** 2") == "return (power:float 2.0 (toFloat 2))")
    #expect(kernelBody("-True") == "return (toFloat (neg:int (toInt true)))")
    #expect(kernelBody("True + 1") == "return (toFloat (add:int (toInt true) 1))")
    #expect(kernelBody("not values[0]") == "return (toFloat (not (truth (elem:float $0:floatArray 0))))")
    #expect(kernelBody("1 or 2.5") == "return (or:float (toFloat 1) 2.5)")
    #expect(kernelBody("True and False") == "return (toFloat (and:bool true false))")
    #expect(kernelBody("1 if values[0] else 2.0") == "return (if:float (truth (elem:float $0:floatArray 0)) (toFloat 1) 2.0)")
    #expect(kernelBody("0 < values[0] <= 1") == "return (toFloat (cmp <:float <=:float 0 (elem:float $0:floatArray 0) 1))")
    #expect(kernelBody("1 < 2 == True") == "return (toFloat (cmp <:int ==:int 1 2 true))")
}

@Test func builtinsResolveBothSpellings() {
    #expect(kernelBody("min(values)") == "return (pyMin:float $0:floatArray)")
    #expect(kernelBody("np.min(values)") == "return (npMin:float $0:floatArray)")
    #expect(kernelBody("np.amin(values)") == "return (npMin:float $0:floatArray)")
    #expect(kernelBody("from numpy import min\nmin(values)") == "return (npMin:float $0:floatArray)")
    #expect(kernelBody("sum(values) + np.sum(values)") == "return (add:float (pySum:float $0:floatArray) (npSum:float $0:floatArray))")
    #expect(kernelBody("min(1, 2.5, values[0])") == "return (pyMinOf:float (toFloat 1) 2.5 (elem:float $0:floatArray 0))")
    #expect(kernelBody("max(1, 2)") == "return (toFloat (pyMaxOf:int 1 2))")
    #expect(kernelBody("floor(values[0])") == "return (toFloat (floorToInt:int (elem:float $0:floatArray 0)))")
    #expect(kernelBody("math.floor(3)") == "return (toFloat 3)")
    #expect(kernelBody("np.floor(3)") == "return (npFloor:float (toFloat 3))")
    #expect(kernelBody("round(values[0])") == "return (toFloat (roundToInt:int (elem:float $0:floatArray 0)))")
    #expect(kernelBody("int(values[0]) + int(True)") == "return (toFloat (add:int (toInt:int (elem:float $0:floatArray 0)) (toInt true)))")
    #expect(kernelBody("float('-Inf') + float('NaN')") == "return (add:float -inf nan)")
    #expect(kernelBody("float(1)") == "return (toFloat 1)")
    #expect(kernelBody("pow(2, 3)") == "return (toFloat (power:int 2 3))")
    #expect(kernelBody("math.pow(2, 3)") == "return (pow:float (toFloat 2) (toFloat 3))")
    #expect(kernelBody("abs(-3)") == "return (toFloat (abs:int (neg:int 3)))")
    #expect(kernelBody("np.clip(values[0], 0, 1)") == "return (clip:float (elem:float $0:floatArray 0) (toFloat 0) (toFloat 1))")
    #expect(kernelBody("np.percentile(values, 50)") == "return (percentile:float $0:floatArray (toFloat 50))")
    #expect(kernelBody("values.mean() + values.std()") == "return (add:float (mean:float $0:floatArray) (std:float $0:floatArray))")
    #expect(kernelBody("len(values) + values.size + values.shape[0]") == "return (toFloat (add:int (add:int (len $0:floatArray) (len $0:floatArray)) (len $0:floatArray)))")
    #expect(kernelBody("isnan(values[0])") == "return (toFloat (isnan:bool (elem:float $0:floatArray 0)))")
    #expect(kernelBody("np.argmax(values)") == "return (toFloat (argmax:int $0:floatArray))")
    #expect(kernelBody("any(values)") == "return (toFloat (any:bool $0:floatArray))")
    #expect(kernelBody("pi + np.e + math.inf") == "return (add:float (add:float \(Double.pi) \(M_E)) inf)")
    #expect(kernelBody("math.fabs(-1)") == "return (abs:float (toFloat (neg:int 1)))")
}

@Test func localArraysAreFreshAndWritable() throws {
    let text = """
    def f(values):
        b = np.zeros(len(values))
        c = sorted(values)
        d = values
        b[0] += values[1]
        c.sort()
        return b[0] + c[0] + d[0]
    """
    let (program, errors) = compile(text)
    let checked = try #require(program, "\(errors)")
    #expect(slotTypes(checked.kernel) == ["values:floatArray", "b:floatArray!", "c:floatArray!", "d:floatArray", "$t0:int"])
    #expect(dump(checked.kernel.body) == """
    $1 = (zeros:floatArray (len $0:floatArray))
    $2 = (sorted:floatArray $0:floatArray)
    $3 = $0:floatArray
    $4 = 0
    $1:floatArray[$4:int] = (add:float (elem:float $1:floatArray $4:int) (elem:float $0:floatArray 1))
    expr (sortInPlace:float $2:floatArray)
    return (add:float (add:float (elem:float $1:floatArray 0) (elem:float $2:floatArray 0)) (elem:float $3:floatArray 0))
    """)
}

@Test func kernelKindsFromDecoratorsAndAliases() throws {
    for decorator in ["line_filter", "jit_filter1d_function", "llc.jit_filter1d_function", "filterjit.line_filter"] {
        let (program, errors) = compile("@\(decorator)\ndef f(line, out):\n    out[0] = line[0]\n")
        let checked = try #require(program, "\(decorator): \(errors)")
        #expect(checked.kind == .lineFilter)
        #expect(checked.kernel.returnType == nil)
        #expect(slotTypes(checked.kernel) == ["line:floatArray", "out:floatArray!"])
    }
    for decorator in ["transform", "jit_geometric_function", "llc.jit_geometric_function"] {
        let (program, errors) = compile("@\(decorator)\ndef f(oc, ic, shift=1):\n    ic[0] = oc[0] + shift\n")
        let checked = try #require(program, "\(decorator): \(errors)")
        #expect(checked.kind == .transform)
        #expect(slotTypes(checked.kernel) == ["oc:intArray", "ic:floatArray!", "shift:int"])
        #expect(checked.parameters == [KernelParameter(name: "shift", type: .int, defaultValue: 1, slot: 2)])
    }
    for decorator in ["filter", "jit_filter_function", "filterjit.filter"] {
        let (program, errors) = compile("@\(decorator)\ndef f(v):\n    return v[0]\n")
        #expect(try #require(program, "\(decorator): \(errors)").kind == .filter)
    }
}

@Test func runTimeParameterDefaults() throws {
    let text = "def f(values, a=-0.5, b=3, c=True, d=-np.inf, e=+2, g=float('nan'), h=-3):\n    return a\n"
    let (program, errors) = compile(text)
    let parameters = try #require(program, "\(errors)").parameters
    #expect(parameters.map(\.name) == ["a", "b", "c", "d", "e", "g", "h"])
    #expect(parameters.map(\.type) == [.float, .int, .int, .float, .int, .float, .int])
    #expect(parameters.map(\.slot) == [1, 2, 3, 4, 5, 6, 7])
    #expect(parameters[0].defaultValue == -0.5)
    #expect(parameters[2].defaultValue == 1)
    #expect(parameters[3].defaultValue == -.infinity)
    #expect(parameters[5].defaultValue.isNaN)
    #expect(parameters[6].defaultValue == -3)
}

@Test func helperArgumentTypesUnifyOverCallSites() throws {
    let text = """
    def scale(x, k):
        return x * k

    def fill(a, n):
        for i in range(n):
            a[i] = 1.0

    def f(values):
        buf = np.zeros(3)
        fill(buf, 3)
        return scale(values[0], 2) + scale(1, True)
    """
    let (program, errors) = compile(text)
    let checked = try #require(program, "\(errors)")
    #expect(checked.functions.map(\.name) == ["scale", "fill", "f"])
    #expect(checked.kernelIndex == 2)
    let scale = checked.functions[0]
    #expect(slotTypes(scale) == ["x:float", "k:int"])
    #expect(scale.returnType == .float)
    #expect(dump(scale.body) == "return (multiply:float $0:float (toFloat $1:int))")
    let fill = checked.functions[1]
    #expect(slotTypes(fill) == ["a:floatArray!", "n:int", "i:int"])
    #expect(fill.returnType == nil)
    #expect(dump(checked.kernel.body) == """
    $1 = (zeros:floatArray 3)
    expr (call#1:float $1:floatArray 3)
    return (add:float (call#0:float (elem:float $0:floatArray 0) 2) (call#0:float (toFloat 1) (toInt true)))
    """)
}

@Test func helperArrayParameterIsReadOnlyWhenAnyCallSitePassesAReadOnlyArray() throws {
    let text = """
    def first(a):
        return a[0]

    def f(values):
        b = np.ones(2)
        return first(b) + first(values)
    """
    let (program, errors) = compile(text)
    let checked = try #require(program, "\(errors)")
    #expect(slotTypes(checked.functions[0]) == ["a:floatArray"])
    let writing = text.replacingOccurrences(of: "return a[0]", with: "a[0] = 1.0\n    return a[0]")
    #expect(diagnosticLines(writing) == ["2:5: error: cannot write into 'a': it is a read-only array"])
}

@Test func uncalledHelpersAreCheckedWithArrayAndFloatParameters() throws {
    let text = """
    def unused(a, x):
        return a[0] + len(a) * x

    def f(values):
        return 1.0
    """
    let (program, errors) = compile(text)
    let checked = try #require(program, "\(errors)")
    #expect(slotTypes(checked.functions[0]) == ["a:floatArray!", "x:float"])
    #expect(diagnosticLines(text.replacingOccurrences(of: "* x", with: "* xx")) == ["2:28: error: unknown name 'xx'; did you mean 'x'?"])
}

@Test func kernelMayBeNamedAndHelpersCallOtherHelpers() throws {
    let text = """
    def a(values):
        return b(values[0])

    def b(x):
        return x + 1

    def c(values):
        return 0.0
    """
    let (program, errors) = compile(text, function: "a")
    let checked = try #require(program, "\(errors)")
    #expect(checked.kernel.name == "a")
    #expect(checked.functions[1].returnType == .float)
    let (last, _) = compile(text)
    #expect(last?.kernel.name == "c")
}

@Test func definiteAssignmentFollowsBranchesAndLoops() {
    let bothBranches = """
    def f(values):
        if values[0] > 0:
            x = 1.0
        else:
            x = 2.0
        return x
    """
    #expect(diagnosticLines(bothBranches).isEmpty)
    let returnInOneBranch = """
    def f(values):
        if values[0] > 0:
            return 0.0
        else:
            x = 2.0
        return x
    """
    #expect(diagnosticLines(returnInOneBranch).isEmpty)
    let loopBody = """
    def f(values):
        for v in values:
            y = v
        return y
    """
    #expect(diagnosticLines(loopBody) == ["4:12: error: 'y' may be used before it is assigned"])
    let whileTrueWithBreak = """
    def f(values):
        while True:
            z = values[0]
            break
        return z
    """
    #expect(diagnosticLines(whileTrueWithBreak).isEmpty)
    let whileTrueBreakBeforeAssignment = """
    def f(values):
        while True:
            if values[0] > 0:
                break
            z = values[0]
            break
        return z
    """
    #expect(diagnosticLines(whileTrueBreakBeforeAssignment) == ["7:12: error: 'z' may be used before it is assigned"])
    let selfReference = "def f(values):\n    x = x + 1\n    return x\n"
    #expect(diagnosticLines(selfReference) == ["2:9: error: 'x' may be used before it is assigned"])
    let whileTrueNeverEnds = "def f(values):\n    while True:\n        pass\n"
    #expect(diagnosticLines(whileTrueNeverEnds).isEmpty)
}

@Test func tupleAssignmentEvaluatesAllValuesFirst() {
    let text = """
    def f(values):
        a = 1
        b = 2.0
        a, b = b, a
        return a
    """
    #expect(kernelBody(text) == """
    $1 = (toFloat 1)
    $2 = 2.0
    $1, $2 = $2:float, $1:float
    return $1:float
    """)
}

@Test func elifIsNestedIfAndPassDisappears() {
    let text = """
    def f(values):
        if values[0] > 1:
            return 1.0
        elif values[0] > 0:
            pass
        else:
            return 3.0
        return 2.0
    """
    #expect(kernelBody(text) == """
    if (cmp >:float (elem:float $0:floatArray 0) 1)
      return 1.0
    else
      if (cmp >:float (elem:float $0:floatArray 0) 0)
      else
        return 3.0
    return 2.0
    """)
}

@Test func rangeLoopsTakeIntArgumentsAndLoopVariablesUnify() {
    let text = """
    def f(values):
        t = 0.0
        for i in range(1, len(values), 2):
            t = t + values[i]
        for j in range(3):
            j = 0.5
        return t
    """
    let (program, errors) = compile(text)
    #expect(program.map { slotTypes($0.kernel) } == ["values:floatArray", "t:float", "i:int", "j:float"], "\(errors)")
    #expect(program.map { dump($0.kernel.body) }?.contains("for $3 in range(0, 3, 1)") == true)
}

@Test func transformOutCoordsAreIntArrays() {
    let text = """
    @transform
    def s(out_coords, in_coords):
        for c in out_coords:
            in_coords[0] = c
    """
    #expect(kernelBody(text) == """
    for $2 in $0:intArray
      $1:floatArray[0] = (toFloat $2:int)
    """)
}

@Test func localShadowsConstantsAndImportsWork() {
    #expect(kernelBody("def f(values):\n    pi = 3\n    return pi\n") == "$1 = 3\nreturn (toFloat $1:int)")
    #expect(kernelBody("import numpy as xp\nxp.max(values)") == "return (npMax:float $0:floatArray)")
    #expect(kernelBody("import math as m, numpy as xp\nxp.max(values) + m.pi") == "return (add:float (npMax:float $0:floatArray) \(Double.pi))")
    #expect(kernelBody("from math import sqrt as root, pi\nroot(pi)") == "return (sqrt:float \(Double.pi))")
    #expect(kernelBody("\"\"\"Module docstring.\"\"\"\nimport math\nmath.sqrt(values[0])") == "return (sqrt:float (elem:float $0:floatArray 0))")
}

@Test func negativeIndicesAndBoolIndicesBecomeInts() {
    #expect(kernelBody("values[-1] + values[True]") == "return (add:float (elem:float $0:floatArray (neg:int 1)) (elem:float $0:floatArray (toInt true)))")
}

@Test func diagnosticsRenderWithFileLineCaret() {
    let file = SourceFile(name: "<expr>", text: "min(vlaues)")
    guard case .failure(let error) = FrontEnd.check(file) else {
        Issue.record("expected a failure")
        return
    }
    #expect(error.description == """
    <expr>:1:5: error: unknown name 'vlaues'; did you mean 'values'?
    min(vlaues)
        ^~~~~~

    """)
}

@Test func typedIRPrinterShowsKindParametersSlotsAndBodies() throws {
    let (program, errors) = compile("@line_filter\ndef f(line, out, gain=2):\n    out[0] = line[0] * gain\n")
    let text = TypedIRPrinter.print(try #require(program, "\(errors)"))
    #expect(text == """
    kind line_filter, kernel #0
    parameter gain: int = 2.0 in $2
    function #0 f -> nothing
      slots: $0 line: floatArray, $1 out: floatArray writable, $2 gain: int
      $1:floatArray[0] = (multiply:float (elem:float $0:floatArray 0) (toFloat $2:int))

    """)
}

/// Programs in the styles people write (llc, Numba, plain NumPy) that must check.
private let representativePrograms: [String] = [
    """
    import llc
    import numpy as np

    @llc.jit_filter_function
    def median_by_selection(values):
        buf = np.empty(len(values))
        n = 0
        for v in values:
            buf[n] = v
            n += 1
        for i in range(n):
            for j in range(i + 1, n):
                if buf[j] < buf[i]:
                    buf[i], buf[j] = buf[j], buf[i]
        if n % 2 == 1:
            return buf[n // 2]
        return (buf[n // 2 - 1] + buf[n // 2]) / 2
    """,
    """
    from llc import jit_filter1d_function

    @jit_filter1d_function
    def running_max(line, out):
        window = len(line) - len(out) + 1
        for i in range(len(out)):
            best = -np.inf
            k = 0
            while True:
                if k >= window:
                    break
                best = max(best, line[i + k])
                k += 1
            out[i] = best
    """,
    """
    import math

    def weight(d, sigma):
        return math.exp(-(d * d) / (2.0 * sigma * sigma))

    def gaussian(values, sigma=1.0):
        centre = len(values) // 2
        total = 0.0
        norm = 0.0
        for i in range(len(values)):
            w = weight(i - centre, sigma)
            total += w * values[i]
            norm += w
        return total / norm if norm != 0 else 0.0
    """,
    """
    @transform
    def zoom(out_coords, in_coords, factor=2.0, centre=True):
        for d in range(len(out_coords)):
            c = out_coords[d] / factor
            if centre:
                c = c + 0.5
            in_coords[d] = c
    """,
    """
    def count_above(values, t=0.5):
        count = 0
        for v in values:
            if not isnan(v) and v > t:
                count += 1
        return count
    """,
    """
    def local_contrast(values):
        lo, hi = np.min(values), np.max(values)
        if hi - lo == 0:
            return 0.0
        return (values[len(values) // 2] - lo) / (hi - lo)
    """,
    """
    def sorted_rank(values, q=25):
        s = np.sort(values)
        idx = int(round(q / 100 * (s.size - 1)))
        return s[idx] + np.percentile(values, q) * 0
    """,
]

@Test(arguments: representativePrograms.indices)
func representativeProgramsCheck(_ index: Int) {
    let (program, errors) = compile(representativePrograms[index])
    #expect(program != nil, "\(errors)")
}

@Test func examplesCheckAndKeepTheTypedIRContract() throws {
    let directory = repositoryRoot.appendingPathComponent("examples")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".filter") }
    #expect(names.count >= 10)
    for name in names {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        let (program, errors) = compile(text, name: name)
        #expect(program != nil, "\(name): \(errors)")
    }
}

@Test func verifierRejectsABrokenProgram() throws {
    let (program, errors) = compile("def f(values):\n    x = 1\n    return x + 0.5\n")
    var broken = try #require(program, "\(errors)")
    // Store a float into the int slot and return an int: two broken promises.
    broken.functions[0].body[0] = TStmt(.assign(targets: [.local(1)], values: [TExpr(.floatConstant(1), .float, .none)]), .none)
    broken.functions[0].body[1] = TStmt(.returnValue(TExpr(.local(1), .int, .none)), .none)
    let problems = TypedIRVerifier.verify(broken)
    #expect(problems.count == 2, "\(problems)")
}

@Test func uncalledHelperParametersPassedAsArraysBecomeArrays() throws {
    let text = """
    def first(a):
        return a[0]

    def unused(b, x):
        return first(b) + x

    def f(values):
        return first(values)
    """
    let (program, errors) = compile(text)
    let checked = try #require(program, "\(errors)")
    #expect(slotTypes(checked.functions[1]) == ["b:floatArray!", "x:float"])
}

@Test func helperWhoseValueIsUnusedGetsAnExplicitFinalReturn() throws {
    let text = """
    def g(x):
        if x > 0:
            return 1

    def f(values):
        g(values[0])
        return 0.0
    """
    let (program, errors) = compile(text)
    let helper = try #require(program, "\(errors)").functions[0]
    #expect(helper.returnType == .int)
    #expect(dump(helper.body) == """
    if (cmp >:float $0:float 0)
      return 1
    return 0
    """)
}
