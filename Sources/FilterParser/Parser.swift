import FilterLang

/// The result of parsing: the module (statements that did not parse are left out) and every diagnostic.
public struct ParseResult: Sendable {
    /// The parsed module.
    public var module: SourceModule
    /// Syntax errors, in source order.
    public var diagnostics: [Diagnostic]

    /// Creates a parse result.
    public init(module: SourceModule, diagnostics: [Diagnostic]) {
        self.module = module
        self.diagnostics = diagnostics
    }
}

/// Thrown inside the parser after a syntax error has been recorded, to unwind to the
/// enclosing statement (panic-mode recovery).
struct SyntaxError: Error {}

/// Filter text to AST: a recursive-descent parser over the lexer's tokens.
///
/// Each parse function carries its grammar rule (from `grammar/filter.ebnf`) as a doc line.
public struct Parser {
    /// Parses a whole source file, recovering at statement boundaries.
    public static func parse(_ file: SourceFile) -> ParseResult {
        let (tokens, lexerDiagnostics, forcedLineEnds) = Lexer.scan(file)
        var parser = Parser(tokens: tokens)
        let module = parser.parseFile()
        var diagnostics = lexerDiagnostics
        // A lexical error already explains its line, and an unclosed bracket the end of its statement;
        // parse errors there follow from them.
        let badLines = Set(lexerDiagnostics.map { file.lineIndex(of: $0.range.start) })
        // Nesting too deep is a mistake of its own (10,000 `(` are also unclosed), so it always stays.
        for diagnostic in parser.diagnostics
        where parser.nestingDiagnostic == diagnostic
            || (!badLines.contains(file.lineIndex(of: diagnostic.range.start)) && !forcedLineEnds.contains(diagnostic.range.start)) {
            diagnostics.append(diagnostic)
        }
        return ParseResult(module: module, diagnostics: stableSorted(diagnostics))
    }

    /// The deepest nesting of expressions or blocks accepted.
    public static let maximumNestingDepth = 100

    private let tokens: [Token]
    private var index = 0
    private var depth = 0
    private var diagnostics: [Diagnostic] = []
    /// The one "nesting too deep" error of the file, once reported.
    private var nestingDiagnostic: Diagnostic?
    /// How many `parseExpression` calls are active (0: the next one is a statement's outermost).
    private var expressionNesting = 0

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    // MARK: Vocabulary

    private var current: Token { tokens[index] }
    private var previous: Token { tokens[max(0, index - 1)] }

    /// Whether the current token is the keyword or punctuation `symbol`.
    private func at(_ symbol: String) -> Bool { current.isSymbol(symbol) }

    /// Whether the current token is of `kind`.
    private func at(_ kind: TokenKind) -> Bool { current.kind == kind }

    /// Consumes the current token if it is `symbol`.
    private mutating func eat(_ symbol: String) -> Bool {
        guard at(symbol) else { return false }
        advance()
        return true
    }

    private mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    /// Consumes `symbol` or reports "expected `symbol` after `context`".
    @discardableResult
    private mutating func expect(_ symbol: String, after context: String) throws -> Token {
        guard at(symbol) else { throw fail("expected '\(symbol)' after \(context)\(foundDescription)") }
        let token = current
        advance()
        return token
    }

    /// Consumes a NAME or reports what was expected.
    private mutating func expectName(_ what: String) throws -> Token {
        guard at(.name) else { throw fail("expected \(what)\(foundDescription)") }
        let token = current
        advance()
        return token
    }

    private var foundDescription: String {
        switch current.kind {
        case .newline: return ", found end of line"
        case .endOfFile: return ", found end of file"
        case .indent: return ", found an indented line"
        case .dedent: return ", found end of block"
        case .string: return ", found a string"
        default: return ", found '\(current.text)'"
        }
    }

    /// Records an error at the current token and returns the error to throw.
    private mutating func fail(_ message: String) -> SyntaxError {
        fail(message, at: current.range)
    }

    /// Records an error at `range` and returns the error to throw.
    private mutating func fail(_ message: String, at range: SourceRange) -> SyntaxError {
        diagnostics.append(.error(message, at: range))
        return SyntaxError()
    }

    /// Enters one level of nesting; reports and throws beyond the limit.
    private mutating func enterNesting() throws {
        depth += 1
        if depth > Parser.maximumNestingDepth {
            throw nestingTooDeep()
        }
    }

    /// Reports (once per file: one mistake, one error) that nesting is too deep.
    private mutating func nestingTooDeep(_ detail: String = "") -> SyntaxError {
        if nestingDiagnostic == nil {
            let diagnostic = Diagnostic.error("nesting deeper than \(Parser.maximumNestingDepth) levels is not supported\(detail)", at: current.range)
            nestingDiagnostic = diagnostic
            diagnostics.append(diagnostic)
        }
        return SyntaxError()
    }

    private mutating func leaveNesting() { depth -= 1 }

    /// Panic mode: skip to the end of the current logical line, then skip (but still parse, to
    /// report its own errors) an indented block that belonged to the broken line.
    private mutating func synchronize() {
        while !at(.newline) && !at(.endOfFile) {
            if at(.indent) || at(.dedent) { break }
            advance()
        }
        if at(.newline) { advance() }
        if at(.indent) {
            _ = parseIndentedBlock()
        }
    }

    // MARK: File and top level

    /// file: { NEWLINE | top_level_item } ENDMARKER
    private mutating func parseFile() -> SourceModule {
        var items: [TopLevelItem] = []
        while !at(.endOfFile) {
            if at(.newline) || at(.dedent) {
                advance()
                continue
            }
            if at(.indent) {
                // The indented lines are parsed for their own errors, then dropped with the mistake.
                diagnostics.append(.error("unexpected indent", at: current.range))
                _ = parseIndentedBlock()
                continue
            }
            let start = index
            do {
                items.append(contentsOf: try parseTopLevelItem())
            } catch {
                depth = 0
                expressionNesting = 0
                if index == start { advance() }
                synchronize()
            }
        }
        return SourceModule(items: items)
    }

    /// top_level_item: import_statement | function_definition | simple_statements
    private mutating func parseTopLevelItem() throws -> [TopLevelItem] {
        if at("import") || at("from") {
            return try parseImportStatement().map { .importStatement($0) }
        }
        if at("@") || at("def") {
            return [.function(try parseFunctionDefinition())]
        }
        if let keyword = unsupportedStatementMessage() {
            throw fail(keyword)
        }
        if at("if") || at("while") || at("for") {
            throw fail("'\(current.text)' statements must be inside a def")
        }
        let statements = try parseSimpleStatements(keepDocstrings: true)
        var items: [TopLevelItem] = []
        for statement in statements {
            if case .expression(let expression) = statement.kind {
                items.append(.expression(expression))
            } else if case .assign = statement.kind {
                items.append(.constant(statement))
            } else {
                diagnostics.append(.error("statements outside a def are not supported; write a single expression or a def", at: statement.range))
            }
        }
        return items
    }

    /// import_statement: ( "import" dotted_name [ "as" NAME ] { "," dotted_name [ "as" NAME ] } | "from" dotted_name "import" ( import_names | "(" import_names ")" ) ) NEWLINE
    ///
    /// `import a, b` gives one `ImportStatement` per module.
    private mutating func parseImportStatement() throws -> [ImportStatement] {
        let start = current.range.start
        if eat("import") {
            var statements: [ImportStatement] = []
            repeat {
                let moduleStart = statements.isEmpty ? start : current.range.start
                let (module, _) = try parseDottedName("a module name after 'import'")
                var alias: String?
                if eat("as") { alias = try expectName("a name after 'as'").text }
                statements.append(ImportStatement(module: module, alias: alias, range: SourceRange(moduleStart, previous.range.end)))
            } while eat(",")
            try expectEndOfLine(after: "import")
            return statements
        }
        try expect("from", after: "start of import")
        let (module, _) = try parseDottedName("a module name after 'from'")
        try expect("import", after: "module name in 'from' import")
        if at("*") { throw fail("'import *' is not supported; name the imported functions") }
        let parenthesized = eat("(")
        let names = try parseImportNames()
        if parenthesized { try expect(")", after: "imported names") }
        let end = previous.range.end
        try expectEndOfLine(after: "import")
        return [ImportStatement(module: module, names: names, range: SourceRange(start, end))]
    }

    /// import_names: NAME [ "as" NAME ] { "," NAME [ "as" NAME ] } [ "," ]
    private mutating func parseImportNames() throws -> [ImportedName] {
        var names: [ImportedName] = []
        repeat {
            if !names.isEmpty && !at(.name) { break }
            let name = try expectName("a name to import")
            var alias: String?
            if eat("as") { alias = try expectName("a name after 'as'").text }
            names.append(ImportedName(name: name.text, alias: alias, range: SourceRange(name.range.start, previous.range.end)))
        } while eat(",")
        return names
    }

    /// dotted_name: NAME { "." NAME }
    private mutating func parseDottedName(_ what: String) throws -> (String, SourceRange) {
        let first = try expectName(what)
        var name = first.text
        while eat(".") {
            name += "." + (try expectName("a name after '.'").text)
        }
        return (name, SourceRange(first.range.start, previous.range.end))
    }

    /// function_definition: { decorator } "def" NAME "(" [ parameters ] ")" [ "->" expression ] ":" block
    private mutating func parseFunctionDefinition() throws -> FunctionDef {
        let start = current.range.start
        var decorators: [Decorator] = []
        while at("@") {
            decorators.append(try parseDecorator())
            while at(.newline) { advance() }
        }
        if at("async") { throw fail("async functions are not supported in filter programs") }
        try expect("def", after: decorators.isEmpty ? "start of function" : "decorator")
        let name = try expectName("a function name after 'def'")
        try expect("(", after: "function name")
        let parameters = at(")") ? [] : try parseParameters()
        try expect(")", after: "parameters")
        if eat("->") {
            _ = try parseExpression()
        }
        try expect(":", after: "function signature")
        let body = try parseBlock(after: "'def'", keepDocstrings: false)
        return FunctionDef(name: name.text, nameRange: name.range, decorators: decorators, parameters: parameters,
                           body: body, range: SourceRange(start, previous.range.end))
    }

    /// decorator: "@" dotted_name [ "(" [ arguments ] ")" ] NEWLINE
    private mutating func parseDecorator() throws -> Decorator {
        try expect("@", after: "decorator start")
        let (name, range) = try parseDottedName("a decorator name after '@'")
        var arguments: [Expr] = []
        var keywords: [KeywordArgument] = []
        if eat("(") {
            // Only Numba's `@cfunc(signature, ...)` takes arguments; Sema refuses them elsewhere.
            if !at(")") { (arguments, keywords) = try parseArguments() }
            try expect(")", after: "decorator arguments")
        }
        try expectEndOfLine(after: "decorator")
        return Decorator(name: name, arguments: arguments, keywords: keywords, range: range)
    }

    /// parameters: parameter { "," parameter } [ "," ]
    private mutating func parseParameters() throws -> [Parameter] {
        var parameters: [Parameter] = []
        repeat {
            if at(")") { break }
            let parameter = try parseParameter()
            if parameter.defaultValue == nil, parameters.last?.defaultValue != nil {
                // Reported without unwinding: the def is still well formed enough to check.
                diagnostics.append(.error("a parameter without a default cannot follow one with a default", at: parameter.range))
            }
            parameters.append(parameter)
        } while eat(",")
        return parameters
    }

    /// parameter: NAME [ ":" expression ] [ "=" expression ]
    private mutating func parseParameter() throws -> Parameter {
        if at("*") || at("**") { throw fail("star parameters (*args, **kwargs) are not supported") }
        if at("/") { throw fail("positional-only parameter markers are not supported") }
        let name = try expectName("a parameter name")
        if eat(":") { _ = try parseExpression() }  // An annotation: accepted and ignored, as Numba does.
        var defaultValue: Expr?
        if eat("=") { defaultValue = try parseExpression() }
        return Parameter(name: name.text, defaultValue: defaultValue, range: SourceRange(name.range.start, previous.range.end))
    }

    // MARK: Statements

    /// block: simple_statements | NEWLINE INDENT statement { statement } DEDENT
    private mutating func parseBlock(after context: String, keepDocstrings: Bool) throws -> [Stmt] {
        if !at(.newline) {
            return try parseSimpleStatements(keepDocstrings: keepDocstrings)
        }
        advance()
        guard at(.indent) else { throw fail("expected an indented block after \(context)") }
        return parseIndentedBlock(keepDocstrings: keepDocstrings)
    }

    /// Parses INDENT statement* DEDENT, recovering at each statement.
    private mutating func parseIndentedBlock(keepDocstrings: Bool = false) -> [Stmt] {
        advance()  // INDENT
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maximumNestingDepth {
            _ = nestingTooDeep()
            skipBlock()
            return []
        }
        var body: [Stmt] = []
        while !at(.dedent) && !at(.endOfFile) {
            if at(.newline) {
                advance()
                continue
            }
            if at(.indent) {
                diagnostics.append(.error("unexpected indent", at: current.range))
                _ = parseIndentedBlock()
                continue
            }
            let start = index
            let savedDepth = depth
            do {
                body.append(contentsOf: try parseStatement(keepDocstrings: keepDocstrings))
            } catch {
                depth = savedDepth
                expressionNesting = 0
                let first = tokens[start]
                let wasCompound = ["try", "if", "elif", "else", "for", "while"].contains { first.isSymbol($0) }
                if index == start { advance() }
                synchronize()
                // The further clauses of a rejected compound statement belong to the same mistake.
                while wasCompound && (at("except") || at("finally") || at("else") || at("elif")) {
                    let errorCount = diagnostics.count
                    advance()
                    synchronize()
                    diagnostics.removeSubrange(errorCount...)
                }
            }
        }
        if at(.dedent) { advance() }
        return body
    }

    /// Skips tokens up to and including the DEDENT that closes the current block.
    private mutating func skipBlock() {
        var level = 1
        while !at(.endOfFile) && level > 0 {
            if at(.indent) { level += 1 }
            if at(.dedent) { level -= 1 }
            advance()
        }
    }

    /// The message for a Python statement outside the language, if the current token starts one.
    private func unsupportedStatementMessage() -> String? {
        guard current.kind == .keyword else { return nil }
        switch current.text {
        case "class": return "classes are not supported in filter programs"
        case "try", "except", "finally": return "try/except is not supported in filter programs"
        case "with": return "'with' statements are not supported in filter programs"
        case "global", "nonlocal": return "'\(current.text)' declarations are not supported in filter programs"
        case "assert": return "assert statements are not supported in filter programs"
        case "del": return "del statements are not supported in filter programs"
        case "raise": return "raise statements are not supported in filter programs"
        case "yield": return "yield (generators) is not supported in filter programs"
        case "async", "await": return "async code is not supported in filter programs"
        case "lambda": return "lambda expressions are not supported in filter programs"
        default: return nil
        }
    }

    /// statement: if_statement | while_statement | for_statement | simple_statements
    private mutating func parseStatement(keepDocstrings: Bool) throws -> [Stmt] {
        if at("if") { return [try parseIfStatement()] }
        if at("while") { return [try parseWhileStatement()] }
        if at("for") { return [try parseForStatement()] }
        if at("def") || at("@") { throw fail("nested functions (closures) are not supported; define helpers at the top level") }
        if at("import") || at("from") { throw fail("imports must be at the top of the file, not inside a def") }
        if at("elif") || at("else") { throw fail("'\(current.text)' without a matching 'if'") }
        if let message = unsupportedStatementMessage() { throw fail(message) }
        return try parseSimpleStatements(keepDocstrings: keepDocstrings)
    }

    /// if_statement: "if" expression ":" block { "elif" expression ":" block } [ "else" ":" block ]
    private mutating func parseIfStatement() throws -> Stmt {
        let start = current.range.start
        advance()
        var branches: [ConditionalBlock] = []
        let condition = try parseExpression()
        if at("=") { throw fail("expected ':' after 'if' condition, found '='; use '==' to compare") }
        try expect(":", after: "'if' condition")
        branches.append(ConditionalBlock(condition: condition, body: try parseBlock(after: "'if'", keepDocstrings: false)))
        var orElse: [Stmt]?
        while at("elif") {
            // Each `elif` becomes an `if` nested in the previous `else`, so it counts as a level.
            if depth + branches.count >= Parser.maximumNestingDepth {
                throw nestingTooDeep(" (too many elif branches)")
            }
            advance()
            let condition = try parseExpression()
            if at("=") { throw fail("expected ':' after 'elif' condition, found '='; use '==' to compare") }
            try expect(":", after: "'elif' condition")
            branches.append(ConditionalBlock(condition: condition, body: try parseBlock(after: "'elif'", keepDocstrings: false)))
        }
        if eat("else") {
            try expect(":", after: "'else'")
            orElse = try parseBlock(after: "'else'", keepDocstrings: false)
        }
        return Stmt(.ifStatement(branches: branches, orElse: orElse), SourceRange(start, previous.range.end))
    }

    /// while_statement: "while" expression ":" block
    private mutating func parseWhileStatement() throws -> Stmt {
        let start = current.range.start
        advance()
        let condition = try parseExpression()
        if at("=") { throw fail("expected ':' after 'while' condition, found '='; use '==' to compare") }
        try expect(":", after: "'while' condition")
        let body = try parseBlock(after: "'while'", keepDocstrings: false)
        let end = previous.range.end
        if at("else") { throw fail("'else' after a while loop is not supported in filter programs") }
        return Stmt(.whileLoop(condition: condition, body: body), SourceRange(start, end))
    }

    /// for_statement: "for" target_list "in" expression ":" block
    private mutating func parseForStatement() throws -> Stmt {
        let start = current.range.start
        advance()
        let target = try parseTargetList()
        try expect("in", after: "'for' target")
        let iterable = try parseExpression()
        try expect(":", after: "'for' iterable")
        let body = try parseBlock(after: "'for'", keepDocstrings: false)
        let end = previous.range.end
        if at("else") { throw fail("'else' after a for loop is not supported in filter programs") }
        return Stmt(.forLoop(target: target, iterable: iterable, body: body), SourceRange(start, end))
    }

    /// target_list: primary { "," primary } [ "," ]
    private mutating func parseTargetList() throws -> Expr {
        let first = try parsePrimary()
        guard at(",") else { return first }
        var elements = [first]
        while eat(",") {
            if at("in") { break }
            elements.append(try parsePrimary())
        }
        return Expr(.tuple(elements), SourceRange(first.range.start, previous.range.end))
    }

    /// simple_statements: simple_statement { ";" simple_statement } [ ";" ] NEWLINE
    private mutating func parseSimpleStatements(keepDocstrings: Bool) throws -> [Stmt] {
        var statements: [Stmt] = []
        repeat {
            if at(.newline) || at(.endOfFile) { break }
            let statement = try parseSimpleStatement()
            // A string standing alone is a docstring: dropped inside functions.
            if !keepDocstrings, case .expression(let expression) = statement.kind, case .string = expression.kind {
                continue
            }
            statements.append(statement)
        } while eat(";")
        try expectEndOfLine(after: "statement")
        return statements
    }

    private mutating func expectEndOfLine(after context: String) throws {
        if at(.newline) {
            advance()
            return
        }
        if at(.endOfFile) || at(.dedent) { return }
        if at(":") && context == "statement" { throw fail("unexpected ':'; variable annotations and slices outside [ ] are not supported") }
        if at("=") { throw fail("chained assignment is not supported; assign one target per statement") }
        if at(":=") { throw fail("assignment expressions (:=) are not supported in filter programs") }
        throw fail("expected end of line after \(context)\(foundDescription)")
    }

    /// simple_statement: "pass" | "break" | "continue" | "return" [ expression_list ] | expression_statement
    private mutating func parseSimpleStatement() throws -> Stmt {
        let token = current
        if eat("pass") { return Stmt(.pass, token.range) }
        if eat("break") { return Stmt(.breakStatement, token.range) }
        if eat("continue") { return Stmt(.continueStatement, token.range) }
        if eat("return") {
            if at(.newline) || at(.endOfFile) || at(";") || at(.dedent) {
                return Stmt(.returnStatement(nil), token.range)
            }
            // `return None` (array functions) is the one place None is accepted: the name `None`, which Sema
            // takes as a bare return there and refuses elsewhere.
            if current.kind == .keyword, current.text == "None" {
                let none = current
                let next = tokens[min(index + 1, tokens.count - 1)]
                if next.kind == .newline || next.kind == .endOfFile || next.kind == .dedent || next.isSymbol(";") {
                    advance()
                    return Stmt(.returnStatement(Expr(.name("None"), none.range)), SourceRange(token.range.start, none.range.end))
                }
            }
            let value = try parseExpressionList()
            return Stmt(.returnStatement(value), SourceRange(token.range.start, value.range.end))
        }
        if let message = unsupportedStatementMessage() { throw fail(message) }
        return try parseExpressionStatement()
    }

    private static let augmentedOperators: [String: BinaryOperator] = [
        "+=": .add, "-=": .subtract, "*=": .multiply, "/=": .trueDivide, "//=": .floorDivide, "%=": .modulo, "**=": .power,
    ]

    /// expression_statement: expression_list [ "=" expression_list | augmented_operator expression ]
    private mutating func parseExpressionStatement() throws -> Stmt {
        let target = try parseExpressionList()
        if eat("=") {
            let value = try parseExpressionList()
            return Stmt(.assign(target: target, value: value), SourceRange(target.range.start, value.range.end))
        }
        if let op = try parseAugmentedOperator() {
            let value = try parseExpression()
            return Stmt(.augmentedAssign(target: target, op: op, value: value), SourceRange(target.range.start, value.range.end))
        }
        return Stmt(.expression(target), target.range)
    }

    /// augmented_operator: "+=" | "-=" | "*=" | "/=" | "//=" | "%=" | "**="
    private mutating func parseAugmentedOperator() throws -> BinaryOperator? {
        guard current.kind == .punctuation else { return nil }
        if let op = Parser.augmentedOperators[current.text] {
            advance()
            return op
        }
        if ["&=", "|=", "^="].contains(current.text) {
            throw fail("augmented assignment '\(current.text)' is not supported; write x = x \(current.text.dropLast()) y")
        }
        if ["<<=", ">>="].contains(current.text) {
            throw fail("bitwise operator '\(current.text)' is not supported in filter programs")
        }
        if current.text == "@=" { throw fail("matrix multiplication '@=' is not supported in filter programs") }
        return nil
    }

    // MARK: Expressions

    /// expression_list: expression { "," expression } [ "," ]
    private mutating func parseExpressionList() throws -> Expr {
        let first = try parseExpression()
        guard at(",") else { return first }
        var elements = [first]
        while eat(",") {
            if !startsExpression() { break }
            elements.append(try parseExpression())
        }
        return Expr(.tuple(elements), SourceRange(first.range.start, previous.range.end))
    }

    /// Whether the current token can begin an expression.
    private func startsExpression() -> Bool {
        switch current.kind {
        case .name, .integer, .float, .string: return true
        case .keyword: return ["not", "True", "False", "None", "lambda", "await", "yield"].contains(current.text)
        case .punctuation: return ["(", "[", "{", "-", "+", "~", "*", "..."].contains(current.text)
        default: return false
        }
    }

    /// expression: disjunction [ "if" disjunction "else" expression ]
    private mutating func parseExpression() throws -> Expr {
        // The outermost expression of a statement also has its tree depth checked: chains of
        // operators and postfix operations nest the tree without nesting the parser.
        let isOutermost = expressionNesting == 0
        let budget = Parser.maximumNestingDepth - depth
        expressionNesting += 1
        defer { expressionNesting -= 1 }
        let result = try parseConditionalExpression()
        if isOutermost && Parser.isDeeper(result, than: budget) {
            throw nestingTooDeep(" (split this expression)")
        }
        return result
    }

    /// Whether the tree of `expression` is more than `budget` levels deep (recursing at most `budget` levels).
    static func isDeeper(_ expression: Expr, than budget: Int) -> Bool {
        if budget <= 0 { return true }
        let children: [Expr]
        switch expression.kind {
        case .integer, .float, .boolean, .string, .name: return false
        case .attribute(let base, _): children = [base]
        case .call(let callee, let arguments, let keywords): children = [callee] + arguments + keywords.map(\.value)
        case .index(let base, let index): children = [base, index]
        case .unary(_, let operand): children = [operand]
        case .binary(_, let left, let right), .logical(_, let left, let right): children = [left, right]
        case .compare(let first, let rest): children = [first] + rest.map(\.right)
        case .conditional(let then, let condition, let orElse): children = [then, condition, orElse]
        case .tuple(let elements), .list(let elements): children = elements
        case .slice(let lower, let upper, let step): children = [lower, upper, step].compactMap { $0 }
        }
        return children.contains { isDeeper($0, than: budget - 1) }
    }

    /// The conditional-expression part of `expression`, one nesting level deeper.
    private mutating func parseConditionalExpression() throws -> Expr {
        try enterNesting()
        defer { leaveNesting() }
        if at("lambda") { throw fail("lambda expressions are not supported in filter programs") }
        if at("yield") { throw fail("yield (generators) is not supported in filter programs") }
        let then = try parseDisjunction()
        if at(":=") { throw fail("assignment expressions (:=) are not supported in filter programs") }
        guard eat("if") else { return then }
        let condition = try parseDisjunction()
        try expect("else", after: "condition of a conditional expression")
        let orElse = try parseExpression()
        return Expr(.conditional(then: then, condition: condition, orElse: orElse), SourceRange(then.range.start, orElse.range.end))
    }

    /// disjunction: conjunction { "or" conjunction }
    private mutating func parseDisjunction() throws -> Expr {
        var left = try parseConjunction()
        var chain = 0
        while eat("or") {
            try checkChain(&chain)
            let right = try parseConjunction()
            left = Expr(.logical(.or, left, right), SourceRange(left.range.start, right.range.end))
        }
        return left
    }

    /// conjunction: inversion { "and" inversion }
    private mutating func parseConjunction() throws -> Expr {
        var left = try parseInversion()
        var chain = 0
        while eat("and") {
            try checkChain(&chain)
            let right = try parseInversion()
            left = Expr(.logical(.and, left, right), SourceRange(left.range.start, right.range.end))
        }
        return left
    }

    /// Counts a left-nested operand chain against the nesting limit (the tree grows one level per operator).
    private mutating func checkChain(_ chain: inout Int) throws {
        chain += 1
        if depth + chain > Parser.maximumNestingDepth {
            throw nestingTooDeep(" (split this expression)")
        }
    }

    /// inversion: "not" inversion | comparison
    private mutating func parseInversion() throws -> Expr {
        let token = current
        guard eat("not") else { return try parseComparison() }
        try enterNesting()
        defer { leaveNesting() }
        let operand = try parseInversion()
        return Expr(.unary(.not, operand), SourceRange(token.range.start, operand.range.end))
    }

    /// comparison: bitwise_or { comparison_operator bitwise_or }
    private mutating func parseComparison() throws -> Expr {
        let first = try parseSum()
        var rest: [Comparison] = []
        while true {
            if at("in") || (at("not") && tokens[min(index + 1, tokens.count - 1)].isSymbol("in")) {
                throw fail("the 'in' operator is only supported in 'for' loops")
            }
            if at("is") { throw fail("the 'is' operator is not supported; use == or !=") }
            guard let op = parseComparisonOperator() else { break }
            rest.append(Comparison(op: op, right: try parseSum()))
        }
        guard let last = rest.last else { return first }
        return Expr(.compare(first: first, rest: rest), SourceRange(first.range.start, last.right.range.end))
    }

    /// comparison_operator: "<" | "<=" | ">" | ">=" | "==" | "!="
    private mutating func parseComparisonOperator() -> CompareOperator? {
        guard current.kind == .punctuation, let op = CompareOperator(rawValue: current.text) else { return nil }
        advance()
        return op
    }

    /// Binary operators by precedence level; shifts are recognised only to name them in errors.
    private static let binaryPrecedence: [String: Int] = [
        "|": 1, "^": 2, "&": 3, "<<": 4, ">>": 4, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "@": 6,
    ]

    /// bitwise_or: bitwise_xor { "|" bitwise_xor }
    /// bitwise_xor: bitwise_and { "^" bitwise_and }
    /// bitwise_and: sum { "&" sum }
    /// sum: term { ( "+" | "-" ) term }
    /// term: factor { ( "*" | "/" | "//" | "%" ) factor }
    ///
    /// Every level (and the unsupported shifts) by precedence climbing over `binaryPrecedence`.
    private mutating func parseSum(minimumPrecedence: Int = 1) throws -> Expr {
        var left = try parseFactor()
        var chain = 0
        while current.kind == .punctuation, let precedence = Parser.binaryPrecedence[current.text], precedence >= minimumPrecedence {
            let token = current
            if precedence == 4 { throw fail("bitwise operator '\(token.text)' is not supported in filter programs") }
            if token.text == "@" { throw fail("matrix multiplication '@' is not supported in filter programs") }
            advance()
            try checkChain(&chain)
            let right = try parseSum(minimumPrecedence: precedence + 1)
            // Safe: every supported operator text is a BinaryOperator raw value.
            let op = BinaryOperator(rawValue: token.text) ?? .add
            left = Expr(.binary(op, left, right), SourceRange(left.range.start, right.range.end))
        }
        return left
    }

    /// factor: ( "-" | "+" | "~" ) factor | power
    private mutating func parseFactor() throws -> Expr {
        let token = current
        guard at("-") || at("+") || at("~") else { return try parsePower() }
        advance()
        try enterNesting()
        defer { leaveNesting() }
        let operand = try parseFactor()
        let op: UnaryOperator = token.text == "-" ? .negate : token.text == "+" ? .plus : .invert
        return Expr(.unary(op, operand), SourceRange(token.range.start, operand.range.end))
    }

    /// power: primary [ "**" factor ]
    private mutating func parsePower() throws -> Expr {
        let base = try parsePrimary()
        guard eat("**") else { return base }
        try enterNesting()
        defer { leaveNesting() }
        let exponent = try parseFactor()
        return Expr(.binary(.power, base, exponent), SourceRange(base.range.start, exponent.range.end))
    }

    /// primary: atom { "." NAME | "(" [ arguments ] ")" | "[" subscript "]" }
    private mutating func parsePrimary() throws -> Expr {
        var expression = try parseAtom()
        var chain = 0
        while true {
            if eat(".") {
                try checkChain(&chain)
                let name = try expectName("an attribute name after '.'")
                expression = Expr(.attribute(base: expression, name: name.text), SourceRange(expression.range.start, name.range.end))
            } else if eat("(") {
                try checkChain(&chain)
                let (arguments, keywords) = at(")") ? ([], []) : try parseArguments()
                let close = try expect(")", after: "call arguments")
                expression = Expr(.call(callee: expression, arguments: arguments, keywords: keywords),
                                  SourceRange(expression.range.start, close.range.end))
            } else if eat("[") {
                try checkChain(&chain)
                let subscriptExpression = try parseSubscript()
                let close = try expect("]", after: "index")
                expression = Expr(.index(base: expression, index: subscriptExpression), SourceRange(expression.range.start, close.range.end))
            } else {
                return expression
            }
        }
    }

    /// arguments: argument { "," argument } [ "," ]
    private mutating func parseArguments() throws -> ([Expr], [KeywordArgument]) {
        var arguments: [Expr] = []
        var keywords: [KeywordArgument] = []
        repeat {
            if at(")") { break }
            let argument = try parseArgument()
            switch argument {
            case .positional(let expression):
                if !keywords.isEmpty { throw fail("positional argument after a keyword argument", at: expression.range) }
                arguments.append(expression)
            case .keyword(let keyword):
                keywords.append(keyword)
            }
        } while eat(",")
        return (arguments, keywords)
    }

    private enum Argument {
        case positional(Expr)
        case keyword(KeywordArgument)
    }

    /// argument: NAME "=" expression | expression
    private mutating func parseArgument() throws -> Argument {
        if at("*") || at("**") { throw fail("star arguments (*args, **kwargs) are not supported in filter programs") }
        if at(.name), tokens[min(index + 1, tokens.count - 1)].isSymbol("=") {
            let name = current
            advance()
            advance()
            let value = try parseExpression()
            return .keyword(KeywordArgument(name: name.text, value: value, range: SourceRange(name.range.start, value.range.end)))
        }
        let expression = try parseExpression()
        if at("for") { throw fail("generator expressions are not supported in filter programs; write a loop") }
        return .positional(expression)
    }

    /// subscript: expression { "," expression } [ "," ] | [ expression ] ":" [ expression ] [ ":" [ expression ] ]
    private mutating func parseSubscript() throws -> Expr {
        let start = current.range.start
        var lower: Expr?
        if !at(":") {
            lower = try parseExpression()
            if at(","), let first = lower {
                // `a[i, j]`: a tuple index, as Python parses it (array functions' n-dimensional arrays).
                var elements = [first]
                while eat(",") {
                    if at("]") { break }
                    if at(":") { throw fail("slices in a multi-dimensional index are not supported; index single elements") }
                    elements.append(try parseExpression())
                    if at(":") { throw fail("slices in a multi-dimensional index are not supported; index single elements") }
                }
                return Expr(.tuple(elements), SourceRange(start, previous.range.end))
            }
            if !at(":"), let index = lower {
                return index
            }
        }
        advance()  // ':'
        var upper: Expr?
        var step: Expr?
        if !at(":") && !at("]") { upper = try parseExpression() }
        if eat(":") {
            if !at("]") { step = try parseExpression() }
        }
        return Expr(.slice(lower: lower, upper: upper, step: step), SourceRange(start, previous.range.end))
    }

    /// atom: NAME | INTEGER | FLOAT | STRING { STRING } | "True" | "False" | "(" expression_list ")" | "[" [ expression_list ] "]"
    private mutating func parseAtom() throws -> Expr {
        let token = current
        switch token.kind {
        case .name:
            advance()
            return Expr(.name(token.text), token.range)
        case .integer:
            advance()
            return Expr(.integer(token.integerValue), token.range)
        case .float:
            advance()
            return Expr(.float(token.floatValue), token.range)
        case .string:
            var value = ""
            var end = token.range.end
            while at(.string) {
                if current.isFormatString { throw fail("f-strings are not supported in filter programs") }
                value += current.stringValue
                end = current.range.end
                advance()
            }
            return Expr(.string(value), SourceRange(token.range.start, end))
        case .keyword:
            switch token.text {
            case "True", "False":
                advance()
                return Expr(.boolean(token.text == "True"), token.range)
            case "None": throw fail("None is not supported in filter programs")
            case "lambda": throw fail("lambda expressions are not supported in filter programs")
            case "yield": throw fail("yield (generators) is not supported in filter programs")
            case "await": throw fail("async code is not supported in filter programs")
            default: throw fail("\(expectedExpression)\(foundDescription)")
            }
        case .punctuation:
            switch token.text {
            case "(":
                advance()
                if at(")") { throw fail("empty tuples are not supported in filter programs") }
                let inner = try parseExpressionList()
                if at("for") { throw fail("generator expressions are not supported in filter programs; write a loop") }
                try expect(")", after: "expression in parentheses")
                return inner
            case "[":
                advance()
                var elements: [Expr] = []
                if !at("]") {
                    let inner = try parseExpressionList()
                    if at("for") { throw fail("list comprehensions are not supported in filter programs; write a loop") }
                    if case .tuple(let items) = inner.kind { elements = items } else { elements = [inner] }
                }
                let close = try expect("]", after: "list elements")
                return Expr(.list(elements), SourceRange(token.range.start, close.range.end))
            case "{": throw fail("dictionaries and sets are not supported in filter programs")
            case "...": throw fail("Ellipsis ('...') is not supported in filter programs")
            default: throw fail("\(expectedExpression)\(foundDescription)")
            }
        default:
            throw fail("\(expectedExpression)\(foundDescription)")
        }
    }

    /// "expected an expression after '+'" (or without "after" at the start of a line).
    private var expectedExpression: String {
        switch previous.kind {
        case .newline, .indent, .dedent, .endOfFile: return "expected an expression"
        default: return index == 0 ? "expected an expression" : "expected an expression after '\(previous.text)'"
        }
    }
}

/// Sorts diagnostics by their start offset, keeping the order of equal ones.
func stableSorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
    diagnostics.enumerated().sorted { ($0.element.range.start, $0.offset) < ($1.element.range.start, $1.offset) }.map(\.element)
}
