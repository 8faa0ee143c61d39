import Foundation
import Hummingbird
import NIOCore
import TongCore
import TongDomain
import TongStore

/// One node's portal: routes, layout and lookups shared by its pages. Pages are built with
/// `PortalHTML`, which escapes every interpolated string.
final class PortalSite: Sendable {
    /// The node whose replica the pages show.
    let node: TongNode
    /// Logged-in staff.
    let sessions = PortalSessions()
    /// Signed-in enterprises (企业服务).
    let enterpriseSessions = PortalEnterpriseSessions()
    /// One-time tokens of the apply and resubmit forms, and receipts handed out (办理).
    let applyTokens = PortalApplyTokens()
    /// Results per page in lists.
    static let pageSize = 20

    init(node: TongNode) { self.node = node }

    /// The stylesheet, shipped in the target's resources; a tiny fallback keeps pages usable
    /// if the resource bundle was not deployed beside the binary.
    static let css: String = {
        if let url = Bundle.module.url(forResource: "tong", withExtension: "css", subdirectory: "Resources"),
            let s = try? String(contentsOf: url, encoding: .utf8)
        {
            return s
        }
        return "body{font-family:sans-serif;max-width:60rem;margin:auto;padding:0 1rem}"
    }()

    /// Registers every portal route.
    func register(_ router: Router<BasicRequestContext>) {
        router.get("/static/tong.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: Self.css)))
        }
        registerPublic(router)
        registerInteract(router)
        registerMatch(router)
        registerEnterprise(router)
        registerApplications(router)
        registerStaff(router)
    }

    // MARK: - Responses

    /// A full page in the layout, with security headers and the CSRF cookie when new.
    func page(_ pr: PortalRequest, title: String, status: Int = 200, cookies: [String] = [], _ body: PortalHTML) -> Response {
        let html: PortalHTML = """
            <!doctype html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) - 小微企业和个体工商户服务专栏</title>
            <link rel="stylesheet" href="/static/tong.css"><link rel="icon" href="data:,"></head>
            <body><header class="site"><div class="wrap">
            <a class="brand" href="/">小微企业和个体工商户服务专栏</a>
            <nav><a href="/policies">政策通</a><a href="/services">办事通</a><a href="/interact">互动通</a><a href="/match">政策计算器</a>\
            <a href="/enterprise">企业服务</a><a href="/receipt">回执查询</a></nav>
            </div></header>
            <main class="wrap">\(body)</main>
            <footer class="wrap"><p>\(nodeName(node.id))节点 · \(node.id) · <a href="/inbox">部门收件箱</a> · <a href="/admin">节点管理</a>\
             · <a href="/supervision">督查</a>\(logoutForm(pr))</p></footer>
            </body></html>
            """
        return response(pr, status: status, cookies: cookies, html)
    }

    /// Sends markup with the portal's headers.
    func response(_ pr: PortalRequest, status: Int, cookies: [String] = [], _ html: PortalHTML) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        var set = cookies
        if pr.csrfIsNew { set.append(pr.cookie(PortalCSRF.cookie, pr.csrf)) }
        if !set.isEmpty { headers[values: .setCookie] = set }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.raw)))
    }

    /// A 303 to a local path (never a caller-supplied URL: no open redirects).
    func redirect(_ pr: PortalRequest, to path: String, cookies: [String] = []) -> Response {
        var headers = Self.securityHeaders
        headers[.location] = path
        var set = cookies
        if pr.csrfIsNew { set.append(pr.cookie(PortalCSRF.cookie, pr.csrf)) }
        if !set.isEmpty { headers[values: .setCookie] = set }
        return Response(status: .seeOther, headers: headers)
    }

    /// No scripts at all, styles only from us, forms only to us; receipts in URLs are secrets,
    /// so no Referer leaves the portal.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .init("Referrer-Policy")!: "no-referrer",
        .init("X-Content-Type-Options")!: "nosniff",
        .cacheControl: "no-store",
    ]

    /// A page for a refused or failed request, in the layout.
    func problemPage(_ pr: PortalRequest, _ error: NodeError) -> Response {
        let e = HTTPProblem(error)
        return page(
            pr, title: "出错了", status: e.status,
            """
            <h1>\(Self.statusTitle(e.status))</h1><p class="error">\(PortalText.problemMessage(status: e.status, detail: e.detail))</p>\
            <p><a href="/">返回首页</a></p>
            """)
    }

    /// A Chinese heading for an HTTP status.
    static func statusTitle(_ status: Int) -> String {
        switch status {
        case 400: "请求有误"
        case 401: "请先登录"
        case 403: "无权访问"
        case 404: "未找到"
        case 413: "提交内容过大"
        case 409: "状态冲突"
        case 415: "提交方式不受支持"
        case 422: "填写有误"
        default: "出错了（\(status)）"
        }
    }

    private func logoutForm(_ pr: PortalRequest) -> PortalHTML {
        guard pr.principal != .anonymous else { return .empty }
        return """
             · <form class="inline" method="post" action="/logout">\(pr.csrfInput)<button type="submit" class="link">退出登录</button></form>
            """
    }

    // MARK: - Forms

    /// Reads a POSTed form: 413 beyond 1 MiB, 415 for other encodings, 403 without a matching
    /// CSRF token. Nothing is acted on before all three pass.
    func readForm(_ req: Request, _ pr: PortalRequest) async throws -> PortalForm {
        if let type = req.headers[.contentType]?.lowercased(), !type.hasPrefix("application/x-www-form-urlencoded") {
            throw NodeError(.unsupportedMediaType, "表单须以 application/x-www-form-urlencoded 提交")
        }
        let buffer: ByteBuffer
        do { buffer = try await req.body.collect(upTo: HTTP.maxBody) } catch is NIOTooManyBytesError {
            throw NodeError(.tooLarge, "提交内容不得超过 1 MiB")
        }
        let form = PortalForm(bytes: buffer.readableBytesView)
        guard PortalCSRF.valid(cookie: pr.cookies[PortalCSRF.cookie], field: form.raw(PortalCSRF.field)) else {
            throw NodeError.forbidden("表单已失效或来源不明（CSRF 校验失败），请刷新页面后重新提交")
        }
        return form
    }

    /// Runs a page handler, turning errors into pages in the layout.
    func guarded(_ req: Request, _ body: (PortalRequest) async throws -> Response) async throws -> Response {
        let pr = PortalRequest(req, sessions: sessions)
        do { return try await body(pr) } catch let e as NodeError where e.code.isCallerError {
            return problemPage(pr, e)
        }
    }

    // MARK: - Names

    /// A node's (region's) name: topology first, then the directory, else the code.
    func nodeName(_ code: String) -> String {
        if let n = node.topology.node(code)?.name { return n }
        if let r = (try? node.db.record(code)) ?? nil, r.state.kind == .node, let n = r.state["name"]?.stringValue { return n }
        return code
    }

    /// A department's name from the directory (it may have been renamed), else the topology.
    func departmentName(_ id: String) -> String {
        if let r = (try? node.db.record(id)) ?? nil, r.state.kind == .department, let n = r.state["name"]?.stringValue, !n.isEmpty { return n }
        let owner = Validation.departmentID(id)?.node ?? ""
        return node.topology.node(owner)?.departments.first { $0.id == id }?.name ?? id
    }

    /// Only http(s) URLs become links; anything else is shown as text.
    static func safeURL(_ s: String?) -> String? {
        guard let s, let u = URL(string: s), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https", u.host != nil else {
            return nil
        }
        return s
    }

    /// A JSON value as plain text: strings as they are, lists joined with 、.
    static func text(_ v: JSONValue?) -> String {
        switch v {
        case nil, .null?: ""
        case .string(let s)?: s
        case .int(let i)?: String(i)
        case .bool(let b)?: b ? "是" : "否"
        case .array(let a)?: a.map { text($0) }.joined(separator: "、")
        case let v?: String(decoding: CanonicalJSON.encode(v), as: UTF8.self)
        }
    }
}
