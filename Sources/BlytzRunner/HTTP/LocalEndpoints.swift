import Blytz
import BlytzManifest
import Foundation
import Hummingbird
import NIOCore

/// The runner's own endpoints on the gateway, under `/_local/`:
/// - `GET /_local/functions`: each pool's workers, invocations, errors, cold starts and latency percentiles;
/// - `GET /_local/routes`: the routing table;
/// - `POST /_local/functions/{name}/invoke`: invoke with a raw event (the body), answer the raw result;
/// - `POST /_local/functions/{name}/recycle`: replace the function's workers;
/// - `POST /_local/events`: queue `{type, subject?, data}` for every subscribed queue function;
/// - the dashboard and what it reads, when the runner keeps its activity (`DashboardEndpoints`).
struct LocalEndpoints {
    let core: RunnerCore

    func answer(_ request: Request, path: String, requestID: String) async -> Response {
        let parts = path.split(separator: "/").dropFirst().map(String.init)
        switch (request.method, parts.count, parts.first, parts.last) {
        case (.get, 1, "functions", _):
            let snapshots = core.manifest.functions.compactMap { core.pools[$0.name]?.snapshot() }
            return EventMapping.json(["functions": snapshots])
        case (.post, 1, "events", _):
            return await publish(request)
        case (.get, 1, "routes", _):
            return EventMapping.json(["routes": RoutesListing(manifest: core.manifest, ports: core.ports.current).rows])
        case (.post, 3, "functions", "recycle"):
            guard let pool = core.pools[parts[1]] else { return EventMapping.problem(404, "No function named \(parts[1]).") }
            pool.recycle()
            return EventMapping.json(["status": "recycling"], status: .accepted)
        case (.post, 3, "functions", "invoke"):
            guard let function = core.manifest.function(named: parts[1]) else {
                return EventMapping.problem(404, "No function named \(parts[1]).")
            }
            guard var payload = try? await request.body.collect(upTo: core.maxBodyBytes) else {
                return EventMapping.problem(413, "The event is larger than \(core.maxBodyBytes) bytes.")
            }
            if payload.readableBytes == 0 {
                payload = ByteBuffer(bytes: Self.sampleEvent(for: function, requestID: requestID))
            }
            guard (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView))) != nil else {
                return EventMapping.problem(400, "The event must be a JSON object.")
            }
            let traceparent = TraceContext.child(of: nil)
            let (result, milliseconds) = await core.invoke(function.name, payload: payload, requestID: requestID, traceparent: traceparent)
            let response: Response
            switch result {
            case .response(let output, _):
                response = Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: output))
            case .functionError(let output, _):
                response = Response(status: .badGateway, headers: [.contentType: "application/json"], body: .init(byteBuffer: output))
            case .failed(let failure):
                response = EventMapping.problem(failure.status, failure.detail)
            }
            core.log.record(
                function: function.name, requestID: requestID, status: response.status.code, durationMs: milliseconds,
                coldStart: result.coldStart, trigger: "invoke", traceparent: traceparent, event: payload, answer: result.output
            )
            return response
        default:
            if let activity = core.activity { return await DashboardEndpoints(core: core, activity: activity).answer(request, parts: parts) }
            return EventMapping.problem(404, "No local endpoint \(request.method) \(path).")
        }
    }

    private func publish(_ request: Request) async -> Response {
        guard let body = try? await request.body.collect(upTo: core.maxBodyBytes),
            let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else {
            return EventMapping.problem(400, "The body must be a JSON object {type, subject?, data}.")
        }
        guard let type = object["type"] as? String, !type.isEmpty else {
            return EventMapping.problem(422, "The event has no type.", errors: [.init(field: "type", message: "is required")])
        }
        let data = (try? JSONSerialization.data(withJSONObject: object["data"] ?? [String: Any](), options: [.fragmentsAllowed])) ?? Data("{}".utf8)
        do {
            let id = try await core.events.publish(type: type, subject: object["subject"] as? String, data: data)
            return EventMapping.json(["id": id, "subscribers": core.events.subscribers(of: type).joined(separator: ",")], status: .accepted)
        } catch {
            return EventMapping.problem(503, "The event queue is unavailable: \(error)")
        }
    }

    /// A minimal event of the function's trigger kind, for `blytz invoke NAME` with no event.
    static func sampleEvent(for function: FunctionSpec, requestID: String) -> Data {
        let encoder = JSONEncoder()
        switch function.trigger {
        case .http(let method, let pattern):
            let path = pattern.description
            let event = APIGatewayV2Request(
                routeKey: "\(method) \(path)", rawPath: path, rawQueryString: "", cookies: nil, headers: [:],
                queryStringParameters: nil, pathParameters: nil,
                requestContext: .init(
                    domainName: "127.0.0.1", http: .init(method: method, path: path, sourceIp: "127.0.0.1", userAgent: "blytz invoke"),
                    requestId: requestID, routeKey: "\(method) \(path)", time: Date().formatted(.iso8601),
                    timeEpoch: wallClockMilliseconds()
                ),
                body: nil, isBase64Encoded: false
            )
            return (try? encoder.encode(event)) ?? Data()
        case .schedule:
            return (try? encoder.encode(ScheduledEvent(id: requestID, time: Date().formatted(.iso8601), rule: function.name))) ?? Data()
        case .queue:
            return (try? encoder.encode(SQSEvent(records: []))) ?? Data()
        case .websocket(let route):
            let now = wallClockMilliseconds()
            let event = APIGatewayWebSocketRequest(requestContext: .init(
                routeKey: route, eventType: route == "$connect" ? "CONNECT" : route == "$disconnect" ? "DISCONNECT" : "MESSAGE",
                connectionId: "blytz-invoke", requestId: requestID, messageId: nil, domainName: "127.0.0.1", connectedAt: now, requestTimeEpoch: now
            ))
            return (try? encoder.encode(event)) ?? Data()
        }
    }
}

/// The routing table, as `blytz routes` and `GET /_local/routes` show it.
public struct RoutesListing: Sendable {
    public struct Row: Codable, Sendable {
        public var function: String
        public var service: String
        public var trigger: String
        public var gateway: String?
        public var direct: String?
        /// True while the manifest's monolith still owns this route's path: the gateway forwards it there.
        public var legacy: Bool?
    }

    public var rows: [Row]

    public init(manifest: Manifest, gateway: String = "http://127.0.0.1:3000") {
        self.init(manifest: manifest, ports: nil, gateway: gateway)
    }

    init(manifest: Manifest, ports: PortRegistry.URLs?, gateway: String = "http://127.0.0.1:3000") {
        rows = manifest.functions.map { function in
            let service = manifest.service(named: function.service)
            let direct = ports?.services[function.service] ?? service.map { "http://127.0.0.1:\($0.port)" } ?? ""
            let base = ports?.gateway ?? gateway
            var row = Row(function: function.name, service: function.service, trigger: function.trigger.summary)
            switch function.trigger {
            case .http(_, let pattern):
                row.gateway = "\(base)/api\(pattern)"
                row.direct = "\(direct)\(pattern)"
                if manifest.legacy?.owns("/api\(pattern)") == true { row.legacy = true }
            case .websocket:
                if let path = service?.websocketPath {
                    row.gateway = "\(base.replacingOccurrences(of: "http", with: "ws"))/api\(path)"
                    row.direct = "\(direct.replacingOccurrences(of: "http", with: "ws"))\(path)"
                }
            case .queue, .schedule:
                break
            }
            return row
        }
    }

    /// The table as aligned text.
    public var text: String {
        let header = ["FUNCTION", "SERVICE", "TRIGGER", "GATEWAY URL"]
        let lines = [header] + rows.map { [$0.function, $0.service, $0.trigger, $0.gateway ?? "-"] }
        let widths = (0..<header.count).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { $0.element.padding(toLength: widths[$0.offset] + 2, withPad: " ", startingAt: 0) }.joined()
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
