import Blytz
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// Typed events: the catalog, envelopes, consumers of one type and of a choice, and what does not decode.
@Suite struct EventTests {
    struct Seen: EventConsumer {
        let log = Log()
        func handle(_ event: EventEnvelope<ReviewPosted>, context: FunctionContext) async throws {
            log.add("\(event.data.targetUserId):\(event.data.rating)")
        }
    }

    struct Either: EventConsumer {
        let log = Log()
        func handle(_ event: EventEnvelope<AccountStatusConsumer.Change>, context: FunctionContext) async throws {
            switch event.data {
            case .updated(let updated): log.add("updated \(updated.userId)")
            case .deleted(let deleted): log.add("deleted \(deleted.userId)")
            }
        }
    }

    final class Log: Sendable {
        private let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func envelope(_ type: String, _ data: String, id: String = UUID().uuidString) -> String {
        #"{"id":"\#(id)","type":"\#(type)","source":"test","time":"2026-12-01T00:00:00.000Z","subject":"s","data":\#(data)}"#
    }

    @Test func everyEventOfTheContractIsInTheCatalogOnce() {
        let names = EventCatalog.types.map(\.rawValue)
        #expect(names.count == 22 && Set(names).count == 22)
        #expect(names.contains("EscrowReleased") && names.contains("FileUploaded"))
    }

    @Test func anEventRoundTripsThroughItsEnvelope() throws {
        let event = EscrowReleased(paymentId: "p", contractId: "c", milestoneId: "m", payerUserId: "a", payeeUserId: "b", grossCents: 1000, feeCents: 100, netCents: 900, currency: "USD")
        let envelope = EventEnvelope(id: "e", type: EscrowReleased.type, version: EscrowReleased.version, source: "payments", time: "t", subject: event.subject, data: event, traceparent: nil)
        let decoded = try JSON.decoder().decode(EventEnvelope<EscrowReleased>.self, from: JSON.encoder().encode(envelope))
        #expect(decoded.data.netCents == 900 && decoded.type == "EscrowReleased" && decoded.version == 1 && decoded.subject == "p")
    }

    @Test func consumersIgnoreUnknownFieldsAndDeadLetterWhatDoesNotDecode() async throws {
        let consumer = Seen()
        let good = Self.envelope("ReviewPosted", #"{"reviewId":"r","contractId":"c","reviewerUserId":"a","targetUserId":"b","rating":5,"addedLater":{"x":1}}"#)
        let missing = Self.envelope("ReviewPosted", #"{"reviewId":"r","contractId":"c","reviewerUserId":"a","rating":5}"#)
        let otherType = Self.envelope("JobPosted", #"{"x":1}"#)
        let notJSON = "{"
        let failures = try await EventHarness.deliver(consumer, [good, missing, otherType, notJSON])
        #expect(consumer.log.all == ["b:5"])
        #expect(failures.map(\.itemIdentifier) == ["m1", "m2", "m3"])
        #expect(failures.allSatisfy { $0.retryable == false })
        #expect(failures[0].reason?.contains("missing field") == true && failures[0].reason?.contains("targetUserId") == true, "\(failures[0].reason ?? "")")
        #expect(failures[1].reason?.contains("JobPosted") == true)
    }

    @Test func aChoiceDecodesTheCaseOfTheEnvelopesType() async throws {
        let consumer = Either()
        let failures = try await EventHarness.deliver(consumer, [
            Self.envelope("UserUpdated", #"{"userId":"u1","fields":["status"],"status":"suspended"}"#),
            Self.envelope("UserDeleted", #"{"userId":"u2","role":"va"}"#),
            Self.envelope("UserCreated", #"{"userId":"u3","email":"x@example.com","role":"va"}"#),
        ])
        #expect(consumer.log.all == ["updated u1", "deleted u2"])
        #expect(failures.map(\.itemIdentifier) == ["m2"])
        #expect(Either.consumedTypes == ["UserUpdated", "UserDeleted"])
    }
}

/// Hands raw envelope bodies to a consumer as one SQS batch and returns what it reported failed.
enum EventHarness {
    static func deliver(_ consumer: some FunctionHandler, _ bodies: [String]) async throws -> [SQSBatchResponse.ItemFailure] {
        let event = SQSEvent(records: bodies.enumerated().map { SQSEvent.Message(messageId: "m\($0.offset)", body: $0.element, queue: "test") })
        let output = try await consumer.invoke(try JSON.encoder().encode(event), context: TestContext.make())
        return try JSON.decoder().decode(SQSBatchResponse.self, from: output).batchItemFailures
    }
}
