import FilterLang
import FilterSema
import Testing

@Test func scratchPrograms() {
    let programs = [
        "def f(values):\n    return values[0]",
        "def g(x, k=2):\n    return x * k\n\ndef f(values):\n    return g(values[0]) + g(1.0, 3)",
        "@line_filter\ndef f(line, out):\n    for i in range(len(out)):\n        out[i] = line[i]\n    out.sort()",
        "def h(values):\n    return f(values)\n\ndef f(values):\n    return 1.0",
        "def f(values):\n    x = 0\n    while x < 10:\n        x += 1\n        if x == 5:\n            continue\n    return x",
        "def f(values):\n    a = values.copy()\n    a[-1] = 0\n    return a.max()",
        "def f(values):\n    return max(values[0], values[1]) if len(values) > 1 else 0",
        "def f(values):\n    return values[0] ** 0.5 + abs(values[1]) + values.argmin()",
        "def f(values):\n    return sum(values) / len(values)",
        "from math import floor\ndef f(values):\n    return floor(values[0]) // 2",
        "def f(values):\n    t = 0\n    for v in values:\n        t += v > 0\n    return t",
        "def f(values, n=3):\n    b = np.empty(n)\n    return b[0]",
        "def f(values):\n    return np.median(values) + np.nanmax(values) + np.quantile(values, 0.5)",
        "def f(values):\n    x = y = 0\n    return x",
        "def f(values):\n    return values[0] if values[1] else values",
        "def f(values):\n    return len(5)",
        "def f(values):\n    return sum(1.0)",
        "def f(values):\n    return values.foo()",
        "def f(values):\n    return values.shape[1]",
        "def f(values):\n    return np.zeros(2.5)[0]",
        "def f(values):\n    return round(values[0], 2)",
        "def f(values):\n    return float('abc')",
        "def f(values):\n    g = 1\n    return g(2)",
        "def f(values):\n    return np",
        "def f(values):\n    return sqrt",
        "def f(values):\n    b = np.zeros(3)\n    c = b.sort()\n    return 0.0",
        "import numpy.linalg\nmin(values)",
        "from numpy import foo\nmin(values)",
        "from math import pi\npi * values[0]",
        "def g(a):\n    a[0] = 1.0\n\ndef f(values):\n    g(values)\n    return 0.0",
        "def g(a):\n    return a\n\ndef f(values):\n    return g(values)",
        "@filter\n@line_filter\ndef f(values):\n    return 1.0",
        "def f(values=3):\n    return 1.0",
        "def f():\n    return 1.0",
        "def f(values, values):\n    return 1.0",
        "min(values)\nmax(values)",
        "x = 1",
        "def f(values):\n    for i, j in values:\n        pass\n    return 0.0",
        "def f(values):\n    for i in range(1, 2, 3, 4):\n        pass\n    return 0.0",
        "def f(values):\n    x = range(3)\n    return 0.0",
        "def f(values):\n    values.sort()\n    return 0.0\n",
        "def f(values):\n    return math.tau",
        "def f(values):\n    return np.pi()",
        "def f(values):\n    return (1, 2)",
        "def f(values):\n    return -values",
        "def f(values):\n    a, b = 1\n    return 0.0",
        "@transform\ndef f(o, i):\n    o[0] = 1.0",
    ]
    for text in programs {
        print("-----\n\(text)")
        let (program, errors) = compile(text)
        if let program {
            for function in program.functions {
                print("  \(function.name) \(function.locals.map { "\($0.name):\($0.type.rawValue)\($0.isWritable ? "!" : "")" }) -> \(function.returnType?.rawValue ?? "-")")
                print(dump(function.body, indent: "    "))
            }
        } else {
            print(errors)
        }
    }
}
