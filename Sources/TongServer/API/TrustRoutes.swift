import Foundation
import Hummingbird
import TongCore
import TongDomain

/// Revocation lists: installing the CA's latest list at a running node (admin), and reading the
/// revocations in force (anyone: they are public). Each route decodes, calls the domain, encodes.
enum TrustRoutes {
    static func add(to router: Router<BasicRequestContext>, node: TongNode) {
        let revocations = router.group("/api/v1/revocations")
        revocations.post { req, _ in
            let who = node.principal(req)
            let n = try node.installRevocations(try await HTTP.body(req), by: who)
            return HTTP.json(["installed": true, "revocations": .int(Int64(n))])
        }
        revocations.get { _, _ in
            HTTP.json(["revocations": try node.trustStatus().revocations])
        }
    }
}
