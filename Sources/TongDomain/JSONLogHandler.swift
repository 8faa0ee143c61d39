import Foundation
import Logging
import TongCore

/// A swift-log handler that writes one JSON object per line (`tong serve --log-format json`):
/// `time` (ISO 8601, UTC, milliseconds), `level`, `message`, `label`, and every metadata key as
/// it is (dotted keys such as `peer.id` stay flat; nested dictionaries become dotted keys too).
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
        var o: [String: JSONValue] = [:]
        var all = metadata
        if let m = event.metadata { all.merge(m) { _, new in new } }
        for (k, v) in all { Self.flatten(k, v, into: &o) }
        o["time"] = .string(Self.timestamp(Date()))
        o["level"] = .string(event.level.rawValue)
        o["message"] = .string("\(event.message)")
        o["label"] = .string(label)
        if let e = event.error { o["error"] = .string("\(e)") }
        sink(String(decoding: CanonicalJSON.encode(.object(o)), as: UTF8.self) + "\n")
    }

    static func flatten(_ key: String, _ v: Logger.Metadata.Value, into o: inout [String: JSONValue]) {
        switch v {
        case .string(let s): o[key] = .string(s)
        case .stringConvertible(let c): o[key] = .string(c.description)
        case .array(let a): o[key] = .array(a.map { value($0) })
        case .dictionary(let d): for (k, x) in d { flatten(key + "." + k, x, into: &o) }
        }
    }

    static func value(_ v: Logger.Metadata.Value) -> JSONValue {
        switch v {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map { value($0) })
        case .dictionary(let d): return .object(d.mapValues { value($0) })
        }
    }

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
