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
        // By Unicode scalar, not by Character: a combining mark or joiner right after a match
        // (1️⃣, e\u{301}) would join the close marker into one Character and hide it.
        var out = "", run = String.UnicodeScalarView(), open = false
        func flush() {
            out += escape(String(run))
            run = String.UnicodeScalarView()
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\u{E000}" where !open:
                flush(); out += "<mark>"; open = true
            case "\u{E001}" where open:
                flush(); out += "</mark>"; open = false
            case "\u{E000}", "\u{E001}":
                continue
            default:
                run.append(scalar)
            }
        }
        flush()
        if open { out += "</mark>" }
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
        if e.code == .busy { headers[.retryAfter] = "1" }
        return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.raw)))
    }

    /// Registers the portal's routes for a node.
    static func add(to router: Router<BasicRequestContext>, node: TongNode) {
        PortalSite(node: node).register(router)
    }
}
