import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// The enterprise routes of contract.md (送达): registration, the profile, matches, the policy
/// calculator, deliveries and the Atom feed. Each route decodes, calls the domain, encodes.
enum EnterpriseRoutes {
    static func add(to router: Router<BasicRequestContext>, node: TongNode) {
        let enterprises = router.group("/api/v1/enterprises")
        enterprises.post { req, _ in
            HTTP.json(try node.registerEnterprise(try await HTTP.body(req)), status: .created)
        }
        enterprises.get(":id") { req, ctx in
            HTTP.json(TongNode.enterpriseJSON(try node.enterprise(ctx.parameters.get("id") ?? "", token: token(req))))
        }
        enterprises.patch(":id") { req, ctx in
            let body = try await HTTP.body(req)
            return HTTP.json(TongNode.enterpriseJSON(try node.patchEnterprise(ctx.parameters.get("id") ?? "", token: token(req), body: body)))
        }
        enterprises.get(":id/matches") { req, ctx in
            let row = try node.enterprise(ctx.parameters.get("id") ?? "", token: token(req))
            return HTTP.json(try node.matches(for: row.profile))
        }
        enterprises.get(":id/deliveries") { req, ctx in
            let items = try node.deliveries(of: ctx.parameters.get("id") ?? "", token: token(req))
            return HTTP.json(["items": .array(items.map(deliveryJSON))])
        }
        router.post("/api/v1/match") { req, _ in
            HTTP.json(try node.calculate(try await HTTP.body(req)))
        }
        router.get("/feeds/enterprises/:file") { req, ctx in
            let file = ctx.parameters.get("file") ?? ""
            guard file.hasSuffix(".atom") else { throw NodeError.notFound("feeds end in .atom") }
            let id = String(file.dropLast(5))
            let row = try node.enterprise(id, token: req.uri.queryParameters.get("token") ?? token(req))
            let items = try node.db.deliveries(enterprise: id, limit: 100)
            // Whatever became of a delivery, a policy withdrawn since says so in the feed.
            let withdrawn = try node.db.withdrawnAt(Array(Set(items.map(\.record))))
            let xml = AtomFeed.render(enterprise: row, deliveries: items, node: node.id, base: baseURL(req), withdrawn: withdrawn)
            return Response(status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: xml)))
        }
    }

    /// A delivery as the API shows it: `DeliveryRow.json` with its times (`created_at`,
    /// `next_attempt_at`, `delivered_at`) in UTC ISO 8601, as every time in the API is.
    static func deliveryJSON(_ d: DeliveryRow) -> JSONValue {
        guard case .object(var o) = d.json else { return d.json }
        for key in ["created_at", "next_attempt_at", "delivered_at"] {
            if let ms = o[key]?.intValue { o[key] = .string(TongNode.iso8601(ms: ms)) }
        }
        return .object(o)
    }

    /// The bearer token of the request, if any (scheme case-insensitive).
    static func token(_ req: Request) -> String? { TokenAuth.bearerToken(req.headers[.authorization]) }

    /// `http(s)://host` the feed reader used, for absolute links in the feed: `https` when the
    /// request came over TLS or through a proxy that says so (`X-Forwarded-Proto: https`), as
    /// the portal decides its cookies' `Secure`.
    static func baseURL(_ req: Request) -> String {
        let proto = req.headers[values: .init("X-Forwarded-Proto")!].first?.lowercased()
        let secure = req.uri.scheme?.rawValue.lowercased() == "https" || proto == "https"
        return (secure ? "https://" : "http://") + (req.head.authority ?? "localhost")
    }
}

/// An enterprise's deliveries as an Atom feed (RFC 4287), newest first.
enum AtomFeed {
    /// The feed; entries whose record is in `withdrawn` (废止 since it was delivered, with the
    /// time it was withdrawn here, ms) say so and carry that time as `<updated>`, so feed
    /// readers show the change.
    static func render(
        enterprise: EnterpriseRow, deliveries: [DeliveryRow], node: String, base: String, withdrawn: [String: Int64] = [:]
    ) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func changed(_ d: DeliveryRow) -> Int64 { max(d.createdAt, withdrawn[d.record] ?? 0) }
        let updated = TongNode.iso8601(ms: deliveries.map(changed).max() ?? enterprise.createdAt)
        var out = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
            <id>urn:tong:\(esc(node)):enterprise:\(esc(enterprise.id))</id>
            <title>\(esc(enterprise.name))：为您匹配的惠企政策</title>
            <updated>\(updated)</updated>
            <author><name>\(esc(node))</name></author>

            """
        for d in deliveries {
            let path = d.kind == "policy" ? "/policies/" : "/services?q="
            let what = withdrawn[d.record] != nil
                ? (d.kind == "policy" ? "该政策已废止" : "该办事事项已撤销")
                : d.offer ? "免申即享：请确认享受" : (d.kind == "policy" ? "符合条件的政策" : "符合条件的办事事项")
            out += """
                <entry>
                <id>urn:tong:\(esc(node)):delivery:\(d.id)</id>
                <title>\(esc(d.title))</title>
                <link href="\(esc(base + path + d.record))"/>
                <updated>\(TongNode.iso8601(ms: changed(d)))</updated>
                <summary>\(esc(what))（\(esc(d.record))）</summary>
                </entry>

                """
        }
        return out + "</feed>\n"
    }
}
