import Foundation
import Hummingbird
import TongCore

/// The portal: server-rendered pages in Simplified Chinese (filled in by Portal+Pages.swift).
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

    static func errorPage(_ e: ServerError) -> Response {
        let html = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>出错了</title><body><h1>\(e.status)</h1><p>\(escape(e.detail))</p><p><a href=\"/\">返回首页</a></p></body></html>"
        return Response(status: .init(code: e.status), headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func add(to router: Router<BasicRequestContext>, node: TongNode) {
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>小微企业和个体工商户服务专栏</title><body><h1>政策通 · 办事通 · 互动通</h1></body></html>")))
        }
    }
}
