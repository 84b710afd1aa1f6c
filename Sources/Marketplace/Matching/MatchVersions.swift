import SQLKit

/// Which rows of `people` and `job_postings` changed since a version: every write of what matching reads
/// takes the next version from a counter row (`match_versions`) and stamps it on the row it wrote, in the
/// same transaction. The counter row's lock orders the writers, so versions commit in order: a reader that
/// has seen version `v` committed has seen every row stamped `v` or lower (`MatchIndex`).
enum MatchVersions {
    enum Kind: String, CaseIterable, Sendable {
        case people, postings

        var table: String { self == .people ? PersonRecord.table : PostingRecord.table }
        var idColumn: String { self == .people ? "user_id" : "id" }
    }

    static let table = "match_versions"

    /// Stamps row `id` with the next version.
    static func stamp(_ kind: Kind, _ id: String, on sql: any SQLDatabase) async throws {
        let version = try await next(kind, on: sql)
        try await sql.update(kind.table).set("match_version", to: SQLBind(version)).where(kind.idColumn, .equal, SQLBind(id)).run()
    }

    /// Stamps the rows `ids` with one next version (a batch written together).
    static func stamp(_ kind: Kind, _ ids: [String], on sql: any SQLDatabase) async throws {
        guard !ids.isEmpty else { return }
        let version = try await next(kind, on: sql)
        try await sql.update(kind.table).set("match_version", to: SQLBind(version)).where(kind.idColumn, .in, SQLBind.group(ids)).run()
    }

    /// Stamps every row with the next version (after a bulk load).
    static func stampAll(_ kind: Kind, on sql: any SQLDatabase) async throws {
        let version = try await next(kind, on: sql)
        try await sql.update(kind.table).set("match_version", to: SQLBind(version)).run()
    }

    /// The latest committed version.
    static func current(_ kind: Kind, on sql: any SQLDatabase) async throws -> Int {
        struct Row: Decodable { var version: Int }
        return try await sql.select().column("version").from(table).where("name", .equal, SQLBind(kind.rawValue)).first(decoding: Row.self)?.version ?? 0
    }

    private static func next(_ kind: Kind, on sql: any SQLDatabase) async throws -> Int {
        struct Row: Decodable { var version: Int }
        let row = try await sql.update(table).set(SQLIdentifier("version"), to: SQLRaw("version + 1")).where("name", .equal, SQLBind(kind.rawValue))
            .returning("version").first(decoding: Row.self)
        guard let row else { throw MissingCounter(kind: kind) }
        return row.version
    }

    struct MissingCounter: Error { var kind: Kind }
}
