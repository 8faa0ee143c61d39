import Foundation
import Hummingbird
import TongCore
import TongDomain

/// The portal: server-rendered pages in Simplified Chinese, usable without JavaScript. The
/// pages live in `PortalSite` and its extensions; this is the entry point the server and the
/// error middleware call.
enum Portal {
    /// Escapes text for HTML element content and attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{E000}", "\u{E001}": break
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Escapes text carrying search-match markers and turns the markers into `<mark>` tags.
    static func marked(_ s: String) -> String {
        var out = ""
        for part in s.split(separator: "\u{E000}", omittingEmptySubsequences: false).enumerated() {
            if part.offset == 0 { out += escape(String(part.element)); continue }
            let inner = part.element.split(separator: "\u{E001}", maxSplits: 1, omittingEmptySubsequences: false)
            out += "<mark>" + escape(String(inner[0])) + "</mark>"
            if inner.count > 1 { out += escape(String(inner[1])) }
        }
        return out
    }

    /// A bare error page for errors raised outside the portal's own handlers (e.g. no route).
    static func errorPage(_ e: HTTPProblem) -> Response {
        let message = PortalText.problemMessage(status: e.status, detail: e.detail)
        let html: PortalHTML = """
            <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>出错了</title><link rel="stylesheet" href="/static/tong.css"></head><body><main class="wrap">\
            <h1>\(PortalSite.statusTitle(e.status))</h1><p class="error">\(message)</p><p><a href="/">返回首页</a></p></main></body></html>
            """
        var headers = PortalSite.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.raw)))
    }

    /// Registers the portal's routes for a node.
    static func add(to router: Router<BasicRequestContext>, node: TongNode) {
        PortalSite(node: node).register(router)
    }
}
