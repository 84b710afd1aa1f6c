import Foundation
import Blytz
import BlytzEvents
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

    func after(_ builder: SQLSelectBuilder, value: any Encodable & Sendable, id: String) -> SQLSelectBuilder {
        let op: SQLBinaryOperator = descending ? .lessThan : .greaterThan
        return builder.where(group: { group in
            group.where(SQLIdentifier(column), op, SQLBind(value)).orWhere(group: { both in
                both.where(SQLIdentifier(column), .equal, SQLBind(value)).where(SQLIdentifier(idColumn), op, SQLBind(id))
            })
        })
    }

    /// `query` continued after `page`'s cursor, in this order, limited to one row more than a page (which
    /// tells whether another follows). `value` reads the cursor's sort value as the column's type.
    public func select(
        _ query: SQLSelectBuilder, page: PageRequest, value: (String) -> any Encodable & Sendable = { $0 }
    ) -> SQLSelectBuilder {
        var query = query
        if let cursor = page.cursor { query = after(query, value: value(cursor.value), id: cursor.id) }
        return order(query).limit(page.limit + 1)
    }

    func order(_ builder: SQLSelectBuilder) -> SQLSelectBuilder {
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

    /// One of `allowed`, or nil when absent or not allowed (which is recorded).
    public mutating func choice(_ name: String, _ allowed: [String]) -> String? {
        guard let text = text(name) else { return nil }
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
