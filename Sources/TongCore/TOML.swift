/// A small, strict TOML subset parser for configuration files (topology, node homes); anything outside the subset is an error, never silently
/// ignored.
///
/// Supported: comments, `key = value` with bare or quoted keys, basic and literal strings, decimal integers,
/// booleans, single-line arrays, `[table]`, `[a.b]`, `[[array]]` and `[[array.sub]]` (which attaches to the last `array` element).
public enum TOML {
    /// Deepest allowed nesting of inline arrays or header key paths; bounds recursion on hostile input.
    public static let maxDepth = 32

    /// Parses `text` into the root table.
    public static func parse(_ text: String) throws(TOMLError) -> [String: TOMLValue] {
        let root = TOMLTable()
        var current = root
        var lineNo = 0
        // Splitting scalars (not Characters) so that "\r\n", a single grapheme, still ends a line.
        for raw in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            var scalars = Array(raw)
            if lineNo == 1, scalars.first == "\u{FEFF}" { scalars.removeFirst() }
            if scalars.last == "\r" { scalars.removeLast() }
            var cur = TOMLCursor(s: scalars, line: lineNo)
            try cur.rejectControls()
            cur.skipSpace()
            guard let c = cur.peek, c != "#" else { continue }
            if c == "[" {
                current = try cur.header(root: root)
            } else {
                try cur.keyValue(into: current)
            }
        }
        return root.value
    }
}

/// Mutable parse-time table; reference semantics let headers keep a handle to the table they open.
private final class TOMLTable {
    var entries: [String: TOMLEntry] = [:]
    var lines: [String: Int] = [:]
    /// Set once a `[header]` names this table, so a second identical header is rejected.
    var defined = false

    var value: [String: TOMLValue] {
        entries.mapValues { entry in
            switch entry {
            case .value(let v): v
            case .table(let t): .table(t.value)
            case .tables(let a): .array(a.items.map { .table($0.value) })
            }
        }
    }
}

private final class TOMLTableArray {
    var items: [TOMLTable] = []
}

private enum TOMLEntry {
    case value(TOMLValue)
    case table(TOMLTable)
    case tables(TOMLTableArray)

    var kindName: String {
        switch self {
        case .value(let v): "a \(v.kindName) value"
        case .table: "a table"
        case .tables: "an array of tables"
        }
    }
}

private struct TOMLCursor {
    let s: [Unicode.Scalar]
    let line: Int
    var i = 0

    init(s: [Unicode.Scalar], line: Int) {
        self.s = s
        self.line = line
    }

    var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }
    var atEnd: Bool { i >= s.count }

    func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    func rejectControls() throws(TOMLError) {
        for u in s where (u.value < 0x20 && u != "\t") || u.value == 0x7F {
            throw fail("control character U+\(hex(u.value, 4)) is not allowed")
        }
    }

    mutating func skipSpace() {
        while let c = peek, c == " " || c == "\t" { i += 1 }
    }

    /// Only whitespace or a comment may follow a complete statement.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipSpace()
        if let c = peek, c != "#" {
            throw fail("unexpected \(describe(c)) after \(what)")
        }
    }

    // MARK: Statements

    mutating func header(root: TOMLTable) throws(TOMLError) -> TOMLTable {
        i += 1
        let isArray = peek == "["
        if isArray { i += 1 }
        let path = try keyPath()
        let closing = isArray ? "]]" : "]"
        for expected in closing.unicodeScalars {
            guard peek == expected else {
                throw fail("expected '\(closing)' to close table header")
            }
            i += 1
        }
        let shown = isArray ? "[[\(path.joined(separator: "."))]]" : "[\(path.joined(separator: "."))]"
        try expectLineEnd(after: "table header \(shown)")

        var table = root
        for key in path.dropLast() {
            switch table.entries[key] {
            case nil:
                let t = TOMLTable()
                table.entries[key] = .table(t)
                table.lines[key] = line
                table = t
            case .table(let t):
                table = t
            case .tables(let a):
                // TOML semantics: a sub-path of an array of tables refers to its most recent element.
                guard let last = a.items.last else { throw fail("array of tables '\(key)' is empty") }
                table = last
            case .value(let v):
                throw fail("cannot open \(shown): '\(key)' is already a \(v.kindName) value\(firstSeen(table, key))")
            }
        }
        guard let last = path.last else { throw fail("empty table header") }
        if isArray {
            switch table.entries[last] {
            case nil:
                let a = TOMLTableArray()
                let t = TOMLTable()
                a.items.append(t)
                table.entries[last] = .tables(a)
                table.lines[last] = line
                return t
            case .tables(let a):
                let t = TOMLTable()
                a.items.append(t)
                return t
            case .some(let other):
                throw fail("cannot define \(shown): '\(last)' is already \(other.kindName)\(firstSeen(table, last))")
            }
        }
        switch table.entries[last] {
        case nil:
            let t = TOMLTable()
            t.defined = true
            table.entries[last] = .table(t)
            table.lines[last] = line
            return t
        case .table(let t) where !t.defined:
            t.defined = true
            return t
        case .table:
            throw fail("duplicate table \(shown)\(firstSeen(table, last))")
        case .some(let other):
            throw fail("cannot define \(shown): '\(last)' is already \(other.kindName)\(firstSeen(table, last))")
        }
    }

    mutating func keyValue(into table: TOMLTable) throws(TOMLError) {
        let key = try key()
        skipSpace()
        if peek == "." { throw fail("dotted keys are not supported; use a [table] header") }
        guard peek == "=" else {
            if atEnd { throw fail("expected '=' after key '\(key)'") }
            throw fail("expected '=' after key '\(key)', found \(describe(s[i]))")
        }
        i += 1
        skipSpace()
        let value = try value(depth: 0)
        try expectLineEnd(after: "value of '\(key)'")
        if let existing = table.entries[key] {
            if case .value = existing {
                throw fail("duplicate key '\(key)'\(firstSeen(table, key))")
            }
            throw fail("key '\(key)' is already \(existing.kindName)\(firstSeen(table, key))")
        }
        table.entries[key] = .value(value)
        table.lines[key] = line
    }

    func firstSeen(_ table: TOMLTable, _ key: String) -> String {
        table.lines[key].map { " (first defined on line \($0))" } ?? ""
    }

    // MARK: Keys

    mutating func keyPath() throws(TOMLError) -> [String] {
        var path: [String] = []
        while true {
            skipSpace()
            path.append(try key())
            if path.count > TOML.maxDepth { throw fail("table header nested too deeply") }
            skipSpace()
            guard peek == "." else { return path }
            i += 1
        }
    }

    mutating func key() throws(TOMLError) -> String {
        guard let c = peek else { throw fail("expected a key") }
        if c == "\"" {
            return try basicString()
        }
        if c == "'" {
            return try literalString()
        }
        var out = String.UnicodeScalarView()
        while let c = peek, isBareKey(c) {
            out.append(c)
            i += 1
        }
        guard !out.isEmpty else { throw fail("expected a key, found \(describe(c))") }
        return String(out)
    }

    func isBareKey(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
    }

    // MARK: Values

    mutating func value(depth: Int) throws(TOMLError) -> TOMLValue {
        guard let c = peek else { throw fail("expected a value") }
        switch c {
        case "\"":
            return .string(try basicString())
        case "'":
            return .string(try literalString())
        case "[":
            return try array(depth: depth + 1)
        case "{":
            throw fail("inline tables are not supported; use a [table] header")
        case "t", "f":
            return try boolean()
        case "+", "-", "0"..."9":
            return try integer()
        default:
            guard isBareKey(c) else { throw fail("expected a value, found \(describe(c))") }
            let token = word()
            if token == "inf" || token == "nan" { throw fail("floats are not supported: '\(token)'") }
            throw fail("invalid value '\(token)' (strings must be quoted)")
        }
    }

    mutating func array(depth: Int) throws(TOMLError) -> TOMLValue {
        if depth > TOML.maxDepth { throw fail("arrays nested too deeply") }
        i += 1
        var items: [TOMLValue] = []
        while true {
            skipSpace()
            guard let c = peek else {
                throw fail("unterminated array (arrays must close on the same line)")
            }
            if c == "]" { i += 1; return .array(items) }
            if c == "#" { throw fail("unterminated array (arrays must close on the same line)") }
            items.append(try value(depth: depth))
            skipSpace()
            guard let sep = peek else {
                throw fail("unterminated array (arrays must close on the same line)")
            }
            if sep == "," { i += 1; continue }
            if sep == "]" { i += 1; return .array(items) }
            throw fail("expected ',' or ']' in array, found \(describe(sep))")
        }
    }

    mutating func boolean() throws(TOMLError) -> TOMLValue {
        let token = word()
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default: throw fail("invalid value '\(token)' (strings must be quoted)")
        }
    }

    mutating func integer() throws(TOMLError) -> TOMLValue {
        let token = word()
        var body = Substring(token)
        var sign = ""
        if let f = body.first, f == "+" || f == "-" {
            sign = f == "-" ? "-" : ""
            body = body.dropFirst()
        }
        if body == "inf" || body == "nan" || body.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) && !body.hasPrefix("0x") {
            throw fail("floats are not supported: '\(token)'")
        }
        if body.contains(where: { $0 == ":" || $0 == "-" || $0 == "T" }) {
            throw fail("dates and times are not supported: '\(token)'")
        }
        if body.hasPrefix("0x") || body.hasPrefix("0o") || body.hasPrefix("0b") {
            throw fail("only decimal integers are supported: '\(token)'")
        }
        let chars = Array(body)
        guard !chars.isEmpty else { throw fail("invalid integer '\(token)'") }
        var digits = ""
        for (k, ch) in chars.enumerated() {
            if ch == "_" {
                // Underscores are only legal as separators between two digits.
                guard k > 0, k < chars.count - 1, chars[k - 1].isASCII, chars[k - 1].isNumber,
                    chars[k + 1].isASCII, chars[k + 1].isNumber
                else { throw fail("invalid integer '\(token)'") }
                continue
            }
            guard ch.isASCII, ch.isNumber else { throw fail("invalid integer '\(token)'") }
            digits.append(ch)
        }
        if chars.count > 1, chars[0] == "0" { throw fail("leading zeros are not allowed: '\(token)'") }
        guard let v = Int(sign + digits) else { throw fail("integer out of range: '\(token)'") }
        return .integer(v)
    }

    /// Consumes up to the next delimiter, for diagnosing bare tokens.
    mutating func word() -> String {
        var out = String.UnicodeScalarView()
        while let c = peek, c != " ", c != "\t", c != ",", c != "]", c != "#" {
            out.append(c)
            i += 1
        }
        return String(out)
    }

    mutating func basicString() throws(TOMLError) -> String {
        if i + 2 < s.count, s[i + 1] == "\"", s[i + 2] == "\"" {
            throw fail("multi-line strings are not supported")
        }
        i += 1
        var out = String.UnicodeScalarView()
        while let c = peek {
            i += 1
            switch c {
            case "\"":
                return String(out)
            case "\\":
                guard let e = peek else { throw fail("unterminated string") }
                i += 1
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "u": out.append(try unicodeEscape(digits: 4))
                case "U": out.append(try unicodeEscape(digits: 8))
                default: throw fail("invalid escape sequence '\\\(e)' in string")
                }
            default:
                out.append(c)
            }
        }
        throw fail("unterminated string")
    }

    mutating func unicodeEscape(digits: Int) throws(TOMLError) -> Unicode.Scalar {
        guard i + digits <= s.count else { throw fail("incomplete unicode escape") }
        var v: UInt32 = 0
        for _ in 0..<digits {
            guard let d = s[i].properties.isASCIIHexDigit ? UInt32(String(s[i]), radix: 16) : nil else {
                throw fail("invalid unicode escape")
            }
            v = v * 16 + d
            i += 1
        }
        guard let u = Unicode.Scalar(v) else {
            throw fail("unicode escape U+\(hex(v, 4)) is not a valid scalar")
        }
        return u
    }

    mutating func literalString() throws(TOMLError) -> String {
        if i + 2 < s.count, s[i + 1] == "'", s[i + 2] == "'" {
            throw fail("multi-line strings are not supported")
        }
        i += 1
        var out = String.UnicodeScalarView()
        while let c = peek {
            i += 1
            if c == "'" { return String(out) }
            out.append(c)
        }
        throw fail("unterminated string")
    }

    func describe(_ c: Unicode.Scalar) -> String {
        c.value < 0x20 || c.value == 0x7F ? "U+\(hex(c.value, 4))" : "'\(c)'"
    }
}

private func hex(_ v: UInt32, _ width: Int) -> String {
    let h = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}
