extension DecodingError {
    /// The problem a client sees for a body that does not decode: 400 for malformed JSON, 422 naming the field otherwise.
    var problem: Problem {
        func path(_ context: Context, appending key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let joined = keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return joined.hasPrefix(".") ? String(joined.dropFirst()) : (joined.isEmpty ? "body" : joined)
        }
        let field: Problem.FieldError
        switch self {
        case .keyNotFound(let key, let context):
            field = .init(field: path(context, appending: key), message: "is required")
        case .valueNotFound(let type, let context):
            field = .init(field: path(context), message: "must not be null (expected \(Self.describe(type)))")
        case .typeMismatch(let type, let context):
            field = .init(field: path(context), message: "must be \(Self.describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return Problem(status: 400, detail: "The body is not valid JSON.", errors: [.init(field: "body", message: "is not valid JSON")])
            }
            field = .init(field: path(context), message: context.debugDescription)
        @unknown default:
            field = .init(field: "body", message: "could not be decoded")
        }
        return Problem(status: 422, detail: "The request has invalid fields.", errors: [field])
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default: "a valid \(type)"
        }
    }
}
