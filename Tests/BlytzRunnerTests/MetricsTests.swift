import Blytz
import BlytzEvents
import BlytzTesting
import Foundation
import NIOHTTP1
import Testing

/// `GET /metrics`: the runner's view in Prometheus' text format, read back by prometheus-client's parser
/// (`Tests/Fixtures/parse_metrics.py`), moving as requests and events go through.
@Suite(.serialized, .timeLimit(.minutes(3))) struct MetricsTests {
    struct Sample: Decodable {
        var name: String
        var labels: [String: String]
        var value: Double
        var type: String
    }

    /// The exposition at `base` (the gateway unless given), parsed.
    static func scrape(_ runner: LocalRunner, base: String? = nil) async throws -> [Sample] {
        let reply = try await runner.get("/metrics", base: base)
        #expect(reply.status == 200)
        #expect(reply.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let file = NSTemporaryDirectory() + "blytz-metrics-\(UUID().uuidString).txt"
        try reply.text.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let python = try #require(ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"], "run the tests with ./local/test, which installs prometheus-client")
        let parsed = try runProcess(python, ["Tests/Fixtures/parse_metrics.py", file])
        try #require(parsed.status == 0, "prometheus-client refused the exposition: \(parsed.output)")
        return try JSONDecoder().decode([Sample].self, from: Data(parsed.output.utf8))
    }

    /// The value of the sample `name` whose labels include `labels` (0 when there is none).
    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value ?? 0
    }

    @Test func invocationsDurationsColdStartsAndWorkersMoveAsRequestsAreMade() async throws {
        try await withRunner { runner in
            let before = try await Self.scrape(runner)
            for _ in 0..<3 { #expect(try await runner.get("/api/fx/inspect/1/x").status == 200) }
            #expect(try await runner.get("/api/fx/throw").status == 500)
            #expect(try await runner.get("/api/fx/crash").status == 502)
            let after = try await Self.scrape(runner)

            let inspect = ["service": "fixtures", "function": "fx-inspect"]
            let invoked = "blytz_function_invocations_total"
            #expect(Self.value(after, invoked, inspect.merging(["code": "200", "trigger": "http"]) { $1 }) - Self.value(before, invoked, inspect.merging(["code": "200"]) { $1 }) == 3)
            #expect(Self.value(after, invoked, ["function": "fx-throw", "code": "500"]) == 1)
            #expect(Self.value(after, invoked, ["function": "fx-crash", "code": "502"]) == 1)
            #expect(Self.value(after, "blytz_function_crashes_total", ["function": "fx-crash"]) >= 1)
            // Durations: a histogram in seconds, whose count follows the invocations.
            #expect(after.first { $0.name == "blytz_function_duration_seconds_count" && $0.labels["function"] == "fx-inspect" }?.type == "histogram")
            #expect(Self.value(after, "blytz_function_duration_seconds_count", inspect) == 3)
            #expect(Self.value(after, "blytz_function_duration_seconds_bucket", inspect.merging(["le": "+Inf"]) { $1 }) == 3)
            #expect(Self.value(after, "blytz_function_duration_seconds_sum", inspect) > 0)
            // The first request waited for a worker: one cold invocation. Each worker started (a second may
            // have been started while the first was starting, on a loaded machine) has its start timed once it
            // asks for work; the first is idle now.
            #expect(Self.value(after, "blytz_function_cold_starts_total", inspect) == 1)
            let started = Self.value(after, "blytz_function_workers_started_total", inspect)
            let timed = Self.value(after, "blytz_function_cold_start_duration_seconds_count", inspect)
            #expect(timed >= 1 && timed <= started)
            #expect(Self.value(after, "blytz_function_workers", inspect.merging(["state": "idle"]) { $1 }) >= 1)
            // Warm workers are counted before any request reaches them.
            #expect(Self.value(after, "blytz_function_workers", ["function": "fx-warm", "state": "idle"]) == 2)

            // A service's port shows its own series only.
            let polyglot = try await Self.scrape(runner, base: runner.urls.services["polyglot"])
            #expect(!polyglot.isEmpty && polyglot.allSatisfy { $0.labels["service"] == "polyglot" })
            let fixtures = try await Self.scrape(runner, base: runner.urls.services["fixtures"])
            #expect(Self.value(fixtures, invoked, ["function": "fx-inspect", "code": "200"]) == 3)
        }
    }

    @Test func queueRetriesDeadLettersAndBacklogsAreCounted() async throws {
        try await withRunner { runner in
            // Items that fail every attempt are retried twice (maxRetries 2), then dead-lettered.
            for index in 0..<3 {
                let published = try await runner.post("/_local/events", json: #"{"type":"ThingHappened","data":{"n":\#(index),"fail":true}}"#)
                #expect(published.status == 202)
            }
            let dead = ["service": "fixtures", "function": "fx-queue"]
            var samples: [Sample] = []
            #expect(await eventually(within: .seconds(20)) {
                samples = (try? await Self.scrape(runner)) ?? []
                return Self.value(samples, "blytz_queue_dead_letters", dead) == 3
            })
            #expect(Self.value(samples, "blytz_queue_retries_total", dead) == 6)
            #expect(Self.value(samples, "blytz_queue_backlog", dead) == 0)
            #expect(Self.value(samples, "blytz_queue_in_flight", dead) == 0)
            #expect(Self.value(samples, "blytz_function_invocations_total", dead.merging(["trigger": "queue"]) { $1 }) >= 3)
            #expect(samples.contains { $0.name == "blytz_outbox_waiting_events" && $0.labels["service"] == "fixtures" })

            // Every metric the shipped Grafana dashboard queries is one the runner exposes.
            let dashboard = try String(contentsOfFile: "deploy/grafana/blytz-dashboard.json", encoding: .utf8)
            let queried = Set(dashboard.matches(of: /blytz_[a-z_]+/).map { String($0.output) })
            #expect(queried.count >= 10)
            let exposed = Set(samples.map(\.name))
            for name in queried.sorted() { #expect(exposed.contains(name), "the dashboard queries \(name), which /metrics does not show") }

            // Behind a slow consumer, events wait in its backlog and the oldest one's age grows; then all are delivered.
            for _ in 0..<3 { #expect(try await runner.post("/_local/events", json: #"{"type":"Lagged","data":{"ms":1500}}"#).status == 202) }
            let lag = ["function": "fx-lag"]
            #expect(await eventually(within: .seconds(10)) {
                let now = (try? await Self.scrape(runner)) ?? []
                return Self.value(now, "blytz_queue_in_flight", lag) == 1 && Self.value(now, "blytz_queue_backlog", lag) >= 1
                    && Self.value(now, "blytz_queue_oldest_event_age_seconds", lag) >= 1
            })
            #expect(await eventually(within: .seconds(15)) {
                let now = (try? await Self.scrape(runner)) ?? []
                return Self.value(now, "blytz_queue_backlog", lag) + Self.value(now, "blytz_queue_in_flight", lag) == 0
                    && Self.value(now, "blytz_queue_oldest_event_age_seconds", lag) == 0
                    && Self.value(now, "blytz_function_invocations_total", lag.merging(["code": "200"]) { $1 }) == 3
            })
        }
    }
}
