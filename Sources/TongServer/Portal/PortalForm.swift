import Foundation

/// Decoded `application/x-www-form-urlencoded` fields (a POST body or a query string), in order.
/// Any byte sequence parses: bad percent escapes stay literal, bad UTF-8 becomes U+FFFD.
struct PortalForm: Sendable {
    /// Name/value pairs in the order sent; a name may repeat (checkboxes).
    private(set) var pairs: [(name: String, value: String)] = []

    /// Most fields a form may carry; beyond this the rest is ignored rather than hashed.
    static let maxFields = 2_000

    /// Parses raw bytes.
    init(bytes: some Collection<UInt8>) {
        var name: [UInt8] = [], value: [UInt8] = []
        var inValue = false
        func flush(_ pairs: inout [(name: String, value: String)]) {
            if !name.isEmpty || inValue, pairs.count < Self.maxFields {
                pairs.append((Self.decode(name), Self.decode(value)))
            }
            name.removeAll(keepingCapacity: true); value.removeAll(keepingCapacity: true); inValue = false
        }
        for b in bytes {
            switch b {
            case UInt8(ascii: "&"): flush(&pairs)
            case UInt8(ascii: "=") where !inValue: inValue = true
            default: if inValue { value.append(b) } else { name.append(b) }
            }
        }
        flush(&pairs)
    }

    /// Parses a query string (without the `?`).
    init(query: String?) { self.init(bytes: Array((query ?? "").utf8)) }

    /// The first value of a field, trimmed of surrounding whitespace; nil when absent or empty.
    subscript(_ name: String) -> String? {
        guard let v = pairs.first(where: { $0.name == name })?.value.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
        return v
    }

    /// The first value exactly as sent (for secrets and free text where spaces matter).
    func raw(_ name: String) -> String? { pairs.first(where: { $0.name == name })?.value }

    /// Every non-empty value of a repeated field.
    func all(_ name: String) -> [String] { pairs.filter { $0.name == name && !$0.value.isEmpty }.map(\.value) }

    /// Percent-decoding with `+` as space.
    static func decode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") { out.append(0x20); i += 1; continue }
            if b == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                out.append(h << 4 | l); i += 3; continue
            }
            out.append(b); i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    /// Percent-encodes a value for a query string (unreserved characters kept).
    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    /// A query string from name/value pairs, skipping nil and empty values.
    static func query(_ items: [(String, String?)]) -> String {
        let parts = items.compactMap { k, v in v.flatMap { $0.isEmpty ? nil : encode(k) + "=" + encode($0) } }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
