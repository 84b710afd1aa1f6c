import Foundation
import Blytz
import BlytzEvents

/// `?limit=` and `?cursor=` of a list request.
public struct PageRequest: Sendable {
    public var limit: Int
    public var cursor: Cursor?
    /// The list's order; a cursor of another order is refused.
    public var sort: String

    /// Reads `limit` (1–100, default 20) and `cursor` with `reader`; bad values are 422s naming the field.
    public init(_ reader: inout QueryReader, sort: String) throws(HTTPError) {
        self.sort = sort
        limit = reader.int("limit", in: 1...100) ?? 20
        reader.declare("cursor", ["type": "string"])
        cursor = nil
        if let text = reader.query["cursor"], !text.isEmpty {
            if let cursor = Cursor(text), cursor.sort == sort { self.cursor = cursor } else { reader.errors.append(.init(field: "cursor", message: "is not a cursor of this list and sort")) }
        }
        try reader.check()
    }

    /// The page of `rows` (fetched with `Keyset.select`, one more than a page) as `item`s, with the cursor
    /// of its last row when more follow.
    public func page<Row, Item>(_ rows: [Row], _ item: (Row) -> Item, cursor: (Row) -> (value: String, id: String)) -> Page<Item> {
        let shown = rows.prefix(limit)
        let next = rows.count > limit ? shown.last.map { last in
            let (value, id) = cursor(last)
            return Cursor(sort: sort, value: value, id: id).encoded
        } : nil
        return Page(items: shown.map(item), nextCursor: next)
    }
}

/// Where a keyset page ends: the sort it belongs to, the last row's sort value, and its id.
public struct Cursor: Codable, Sendable, Equatable {
    public var sort: String
    public var value: String
    public var id: String

    public init(sort: String, value: String, id: String) {
        self.sort = sort
        self.value = value
        self.id = id
    }

    public init?(_ text: String) {
        guard let data = Data(base64URL: text), let cursor = try? JSONDecoder().decode(Cursor.self, from: data) else { return nil }
        self = cursor
    }

    /// The same text for the same cursor from any process (keys in order), so a page's answer is too.
    public var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self))?.base64URL ?? ""
    }
}
