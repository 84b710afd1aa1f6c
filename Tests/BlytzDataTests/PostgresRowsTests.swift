import BlytzData
import BlytzTesting
import Foundation
import SQLKit
import Testing

/// Rows and binds on PostgreSQL as postgres-nio codes them, and what it does not code handed to
/// postgres-kit: each kind of value a record holds reads back as it was written.
@Suite struct PostgresRowsTests {
    enum Kind: String, Codable, Equatable { case hourly, fixed }

    struct Row: Codable, Equatable {
        var text: String
        var maybeText: String?
        var count: Int
        var maybeCount: Int?
        var flag: Bool
        var maybeFlag: Bool?
        var ratio: Double
        var maybeRatio: Double?
        var big: Int64
        var kind: Kind
        var maybeKind: Kind?
        var price: Double
        var names: [String]
        var stamp: Date
    }

    @Test func everyKindOfValueReadsBackAsWritten() async throws {
        try await TestDatabase.with(.postgres) { database in
            let stamp = Date(timeIntervalSince1970: 1_700_000_000.25)
            let rows = [
                Row(text: "a", maybeText: "b", count: 3, maybeCount: -4, flag: true, maybeFlag: false, ratio: 0.5, maybeRatio: 2.25,
                    big: 1 << 40, kind: .hourly, maybeKind: .fixed, price: 12.5, names: ["x", "y"], stamp: stamp),
                Row(text: "", maybeText: nil, count: 0, maybeCount: nil, flag: false, maybeFlag: nil, ratio: -1, maybeRatio: nil,
                    big: -1, kind: .fixed, maybeKind: nil, price: 0, names: [], stamp: stamp),
            ]
            let read = try await database.withConnection { sql in
                try await sql.raw("""
                    CREATE TABLE kinds (text TEXT NOT NULL, maybe_text TEXT, count BIGINT NOT NULL, maybe_count BIGINT, flag BOOLEAN NOT NULL,
                    maybe_flag BOOLEAN, ratio DOUBLE PRECISION NOT NULL, maybe_ratio DOUBLE PRECISION, big BIGINT NOT NULL, kind TEXT NOT NULL,
                    maybe_kind TEXT, price NUMERIC(10, 2) NOT NULL, names TEXT[] NOT NULL, stamp TIMESTAMPTZ NOT NULL)
                    """).run()
                try await sql.insert(into: "kinds").models(rows, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
                return try await sql.select().column("*").from("kinds").where("count", .greaterThanOrEqual, SQLBind(Int?.some(0)))
                    .orderBy("count", .descending).all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
            }
            #expect(read == rows)
        }
    }

    @Test func aValueOutsideItsTypeIsADecodingError() async throws {
        try await TestDatabase.with(.postgres) { database in
            struct Wrong: Decodable { var kind: Kind }
            struct Missing: Decodable { var count: Int }
            try await database.withConnection { sql in
                await #expect(throws: DecodingError.self) {
                    try await sql.raw("SELECT 'weekly' AS kind").first(decoding: Wrong.self)
                }
                await #expect(throws: DecodingError.self) {
                    try await sql.raw("SELECT NULL::bigint AS count").first(decoding: Missing.self)
                }
                await #expect(throws: DecodingError.self) {
                    try await sql.raw("SELECT 'seven' AS count").first(decoding: Missing.self)
                }
            }
        }
    }
}
