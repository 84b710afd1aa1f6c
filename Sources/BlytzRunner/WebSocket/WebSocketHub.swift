import Blytz
import BlytzManifest
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import Synchronization

/// WebSocket APIs the way API Gateway runs them: the runner holds its services' connections, invokes the
/// service's `$connect` (which may refuse the upgrade), `$disconnect`, `$default` and named-action
/// functions, and lets handlers push to a connection id through `/@connections/{id}`. With a
/// `ConnectionRegistry` (replicas sharing a PostgreSQL queue) a push reaches a connection another
/// replica holds.
final class WebSocketHub: Sendable {
    /// One open connection.
    struct Connection: Sendable {
        var service: String
        var outbound: WebSocketOutboundWriter
        var connectedAt: Int64
        var lastActiveAt: Int64
        var sourceIP: String
    }

    struct ConnectionInfo: Codable {
        struct Identity: Codable { var sourceIp: String }
        var connectedAt: String
        var lastActiveAt: String
        var identity: Identity
    }

    typealias Handler = WebSocketDataHandler<RunnerChannel.Context>

    /// The answer to an upgrade request.
    enum Negotiation: Sendable {
        /// Not a WebSocket path: the request is served as plain HTTP.
        case notWebSocket
        case accept(Handler)
        case refuse(Refusal)
    }

    /// A refused upgrade: the status `$connect` chose and a problem document.
    struct Refusal: Sendable {
        var status: Int
        var body: ByteBuffer

        init(_ status: Int, _ detail: String) {
            self.status = status
            self.body = ByteBuffer(bytes: Problem(status: status, detail: detail).encoded)
        }
    }

    let manifest: Manifest
    /// The services whose WebSocket paths this runner accepts.
    let served: [String]
    let pools: [String: FunctionPool]
    let registry: ConnectionRegistry?
    let log: InvocationLog
    /// Routes per service: route key → function.
    let routes: [String: [String: String]]
    private let connections = Mutex<[String: Connection]>([:])
    /// Largest message accepted from a client (API Gateway's frame limit is 32 KB, its message limit 128 KB).
    static let maxMessageBytes = 128 * 1024

    init(manifest: Manifest, served: [String], pools: [String: FunctionPool], connections: ConnectionRegistry?, log: InvocationLog) {
        self.manifest = manifest
        self.served = served
        self.pools = pools
        self.registry = connections
        self.log = log
        var routes: [String: [String: String]] = [:]
        for function in manifest.functions where served.contains(function.service) {
            if case .websocket(let route) = function.trigger { routes[function.service, default: [:]][route] = function.name }
        }
        self.routes = routes
    }

    var count: Int { connections.withLock { $0.count } }

    // MARK: Upgrade

    /// Decides an upgrade request on the port of `listener` (nil: the gateway) by invoking `$connect`.
    func negotiate(uri: String, headers: [(String, String)], sourceIP: String, listener: String?) async -> Negotiation {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = String(parts[0])
        if listener == nil {
            guard path.hasPrefix("/api/") else { return .notWebSocket }
            path.removeFirst(4)
        }
        guard let service = manifest.services.first(where: {
            $0.websocketPath == path && served.contains($0.name) && (listener == nil || listener == $0.name)
        }) else {
            return .notWebSocket
        }
        let connectionID = TraceContext.requestID()
        let connectedAt = wallClockMilliseconds()
        if let function = routes[service.name]?["$connect"] {
            var fields: [String: String] = [:]
            for (name, value) in headers {
                fields[name.lowercased()] = fields[name.lowercased()].map { "\($0),\(value)" } ?? value
            }
            let query = parts.count > 1 ? EventMapping.query(String(parts[1])) : [:]
            let event = event(service: service.name, route: "$connect", type: "CONNECT", connectionID: connectionID, connectedAt: connectedAt, headers: fields, query: query)
            if case .refused(let refusal) = await invoke(function, event: event) {
                return .refuse(refusal)
            }
        }
        return .accept { [self] inbound, outbound, _ in
            await serve(connectionID, service: service.name, sourceIP: sourceIP, connectedAt: connectedAt, inbound: inbound, outbound: outbound)
        }
    }

    // MARK: Connection

    private func serve(
        _ id: String, service: String, sourceIP: String, connectedAt: Int64, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter
    ) async {
        connections.withLock {
            $0[id] = Connection(service: service, outbound: outbound, connectedAt: connectedAt, lastActiveAt: connectedAt, sourceIP: sourceIP)
        }
        await registry?.register(id, service: service, connectedAt: connectedAt, sourceIP: sourceIP)
        do {
            for try await message in inbound.messages(maxSize: Self.maxMessageBytes) {
                connections.withLock { $0[id]?.lastActiveAt = wallClockMilliseconds() }
                let (body, isBase64): (String, Bool) =
                    switch message {
                    case .text(let text): (text, false)
                    case .binary(let buffer): (Data(buffer.readableBytesView).base64EncodedString(), true)
                    }
                let route = Self.route(of: body, isBase64: isBase64, available: routes[service] ?? [:])
                guard let route, let function = routes[service]?[route] else {
                    try await outbound.write(.text(#"{"message":"No route for this message","connectionId":"\#(id)"}"#))
                    continue
                }
                var event = event(service: service, route: route, type: "MESSAGE", connectionID: id, connectedAt: connectedAt)
                event.body = body
                event.isBase64Encoded = isBase64
                if case .replied(let reply) = await invoke(function, event: event), let reply {
                    try await outbound.write(.text(reply))
                }
            }
        } catch {
            // The client went away or sent a frame over the limit; the connection ends either way.
        }
        connections.withLock { _ = $0.removeValue(forKey: id) }
        await registry?.unregister(id)
        await runDisconnect(id, service: service, connectedAt: connectedAt)
    }

    private func runDisconnect(_ id: String, service: String, connectedAt: Int64) async {
        if let function = routes[service]?["$disconnect"] {
            _ = await invoke(function, event: event(service: service, route: "$disconnect", type: "DISCONNECT", connectionID: id, connectedAt: connectedAt))
        }
    }

    /// Runs `$disconnect` for a connection whose replica died.
    func disconnected(_ orphan: ConnectionRegistry.Located) async {
        await runDisconnect(orphan.id, service: orphan.service, connectedAt: orphan.connected_at)
    }

    /// Carries out a push another replica left for a connection held here.
    func deliver(_ push: ConnectionRegistry.Push) async {
        guard let connection = connections.withLock({ $0[push.connection] }) else { return }
        switch push.kind {
        case .text: try? await connection.outbound.write(.text(push.body))
        case .binary: try? await connection.outbound.write(.binary(ByteBuffer(bytes: Data(base64Encoded: push.body) ?? Data())))
        case .close: try? await connection.outbound.close(.normalClosure, reason: nil)
        }
    }

    /// `action` of a JSON message when a function serves it, else `$default`.
    static func route(of body: String, isBase64: Bool, available: [String: String]) -> String? {
        if !isBase64, body.first == "{",
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let action = object["action"] as? String, !action.hasPrefix("$"), available[action] != nil
        {
            return action
        }
        return available["$default"] != nil ? "$default" : nil
    }

    // MARK: Management endpoint

    /// `GET`, `POST` and `DELETE /@connections/{id}`: 410 when the connection is gone.
    func manage(_ request: Request, path: String) async -> Response {
        let id = String(path.dropFirst("/@connections/".count))
        guard let connection = connections.withLock({ $0[id] }) else {
            return await manageElsewhere(request, id: id)
        }
        switch request.method {
        case .get:
            return EventMapping.json(ConnectionInfo(
                connectedAt: Self.iso(connection.connectedAt), lastActiveAt: Self.iso(connection.lastActiveAt),
                identity: .init(sourceIp: connection.sourceIP)
            ))
        case .post:
            guard let body = try? await request.body.collect(upTo: Self.maxMessageBytes) else {
                return EventMapping.problem(413, "A message may be at most \(Self.maxMessageBytes) bytes.")
            }
            do {
                if let text = body.getString(at: body.readerIndex, length: body.readableBytes), text.utf8.count == body.readableBytes {
                    try await connection.outbound.write(.text(text))
                } else {
                    try await connection.outbound.write(.binary(body))
                }
                return Response(status: .ok)
            } catch {
                return EventMapping.problem(410, "Connection \(id) is gone.")
            }
        case .delete:
            try? await connection.outbound.close(.normalClosure, reason: nil)
            return Response(status: .noContent)
        default:
            var headers = HTTPFields()
            headers[.allow] = "GET, POST, DELETE"
            return EventMapping.problem(405, "Use GET, POST or DELETE on a connection.", headers: headers)
        }
    }

    /// The management endpoint for a connection another replica holds.
    private func manageElsewhere(_ request: Request, id: String) async -> Response {
        guard let registry, let located = try? await registry.locate(id), located.replica != registry.replica else {
            return EventMapping.problem(410, "Connection \(id) is gone.")
        }
        do {
            switch request.method {
            case .get:
                let at = Self.iso(located.connected_at)
                return EventMapping.json(ConnectionInfo(connectedAt: at, lastActiveAt: at, identity: .init(sourceIp: located.source_ip)))
            case .post:
                guard let body = try? await request.body.collect(upTo: Self.maxMessageBytes) else {
                    return EventMapping.problem(413, "A message may be at most \(Self.maxMessageBytes) bytes.")
                }
                if let text = body.getString(at: body.readerIndex, length: body.readableBytes), text.utf8.count == body.readableBytes {
                    try await registry.send(.text, body: text, to: located)
                } else {
                    try await registry.send(.binary, body: Data(body.readableBytesView).base64EncodedString(), to: located)
                }
                return Response(status: .ok)
            case .delete:
                try await registry.send(.close, body: "", to: located)
                return Response(status: .noContent)
            default:
                var headers = HTTPFields()
                headers[.allow] = "GET, POST, DELETE"
                return EventMapping.problem(405, "Use GET, POST or DELETE on a connection.", headers: headers)
            }
        } catch {
            var headers = HTTPFields()
            headers[.retryAfter] = "1"
            return EventMapping.problem(503, "The connection registry is unavailable.", headers: headers)
        }
    }

    // MARK: Invocation

    enum Outcome {
        case accepted
        case replied(String?)
        case refused(Refusal)
    }

    private func invoke(_ function: String, event: APIGatewayWebSocketRequest) async -> Outcome {
        guard let pool = pools[function], let payload = try? JSONEncoder().encode(event) else {
            return .refused(Refusal(502, "The WebSocket function is unavailable."))
        }
        let requestID = event.requestContext.requestId
        let start = ContinuousClock.now
        let traceparent = TraceContext.child(of: nil)
        let result = await pool.invoke(id: requestID, payload: ByteBuffer(bytes: payload), traceparent: traceparent, on: pool.launcher.group.any())
        let outcome: Outcome
        var status = 200
        switch result {
        case .response(let output, _):
            let response = try? JSONDecoder().decode(APIGatewayWebSocketResponse.self, from: Data(output.readableBytesView))
            status = response?.statusCode ?? 200
            if (200..<300).contains(status) {
                outcome = event.requestContext.eventType == "CONNECT" ? .accepted : .replied(response?.body)
            } else {
                let detail = response?.body ?? "The connection was refused."
                outcome = .refused(Refusal((400...599).contains(status) ? status : 403, detail))
            }
        case .functionError:
            status = 502
            outcome = .refused(Refusal(502, "The WebSocket function failed."))
        case .failed(let failure):
            status = failure.status
            outcome = .refused(Refusal(failure.status, failure.detail))
        }
        let elapsed = ContinuousClock.now - start
        log.record(
            function: function, requestID: requestID, status: status,
            durationMs: elapsed.fractionalMilliseconds,
            coldStart: result.coldStart, trigger: "websocket", traceparent: traceparent,
            operation: "websocket \(event.requestContext.eventType.lowercased())", event: ByteBuffer(bytes: payload), answer: result.output
        )
        return outcome
    }

    private func event(
        service: String, route: String, type: String, connectionID: String, connectedAt: Int64,
        headers: [String: String]? = nil, query: [String: String]? = nil
    ) -> APIGatewayWebSocketRequest {
        APIGatewayWebSocketRequest(
            requestContext: .init(
                routeKey: route, eventType: type, connectionId: connectionID, requestId: TraceContext.requestID(),
                messageId: type == "MESSAGE" ? TraceContext.requestID() : nil, domainName: "127.0.0.1",
                connectedAt: connectedAt, requestTimeEpoch: wallClockMilliseconds()
            ),
            headers: headers, queryStringParameters: query
        )
    }

    static func iso(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }
}
