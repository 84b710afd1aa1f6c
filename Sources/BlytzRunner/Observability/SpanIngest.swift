import AsyncHTTPClient
import BlytzData
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The runner as its workers' trace collector while the dashboard is on: workers export OTLP/HTTP in its
/// JSON form to `/_local/otlp/v1/traces`; their spans are kept for the dashboard, and each batch goes on
/// unchanged to the collector `OTEL_*` names, if any, so export works as it would without the runner.
struct SpanIngest: Sendable {
    /// Where batches go on to (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` +
    /// `/v1/traces`), with `OTEL_EXPORTER_OTLP_HEADERS`.
    struct Upstream: Sendable {
        var url: String
        var headers: [(String, String)]
    }

    let store: ActivityStore
    let upstream: Upstream?
    let logger: Logger

    static let path = "/_local/otlp"

    /// The collector `environment` exports to, unless export is off.
    static func upstream(_ environment: [String: String]) -> Upstream? {
        guard !TraceExport.isDisabled(environment) else { return nil }
        let url: String
        if let traces = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !traces.isEmpty {
            url = traces
        } else if let base = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], !base.isEmpty {
            url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/traces"
        } else {
            return nil
        }
        let headers = (environment["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] ?? environment["OTEL_EXPORTER_OTLP_HEADERS"] ?? "").split(separator: ",").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 2 ? (parts[0], parts[1].removingPercentEncoding ?? parts[1]) : nil
        }
        return Upstream(url: url, headers: headers)
    }

    /// What a worker exports with: OTLP/HTTP JSON to this runner's `gateway`, batches sent every 200 ms.
    static func workerEnvironment(gateway: String, inherited: [String: String]) -> [String: String] {
        var environment = inherited.filter { !["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"].contains($0.key) }
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = gateway + path
        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json"
        environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "http/json"
        return environment
    }

    /// Keeps a batch's spans and sends it on; answers whether it was OTLP JSON.
    func receive(_ body: ByteBuffer) async -> Bool {
        guard let request = try? JSONDecoder().decode(OTLPRequest.self, from: Data(body.readableBytesView)) else { return false }
        store.add(request.spans)
        if let upstream {
            var forwarded = HTTPClientRequest(url: upstream.url)
            forwarded.method = .POST
            forwarded.headers.add(name: "Content-Type", value: "application/json")
            for (name, value) in upstream.headers { forwarded.headers.add(name: name, value: value) }
            forwarded.body = .bytes(body)
            do {
                let response = try await HTTPClient.shared.execute(forwarded, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1024 * 1024)
            } catch {
                logger.warning("cannot send spans on to the collector", metadata: ["url": "\(upstream.url)", "error": "\(error)"])
            }
        }
        return true
    }
}

/// An OTLP `ExportTraceServiceRequest` in its JSON form (ids hex as the specification says, or base64 as
/// protobuf's JSON mapping writes them).
struct OTLPRequest: Decodable {
    struct Value: Decodable {
        var stringValue: String?
        var intValue: Flexible?
        var boolValue: Bool?
        var doubleValue: Double?

        var text: String {
            stringValue ?? intValue?.text ?? boolValue.map { "\($0)" } ?? doubleValue.map { "\($0)" } ?? ""
        }
    }

    /// A number written as a JSON number or as a string (64-bit integers).
    struct Flexible: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string
            } else if let number = try? container.decode(Int64.self) {
                text = "\(number)"
            } else {
                text = "\(try container.decode(Double.self))"
            }
        }
    }

    struct Attribute: Decodable {
        var key: String
        var value: Value?
    }

    struct Link: Decodable {
        var traceId: String?
        var spanId: String?
    }

    struct Status: Decodable {
        var code: Flexible?
    }

    struct Span: Decodable {
        var traceId: String?
        var spanId: String?
        var parentSpanId: String?
        var name: String?
        var kind: Flexible?
        var startTimeUnixNano: Flexible?
        var endTimeUnixNano: Flexible?
        var attributes: [Attribute]?
        var links: [Link]?
        var status: Status?
    }

    struct Scope: Decodable {
        var spans: [Span]?
    }

    struct Resource: Decodable {
        var attributes: [Attribute]?
    }

    struct ResourceSpans: Decodable {
        var resource: Resource?
        var scopeSpans: [Scope]?
    }

    var resourceSpans: [ResourceSpans]?

    static let kinds = ["1": "SPAN_KIND_INTERNAL", "2": "SPAN_KIND_SERVER", "3": "SPAN_KIND_CLIENT", "4": "SPAN_KIND_PRODUCER", "5": "SPAN_KIND_CONSUMER"]

    var spans: [ActivityStore.Span] {
        (resourceSpans ?? []).flatMap { resource in
            let service = resource.resource?.attributes?.first { $0.key == "service.name" }?.value?.text ?? "unknown"
            return (resource.scopeSpans ?? []).flatMap { $0.spans ?? [] }.compactMap { span -> ActivityStore.Span? in
                guard let traceId = span.traceId.flatMap(Self.hex), let spanId = span.spanId.flatMap(Self.hex) else { return nil }
                let kind = span.kind?.text ?? "1"
                return ActivityStore.Span(
                    traceId: traceId, spanId: spanId, parentSpanId: span.parentSpanId.flatMap(Self.hex) ?? "", name: span.name ?? "", kind: Self.kinds[kind] ?? kind,
                    service: service, startNs: Int64(span.startTimeUnixNano?.text ?? "") ?? 0, endNs: Int64(span.endTimeUnixNano?.text ?? "") ?? 0,
                    attributes: Dictionary((span.attributes ?? []).map { ($0.key, $0.value?.text ?? "") }) { first, _ in first },
                    links: (span.links ?? []).compactMap { link in
                        guard let traceId = link.traceId.flatMap(Self.hex), let spanId = link.spanId.flatMap(Self.hex) else { return nil }
                        return ActivityStore.Link(traceId: traceId, spanId: spanId)
                    },
                    error: ["2", "STATUS_CODE_ERROR"].contains(span.status?.code?.text ?? "")
                )
            }
        }
    }

    /// An id as lowercase hex: kept when it is hex already, else decoded from base64.
    static func hex(_ id: String) -> String? {
        if (id.count == 32 || id.count == 16), id.allSatisfy(\.isHexDigit) { return id.lowercased() }
        guard let bytes = Data(base64Encoded: id), bytes.count == 16 || bytes.count == 8 else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
