import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// The JSON API of contract.md. Each route translates HTTP to one TongNode call.
/// Policies live under /api/v1/policies and service items under /api/v1/service-items, with the
/// same five routes each (create, read, patch, withdraw, search).
enum APIRoutes {
    static func add(to router: Router<BasicRequestContext>, node: TongNode) {
        router.get("/healthz") { _, _ in
            if let reason = node.health.corruption {
                return HTTP.json(["node": .string(node.id), "status": "corrupt", "reason": .string(reason)], status: .serviceUnavailable)
            }
            return HTTP.json(["node": .string(node.id), "status": "ok"])
        }
        router.get("/metrics") { _, _ in
            // Whatever could be refreshed is reported; a failing query must not hide the rest.
            do { try node.refreshMetrics() } catch { node.logger.error("metrics refresh failed", metadata: ["error": .string("\(error)")]) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: node.metrics.render())))
        }
        router.get("/api/v1/departments") { _, _ in
            HTTP.json(["items": .array(try node.departments().map(TongNode.json))])
        }
        router.delete("/api/v1/departments/:id") { req, ctx in
            try node.retireDepartment(ctx.parameters.get("id") ?? "", by: node.principal(req))
            return Response(status: .noContent)
        }
        for (path, kind) in [("policies", RecordKind.policy), ("service-items", .serviceItem)] {
            router.post("/api/v1/\(path)") { req, _ in
                let who = node.principal(req)
                let body = try await HTTP.body(req)
                let r = try node.create(kind: kind, body: body, by: who)
                return HTTP.json(try node.recordJSON(r.id), status: .created)
            }
            router.get("/api/v1/\(path)/:id") { _, ctx in
                HTTP.json(try node.recordJSON(ctx.parameters.get("id") ?? "", kind: kind))
            }
            router.patch("/api/v1/\(path)/:id") { req, ctx in
                let who = node.principal(req)
                let body = try await HTTP.body(req)
                let id = ctx.parameters.get("id") ?? ""
                _ = try node.patch(kind: kind, id: id, body: body, by: who)
                return HTTP.json(try node.recordJSON(id))
            }
            router.delete("/api/v1/\(path)/:id") { req, ctx in
                try node.withdraw(kind: kind, id: ctx.parameters.get("id") ?? "", by: node.principal(req))
                return Response(status: .noContent)
            }
            router.get("/api/v1/\(path)") { req, _ in
                var search = try searchRequest(req)
                let today = node.today()
                search.today = today
                let result = try node.db.search(search, kind: kind)
                return HTTP.json([
                    "total": .int(Int64(result.total)),
                    "today": .string(today),
                    // False past SearchRequest.exactTotalCap matches: total is then a lower bound.
                    "total_exact": .bool(result.totalExact),
                    "items": .array(
                        result.hits.map { hit in
                            var o = TongNode.json(hit.record).objectValue ?? [:]
                            if kind == .policy { o["validity"] = .string(node.validity(hit.record.state.values, today: today).rawValue) }
                            if let s = hit.snippetMarked { o["snippet_html"] = .string(Portal.marked(s)) }
                            return .object(o)
                        }),
                    "facets": [
                        "theme": .object(result.themeFacets.mapValues { .int(Int64($0)) }),
                        "region": .object(result.regionFacets.mapValues { .int(Int64($0)) }),
                        "department": .object(result.departmentFacets.mapValues { .int(Int64($0)) }),
                        "validity": .object(result.validityFacets.mapValues { .int(Int64($0)) }),
                    ],
                ])
            }
        }
        router.post("/api/v1/surveys") { req, _ in
            let who = node.principal(req)
            let r = try node.createSurvey(try await HTTP.body(req), by: who)
            return HTTP.json(try node.recordJSON(r.id), status: .created)
        }
        router.get("/api/v1/surveys") { _, _ in
            HTTP.json(["items": .array(try node.db.records(kind: .survey).map(TongNode.json))])
        }
        router.get("/api/v1/surveys/:id") { _, ctx in HTTP.json(try node.recordJSON(ctx.parameters.get("id") ?? "", kind: .survey)) }
        router.get("/api/v1/surveys/:id/tallies") { req, ctx in
            HTTP.json(try node.surveyTallies(ctx.parameters.get("id") ?? "", by: node.principal(req)))
        }
        router.post("/api/v1/feedback") { req, _ in
            // Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a retry gets the first answer.
            let key = req.headers[.init("Idempotency-Key")!]
            let s = try node.submitFeedback(try await HTTP.body(req), idempotencyKey: key)
            var o: [String: JSONValue] = ["id": .string(s.id), "receipt": .string(s.receipt), "status": "submitted"]
            if !s.warnings.isEmpty { o["warnings"] = .strings(s.warnings) }
            var response = HTTP.json(.object(o), status: .created)
            if s.replayed { response.headers[.init("Idempotent-Replayed")!] = "true" }
            return response
        }
        router.get("/api/v1/feedback/:id") { _, ctx in
            HTTP.json(try node.receiptStatus(ctx.parameters.get("id") ?? ""))
        }
        router.post("/api/v1/feedback/:id/reply") { req, ctx in
            let who = node.principal(req)
            return HTTP.json(try node.reply(feedback: ctx.parameters.get("id") ?? "", body: try await HTTP.body(req), by: who))
        }
        router.post("/api/v1/feedback/:id/transfer") { req, ctx in
            let who = node.principal(req)
            return HTTP.json(try node.transferFeedback(ctx.parameters.get("id") ?? "", body: try await HTTP.body(req), by: who))
        }
        router.post("/api/v1/feedback/:id/close") { req, ctx in
            HTTP.json(try node.closeFeedback(ctx.parameters.get("id") ?? "", by: node.principal(req)))
        }
        router.get("/api/v1/inbox") { req, _ in
            let who = node.principal(req)
            guard let dept = req.query("department") ?? { if case .department(let d) = who { return d } else { return nil } }() else {
                throw NodeError.invalid("department is required", fields: ["department": "is required"])
            }
            if let s = req.query("status"), !["submitted", "delivered", "replied", "closed", "undeliverable", "transferred"].contains(s) {
                throw NodeError.invalid(
                    "status must be submitted, delivered, replied, closed, undeliverable or transferred", fields: ["status": "unknown status"])
            }
            if let k = req.query("kind"), !TongNode.forms.contains(k), k != "survey" {
                throw NodeError.invalid("kind must be suggestion, consultation, complaint, evaluation or survey", fields: ["kind": "unknown kind"])
            }
            var limit = 100
            if let l = req.query("limit") {
                guard let n = Int(l), (1...100).contains(n) else {
                    throw NodeError.invalid("limit must be 1-100", fields: ["limit": "must be 1-100"])
                }
                limit = n
            }
            let page = try node.inboxPage(
                department: dept, status: req.query("status"), kind: req.query("kind"), after: req.query("after"), limit: limit, by: who)
            return HTTP.json(["items": .array(page.items), "next": page.next.map(JSONValue.string) ?? .null])
        }
        router.get("/api/v1/supervision") { req, _ in
            try node.principal(req).requireAdmin("admin only")
            return HTTP.json(try node.supervision())
        }
        router.get("/api/v1/sync/status") { req, _ in
            try node.principal(req).requireAdmin("admin only")
            return HTTP.json(try node.syncStatus())
        }
        router.get("/api/v1/federation/status") { req, _ in
            try node.principal(req).requireAdmin("admin only")
            return HTTP.json(try node.federationStatus())
        }
        router.get("/api/v1/conflicts") { req, _ in
            try node.principal(req).requireAdmin("admin only")
            return HTTP.json(["items": .array(try node.db.conflicted().map(TongNode.json))])
        }
    }

    static func searchRequest(_ req: Request) throws -> SearchRequest {
        var s = SearchRequest()
        s.q = String((req.query("q") ?? "").prefix(5_000))
        s.theme = req.query("theme"); s.region = req.query("region"); s.department = req.query("department")
        s.audience = req.query("audience"); s.status = req.query("status")
        var problems: [String: String] = [:]
        if let t = s.theme, Theme(rawValue: t) == nil { problems["theme"] = "is not a theme code" }
        if let a = s.audience, Audience(rawValue: a) == nil { problems["audience"] = "is not an audience code" }
        if let r = s.region, !Validation.divisionCode(r) { problems["region"] = "is not a division code" }
        if let st = s.status, !SearchRequest.statuses.contains(st) {
            problems["status"] = "must be active, withdrawn, in_force, expired or not_yet"
        }
        if let l = req.query("limit") {
            // Above the cap the page is the cap's size (the contract's "Search fidelity"); only
            // what is not a count at all is refused.
            if let n = Int(l), n >= 0 {
                s.limit = min(n, SearchRequest.maxLimit)
            } else if !l.isEmpty, l.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                s.limit = SearchRequest.maxLimit  // more digits than an Int holds: still above the cap
            } else {
                problems["limit"] = "must be a whole number 0 or more (pages hold at most \(SearchRequest.maxLimit))"
            }
        }
        if let o = req.query("offset") {
            if let n = Int(o), (0...100_000).contains(n) { s.offset = n } else { problems["offset"] = "must be 0-100000" }
        }
        if !problems.isEmpty {
            throw NodeError.invalid(problems.keys.sorted().map { "\($0) \(problems[$0]!)" }.joined(separator: "; "), fields: problems)
        }
        return s
    }
}

extension TongNode {
    func principal(_ req: Request) -> Principal {
        auth.principal(authorization: req.headers[.authorization]) ?? .anonymous
    }

    func recordJSON(_ id: String, kind: RecordKind? = nil) throws -> JSONValue {
        guard let r = try db.record(id), kind == nil || r.state.kind == kind!, r.state.kind != .feedback else {
            throw NodeError.notFound("no \(kind?.rawValue ?? "record") \(id) here")
        }
        guard r.state.kind == .policy, var o = Self.json(r).objectValue else { return Self.json(r) }
        o["validity"] = .string(validity(r.state.values).rawValue)
        return .object(o)
    }
}
