import Synchronization

/// The URLs of the gateway and each service once their servers listen (ports may be ephemeral),
/// so workers are only started when every URL they are handed is real.
final class PortRegistry: Sendable {
    struct URLs: Sendable, Codable {
        var gateway: String
        var services: [String: String]
    }

    private struct State {
        var gateway: String?
        var services: [String: String] = [:]
        var waiting: [CheckedContinuation<URLs, Never>] = []
        var ready: URLs?
    }

    private let expected: Set<String>
    private let state = Mutex(State())

    init(services: [String]) {
        expected = Set(services)
    }

    /// Records the URL a server listens on; the last one makes the registry ready.
    func bound(_ name: String?, port: Int) {
        let url = "http://127.0.0.1:\(port)"
        let (waiters, urls) = state.withLock { state -> ([CheckedContinuation<URLs, Never>], URLs?) in
            if let name { state.services[name] = url } else { state.gateway = url }
            guard state.ready == nil, let gateway = state.gateway, Set(state.services.keys) == expected else { return ([], nil) }
            state.ready = URLs(gateway: gateway, services: state.services)
            defer { state.waiting = [] }
            return (state.waiting, state.ready)
        }
        if let urls { waiters.forEach { $0.resume(returning: urls) } }
    }

    /// Waits until every server listens.
    func ready() async -> URLs {
        await withCheckedContinuation { continuation in
            let urls = state.withLock { state -> URLs? in
                if state.ready == nil { state.waiting.append(continuation) }
                return state.ready
            }
            if let urls { continuation.resume(returning: urls) }
        }
    }

    var current: URLs? { state.withLock { $0.ready } }
}
