import Foundation
import Hummingbird
import TongCore
import TongDomain

/// The application routes of contract.md (办理). Each route decodes, calls the domain, encodes.
enum ApplicationRoutes {
    static func add(to router: Router<BasicRequestContext>, node: TongNode) {
        let applications = router.group("/api/v1/applications")
        applications.post { req, _ in
            let s = try node.apply(try await HTTP.body(req), token: EnterpriseRoutes.token(req))
            return HTTP.json(["id": .string(s.id), "receipt": .string(s.receipt), "status": "submitted"], status: .created)
        }
        applications.get { req, _ in
            let dept = req.query("department") ?? ""
            guard !dept.isEmpty else { throw NodeError.invalid("department is required", fields: ["department": "必填"]) }
            let items = try node.applications(department: dept, status: req.query("status"), by: node.principal(req))
            return HTTP.json(["items": .array(items)])
        }
        // The path segment is the receipt here (Hummingbird needs one parameter name per position).
        applications.get(":id") { _, ctx in
            HTTP.json(try node.applicationStatus(ctx.parameters.get("id") ?? ""))
        }
        applications.post(":id/decision") { req, ctx in
            let body = try await HTTP.body(req)
            return HTTP.json(try node.decide(ctx.parameters.get("id") ?? "", body: body, by: node.principal(req)))
        }
        applications.post(":id/resubmit") { req, ctx in
            let body = try await HTTP.body(req)
            return HTTP.json(try node.moveAsApplicant(ctx.parameters.get("id") ?? "", to: .submitted, body: body, token: EnterpriseRoutes.token(req)))
        }
        applications.post(":id/withdraw") { req, ctx in
            let body = try await HTTP.body(req)
            return HTTP.json(try node.moveAsApplicant(ctx.parameters.get("id") ?? "", to: .withdrawn, body: body, token: EnterpriseRoutes.token(req)))
        }
        applications.post("batch-approval") { req, _ in
            let body = try await HTTP.body(req)
            guard let ids = body["ids"]?.stringArray, !ids.isEmpty else {
                throw NodeError.invalid("ids must be a non-empty list of application ids", fields: ["ids": "必填"])
            }
            return HTTP.json(try node.approveBatch(ids, note: body["note"]?.stringValue, by: node.principal(req)))
        }
    }
}
