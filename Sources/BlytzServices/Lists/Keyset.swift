import Foundation
import Blytz
import SQLKit

/// Keyset pagination over `(column, idColumn)`: rows strictly after the cursor in the sort order, so a page
/// never repeats or skips a row when others are inserted meanwhile.
public struct Keyset: Sendable {
    public var column: String
    public var idColumn: String
    public var descending: Bool

    public init(column: String, idColumn: String, descending: Bool) {
        self.column = column
        self.idColumn = idColumn
        self.descending = descending
    }

    public func after(_ builder: SQLSelectBuilder, value: any Encodable & Sendable, id: String) -> SQLSelectBuilder {
        let op: SQLBinaryOperator = descending ? .lessThan : .greaterThan
        return builder.where(group: { group in
            group.where(SQLIdentifier(column), op, SQLBind(value)).orWhere(group: { both in
                both.where(SQLIdentifier(column), .equal, SQLBind(value)).where(SQLIdentifier(idColumn), op, SQLBind(id))
            })
        })
    }

    public func order(_ builder: SQLSelectBuilder) -> SQLSelectBuilder {
        let direction: SQLDirection = descending ? .descending : .ascending
        return builder.orderBy(SQLIdentifier(column), direction).orderBy(SQLIdentifier(idColumn), direction)
    }
}

/// Reads filters from a query string, collecting a 422 entry per bad value.
public struct QueryReader {
    public let query: [String: String]
    public var errors: [Problem.FieldError] = []

    public init(_ query: [String: String]) {
        self.query = query
    }

    public func text(_ name: String) -> String? {
        query[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
    }

    public mutating func int(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = text(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            errors.append(.init(field: name, message: "must be an integer from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return value
    }

    public mutating func number(_ name: String, in range: ClosedRange<Double>) -> Double? {
        guard let text = text(name) else { return nil }
        guard let value = Double(text), range.contains(value) else {
            errors.append(.init(field: name, message: "must be a number from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return value
    }

    public mutating func bool(_ name: String) -> Bool? {
        guard let text = text(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default:
            errors.append(.init(field: name, message: "must be true or false"))
            return nil
        }
    }

    public mutating func choice(_ name: String, _ allowed: [String], default fallback: String) -> String {
        guard let text = text(name) else { return fallback }
        guard allowed.contains(text) else {
            errors.append(.init(field: name, message: "must be one of \(allowed.joined(separator: ", "))"))
            return fallback
        }
        return text
    }

    public mutating func country(_ name: String) -> String? {
        guard let text = text(name) else { return nil }
        guard text.count == 2, text.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            errors.append(.init(field: name, message: "must be an ISO 3166-1 alpha-2 code such as PH"))
            return nil
        }
        return text.uppercased()
    }

    public func check() throws(HTTPError) {
        if !errors.isEmpty { throw .unprocessable(errors) }
    }
}
