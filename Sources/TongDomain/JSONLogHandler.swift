import Foundation
import Logging
import TongCore

/// A swift-log handler that writes one JSON object per line (`tong serve --log-format json`):
/// `time` (ISO 8601, UTC, milliseconds), `level`, `message`, `label`, and every metadata key as
/// it is (dotted keys such as `peer.id` stay flat; nested dictionaries become dotted keys too).
/// Numbers and booleans logged as `.stringConvertible` are JSON numbers and booleans.
public struct JSONLogHandler: LogHandler {
    /// Where each finished line (with its newline) goes.
    public typealias Sink = @Sendable (String) -> Void

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let sink: Sink

    /// A handler for `label` writing to `sink` (standard error by default).
    public init(label: String, sink: @escaping Sink = JSONLogHandler.standardError) {
        self.label = label
        self.sink = sink
    }

    /// Writes a line to standard error in one `write` call, so lines of concurrent tasks never interleave.
    public static let standardError: Sink = { line in
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var o: [String: String] = [:]
        var all = metadata
        if let m = event.metadata { all.merge(m) { _, new in new } }
        for (k, v) in all { Self.flatten(k, v, into: &o) }
        o["time"] = Self.text(Self.timestamp(Date()))
        o["level"] = Self.text(event.level.rawValue)
        o["message"] = Self.text("\(event.message)")
        o["label"] = Self.text(label)
        if let e = event.error { o["error"] = Self.text("\(e)") }
        // Keys sorted, as canonical JSON has them, so lines are stable to diff and grep.
        let body = o.keys.sorted().map { Self.text($0) + ":" + o[$0]! }.joined(separator: ",")
        sink("{" + body + "}\n")
    }

    /// Each metadata value as JSON text under its flat key (nested dictionaries as dotted keys).
    static func flatten(_ key: String, _ v: Logger.Metadata.Value, into o: inout [String: String]) {
        if case .dictionary(let d) = v {
            for (k, x) in d { flatten(key + "." + k, x, into: &o) }
        } else {
            o[key] = json(v)
        }
    }

    /// A metadata value as JSON text: strings as strings; a `stringConvertible` integer, finite
    /// floating-point number or Bool as a JSON number or boolean (so `jq 'select(.count > 5)'`
    /// works), anything else by its description as a string; arrays and dictionaries as JSON
    /// arrays and objects.
    static func json(_ v: Logger.Metadata.Value) -> String {
        switch v {
        case .string(let s): return text(s)
        case .stringConvertible(let c):
            switch c {
            case let b as Bool: return b ? "true" : "false"
            case let i as any BinaryInteger: return "\(i)"
            case let d as Double where d.isFinite: return "\(d)"
            case let f as Float where f.isFinite: return "\(f)"
            default: return text(c.description)
            }
        case .array(let a): return "[" + a.map { json($0) }.joined(separator: ",") + "]"
        case .dictionary(let d): return "{" + d.keys.sorted().map { text($0) + ":" + json(d[$0]!) }.joined(separator: ",") + "}"
        }
    }

    /// A string as a JSON string literal (the canonical encoder's escaping).
    static func text(_ s: String) -> String { String(decoding: CanonicalJSON.encode(.string(s)), as: UTF8.self) }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }
}

/// How `tong serve` writes its log: swift-log's key=value lines or one JSON object per line.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json
}
