import Blytz

/// The query of a list newest first: `?status=` (one of `Status`), `limit`, `cursor`; `keyset` walks
/// `(created_at, id)` down.
///
/// ```
/// let filters = try request.read(NewestFirst<ContractStatus>.self)
/// let rows = try await NewestFirst<ContractStatus>.keyset.select(query, page: filters.page).all(…)
/// ```
public struct NewestFirst<Status: RawRepresentable & CaseIterable & Sendable>: QueryParameters where Status.RawValue == String {
    public var status: String?
    public var page: PageRequest

    public static var keyset: Keyset { .newestFirst }

    public init(_ reader: inout QueryReader) throws(HTTPError) {
        status = reader.choice("status", Status.allCases.map(\.rawValue))
        try reader.check()
        page = try PageRequest(&reader, sort: "newest")
    }
}
