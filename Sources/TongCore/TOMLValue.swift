/// A value produced by the TOML subset parser.
public indirect enum TOMLValue: Sendable, Equatable {
    /// A basic or literal string.
    case string(String)
    /// A decimal 64-bit integer.
    case integer(Int)
    /// `true` or `false`.
    case boolean(Bool)
    /// An inline array, or an array of tables (each element a `.table`).
    case array([TOMLValue])
    /// A table (from a header, an array-of-tables element, or the document root).
    case table([String: TOMLValue])

    /// The payload if this is a string.
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    /// The payload if this is an integer.
    public var integerValue: Int? { if case .integer(let v) = self { v } else { nil } }
    /// The payload if this is a boolean.
    public var booleanValue: Bool? { if case .boolean(let v) = self { v } else { nil } }
    /// The payload if this is an array.
    public var arrayValue: [TOMLValue]? { if case .array(let v) = self { v } else { nil } }
    /// The payload if this is a table.
    public var tableValue: [String: TOMLValue]? { if case .table(let v) = self { v } else { nil } }

    /// A short English name of the kind, for error messages.
    public var kindName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}
