/// A strict JSON parser over UTF-8 bytes: no fractional or exponent numbers (Tong never uses
/// them), bounded nesting, invalid UTF-8 rejected. Faster than Foundation for change sets and
/// it gives one clear message for hostile input.
public struct JSONParser {
    /// Why a text is not acceptable JSON.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Byte offset of the problem.
        public var offset: Int
        /// What was wrong.
        public var message: String
        public var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    private let bytes: [UInt8]
    private var i = 0
    private let maxDepth: Int

    private init(_ bytes: [UInt8], maxDepth: Int) { self.bytes = bytes; self.maxDepth = maxDepth }

    /// Parses one JSON document (surrounding whitespace allowed).
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws(Failure) -> JSONValue {
        var p = JSONParser(bytes, maxDepth: maxDepth)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw Failure(offset: p.i, message: "trailing characters") }
        return v
    }

    /// Parses a string's UTF-8.
    public static func parse(_ text: String, maxDepth: Int = 32) throws(Failure) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private func fail(_ m: String) -> Failure { Failure(offset: i, message: m) }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        guard i < bytes.count else { throw fail("unexpected end") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var obj: [String: JSONValue] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let k = try string()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
                let v = try value(depth: depth + 1)
                guard obj.updateValue(v, forKey: k) == nil else { throw fail("duplicate key \"\(k.prefix(40))\"") }
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end in object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(obj) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var arr: [JSONValue] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
            while true {
                skipSpace()
                arr.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end in array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(arr) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .int(try number())
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end") }
        let p = word.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func number() throws(Failure) -> Int64 {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else { throw fail("invalid number") }
        if bytes[i] == UInt8(ascii: "0"), i + 1 < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i + 1]) {
            throw fail("leading zero")
        }
        var v: Int64 = 0
        while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
            let d = Int64(bytes[i] - UInt8(ascii: "0"))
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            if o1 || o2 { i = start; throw fail("integer out of range") }
            v = s
            i += 1
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            throw fail("only integers are accepted")
        }
        return v
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 55)
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private mutating func string() throws(Failure) -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let s = bytes[start..<i]
                i += 1
                guard let str = String(validating: s, as: UTF8.self) else { throw Failure(offset: start, message: "invalid UTF-8") }
                return str
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            i += 1
        }
        var buf = Array(bytes[start..<i])
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                guard let str = String(validating: buf, as: UTF8.self) else { throw Failure(offset: start, message: "invalid UTF-8") }
                return str
            }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { buf.append(c); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): buf.append(34)
            case UInt8(ascii: "\\"): buf.append(92)
            case UInt8(ascii: "/"): buf.append(47)
            case UInt8(ascii: "b"): buf.append(8)
            case UInt8(ascii: "f"): buf.append(12)
            case UInt8(ascii: "n"): buf.append(10)
            case UInt8(ascii: "r"): buf.append(13)
            case UInt8(ascii: "t"): buf.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= bytes.count, bytes[i] == 92, bytes[i + 1] == UInt8(ascii: "u") else { throw fail("lone surrogate") }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("bad surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("lone surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid code point") }
                buf.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }
}

extension JSONParser {
    /// Parses a JSON object whose member `rawKey` is an array, returning the other members and,
    /// for each element of that array, its value and its byte range: the push route keeps every
    /// change set's bytes exactly as received, and parses each one once.
    /// - Throws: `Failure` if the text is not an object, or `rawKey` is present and not an array.
    public static func parseObject(_ bytes: [UInt8], rawArray rawKey: String, maxDepth: Int = 32) throws(Failure)
        -> (members: [String: JSONValue], elements: [(range: Range<Int>, value: JSONValue)])
    {
        var p = JSONParser(bytes, maxDepth: maxDepth)
        var members: [String: JSONValue] = [:]
        var elements: [(range: Range<Int>, value: JSONValue)] = []
        p.skipSpace()
        guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "{") else { throw p.fail("expected an object") }
        p.i += 1
        p.skipSpace()
        if p.i < bytes.count, bytes[p.i] == UInt8(ascii: "}") {
            p.i += 1
        } else {
            while true {
                p.skipSpace()
                guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "\"") else { throw p.fail("expected a string key") }
                let k = try p.string()
                p.skipSpace()
                guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: ":") else { throw p.fail("expected ':'") }
                p.i += 1
                p.skipSpace()
                if k == rawKey {
                    guard p.i < bytes.count, bytes[p.i] == UInt8(ascii: "[") else { throw p.fail("\(rawKey) must be an array") }
                    p.i += 1
                    p.skipSpace()
                    if p.i < bytes.count, bytes[p.i] == UInt8(ascii: "]") {
                        p.i += 1
                    } else {
                        while true {
                            p.skipSpace()
                            let start = p.i
                            let v = try p.value(depth: 2)
                            elements.append((start..<p.i, v))
                            p.skipSpace()
                            guard p.i < bytes.count else { throw p.fail("unexpected end in array") }
                            if bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
                            if bytes[p.i] == UInt8(ascii: "]") { p.i += 1; break }
                            throw p.fail("expected ',' or ']'")
                        }
                    }
                    guard members.updateValue(.null, forKey: k) == nil else { throw p.fail("duplicate key \"\(k.prefix(40))\"") }
                } else {
                    let v = try p.value(depth: 1)
                    guard members.updateValue(v, forKey: k) == nil else { throw p.fail("duplicate key \"\(k.prefix(40))\"") }
                }
                p.skipSpace()
                guard p.i < bytes.count else { throw p.fail("unexpected end in object") }
                if bytes[p.i] == UInt8(ascii: ",") { p.i += 1; continue }
                if bytes[p.i] == UInt8(ascii: "}") { p.i += 1; break }
                throw p.fail("expected ',' or '}'")
            }
        }
        p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("trailing characters") }
        members.removeValue(forKey: rawKey)
        return (members, elements)
    }
}
