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

    /// Newest first, by `created_at` then `id`.
    public static let newestFirst = Keyset(column: "created_at", idColumn: "id", descending: true)

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

    /// `builder` in this order.
    public func order(_ builder: SQLSelectBuilder) -> SQLSelectBuilder {
        let direction: SQLDirection = descending ? .descending : .ascending
        return builder.orderBy(SQLIdentifier(column), direction).orderBy(SQLIdentifier(idColumn), direction)
    }
}
