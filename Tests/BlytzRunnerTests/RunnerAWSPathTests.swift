import Blytz
import BlytzAWS
import BlytzTesting
import Foundation
import NIOHTTP1
import SigV4
import Testing

/// `blytz local` on AWS's event path (`BLYTZ_QUEUE_URL=aws://…`, moto's SNS and SQS): workers hand their
/// committed outbox to the topic, each consumer polls its own queue, failures are retried and then
/// dead-lettered by SQS, and what a worker committed before dying is delivered by the runner's sweep.
@Suite(.serialized, .timeLimit(.minutes(4))) struct RunnerAWSPathTests {
    struct Seen: Decodable { var seen: Int }

    @Test func eventsTravelBySNSAndSQSRetriedDeadLetteredAndSweptAfterACrash() async throws {
        try await PythonServer.with(module: "moto.server", arguments: ["-p", "{port}", "-H", "127.0.0.1"]) { port in
            let environment = ["BLYTZ_QUEUE_URL": "aws://127.0.0.1:\(port)", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]
            try await withRunner(manifest: "Tests/Fixtures/aws.yaml", environment: environment) { runner in
                func seen() async -> Int {
                    (try? await runner.get("/api/fx/seen?consumer=fx-on-hit").json(Seen.self).seen) ?? -1
                }
                // Published by the worker itself, to SNS; delivered from fx-on-hit's own SQS queue.
                for _ in 0..<3 { #expect(try await runner.request(.POST, "/api/fx/hits").status == 200) }
                #expect(await eventually(within: .seconds(20)) { await seen() == 3 })
                #expect(await eventually(within: .seconds(5)) { Set(runner.deliveredEvents(to: "fx-on-hit")).count == 3 }, "\(runner.lines.suffix(5))")

                // A worker that dies after its commit, before it could hand the event over: the sweep does.
                let doomed = try await runner.request(.POST, "/api/fx/doomed")
                #expect(doomed.status == 502)
                #expect(await eventually(within: .seconds(20)) { await seen() == 4 })

                // A poison event is received maxRetries + 1 times, then SQS moves it to the dead-letter queue.
                let published = try await runner.post("/_local/events", json: #"{"type":"ThingHappened","data":{"n":1,"fail":true}}"#)
                #expect(published.status == 202)
                let settings = AWSSettings(region: "us-east-1", credentials: .init(accessKeyId: "testing", secretAccessKey: "testing"), endpoint: "http://127.0.0.1:\(port)")
                let dead = try await SQSQueue.create("fx-queue-dead", settings: settings)
                var deadLettered: [SQSQueue.Received] = []
                _ = await eventually(within: .seconds(30)) {
                    deadLettered += (try? await dead.receive(wait: 1)) ?? []
                    return !deadLettered.isEmpty
                }
                #expect(deadLettered.count == 1)
                let record = SQSEvent.Message(messageId: "m", body: deadLettered.first?.body ?? "", queue: "fx-queue-dead")
                #expect(record.event.contains(#""fail":true"#))
                // Its invocations, as the runner logged them (written out every 100 ms).
                let attempts = { runner.lines.filter { $0.contains(#""function":"fx-queue""#) }.count }
                _ = await eventually(within: .seconds(5)) { attempts() >= 3 }
                #expect(attempts() == 3, "fx-queue was invoked \(attempts()) times; maxRetries 2 allows 3")
            }
        }
    }
}
