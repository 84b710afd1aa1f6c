/// The bytes-level handler the runtime drives: an event in, a response out.
///
/// Typed handlers (`HTTPFunction`, `QueueFunction`, `ScheduleFunction`, `WebSocketFunction`) adapt down
/// to this, so the runtime only moves bytes and only handlers decode.
public protocol FunctionHandler: Sendable {
    func invoke(_ event: Data, context: FunctionContext) async throws -> Data
}

/// JSON coders shared by every adapter, so dates and keys look the same everywhere.
public enum JSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
