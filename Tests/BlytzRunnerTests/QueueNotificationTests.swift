import BlytzData
import BlytzRunner
import BlytzTesting
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct QueueNotificationTests {
    @Test func runnersSharingAPostgresQueueAreToldOfNewDeliveries() async throws {
        let url = try TestDatabase.unusedPostgresURL()
        let logger = Logger(label: "t")
        let publisher = try await EventQueue.open(.postgres(url: url), logger: logger)
        let listener = try await EventQueue.open(.postgres(url: url), logger: logger)
        let heard = Heard()
        let listening = Task { await listener.listen(logger: logger) { heard.add($0) } }
        // The listener is subscribed once a notification sent after it starts arrives.
        #expect(await eventually(within: .seconds(5)) {
            _ = try? await publisher.enqueue([.init(id: UUID().uuidString, type: "Ping", envelope: "{}")], subscribers: { _ in ["warmup"] }, now: 0)
            return heard.names.contains("warmup")
        })
        try await publisher.enqueue([.init(id: "e1", type: "JobPosted", envelope: "{}")], subscribers: { _ in ["matcher", "audit"] }, now: 0)
        #expect(await eventually(within: .seconds(5)) { heard.names.contains("matcher") && heard.names.contains("audit") })
        listening.cancel()
        await listening.value
        await publisher.shutdown()
        await listener.shutdown()
    }

    final class Heard: Sendable {
        private let state = Mutex<[String]>([])
        func add(_ name: String) { state.withLock { $0.append(name) } }
        var names: [String] { state.withLock { $0 } }
    }
}
