import Blytz
import BlytzManifest
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The dashboard's page and what it reads, under `/_local/` on the gateway:
/// - `GET /_local/`: the page (one file, no assets fetched from anywhere);
/// - `GET /_local/invocations?service=&function=&status=&trace=&after=&limit=`: recent invocations, newest first;
/// - `GET /_local/invocations/{seq}`: one, with its request and response (secrets masked);
/// - `GET /_local/traces/{traceId}`: its spans, and those of the deliveries and consumers of its events;
/// - `GET /_local/stream`: server-sent events: `invocations` (what is new, every second) and `functions`;
/// - `GET /_local/queues`: each queue function's backlog, and the dead-letter store;
/// - `POST /_local/dead-letters/replay` and `/purge` with `{"seqs":[…]}`;
/// - `GET /_local/logs?function=&trace=`: the log lines of a function or a trace, in time order;
/// - `POST /_local/otlp/v1/traces`: spans of the workers (OTLP/HTTP JSON).
struct DashboardEndpoints {
    let core: RunnerCore
    let activity: ActivityStore

    func answer(_ request: Request, parts: [String]) async -> Response {
        switch (request.method, parts.count, parts.first) {
        case (.get, 0, _):
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html))
            )
        case (.get, 1, "invocations"):
            let query = request.uri.queryParameters
            let filter = Filter(
                service: query["service"].map(String.init), function: query["function"].map(String.init), status: query["status"].map(String.init),
                traceId: query["trace"].map(String.init)
            )
            let limit = min(query["limit"].flatMap { Int($0) } ?? 200, 1000)
            let found = activity.invocations(after: query["after"].flatMap { Int($0) } ?? 0, limit: limit, where: filter.admits)
            return EventMapping.json(["invocations": found])
        case (.get, 2, "invocations"):
            guard let seq = Int(parts[1]), let invocation = activity.invocation(seq) else {
                return EventMapping.problem(404, "No invocation \(parts[1]) is kept (the last \(ActivityStore.invocationCapacity) are).")
            }
            return json(InvocationDetail.object(invocation))
        case (.get, 2, "traces"):
            let spans = activity.trace(parts[1].lowercased())
            guard !spans.isEmpty else { return EventMapping.problem(404, "No span of trace \(parts[1]) is kept.") }
            return EventMapping.json(["spans": spans])
        case (.get, 1, "stream"):
            return stream()
        case (.get, 1, "queues"):
            return await queues()
        case (.post, 2, "dead-letters"):
            return await deadLetters(request, action: parts[1])
        case (.get, 1, "logs"):
            let query = request.uri.queryParameters
            let filter = LogFilter(
                function: query["function"].map(String.init), service: query["service"].map(String.init), trace: query["trace"].map(String.init),
                requestId: query["request"].map(String.init)
            )
            let lines = LogReader(directory: core.dataDirectory + "/logs").read(filter).suffix(2000)
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n")))
            )
        case (.post, 3, "otlp") where parts[1] == "v1" && parts[2] == "traces":
            guard let ingest = core.ingest, let body = try? await request.body.collect(upTo: 16 * 1024 * 1024), await ingest.receive(body) else {
                return EventMapping.problem(400, "The body must be an OTLP ExportTraceServiceRequest in its JSON form.")
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        default:
            return EventMapping.problem(404, "No local endpoint \(request.method) \(request.uri.path).")
        }
    }

    struct Filter {
        var service: String?
        var function: String?
        /// `2xx`, `4xx`, `5xx`, `error` (400 and above) or one code.
        var status: String?
        var traceId: String?

        func admits(_ invocation: ActivityStore.Invocation) -> Bool {
            if let service, !service.isEmpty, invocation.service != service { return false }
            if let function, !function.isEmpty, invocation.function != function { return false }
            if let traceId, !traceId.isEmpty, invocation.traceId != traceId.lowercased() { return false }
            switch status ?? "" {
            case "": return true
            case "error": return invocation.status >= 400
            case let range where range.count == 3 && range.hasSuffix("xx"): return "\(invocation.status / 100)" == range.prefix(1)
            case let code: return "\(invocation.status)" == code
            }
        }
    }

    /// Every second what is new (the newest 50 invocations: a page shows a sample of a flood, and its
    /// filters ask for the rest), and every two seconds each pool's state; ends when the page goes away or
    /// the runner stops.
    private func stream() -> Response {
        let activity = self.activity
        let core = self.core
        let body = ResponseBody { writer in
            var seen = activity.nextSeq - 1
            var ticks = 0
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            while !Task.isCancelled && !Task.isShuttingDownGracefully && !core.draining {
                if ticks % 2 == 0 {
                    let snapshots = core.manifest.functions.compactMap { core.pools[$0.name]?.snapshot() }
                    try await writer.write(Self.event("functions", snapshots))
                }
                let fresh = activity.invocations(after: seen, limit: 50)
                if let newest = fresh.first {
                    seen = newest.seq
                    try await writer.write(Self.event("invocations", fresh))
                }
                ticks += 1
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"], body: body)
    }

    private static func event(_ name: String, _ value: some Encodable) -> ByteBuffer {
        let data = (try? JSON.encoder().encode(value)) ?? Data("null".utf8)
        var buffer = ByteBuffer(string: "event: \(name)\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }

    private struct DeadLetter: Encodable {
        var seq: Int
        var function: String
        var eventId: String
        var type: String
        var attempts: Int
        var lastError: String?
        var createdAt: Int64
        var envelope: String
    }

    private func queues() async -> Response {
        let statistics = await core.events.statistics()
        var dead: [DeadLetter] = []
        if let bus = core.events as? EventBus {
            dead = ((try? await bus.queue.dead()) ?? []).map {
                DeadLetter(
                    seq: $0.seq, function: $0.function, eventId: $0.event_id, type: $0.type, attempts: $0.attempts, lastError: $0.last_error,
                    createdAt: $0.created_at, envelope: InvocationDetail.maskedText($0.envelope)
                )
            }
        }
        struct Queues: Encodable {
            var queues: [QueueStatistics]
            var deadLetters: [DeadLetter]
            var deadLettersKept: Bool
        }
        return EventMapping.json(Queues(queues: statistics, deadLetters: dead, deadLettersKept: core.events is EventBus))
    }

    private func deadLetters(_ request: Request, action: String) async -> Response {
        guard ["replay", "purge"].contains(action) else { return EventMapping.problem(404, "No local endpoint POST /_local/dead-letters/\(action).") }
        guard let bus = core.events as? EventBus else {
            return EventMapping.problem(409, "This runner's events go through SQS, whose dead-letter queues AWS's own tools manage.")
        }
        struct Selection: Decodable { var seqs: [Int] }
        guard let body = try? await request.body.collect(upTo: 1024 * 1024),
            let selection = try? JSONDecoder().decode(Selection.self, from: Data(body.readableBytesView))
        else {
            return EventMapping.problem(400, "The body must be {\"seqs\": [numbers]}.", errors: [.init(field: "seqs", message: "must be a list of dead letters' seq numbers")])
        }
        do {
            let count = action == "replay"
                ? try await bus.queue.replay(seqs: selection.seqs, now: wallClockMilliseconds())
                : try await bus.queue.purge(seqs: selection.seqs)
            if action == "replay" { bus.wake() }
            return EventMapping.json([action == "replay" ? "replayed" : "purged": count])
        } catch {
            return EventMapping.problem(503, "The event queue is unavailable: \(error)")
        }
    }

    private func json(_ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// One invocation for the page: what the function was handed and what it answered, with every value
/// whose name says it is a secret (passwords, tokens, keys, cookies, authorization) masked.
enum InvocationDetail {
    static let mask = "••••••"
    static let secretWords = ["password", "token", "secret", "authorization", "cookie", "apikey", "api-key", "api_key", "signature", "credential"]

    static func isSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return !lowered.hasSuffix("type") && secretWords.contains { lowered.contains($0) }
    }

    static func object(_ invocation: ActivityStore.Invocation) -> [String: Any] {
        var object: [String: Any] = [
            "seq": invocation.seq, "time": invocation.time, "function": invocation.function, "service": invocation.service, "trigger": invocation.trigger,
            "status": invocation.status, "durationMs": invocation.durationMs, "coldStart": invocation.coldStart, "requestId": invocation.requestId,
            "operation": invocation.operation,
        ]
        if let traceId = invocation.traceId { object["traceId"] = traceId }
        if let events = invocation.events { object["events"] = events }
        let event = invocation.event.flatMap(parse)
        let answer = invocation.answer.flatMap(parse)
        if invocation.trigger == "http", let event = event as? [String: Any] {
            let http = (event["requestContext"] as? [String: Any])?["http"] as? [String: Any]
            let query = (event["rawQueryString"] as? String).map { $0.isEmpty ? "" : "?" + maskedQuery($0) } ?? ""
            object["request"] = [
                "method": http?["method"] ?? "", "path": ((event["rawPath"] as? String) ?? "") + query,
                "headers": masked(event["headers"] ?? [String: Any]()), "body": body(event["body"], base64: event["isBase64Encoded"] as? Bool ?? false),
            ]
            if let answer = answer as? [String: Any], let status = answer["statusCode"] {
                object["response"] = [
                    "status": status, "headers": masked(answer["headers"] ?? [String: Any]()),
                    "body": body(answer["body"], base64: answer["isBase64Encoded"] as? Bool ?? false),
                ]
            } else if let answer {
                object["response"] = ["body": masked(answer)]
            }
        } else {
            if let event { object["request"] = ["body": masked(event)] }
            if let answer { object["response"] = ["body": masked(answer)] }
        }
        if invocation.event != nil && event == nil { object["request"] = ["body": "(not JSON, or longer than \(ActivityStore.bodyLimit) bytes)"] }
        return object
    }

    /// The JSON `buffer` holds, if it does.
    static func parse(_ buffer: ByteBuffer) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])
    }

    /// `value` with secrets masked; a string holding a JSON object or array (an event's body) is opened.
    static func masked(_ value: Any) -> Any {
        switch value {
        case let object as [String: Any]:
            return Dictionary(uniqueKeysWithValues: object.map { key, value in (key, isSecret(key) ? mask : masked(value)) })
        case let array as [Any]:
            return array.map(masked)
        case let string as String where string.hasPrefix("{") || string.hasPrefix("["):
            return (try? JSONSerialization.jsonObject(with: Data(string.utf8))).map(masked) ?? string
        default:
            return value
        }
    }

    static func maskedText(_ text: String) -> String {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
            let data = try? JSONSerialization.data(withJSONObject: masked(value), options: [.sortedKeys, .withoutEscapingSlashes])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    static func maskedQuery(_ query: String) -> String {
        query.split(separator: "&").map { pair in
            let name = pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return isSecret(name) ? "\(name)=\(mask)" : String(pair)
        }.joined(separator: "&")
    }

    /// A body as the page shows it: JSON opened and masked, text as it is, bytes as their count.
    static func body(_ value: Any?, base64: Bool) -> Any {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if base64 {
            guard let data = Data(base64Encoded: text) else { return text }
            if let decoded = String(data: data, encoding: .utf8) { return masked(decoded) }
            return "(\(data.count) bytes)"
        }
        return masked(text)
    }
}
