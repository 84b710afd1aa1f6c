import Foundation
import Logging
import SQLKit

/// One versioned step of a service's schema. Steps use SQLKit builders (or SQL both engines accept),
/// so the same migration runs on SQLite and PostgreSQL.
public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var apply: @Sendable (any SQLDatabase) async throws -> Void

    public init(_ version: Int, _ name: String, apply: @escaping @Sendable (any SQLDatabase) async throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}

/// Applies a service's migrations in order (after the platform tables: migration history, outbox, inbox),
/// each in its own transaction together with its record in `_blytz_migrations`; never re-applies one; refuses a database whose recorded history is not a prefix of
/// the code's (a different name at a version, or versions the code does not know).
public struct Migrator: Sendable {
    public let service: String
    public let migrations: [Migration]

    public init(service: String, migrations: [Migration]) {
        self.service = service
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// One applied migration as recorded.
    public struct Record: Sendable, Equatable, Decodable {
        public var version: Int
        public var name: String
    }

    /// Applies what is pending; returns the versions it applied.
    @discardableResult
    public func migrate(_ database: ServiceDatabase, logger: Logger) async throws -> [Int] {
        try await database.transaction(serialisedBy: service) { sql in try await PlatformTables.create(on: sql) }
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await database.transaction(serialisedBy: service) { [service, migrations] sql in
                let history = try await sql.select().columns("version", "name").from("_blytz_migrations").orderBy("version")
                    .all(decoding: Record.self)
                try Self.check(history, against: migrations, service: service)
                guard !history.contains(where: { $0.version == migration.version }) else { return false }
                try await migration.apply(sql)
                try await sql.insert(into: "_blytz_migrations").columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Self.now()))
                    .run()
                return true
            }
            if didApply {
                applied.append(migration.version)
                logger.info("migration applied", metadata: ["service": "\(service)", "migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
            }
        }
        return applied
    }

    /// The recorded history of `database`.
    public func history(_ database: ServiceDatabase) async throws -> [Record] {
        try await database.withConnection { sql in
            try await sql.select().columns("version", "name").from("_blytz_migrations").orderBy("version").all(decoding: Record.self)
        }
    }

    static func check(_ history: [Record], against migrations: [Migration], service: String) throws {
        for record in history {
            guard let known = migrations.first(where: { $0.version == record.version }) else {
                throw DatabaseError.divergentHistory(service: service, detail: "version \(record.version) ('\(record.name)') is not in the code")
            }
            guard known.name == record.name else {
                throw DatabaseError.divergentHistory(service: service, detail: "version \(record.version) is '\(record.name)' in the database but '\(known.name)' in the code")
            }
        }
    }

    static func now() -> String {
        Date().formatted(.iso8601)
    }
}

extension String {
    /// A hash that is the same in every process (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
