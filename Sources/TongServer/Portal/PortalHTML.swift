/// A fragment of HTML whose interpolated strings are escaped unless they are themselves
/// `PortalHTML`: markup can only come from code, never from replicated or submitted text.
struct PortalHTML: ExpressibleByStringInterpolation, Sendable {
    /// The markup.
    let raw: String

    /// Markup the caller vouches for (already escaped or a constant).
    init(trusted raw: String) { self.raw = raw }

    init(stringLiteral value: String) { raw = value }

    init(stringInterpolation: StringInterpolation) { raw = stringInterpolation.out }

    /// Joins fragments.
    static func join(_ parts: [PortalHTML], separator: String = "") -> PortalHTML {
        PortalHTML(trusted: parts.map(\.raw).joined(separator: separator))
    }

    /// An empty fragment.
    static let empty = PortalHTML(trusted: "")

    /// Builds markup: strings are escaped, fragments inserted as they are.
    struct StringInterpolation: StringInterpolationProtocol {
        var out = ""
        init(literalCapacity: Int, interpolationCount: Int) { out.reserveCapacity(literalCapacity + interpolationCount * 16) }
        mutating func appendLiteral(_ literal: String) { out += literal }
        mutating func appendInterpolation(_ text: String) { out += Portal.escape(text) }
        mutating func appendInterpolation(_ text: Substring) { out += Portal.escape(String(text)) }
        mutating func appendInterpolation(_ n: Int) { out += String(n) }
        mutating func appendInterpolation(_ n: Int64) { out += String(n) }
        mutating func appendInterpolation(_ html: PortalHTML) { out += html.raw }
        mutating func appendInterpolation(_ parts: [PortalHTML]) { for p in parts { out += p.raw } }
        /// Text carrying search-match markers: escaped, markers become `<mark>`.
        mutating func appendInterpolation(marked text: String) { out += Portal.marked(text) }
    }
}
