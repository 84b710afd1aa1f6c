#if canImport(Glibc)
import BlytzEvents
import Glibc
#endif
import BlytzTesting
import Foundation
import HummingbirdWSClient
import Logging
import Synchronization
import Testing
import AsyncHTTPClient
import Hummingbird
import HTTPTypes
import NIOCore
import NIOHTTP1

/// A real WebSocket client held open in the background: what the server pushes is collected, and the
/// test sends and waits for messages while other work goes on.
final class LiveSocket: Sendable {
    struct Refused: Error {}

    /// What the background connection and the test share.
    final class Shared: Sendable {
        let state = Mutex<(messages: [String], writer: WebSocketOutboundWriter?, open: Bool)>(([], nil, true))
    }

    private let shared = Shared()
    private let stop = AsyncStream<Void>.makeStream()
    private let task: Task<Void, any Error>

    /// Connects to `url`; returns once the upgrade succeeded, or throws when it was refused.
    static func connect(_ url: String) async throws -> LiveSocket {
        let opened = AsyncStream<Bool>.makeStream()
        let socket = LiveSocket(url: url, opened: opened.continuation)
        var iterator = opened.stream.makeAsyncIterator()
        guard await iterator.next() == true else { throw Refused() }
        return socket
    }

    private init(url: String, opened: AsyncStream<Bool>.Continuation) {
        let shared = self.shared
        let stop = self.stop.stream
        task = Task {
            defer {
                opened.yield(false)
                shared.state.withLock { $0.open = false }
            }
            _ = try await WebSocketClient.connect(url: url, logger: Logger(label: "live-socket")) { inbound, outbound, _ in
                shared.state.withLock { $0.writer = outbound }
                opened.yield(true)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message { shared.state.withLock { $0.messages.append(text) } }
                        }
                    }
                    group.addTask {
                        for await _ in stop { break }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    var messages: [String] { shared.state.withLock { $0.messages } }
    var isOpen: Bool { shared.state.withLock { $0.open } }

    func send(_ text: String) async throws {
        guard let writer = shared.state.withLock({ $0.writer }) else { throw Refused() }
        try await writer.write(.text(text))
    }

    /// The first message (from the start) containing `fragment`, waiting up to `limit`.
    func message(containing fragment: String, within limit: Duration = .seconds(10)) async -> String? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let found = messages.first(where: { $0.contains(fragment) }) { return found }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return messages.first { $0.contains(fragment) }
    }

    func close() async {
        stop.continuation.yield()
        stop.continuation.finish()
        _ = try? await task.value
    }
}

/// A stand-in in front of a real service on a real socket: it forwards GET requests to `target` while up,
/// and answers 503 while down (the service behind it unreachable).
final class SwitchableProxy: Sendable {
    private let state = Mutex<(target: String?, up: Bool)>((nil, true))

    var target: String? {
        get { state.withLock { $0.target } }
        set { state.withLock { $0.target = newValue } }
    }

    var up: Bool {
        get { state.withLock { $0.up } }
        set { state.withLock { $0.up = newValue } }
    }

    func serve(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("**") { request, _ -> Response in
            let (target, up) = self.state.withLock { ($0.target, $0.up) }
            guard up, let target else { return Response(status: .serviceUnavailable) }
            var forwarded = HTTPClientRequest(url: target + request.uri.description)
            for field in request.headers { forwarded.headers.add(name: field.name.rawName, value: field.value) }
            let response = try await HTTPClient.shared.execute(forwarded, timeout: .seconds(5))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            var headers = HTTPFields()
            if let type = response.headers.first(name: "content-type") { headers[.contentType] = type }
            return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: bytes))
        }
        try await StandIn.serve(router, body)
    }
}
