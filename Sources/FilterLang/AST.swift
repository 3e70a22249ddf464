// The parse tree of a filter source, as the parser builds it.
//
// Every node carries the byte range it was parsed from. Equality is
// *structural*: ranges are ignored, so `parse(print(ast)) == ast` is the
// AST round-trip property. Parentheses leave no node.
//
// The tree is untyped and unresolved; `FilterSema` turns it into the typed IR
// (`TypedProgram`) without mutating it.

/// A whole source: imports, functions, or a single expression, in source order.
public struct SourceModule: Equatable, Sendable {
    /// The top-level items in order.
    public var items: [TopLevelItem]

    /// Creates a module.
    public init(items: [TopLevelItem]) {
        self.items = items
    }
}

/// One top-level item of a source.
public enum TopLevelItem: Equatable, Sendable {
    /// `import numpy as np`, `import math`, `from math import sqrt, pi`.
    case importStatement(ImportStatement)
    /// A `def`, with its decorators.
    case function(FunctionDef)
    /// A bare expression: the one-line filter form (`min(values)`), or a docstring.
    case expression(Expr)
    /// A module-level assignment `NAME = constant expression` (`KX = np.array([...])`, `T = 0.5`):
    /// a constant the functions read (`Stmt.Kind.assign`; Sema checks the target and the value).
    case constant(Stmt)
}

/// An accepted import line.
public struct ImportStatement: Equatable, Sendable {
    /// `numpy` or `math` (the parser accepts any dotted name; Sema rejects the rest).
    public var module: String
    /// `np` in `import numpy as np`; nil for `import math` or a `from` import.
    public var alias: String?
    /// For `from M import a, b as c`: the names and their local aliases; nil for `import M`.
    public var names: [ImportedName]?
    /// Where it was written.
    public var range: SourceRange

    /// Creates an import line.
    public init(module: String, alias: String? = nil, names: [ImportedName]? = nil, range: SourceRange) {
        self.module = module
        self.alias = alias
        self.names = names
        self.range = range
    }

    public static func == (lhs: ImportStatement, rhs: ImportStatement) -> Bool {
        lhs.module == rhs.module && lhs.alias == rhs.alias && lhs.names == rhs.names
    }
}

/// `name` or `name as alias` in a `from` import.
public struct ImportedName: Equatable, Sendable {
    /// The imported name.
    public var name: String
    /// The local alias, if any.
    public var alias: String?
    /// Where it was written.
    public var range: SourceRange

    /// Creates an imported name.
    public init(name: String, alias: String? = nil, range: SourceRange) {
        self.name = name
        self.alias = alias
        self.range = range
    }

    public static func == (lhs: ImportedName, rhs: ImportedName) -> Bool {
        lhs.name == rhs.name && lhs.alias == rhs.alias
    }
}

/// A decorator line: `@filter`, `@llc.jit_filter_function`, `@filterjit.line_filter`.
public struct Decorator: Equatable, Sendable {
    /// The dotted name as written, e.g. `llc.jit_filter_function`.
    public var name: String
    /// Positional arguments in `@name(...)` (only Numba's `@cfunc(signature)` takes any; Sema refuses the rest).
    public var arguments: [Expr]
    /// Keyword arguments in `@name(...)`.
    public var keywords: [KeywordArgument]
    /// Where it was written (after the `@`).
    public var range: SourceRange

    /// Creates a decorator.
    public init(name: String, arguments: [Expr] = [], keywords: [KeywordArgument] = [], range: SourceRange) {
        self.name = name
        self.arguments = arguments
        self.keywords = keywords
        self.range = range
    }

    public static func == (lhs: Decorator, rhs: Decorator) -> Bool {
        lhs.name == rhs.name && lhs.arguments == rhs.arguments && lhs.keywords == rhs.keywords
    }
}

/// A parameter of a `def`, with its default for run-time parameters.
public struct Parameter: Equatable, Sendable {
    /// The name.
    public var name: String
    /// The default value expression, if written.
    public var defaultValue: Expr?
    /// Where it was written.
    public var range: SourceRange

    /// Creates a parameter.
    public init(name: String, defaultValue: Expr? = nil, range: SourceRange) {
        self.name = name
        self.defaultValue = defaultValue
        self.range = range
    }

    public static func == (lhs: Parameter, rhs: Parameter) -> Bool {
        lhs.name == rhs.name && lhs.defaultValue == rhs.defaultValue
    }
}

/// A `def` with its decorators, parameters and body.
public struct FunctionDef: Equatable, Sendable {
    /// The function's name.
    public var name: String
    /// Where the name was written.
    public var nameRange: SourceRange
    /// Decorators, in source order.
    public var decorators: [Decorator]
    /// Parameters, in order.
    public var parameters: [Parameter]
    /// The body (docstrings already dropped by the parser).
    public var body: [Stmt]
    /// From `def` (or the first decorator) to the end of the body.
    public var range: SourceRange

    /// Creates a function definition.
    public init(name: String, nameRange: SourceRange, decorators: [Decorator], parameters: [Parameter], body: [Stmt], range: SourceRange) {
        self.name = name
        self.nameRange = nameRange
        self.decorators = decorators
        self.parameters = parameters
        self.body = body
        self.range = range
    }

    public static func == (lhs: FunctionDef, rhs: FunctionDef) -> Bool {
        lhs.name == rhs.name && lhs.decorators == rhs.decorators && lhs.parameters == rhs.parameters && lhs.body == rhs.body
    }
}

/// A statement and its range.
public struct Stmt: Equatable, Sendable {
    /// What kind of statement.
    public var kind: StmtKind
    /// Where it was written.
    public var range: SourceRange

    /// Creates a statement.
    public init(_ kind: StmtKind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    public static func == (lhs: Stmt, rhs: Stmt) -> Bool { lhs.kind == rhs.kind }
}

/// One `if`/`elif` arm: its condition and body.
public struct ConditionalBlock: Equatable, Sendable {
    /// The condition.
    public var condition: Expr
    /// The statements run when it is true.
    public var body: [Stmt]

    /// Creates an arm.
    public init(condition: Expr, body: [Stmt]) {
        self.condition = condition
        self.body = body
    }
}

/// The statements of the language.
public indirect enum StmtKind: Equatable, Sendable {
    /// An expression evaluated for its effect (a call).
    case expression(Expr)
    /// `target = value`; the target is a name, an index `a[i]`, or a tuple of those.
    case assign(target: Expr, value: Expr)
    /// `target op= value` (`+= -= *= /= //= %= **=`).
    case augmentedAssign(target: Expr, op: BinaryOperator, value: Expr)
    /// `if c: ... elif d: ... else: ...`; `branches` holds the `if` and every `elif`.
    case ifStatement(branches: [ConditionalBlock], orElse: [Stmt]?)
    /// `while c: ...`.
    case whileLoop(condition: Expr, body: [Stmt])
    /// `for target in iterable: ...` (`iterable` is an array or a `range(...)` call).
    case forLoop(target: Expr, iterable: Expr, body: [Stmt])
    /// `break`.
    case breakStatement
    /// `continue`.
    case continueStatement
    /// `pass`.
    case pass
    /// `return` or `return value`.
    case returnStatement(Expr?)
}

/// An expression and its range.
public struct Expr: Equatable, Sendable {
    /// What kind of expression.
    public var kind: ExprKind
    /// Where it was written (without surrounding parentheses).
    public var range: SourceRange

    /// Creates an expression.
    public init(_ kind: ExprKind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    public static func == (lhs: Expr, rhs: Expr) -> Bool { lhs.kind == rhs.kind }
}

/// A keyword argument `name=value` in a call (only accepted where a built-in allows it).
public struct KeywordArgument: Equatable, Sendable {
    /// The keyword.
    public var name: String
    /// The value.
    public var value: Expr
    /// Where it was written.
    public var range: SourceRange

    /// Creates a keyword argument.
    public init(name: String, value: Expr, range: SourceRange) {
        self.name = name
        self.value = value
        self.range = range
    }

    public static func == (lhs: KeywordArgument, rhs: KeywordArgument) -> Bool {
        lhs.name == rhs.name && lhs.value == rhs.value
    }
}

/// One comparison in a chain: the operator and its right operand.
public struct Comparison: Equatable, Sendable {
    /// The operator.
    public var op: CompareOperator
    /// The right operand.
    public var right: Expr

    /// Creates a link of a comparison chain.
    public init(op: CompareOperator, right: Expr) {
        self.op = op
        self.right = right
    }
}

/// The expressions of the language (and a few Python forms kept only to name them in errors).
public indirect enum ExprKind: Equatable, Sendable {
    /// An integer literal (within the 64-bit range; larger ones are a parse error).
    case integer(Int64)
    /// A float literal.
    case float(Double)
    /// `True` or `False`.
    case boolean(Bool)
    /// A string literal: docstrings, and `float('inf')`; anywhere else Sema rejects it.
    case string(String)
    /// A name.
    case name(String)
    /// `base.name`: `np.inf`, `values.size`, `a.min` (as a callee).
    case attribute(base: Expr, name: String)
    /// `callee(args..., keywords...)`.
    case call(callee: Expr, arguments: [Expr], keywords: [KeywordArgument])
    /// `base[index]`.
    case index(base: Expr, index: Expr)
    /// `-x`, `+x`, `not x`.
    case unary(UnaryOperator, Expr)
    /// `a op b` for arithmetic operators.
    case binary(BinaryOperator, Expr, Expr)
    /// `a < b <= c ...`: the first operand and each further comparison.
    case compare(first: Expr, rest: [Comparison])
    /// `a and b`, `a or b` (left-associative, short-circuit).
    case logical(LogicalOperator, Expr, Expr)
    /// `then if condition else orElse`.
    case conditional(then: Expr, condition: Expr, orElse: Expr)
    /// `a, b` (assignment targets and values).
    case tuple([Expr])
    /// `[a, b]`: not in the language; parsed so the error can name it.
    case list([Expr])
    /// `a[lo:hi:step]`: slicing is not in the language; parsed so the error can name it.
    case slice(lower: Expr?, upper: Expr?, step: Expr?)
}

/// Unary operators.
public enum UnaryOperator: String, Hashable, Sendable {
    case negate = "-"
    case plus = "+"
    case not = "not"
    /// `~`: NumPy's logical not of a bool array (the only operand it takes here).
    case invert = "~"
}

/// Arithmetic binary operators (Python's meaning).
public enum BinaryOperator: String, Hashable, Sendable, CaseIterable {
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case trueDivide = "/"
    case floorDivide = "//"
    case modulo = "%"
    case power = "**"
    /// `&`, `|`, `^`: on bools and bool arrays only (NumPy's logical meaning there); ints are refused.
    case bitwiseAnd = "&"
    case bitwiseOr = "|"
    case bitwiseXor = "^"

    /// Whether this is one of the bitwise operators.
    public var isBitwise: Bool { self == .bitwiseAnd || self == .bitwiseOr || self == .bitwiseXor }
}

/// Comparison operators.
public enum CompareOperator: String, Hashable, Sendable, CaseIterable {
    case less = "<"
    case lessEqual = "<="
    case greater = ">"
    case greaterEqual = ">="
    case equal = "=="
    case notEqual = "!="
}

/// `and` / `or`.
public enum LogicalOperator: String, Hashable, Sendable {
    case and
    case or
}
