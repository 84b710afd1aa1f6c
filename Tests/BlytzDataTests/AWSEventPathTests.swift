import AsyncHTTPClient
import Blytz
import BlytzAWS
import BlytzData
import BlytzTesting
import Foundation
import Logging
import NIOCore
import SQLKit
import SigV4
import Testing

/// The event path on AWS against moto's SNS and SQS: committed events leave the outbox for the topic,
/// reach the queues subscribed to their type as SNS notifications, and are read by the SDK as they arrive.
@Suite(.serialized) struct AWSEventPathTests {
    struct Posted: Event, Equatable {
        static let type: EventType = "JobPosted"
        var id: String
        var subject: String { id }
    }

    /// A topic with two subscribed queues in moto, and a service database with a publisher to the topic.
    func withBus(_ body: (OutboxPublisher, _ posted: SQSQueue, _ other: SQSQueue) async throws -> Void) async throws {
        try await PythonServer.with(module: "moto.server", arguments: ["-p", "{port}", "-H", "127.0.0.1"]) { port in
            let settings = AWSSettings(region: "us-east-1", credentials: .init(accessKeyId: "testing", secretAccessKey: "testing"), endpoint: "http://127.0.0.1:\(port)")
            let topic = try await SNSTopic.create("events", settings: settings)
            let posted = try await SQSQueue.create("on-posted", attributes: ["VisibilityTimeout": "30"], settings: settings)
            let other = try await SQSQueue.create("on-other", settings: settings)
            for (queue, types) in [(posted, ["JobPosted"]), (other, ["ProposalSubmitted"])] {
                try await queue.allow(topicArn: topic.arn)
                try await topic.subscribe(queueArn: try await queue.arn(), types: types)
            }
            try await TestDatabase.with(.sqlite) { database in
                try await Migrator(service: "marketplace", migrations: []).migrate(database, logger: Logger(label: "t"))
                try await body(OutboxPublisher(topic: topic, database: database), posted, other)
            }
        }
    }

    func publish(_ id: String, on database: ServiceDatabase) async throws -> String {
        let context = TestContext.make(configuration: ["BLYTZ_SERVICE": "marketplace"])
        return try await database.transaction { sql in try await context.publish(Posted(id: id), on: sql) }
    }

    @Test func aCommittedEventReachesTheQueueSubscribedToItsTypeAsAnSNSNotification() async throws {
        try await withBus { publisher, posted, other in
            let id = try await publish("j1", on: publisher.database)
            #expect(try await publisher.flush() == 1)
            #expect(try await Outbox.pending(publisher.database).isEmpty)
            let received = try await posted.receive(wait: 5)
            try #require(received.count == 1)
            // SNS wraps the envelope; the SDK reads it back as the SQS event source hands it over.
            let notification = try JSONDecoder().decode(SNSNotification.self, from: Data(received[0].body.utf8))
            #expect(notification.type == "Notification" && notification.messageAttributes?["type"]?.value == "JobPosted")
            let record = SQSEvent.Message(messageId: received[0].messageId, body: received[0].body, queue: "on-posted")
            let envelope = try JSON.decoder().decode(EventEnvelope<Posted>.self, from: Data(record.event.utf8))
            #expect(envelope.id == id && envelope.data == Posted(id: "j1"))
            // The other queue's filter keeps the event out.
            #expect(try await other.receive(wait: 1).isEmpty)
            // Nothing is handed over twice.
            #expect(try await publisher.flush() == 0)
        }
    }

    @Test func whatACrashLeftBeforeTheHandOverTheSweepDelivers() async throws {
        try await withBus { publisher, posted, _ in
            // Committed, then the worker died before flushing: the schedule's sweep hands it over.
            let ids = [try await publish("j1", on: publisher.database), try await publish("j2", on: publisher.database)]
            var dependencies = Dependencies()
            dependencies[OutboxPublisherKey.self] = publisher
            try await OutboxSweep().handle(ScheduledEvent(id: "sweep", time: "2026-12-06T00:00:00Z", rule: OutboxSweep.name), context: TestContext.make(dependencies: dependencies))
            var arrived: [String] = []
            _ = await eventually(within: .seconds(10)) {
                for message in (try? await posted.receive(limit: 10, wait: 1)) ?? [] {
                    let record = SQSEvent.Message(messageId: message.messageId, body: message.body, queue: "on-posted")
                    if let envelope = try? JSON.decoder().decode(EventEnvelope<Posted>.self, from: Data(record.event.utf8)) { arrived.append(envelope.id) }
                    try? await posted.delete(message)
                }
                return arrived.count >= 2
            }
            #expect(arrived.sorted() == ids.sorted())
            #expect(try await Outbox.pending(publisher.database).isEmpty)
        }
    }

    /// Pushes go to API Gateway's management API signed as AWS signs: a server checks each signature with
    /// botocore (AWS's SDK) at the request's own date, and moto's management API takes them.
    @Test func pushesReachTheManagementAPISignedAsAWSSigns() async throws {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        let tools = ["PYTHONPATH": FileManager.default.currentDirectoryPath + "/local/tools"]
        try await PythonServer.with(module: "sigv4_check_server", arguments: ["{port}", "execute-api", "us-east-1"], environment: tools) { port in
            func connections(secret: String) -> APIGatewayConnections {
                APIGatewayConnections(
                    endpoint: "http://127.0.0.1:\(port)/live",
                    settings: AWSSettings(region: "us-east-1", credentials: .init(accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret))
                )
            }
            let signed = connections(secret: secret)
            try await signed.post(Data(#"{"type":"message.new"}"#.utf8), to: "GyvX8cGvIAMCKhQ=")
            try await signed.close("GyvX8cGvIAMCKhQ=")
            // 410 Gone is a closed connection.
            await #expect(throws: ConnectionGone(connectionId: "gone-1")) { try await signed.post(Data("late".utf8), to: "gone-1") }
            // A wrong signature is refused.
            await #expect(throws: ConnectionManagerError(status: 403)) { try await connections(secret: "wrong").post(Data("x".utf8), to: "c1") }
            let answer = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/_pushes"), timeout: .seconds(5))
            let pushes = String(buffer: try await answer.body.collect(upTo: 1 << 20))
            #expect(pushes.contains(#""method": "POST", "path": "/live/@connections/GyvX8cGvIAMCKhQ=", "connection": "GyvX8cGvIAMCKhQ=", "body": "{\"type\":\"message.new\"}""#), "\(pushes)")
            #expect(pushes.contains(#""method": "DELETE""#))
        }
        try await PythonServer.with(module: "moto.server", arguments: ["-p", "{port}", "-H", "127.0.0.1"]) { port in
            let moto = APIGatewayConnections(
                endpoint: "http://127.0.0.1:\(port)", settings: AWSSettings(region: "us-east-1", credentials: .init(accessKeyId: "testing", secretAccessKey: "testing"))
            )
            try await moto.post(Data("hello".utf8), to: "c1")
            try await moto.close("c1")
        }
    }

    /// AWS's documented body of an SNS notification delivered to an SQS queue (Amazon SNS Developer Guide,
    /// "Fanout to Amazon SQS queues"), with an event as its `Message`.
    @Test func theSDKReadsTheEventInsideAWSsDocumentedNotification() throws {
        let envelope = #"{"id":"e-1","type":"JobPosted","version":1,"source":"marketplace","time":"2026-12-06T10:00:00.000Z","subject":"j1","data":{"id":"j1"}}"#
        let escaped = String(decoding: try JSONEncoder().encode(envelope), as: UTF8.self)
        let body = """
            {
              "Type" : "Notification",
              "MessageId" : "63a3f6b6-d533-4a47-aef9-fcf5cf758c76",
              "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
              "Subject" : "Testing publish to subscribed queues",
              "Message" : \(escaped),
              "Timestamp" : "2012-03-29T05:12:16.901Z",
              "SignatureVersion" : "1",
              "Signature" : "EXAMPLEnTrFPa3...",
              "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
              "UnsubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTopic:c7fe3a54-ab0e-4ec2-88e0-db410a0f2bee"
            }
            """
        let record = SQSEvent.Message(messageId: "m1", body: body, queue: "q")
        #expect(record.event == envelope)
        let decoded = try JSON.decoder().decode(EventEnvelope<Posted>.self, from: Data(record.event.utf8))
        #expect(decoded.id == "e-1" && decoded.data == Posted(id: "j1"))
        // A body that is the envelope itself (the local queue, raw delivery) is read as it is.
        #expect(SQSEvent.Message(messageId: "m2", body: envelope, queue: "q").event == envelope)
    }
}
