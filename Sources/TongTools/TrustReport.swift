import Foundation
import TongCore
import TongDomain

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `tong ca trust`: what a running node reports of its links, the revocations in force and its
/// own key history, read from its `GET /api/v1/sync/status` with the home's admin token.
public enum TrustReport {
    /// Asks the node whose home is `home` (it must be running).
    /// - Throws: `NodeError.configuration` for an unreadable home, `unavailable` if the node does not
    ///   answer, answers another status than 200 (named with its problem's detail), or no JSON.
    public static func fetch(home: NodeHome) async throws -> JSONValue {
        let config = try NodeConfiguration.parse(toml: String(contentsOfFile: home.configFile, encoding: .utf8))
        let token = try String(contentsOfFile: home.adminTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var (host, port) = try NodeConfiguration.hostPort(config.http)
        if host == "0.0.0.0" || host == "::" || host.isEmpty { host = "127.0.0.1" }
        var req = URLRequest(url: URL(string: "http://\(host):\(port)/api/v1/sync/status")!)
        req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let data: Data
        let response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: req) } catch {
            throw NodeError(.unavailable, "node \(config.nodeID) does not answer at \(host):\(port) (is it running?)")
        }
        let parsed = try? JSONParser.parse(Array(data))
        // A refusal (a wrong admin token, a busy node) is said as such, never shown as an empty status.
        if let status = (response as? HTTPURLResponse)?.statusCode, status != 200 {
            let detail = parsed?["detail"]?.stringValue ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw NodeError(.unavailable, "node \(config.nodeID) at \(host):\(port) answered \(status): \(detail)")
        }
        guard let parsed else { throw NodeError(.unavailable, "node \(config.nodeID) answered no JSON") }
        return parsed
    }

    /// The status as canonical JSON text.
    public static func json(_ st: JSONValue) -> String { String(decoding: CanonicalJSON.encode(st), as: UTF8.self) }

    /// The status as lines a person reads.
    public static func render(_ st: JSONValue) -> String {
        func t(_ v: JSONValue?) -> String {
            switch v {
            case .string(let s)?: s
            case .int(let i)?: String(i)
            case .bool(let b)?: b ? "yes" : "no"
            default: "-"
            }
        }
        var out = ["node \(t(st["node"])): counter \(t(st["counter"])), applied \(t(st["applied"])), rejected \(t(st["rejected"]))"]
        for p in st["peers"]?.arrayValue ?? [] {
            let error = p["last_error"].map { ", last error: \(t($0))" } ?? ""
            out.append(
                "  \(t(p["role"])) \(t(p["id"])): connected \(t(p["connected"])), pending \(t(p["pending"])), its counter held here "
                    + "\(t(p["seen_counter"]))\(error)")
        }
        let revoked = st["revocations"]?.arrayValue ?? []
        out.append("revoked certificates: \(revoked.count)")
        for r in revoked {
            let fp = t(r["fingerprint"]).prefix(16)
            let bound = r["last_counter"]?.intValue.map { ", nothing above counter \($0)" } ?? ""
            let reason = t(r["reason"]).isEmpty || t(r["reason"]) == "-" ? "" : " (\(t(r["reason"])))"
            out.append("  \(t(r["node"])) serial \(t(r["serial"])) sha256 \(fp)… revoked from \(t(r["revoked_at"]))\(bound)\(reason)")
        }
        out.append("key history:")
        for k in st["keys"]?.arrayValue ?? [] {
            let state = k["current"] == .bool(true) ? "in use" : "retired at counter \(t(k["last_counter"]))"
            out.append("  sha256 \(t(k["fingerprint"]).prefix(16))… valid until \(t(k["not_after"])), \(state)")
        }
        return out.joined(separator: "\n")
    }
}
