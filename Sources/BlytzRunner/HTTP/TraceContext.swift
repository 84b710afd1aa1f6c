/// W3C trace context: an incoming `traceparent` is continued (same trace, new span), otherwise one is started.
enum TraceContext {
    /// The `traceparent` to hand the function: a child of `incoming` when it is valid.
    static func child(of incoming: String?) -> String {
        var generator = SystemRandomNumberGenerator()
        let span = hex(generator.next(), digits: 16)
        if let incoming, let (trace, flags) = parse(incoming) {
            return "00-\(trace)-\(span)-\(flags)"
        }
        return "00-\(hex(generator.next(), digits: 16))\(hex(generator.next(), digits: 16))-\(span)-01"
    }

    /// The trace id and flags of a valid version-00 `traceparent`.
    static func parse(_ value: String) -> (trace: String, flags: String)? {
        let parts = value.lowercased().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts.dropFirst().allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
            parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16)
        else { return nil }
        return (String(parts[1]), String(parts[3]))
    }

    /// The same trace in the X-Ray form Lambda's `Lambda-Runtime-Trace-Id` carries.
    static func xrayHeader(_ traceparent: String) -> String {
        let parts = traceparent.split(separator: "-")
        guard parts.count == 4 else { return "" }
        let trace = parts[1]
        return "Root=1-\(trace.prefix(8))-\(trace.dropFirst(8));Parent=\(parts[2]);Sampled=\(parts[3] == "01" ? 1 : 0)"
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
