/// One question of a policy's application form.
public struct ApplicationField: Sendable, Hashable {
    /// The kinds of answer a field takes; raw values are the wire names.
    public enum Kind: String, CaseIterable, Sendable, Codable {
        /// Free text, 1-2000 characters.
        case text
        /// A decimal number: a JSON integer, or a string such as `12.5`.
        case number
        /// A `YYYY-MM-DD` date.
        case date
        /// One of `choices`.
        case choice
    }

    /// The answer key: `[a-z0-9_]+`, at most 64 bytes, unique in the form.
    public var id: String
    /// The question shown, 1-100 characters.
    public var label: String
    /// The kind of answer.
    public var type: Kind
    /// The allowed answers; non-empty for `choice`, nil for every other kind.
    public var choices: [String]?
    /// Whether an answer is needed; a field is required unless the form says `"required": false`.
    public var required: Bool

    /// Creates a field.
    public init(id: String, label: String, type: Kind, choices: [String]? = nil, required: Bool = true) {
        self.id = id
        self.label = label
        self.type = type
        self.choices = choices
        self.required = required
    }

    /// The JSON object; `required` is written only when false, the default being true.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["id": .string(id), "label": .string(label), "type": .string(type.rawValue)]
        if let choices { o["choices"] = .strings(choices) }
        if !required { o["required"] = .bool(false) }
        return .object(o)
    }
}
