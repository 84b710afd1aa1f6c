import Blytz
import BlytzManifest
import BlytzObjects
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Tracing

/// The request context of the runner's listeners: it keeps the channel, for the caller's address.
struct RunnerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// What a listener of the runner answers.
enum ListenerRole: Sendable {
    /// `blytz local`'s gateway: `/api/<segment>/…` routed to the owning service, and the runner's own
    /// endpoints (`/_local/*`, `/@connections/*`, `/openapi.json`), on loopback.
    case gateway
    /// One service's port: its routes and WebSocket path, `/health` and `/ready`, nothing of the runner's.
    case service(String)
    /// A served service's runner endpoints (`/_local/*`, `/@connections/*`), on loopback only.
    case runner

    var service: String? {
        if case .service(let name) = self { return name }
        return nil
    }

    var isGateway: Bool {
        if case .gateway = self { return true }
        return false
    }

    var isRunner: Bool {
        if case .runner = self { return true }
        return false
    }
}

/// Answers HTTP on one listener. Routes come from the manifest; each request becomes an API Gateway v2.0
/// event for the function's pool.
struct RunnerResponder: HTTPResponder {
    typealias Context = RunnerRequestContext

    let core: RunnerCore
    let role: ListenerRole

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = TraceContext.acceptableRequestID(request.headers[.requestID]) ?? TraceContext.requestID()
        var response = await answer(request, context: context, requestID: requestID)
        response.headers[.requestID] = requestID
        return response
    }

    private func answer(_ request: Request, context: Context, requestID: String) async -> Response {
        let path = request.uri.path
        switch path {
        case "/health":
            return EventMapping.json(["status": "ok"])
        case "/openapi.json" where role.isGateway && request.method == .get:
            return await OpenAPIEndpoint.answer(core)
        case "/metrics" where request.method == .get && !role.isRunner:
            return await metrics()
        case "/ready":
            return core.draining
                ? EventMapping.problem(503, "The runner is shutting down.")
                : EventMapping.json(["status": "ready"])
        default:
            break
        }
        let servicePath: String
        let owner: String
        switch role {
        case .service(let service):
            servicePath = path
            owner = service
        case .gateway, .runner:
            if path.hasPrefix(LocalObjects.pathPrefix + "/") { return await LocalObjectEndpoint(core: core).answer(request, context: context) }
            if path == "/_local" { return Response(status: .movedPermanently, headers: [.location: "/_local/"]) }
            if path.hasPrefix("/_local/") { return await LocalEndpoints(core: core).answer(request, path: path, requestID: requestID) }
            if path.hasPrefix("/@connections/") { return await core.hub.manage(request, path: path) }
            guard role.isGateway else { return EventMapping.problem(404, "No runner endpoint \(path).") }
            if let legacy = core.legacy, legacy.legacy.owns(path) {
                return await legacy.forward(request, peer: context.channel.remoteAddress?.ipAddress)
            }
            guard path == "/api" || path.hasPrefix("/api/") else { return EventMapping.problem(404, "No route for \(path); the API lives under /api.") }
            servicePath = String(path.dropFirst(4))
            guard let found = core.routes.service(forPath: servicePath) else {
                return EventMapping.problem(404, "No service serves \(servicePath).")
            }
            owner = found
        }
        let method = request.method.rawValue
        switch core.routes.match(method: method, path: servicePath, service: owner) {
        case .notFound:
            return EventMapping.problem(404, "No route for \(method) \(servicePath).")
        case .methodNotAllowed(let allowed):
            var headers = HTTPFields()
            headers[.allow] = allowed.joined(separator: ", ")
            return EventMapping.problem(405, "\(method) is not allowed on \(servicePath); allowed: \(allowed.joined(separator: ", ")).", headers: headers)
        case .function(let function, let parameters):
            return await invoke(function, request: request, context: context, path: servicePath, parameters: parameters, requestID: requestID)
        }
    }

    /// `GET /metrics`: the runner's metrics, of every service hosted here (the gateway) or of the port's own.
    private func metrics() async -> Response {
        guard let metrics = core.log.metrics else { return EventMapping.problem(404, "This runner keeps no metrics.") }
        let pools = core.pools.values.map { $0.snapshot() }
        let text = metrics.exposition(pools: pools, queues: await core.events.statistics(), outboxes: await core.events.outboxWaiting(), service: role.service)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    private func invoke(
        _ function: String, request: Request, context: Context, path: String, parameters: [String: String], requestID: String
    ) async -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > core.maxBodyBytes {
            return EventMapping.problem(413, "The body is larger than \(core.maxBodyBytes) bytes.")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: core.maxBodyBytes)
        } catch {
            return EventMapping.problem(413, "The body is larger than \(core.maxBodyBytes) bytes.")
        }
        let routeKey = core.routes.routeKeys[function] ?? "$default"
        let incoming = request.headers[.traceparent]
        let operation = "\(request.method.rawValue) \(routeKey.split(separator: " ").last.map(String.init) ?? path)"
        return await RunnerTraces.invocation(
            core.tracer, operation, kind: .server, parent: incoming,
            attributes: ["http.request.method": request.method.rawValue, "url.path": path, "blytz.function": function]
        ) { traceparent, span in
            let event = EventMapping.event(
                request: request, path: path, routeKey: routeKey, parameters: parameters, body: body, requestID: requestID,
                traceparent: traceparent, sourceIP: context.channel.remoteAddress?.ipAddress ?? "127.0.0.1",
                host: request.head.authority ?? "127.0.0.1"
            )
            let payload = event.json
            let (result, milliseconds) = await core.invoke(function, payload: payload, requestID: requestID, traceparent: traceparent)
            let response: Response
            switch result {
            case .response(let output, _):
                response = EventMapping.response(from: output) ?? EventMapping.problem(502, "The function answered with something that is not a valid response.")
            case .functionError(let output, _):
                response = EventMapping.problem(502, "The function failed: \(RuntimeAPIHandler.errorMessage(output))")
            case .failed(let failure):
                var headers = HTTPFields()
                if failure.status == 503 { headers[.retryAfter] = "1" }
                response = EventMapping.problem(failure.status, failure.detail, headers: headers)
            }
            span?.attributes["http.response.status_code"] = "\(response.status.code)"
            if response.status.code >= 500 { span?.setStatus(.init(code: .error)) }
            core.log.record(
                function: function, requestID: requestID, status: response.status.code, durationMs: milliseconds,
                coldStart: result.coldStart, trigger: "http", traceparent: traceparent,
                operation: operation, parent: incoming, event: payload, answer: result.output
            )
            return response
        }
    }
}
