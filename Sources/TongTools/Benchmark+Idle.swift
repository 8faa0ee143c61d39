import Foundation
import TongCore
import TongDomain

/// What an idle node costs: CPU time of real `tong serve` processes with no traffic.
struct IdleFigures {
    /// Nodes measured (the quick convergence tree's seven).
    var nodes: Int
    /// Wall-clock seconds measured.
    var seconds: Double
    /// CPU of the busiest node, as a percentage of one core.
    var maxPercent: Double
    /// Mean over the nodes, percent of one core.
    var meanPercent: Double
}

extension Benchmark {
    /// Lays out the quick convergence tree (seven nodes, three tiers) on free ports with node.toml's default
    /// settings (anti-entropy every 5 s), starts each node as its own `tong serve` process (this
    /// executable), lets the federation settle for 10 s (directory exchange, first anti-entropy),
    /// then reads each process's user + system CPU time from /proc/PID/stat over `seconds`.
    static func runIdle(seconds: Double, dir: String) async throws -> IdleFigures {
        guard let exe = Bundle.main.executablePath ?? CommandLine.arguments.first else { throw NodeError.config("bench: no executable path") }
        var ports: [String: (http: String, peer: String)] = [:]
        let topo0 = try Topology.parse(toml: convergenceTopology(quick: true))
        for n in topo0.nodes { ports[n.id] = ("127.0.0.1:\(try LocalFederation.freePort())", "127.0.0.1:\(try LocalFederation.freePort())") }
        let topology = try FederationLayout.create(topologyText: convergenceTopology(quick: true), out: dir, force: true) { c in
            c.http = ports[c.nodeID]!.http
            c.peer = ports[c.nodeID]!.peer
            for (id, p) in ports where topo0.isNeighbor(id, c.nodeID) { c.peerAddresses[id] = p.peer }
        }
        var processes: [Process] = []
        defer {
            for p in processes where p.isRunning { p.terminate() }
            for p in processes { p.waitUntilExit() }
        }
        for n in topology.nodes {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = ["serve", "--home", dir + "/" + n.id, "--log-level", "critical", "--exit-with-parent"]
            p.standardInput = Pipe()  // --exit-with-parent: the node exits when this pipe closes
            p.standardError = FileHandle.nullDevice
            try p.run()
            processes.append(p)
        }
        progress("idle: \(processes.count) tong serve processes settling for 10 s, then measured for \(num(seconds, 0)) s")
        try await Task.sleep(for: .seconds(10))
        let before = processes.map { cpuSeconds(pid: $0.processIdentifier) }
        let clock = ContinuousClock()
        let t0 = clock.now
        try await Task.sleep(for: .seconds(seconds))
        let wall = Self.seconds(clock.now - t0)
        let after = processes.map { cpuSeconds(pid: $0.processIdentifier) }
        for p in processes where !p.isRunning { throw NodeError.config("bench: a node exited during the idle measurement") }
        let percents = zip(before, after).map { ($1 - $0) / wall * 100 }
        return IdleFigures(
            nodes: processes.count, seconds: wall, maxPercent: percents.max() ?? .nan,
            meanPercent: percents.reduce(0, +) / Double(max(1, percents.count)))
    }

    /// User + system CPU seconds of process `pid` (fields 14 and 15 of /proc/PID/stat, in clock ticks).
    static func cpuSeconds(pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return .nan }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return .nan }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
