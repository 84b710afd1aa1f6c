import Foundation

/// The query parameters a handler reads, as one type: the handler reads them with `request.read(Query.self)`,
/// and the OpenAPI document lists them from the same code (reading an empty query records each one).
///
/// ```
/// struct Query: QueryParameters {
///     var unread: Bool?
///     init(_ reader: inout QueryReader) throws(HTTPError) {
///         unread = reader.bool("unread")
///         try reader.check()
///     }
/// }
/// ```
public protocol QueryParameters: Sendable {
    init(_ reader: inout QueryReader) throws(HTTPError)
}

/// The query of a handler that reads none.
public struct NoQuery: QueryParameters {
    public init(_ reader: inout QueryReader) {}
}

/// One query parameter as the OpenAPI document lists it.
public struct QueryParameter: Codable, Sendable, Equatable {
    public var name: String
    public var schema: JSONValue
}

extension FunctionRequest {
    /// The query read as `type`; a bad value is a 422 naming the parameter.
    public func read<Query: QueryParameters>(_ type: Query.Type) throws(HTTPError) -> Query {
        var reader = QueryReader(query)
        return try Query(&reader)
    }
}

extension QueryParameters {
    /// The parameters this type reads, each with its schema, in the order it reads them.
    public static var parameters: [QueryParameter] {
        var reader = QueryReader([:])
        _ = try? Self(&reader)
        return reader.parameters
    }
}

/// Reads filters from a query string, collecting a 422 entry per bad value, and recording each parameter
/// it is asked for with its schema.
public struct QueryReader {
    public let query: [String: String]
    public var errors: [Problem.FieldError] = []
    /// Every parameter read so far, with its schema.
    public private(set) var parameters: [QueryParameter] = []

    public init(_ query: [String: String]) {
        self.query = query
    }

    /// Records `name` (once) with `schema`; the readers below call it, and so may a reader of its own.
    public mutating func declare(_ name: String, _ schema: JSONValue) {
        if !parameters.contains(where: { $0.name == name }) { parameters.append(QueryParameter(name: name, schema: schema)) }
    }

    func value(_ name: String) -> String? {
        query[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    public mutating func text(_ name: String) -> String? {
        declare(name, ["type": "string"])
        return value(name)
    }

    public mutating func int(_ name: String, in range: ClosedRange<Int>) -> Int? {
        declare(name, ["type": "integer", "minimum": .number(Double(range.lowerBound)), "maximum": .number(Double(range.upperBound))])
        guard let text = value(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            errors.append(.init(field: name, message: "must be an integer from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return value
    }

    public mutating func number(_ name: String, in range: ClosedRange<Double>) -> Double? {
        declare(name, ["type": "number", "minimum": .number(range.lowerBound), "maximum": .number(range.upperBound)])
        guard let text = value(name) else { return nil }
        guard let value = Double(text), range.contains(value) else {
            errors.append(.init(field: name, message: "must be a number from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return value
    }

    public mutating func bool(_ name: String) -> Bool? {
        declare(name, ["type": "boolean"])
        guard let text = value(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default:
            errors.append(.init(field: name, message: "must be true or false"))
            return nil
        }
    }

    /// One of `allowed`, or nil when absent or not allowed (which is recorded).
    public mutating func choice(_ name: String, _ allowed: [String]) -> String? {
        declare(name, ["type": "string", "enum": .array(allowed.map { .string($0) })])
        guard let text = value(name) else { return nil }
        guard allowed.contains(text) else {
            errors.append(.init(field: name, message: "must be one of \(allowed.joined(separator: ", "))"))
            return nil
        }
        return text
    }

    public mutating func choice(_ name: String, _ allowed: [String], default fallback: String) -> String {
        choice(name, allowed) ?? fallback
    }

    public mutating func country(_ name: String) -> String? {
        declare(name, ["type": "string", "pattern": "^[A-Za-z]{2}$"])
        guard let text = value(name) else { return nil }
        guard text.count == 2, text.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            errors.append(.init(field: name, message: "must be an ISO 3166-1 alpha-2 code such as PH"))
            return nil
        }
        return text.uppercased()
    }

    /// Throws the collected errors as one 422, and clears them.
    public mutating func check() throws(HTTPError) {
        defer { errors = [] }
        if !errors.isEmpty { throw .unprocessable(errors) }
    }
}
