import BlytzTesting
import Foundation
import Testing

/// `blytz logs`: every process's JSON lines with the same keys, merged across functions in time order,
/// filtered by function and trace, and followed as they are written.
@Suite(.serialized, .timeLimit(.minutes(3))) struct LogsTests {
    static func lines(_ output: String) throws -> [[String: String]] {
        try output.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            return object.mapValues { "\($0)" }
        }
    }

    @Test func linesOfEveryFunctionShareTheirKeysAndAreReadInTimeOrderByTraceAndFunction() async throws {
        try await withRunner { runner in
            let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
            let traced = try await runner.get("/api/fx/inspect/7/x", headers: ["traceparent": "00-\(traceId)-00f067aa0ba902b7-01", "X-Request-Id": "logs-req-1"])
            #expect(traced.status == 200)
            for _ in 0..<2 { #expect(try await runner.get("/api/fx/inspect/8/y").status == 200) }
            #expect(try await runner.post("/api/fx/mirror", json: #"{"a":1}"#).status == 200)
            let data = ["--data-dir", runner.dataDirectory]

            // Everything: JSON lines with the shared keys, in time order, from the runner, the invocations and the workers.
            var all: [[String: String]] = []
            #expect(await eventually(within: .seconds(5)) {
                all = (try? Self.lines(try blytz(["logs"] + data).output)) ?? []
                return all.filter { $0["message"] == "invoked" }.count >= 4 && all.contains { $0["message"] == "inspecting" }
            })
            for line in all { #expect(["time", "level", "service", "message"].allSatisfy { line[$0] != nil }, "\(line)") }
            #expect(all.map { $0["time"] ?? "" } == all.map { $0["time"] ?? "" }.sorted())
            #expect(Set(all.compactMap { $0["function"] }).isSuperset(of: ["fx-inspect", "fx-mirror"]))
            #expect(all.contains { $0["message"] == "migrations checked" && $0["logger"] == "blytz" })

            // One trace: the gateway's line for the request and the function's own line, both with its request id.
            let trace = try Self.lines(try blytz(["logs", "--trace", traceId] + data).output)
            #expect(trace.count == 2 && trace.allSatisfy { $0["traceId"] == traceId && $0["requestId"] == "logs-req-1" && $0["function"] == "fx-inspect" })
            #expect(Set(trace.compactMap { $0["message"] }) == ["invoked", "inspecting"])
            #expect(trace.first { $0["message"] == "inspecting" }?["service"] == "fixtures")

            // One function.
            let mirror = try Self.lines(try blytz(["logs", "--function", "fx-mirror"] + data).output)
            #expect(!mirror.isEmpty && mirror.allSatisfy { $0["function"] == "fx-mirror" })

            // Following: a line written after it started is printed.
            let output = NSTemporaryDirectory() + "blytz-logs-\(UUID().uuidString).out"
            FileManager.default.createFile(atPath: output, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: output) }
            let follower = Process()
            follower.executableURL = URL(fileURLWithPath: LocalRunner.buildDirectory + "/blytz")
            follower.arguments = ["logs", "--follow", "--function", "fx-inspect"] + data
            // Both streams to the file: an inherited stderr would hold the test run's own output open.
            let sink = FileHandle(forWritingAtPath: output)
            follower.standardOutput = sink
            follower.standardError = sink
            try follower.run()
            defer { follower.kill() }
            #expect(try await runner.get("/api/fx/inspect/99/followed").status == 200)
            #expect(await eventually(within: .seconds(5)) {
                ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("/fx/inspect/99/followed")
            })
        }
    }
}
