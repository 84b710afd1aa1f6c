import Blytz
import W3CTraceContext

/// W3C trace context (parsed and written by swift-w3c-trace-context): an incoming `traceparent` is
/// continued (same trace and flags, new span), otherwise one is started.
enum TraceContext {
    /// The `traceparent` to hand the function: a child of `incoming` when it is valid.
    static func child(of incoming: String?) -> String {
        if let incoming, let parent = try? W3CTraceContext.TraceContext(traceParentHeaderValue: incoming) {
            return W3CTraceContext.TraceContext(traceID: parent.traceID, spanID: .random(), flags: parent.flags, state: parent.state).traceParentHeaderValue
        }
        return W3CTraceContext.TraceContext(traceID: .random(), spanID: .random(), flags: .sampled, state: TraceState()).traceParentHeaderValue
    }

    /// The span id of a valid `traceparent`.
    static func spanID(_ traceparent: String) -> String? {
        guard let parts = FunctionContext.traceparentParts(traceparent), parts.spanId.utf8.count == 16 else { return nil }
        return String(parts.spanId)
    }

    /// The same trace in the X-Ray form Lambda's `Lambda-Runtime-Trace-Id` carries.
    static func xrayHeader(_ traceparent: String) -> String {
        guard let parts = FunctionContext.traceparentParts(traceparent) else { return "" }
        // Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>, appended (interpolation costs several times more).
        var header = "Root=1-"
        header.reserveCapacity(73)
        header += parts.traceId.prefix(8)
        header += "-"
        header += parts.traceId.dropFirst(8)
        header += ";Parent="
        header += parts.spanId
        header += parts.flags == "01" ? ";Sampled=1" : ";Sampled=0"
        return header
    }

    static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// A new request id: 32 hex digits.
    static func requestID() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next(), digits: 16) + hex(generator.next(), digits: 16)
    }

    /// An incoming `X-Request-Id` is kept when it is short and plain.
    static func acceptableRequestID(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.count),
            value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }), value.allSatisfy(\.isASCII)
        else { return nil }
        return value
    }
}
