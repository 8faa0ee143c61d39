import Foundation
import Synchronization
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Headless Chromium over a real node: the pages render in a real browser engine. Plain
/// `--screenshot` cannot click, so the flow is driven by URLs, and the form is POSTed by the
/// test with the CSRF cookie and field, as a browser would.
@Suite(.serialized) struct PortalBrowserTests {
    /// The browser, if this machine has one (the test is skipped, not failed, without it).
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs Chromium headless with a deadline; returns its standard output.
    static func browse(_ args: [String], seconds: Double = 45) async throws -> String {
        let profile = NSTemporaryDirectory() + "tong-chromium-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium!)
        p.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--no-proxy-server", "--hide-scrollbars", "--disable-background-networking",
                "--dns-prefetch-disable", "--disable-extensions", "--user-data-dir=\(profile)",
            ] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Read on a plain thread, not the cooperative pool the node under test needs.
        let output = Mutex<Data?>(nil)
        Thread {
            let d = out.fileHandleForReading.readDataToEndOfFile(); output.withLock { $0 = d }
        }.start()
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while p.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if p.isRunning { p.terminate() }
        // Chromium's helper processes outlive the browser process for a moment; wait for them
        // (found by our unique profile folder) so none talks to a node that is stopping.
        let helpersGone = ContinuousClock.now + .seconds(5)
        while !helpers(profile).isEmpty, ContinuousClock.now < helpersGone { try await Task.sleep(for: .milliseconds(50)) }
        for pid in helpers(profile) { kill(pid, SIGKILL) }
        while output.withLock({ $0 == nil }), ContinuousClock.now < helpersGone + .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
        return String(decoding: output.withLock { $0 } ?? Data(), as: UTF8.self)
    }

    /// Processes whose command line names `profile`: the helpers of the browser we started.
    static func helpers(_ profile: String) -> [pid_t] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name in
            guard let pid = pid_t(name), let cmd = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
            return String(decoding: cmd, as: UTF8.self).contains(profile) ? pid : nil
        }
    }

    /// Takes a screenshot and checks it is a non-empty PNG; copies it to
    /// `$TONG_PORTAL_SCREENSHOTS` when set (how docs/portal-*.png are made).
    static func screenshot(_ url: String, name: String) async throws {
        let file = NSTemporaryDirectory() + "tong-\(UUID().uuidString.prefix(8))-\(name)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try await browse(["--screenshot=\(file)", "--window-size=1280,1600", url])
        let png = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(png.count > 2_000)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        if let dir = ProcessInfo.processInfo.environment["TONG_PORTAL_SCREENSHOTS"] {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
            try FileManager.default.copyItem(atPath: file, toPath: dir + "/" + name)
        }
    }

    @Test(.enabled(if: chromium != nil, "no chromium binary on this machine"))
    func searchPolicyConsultReceiptInChromium() async throws {
        try await withFederation(topology: PortalTests.topology) { f in
            let ids = try PortalTests.seed(f)
            let base = "http://\(f.fed.http["330000"]!)"

            let search = try await Self.browse(["--dump-dom", base + "/policies?q=%E7%A4%BE%E4%BF%9D"])
            #expect(search.contains("<mark>社保</mark>"))
            #expect(search.contains("/policies/\(ids.social)"))
            try await Self.screenshot(base + "/policies?q=%E7%A4%BE%E4%BF%9D", name: "portal-search.png")

            let policy = try await Self.browse(["--dump-dom", base + "/policies/\(ids.social)"])
            #expect(policy.contains("关于阶段性缓缴社会保险费的通知") && policy.contains("对本政策留言"))

            // The consultation goes through the real form handler with the CSRF cookie and field.
            let c = PortalTestClient(address: f.fed.http["330000"]!)
            _ = try await c.get("/interact?kind=consultation&about=\(ids.social)&department=330000-hrss")
            let ok = try await c.post(
                "/interact",
                [
                    ("kind", "consultation"), ("department", "330000-hrss"), ("about", ids.social),
                    ("title", "缓缴社保需要哪些材料"), ("content", "我司为小微企业，请问申请缓缴社保需要提交哪些材料？"),
                    ("contact.name", "王经理"), ("contact.phone", "13912345678"),
                ])
            #expect(ok.status == 303)
            let code = String(try #require(ok.header("Location")?.firstMatch(of: /TONG-[0-9A-F]{32}/)).output)

            let receipt = try await Self.browse(["--dump-dom", base + "/receipt/\(code)"])
            #expect(receipt.contains(code) && receipt.contains("浙江省人力资源和社会保障厅"))
            #expect(receipt.contains("已提交") || receipt.contains("已送达"))
            try await Self.screenshot(base + "/receipt/\(code)", name: "portal-receipt.png")

            // 督查 is for the node's admin: the page is fetched signed in, saved with a <base> that
            // points at the node (for its stylesheet), and rendered by Chromium with its SVG charts.
            try f.node("330000").publishSupervision()
            let admin = PortalTestClient(address: f.fed.http["330000"]!)
            _ = try await admin.get("/login")
            _ = try await admin.post("/login", [("token", try f.fed.adminToken("330000")), ("next", "supervision")])
            let supervision = try await admin.get("/supervision")
            #expect(supervision.status == 200 && supervision.body.contains("<svg"))
            let saved = NSTemporaryDirectory() + "tong-supervision-\(UUID().uuidString.prefix(8)).html"
            defer { try? FileManager.default.removeItem(atPath: saved) }
            try supervision.body.replacingOccurrences(of: "<head>", with: "<head><base href=\"\(base)/\">")
                .write(toFile: saved, atomically: true, encoding: .utf8)
            try await Self.screenshot("file://" + saved, name: "portal-supervision.png")
        }
    }
}
