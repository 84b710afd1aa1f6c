import Blytz
import Crypto
import Foundation
import Logging
import SQLKit

/// Moving the monolith's rows into one service's database (`<service> import --from postgres://…`).
///
/// The service says what to read and how each row becomes its own; this type does the rest the same way for
/// every service: it reads the monolith in one repeatable-read, read-only snapshot (the one `blytz import`
/// exported, so every service sees the same instant), in id order and batches, and writes each batch with
/// its bookkeeping in one transaction of the service's database. The bookkeeping (`_blytz_import`) holds,
/// per monolith row, the fingerprint of what was imported: a row whose fingerprint is unchanged is not
/// written again, so a second run changes nothing, a run killed half-way resumes where its last batch
/// committed, and a later run brings only new and changed rows (and reports rows the monolith deleted).
public struct LegacyImport: Sendable {
    public struct Options: Sendable {
        public var from: String
        public var schema = "blytz_hire"
        /// The snapshot `blytz import` exported (`pg_export_snapshot()`), shared by every service.
        public var snapshot: String?
        /// Everything is written and checked, then rolled back.
        public var dryRun = false
        /// Nothing is written: both sides are re-read and compared.
        public var verify = false

        /// `--from URL [--schema S] [--snapshot ID] [--dry-run] [--verify]`.
        public init(arguments: [String]) throws {
            var from: String?
            var index = arguments.startIndex
            while index < arguments.endIndex {
                let argument = arguments[index]
                let value = index + 1 < arguments.endIndex ? arguments[index + 1] : nil
                switch argument {
                case "--from": from = value; index += 1
                case "--schema": schema = value ?? schema; index += 1
                case "--snapshot": snapshot = value; index += 1
                case "--dry-run": dryRun = true
                case "--verify": verify = true
                default: throw Refusal("import: unknown argument '\(argument)'")
                }
                index += 1
            }
            guard let from, from.hasPrefix("postgres://") || from.hasPrefix("postgresql://") else {
                throw Refusal("usage: import --from postgres://user@host/db [--schema blytz_hire] [--dry-run] [--verify]")
            }
            guard schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { throw Refusal("import: --schema must be a plain identifier") }
            self.from = from
        }
    }

    /// Arguments the import cannot work with, shown as they are.
    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// What happened to the rows of one monolith table.
    public struct TableReport: Codable, Sendable {
        /// The monolith table and the service table it becomes (`va_profiles → va_profiles`).
        public var source: String
        public var target: String
        public var read = 0
        public var written = 0
        public var unchanged = 0
        /// Rows not imported, by reason (`orphan: no user u1`, `unknown role 'x'`).
        public var skipped: [String: Int] = [:]
        /// Rows imported with something worth a look (an amount that looks 100× off), by what.
        public var flagged: [String: Int] = [:]
        /// Values converted by a documented rule rather than copied (`status 'paused' → active`), by rule.
        public var mapped: [String: Int] = [:]
        /// Money rounded to whole cents (a float with a fraction of a cent).
        public var rounded = 0
        /// The money read, in cents before rounding, and the cents written.
        public var centsRead: Double?
        public var centsWritten: Int?
        /// Rows imported by an earlier run that the monolith no longer has (left in place, reported).
        public var deletedInSource = 0
        /// `--verify`: rows whose import differs from what the monolith holds now, with a few of their ids.
        public var differences: [String]?
        /// The table's time, and of it the time spent reading the monolith.
        public var seconds: Double?
        public var readingSeconds: Double?

        public init(source: String, target: String) {
            self.source = source
            self.target = target
        }

        public mutating func skip(_ reason: String) { skipped[reason, default: 0] += 1 }
        public mutating func flag(_ what: String) { flagged[what, default: 0] += 1 }
        public mutating func map(_ rule: String) { mapped[rule, default: 0] += 1 }
        public mutating func money(read cents: Double?, written: Int?, rounded: Bool) {
            if let cents { centsRead = ((centsRead ?? 0) + cents) }
            if let written { centsWritten = (centsWritten ?? 0) + written }
            if rounded { self.rounded += 1 }
        }
    }

    /// The one JSON line a service's import prints.
    public struct Report: Codable, Sendable {
        public var service: String
        public var mode: String
        public var tables: [TableReport]
        public var seconds: Double
    }

    /// What the service's mapping decided for one row.
    public enum Outcome: Sendable {
        /// The row was written (inserted or updated) under this id in the service's database.
        case written
        /// The row is not imported, for this reason.
        case skipped(String)
    }

    let options: Options
    let service: String
    let target: ServiceDatabase
    let logger: Logger

    public init(options: Options, service: String, target: ServiceDatabase, logger: Logger) {
        self.options = options
        self.service = service
        self.target = target
        self.logger = logger
    }

    /// The deterministic id of a monolith row in every new service: UUIDv5 (RFC 9562) of `<table>:<legacy id>`
    /// in BlytzWork's import namespace, so a re-run and every service derive the same id for the same row.
    public static func id(_ table: String, _ legacyID: String) -> String {
        var bytes = Array(namespace)
        bytes += Array("\(table):\(legacyID)".utf8)
        var hash = Array(Insecure.SHA1.hash(data: bytes).prefix(16))
        hash[6] = (hash[6] & 0x0F) | 0x50
        hash[8] = (hash[8] & 0x3F) | 0x80
        // Hex by hand: it runs for every row of every table, several times.
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in hash.enumerated() {
            if [4, 6, 8, 10].contains(index) { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The namespace of the import's UUIDv5 ids (`7c0d5b8e-3f1a-4c2e-9b6d-1a2b3c4d5e6f`).
    static let namespace: [UInt8] = [0x7c, 0x0d, 0x5b, 0x8e, 0x3f, 0x1a, 0x4c, 0x2e, 0x9b, 0x6d, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f]

    // MARK: SQL for the monolith's columns

    /// A monolith column, quoted (its columns are camelCase identifiers).
    public static func column(_ name: String) -> String { "t.\"\(name)\"" }
    /// Float dollars as whole cents: `round(numeric × 100)`, half away from zero; NULL stays NULL.
    public static func cents(_ name: String) -> String { "round(\(column(name))::numeric * 100)::bigint" }
    /// Dollars read in Swift (free text, JSON) as whole cents, half away from zero, as `cents` rounds in SQL.
    public static func wholeCents(_ dollars: Decimal) -> Int {
        var exact = dollars * 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &exact, 0, .plain)
        return NSDecimalNumber(decimal: rounded).intValue
    }

    /// Whether converting `name` to cents rounds away a fraction of a cent.
    public static func rounds(_ name: String) -> String { "coalesce(\(column(name))::numeric * 100 <> round(\(column(name))::numeric * 100), false)" }
    /// The exact cents of `name` before rounding, as a float for the report's sums.
    public static func exactCents(_ name: String) -> String { "(\(column(name))::numeric * 100)::float8" }
    /// A timestamp without zone (UTC, as Prisma writes it) as the services' ISO-8601 text.
    public static func time(_ name: String) -> String { "to_char(\(column(name)), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')" }
    /// A `text[]` as a JSON array text; NULL and `{}` both as `[]`.
    public static func textArray(_ name: String) -> String { "coalesce(array_to_json(\(column(name)))::text, '[]')" }
    /// A jsonb as text; SQL NULL and JSON `null` both as NULL.
    public static func json(_ name: String) -> String { "CASE WHEN \(column(name)) IS NULL OR \(column(name)) = 'null'::jsonb THEN NULL ELSE \(column(name))::text END" }

    /// Which of `ids` a service table holds in `column`: the rows a batch may refer to, in one query.
    public static func existing(_ ids: [String], in table: String, column: String = "id", on sql: any SQLDatabase) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(try await sql.select().column(SQLIdentifier(column)).from(table).where(SQLIdentifier(column), .in, SQLBind.group(Array(Set(ids)))).all()
            .map { try $0.decode(column: column, as: String.self) })
    }

    /// Which row of `table` holds each of `values` in `column`, a unique one (value → that row's id): who
    /// holds a proposal already, say.
    public static func holders(of values: [String], in column: String, of table: String, on sql: any SQLDatabase) async throws -> [String: String] {
        guard !values.isEmpty else { return [:] }
        var holders: [String: String] = [:]
        for held in try await sql.select().column("id").column(SQLIdentifier(column)).from(table).where(SQLIdentifier(column), .in, SQLBind.group(Array(Set(values)))).all() {
            holders[try held.decode(column: column, as: String.self)] = try held.decode(column: "id", as: String.self)
        }
        return holders
    }

    /// Inserts `records`, or updates the rows they already are (by `key`), leaving rows that refer to them in place.
    public static func upsert<Record: Encodable & Sendable>(_ records: [Record], in table: String, key: String = "id", on sql: any SQLDatabase) async throws {
        guard let first = records.first else { return }
        let columns = try SQLQueryEncoder(keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).encode(first).map(\.0).filter { $0 != key }
        for piece in boundPieces(records, columns: columns.count + 1) {
            try await sql.insert(into: table).models(Array(piece), keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
                .onConflict(with: [key]) { conflict in columns.reduce(conflict) { $0.set(excludedValueOf: $1) } }.run()
        }
    }

    // MARK: Running

    /// A service's `import` command: `body` copies the monolith's tables this service owns.
    public static func command(service: String, _ body: @escaping @Sendable (Session) async throws -> Void) -> ServiceCommand {
        ServiceCommand("import") { arguments, database, _, logger in
            let options = try Options(arguments: arguments)
            return jsonText(try await LegacyImport(options: options, service: service, target: database, logger: logger).run(body))
        }
    }

    /// Holds a repeatable-read, read-only transaction open on the monolith and exports its snapshot
    /// (`pg_export_snapshot()`) for `body`, so the processes it starts read the same instant.
    public static func withExportedSnapshot<T: Sendable>(from url: String, logger: Logger, _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let monolith = try ServiceDatabase.open(.postgres(url: url), maxConnections: 1, logger: logger)
        do {
            let value = try await monolith.withConnection { sql in
                try await sql.raw("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").run()
                let snapshot = try await sql.raw("SELECT pg_export_snapshot() AS snapshot").first()?.decode(column: "snapshot", as: String.self) ?? ""
                let value = try await body(snapshot)
                try await sql.raw("COMMIT").run()
                return value
            }
            await monolith.shutdown()
            return value
        } catch {
            await monolith.shutdown()
            throw error
        }
    }

    /// Opens the monolith in the shared snapshot and runs `body` with it; a dry run's writes are rolled
    /// back at the end; prints nothing, returns the report.
    public func run(_ body: @escaping @Sendable (Session) async throws -> Void) async throws -> Report {
        let started = ContinuousClock.now
        let source = try ServiceDatabase.open(.postgres(url: options.from), maxConnections: 1, logger: logger)
        try await target.withConnection { sql in try await Self.createBookkeeping(sql) }
        let options = options
        let collected = Collected()
        do {
            try await source.withConnection { monolith in
                try await monolith.raw("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").run()
                if let snapshot = options.snapshot {
                    try await monolith.raw("SET TRANSACTION SNAPSHOT \(literal: snapshot)").run()
                }
                try await monolith.raw("SET LOCAL TimeZone = 'UTC'").run()
                // Each batch is a small query whose joins the planner overestimates: compiling it costs more than running it.
                try await monolith.raw("SET LOCAL jit = off").run()
                do {
                    if options.dryRun {
                        try await self.target.transaction { sql in
                            try await body(Session(import: self, monolith: monolith, writer: .within(sql), collected: collected))
                            throw RollBack()
                        }
                    } else {
                        try await body(Session(import: self, monolith: monolith, writer: .batches(self.target), collected: collected))
                    }
                } catch is RollBack {
                } catch {
                    try? await monolith.raw("ROLLBACK").run()
                    throw error
                }
                try await monolith.raw("COMMIT").run()
            }
        } catch {
            await source.shutdown()
            throw error
        }
        await source.shutdown()
        let mode = options.verify ? "verify" : options.dryRun ? "dry-run" : "import"
        return Report(service: service, mode: mode, tables: collected.tables, seconds: (started.duration(to: .now) / .milliseconds(1)).rounded() / 1000)
    }

    struct RollBack: Error {}

    static func createBookkeeping(_ sql: any SQLDatabase) async throws {
        try await sql.raw("""
            CREATE TABLE IF NOT EXISTS _blytz_import (
                source_table TEXT NOT NULL,
                legacy_id TEXT NOT NULL,
                target_id TEXT,
                fingerprint TEXT NOT NULL,
                outcome TEXT NOT NULL,
                imported_at TEXT NOT NULL,
                PRIMARY KEY (source_table, legacy_id)
            )
            """).run()
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var reports: [TableReport] = []
        var tables: [TableReport] { lock.withLock { reports } }
        func append(_ report: TableReport) { lock.withLock { reports.append(report) } }
    }

    enum Writer: Sendable {
        /// A dry run: every write in one transaction, rolled back at the end.
        case within(any SQLDatabase)
        /// A real run: a transaction per batch, with its bookkeeping.
        case batches(ServiceDatabase)

        func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
            switch self {
            case .within(let sql): try await body(sql)
            case .batches(let database): try await database.transaction(body)
            }
        }
    }

    /// One service's import in progress: the monolith in its snapshot, and the service's database.
    public struct Session: Sendable {
        let `import`: LegacyImport
        /// The monolith, read-only in the shared snapshot, with `TimeZone` UTC.
        public let monolith: any SQLDatabase
        let writer: Writer
        let collected: Collected

        public var schema: String { `import`.options.schema }
        public var verifying: Bool { `import`.options.verify }

        /// Copies `table` (aliased `t`): `columns` are the SQL expressions to read, decoded as `Row` (with a
        /// `legacyId` from `t.id`). Rows come in id order, `batch` at a time; each is passed to `write` with the
        /// service's database unless the bookkeeping shows it unchanged since the last run. `--verify` finds
        /// each imported row in `target` by `key` (the column holding `LegacyImport.id(table, legacy id)`),
        /// and `verify`, where given, re-reads a row's import and returns what differs.
        public func copy<Row: Decodable & Sendable>(
            _ table: String, into target: String, key: String? = "id", columns: [String], joins: String = "", where condition: String? = nil, batch: Int = 1000, as type: Row.Type,
            write: @escaping @Sendable (Row, any SQLDatabase, inout TableReport) async throws -> Outcome,
            verify: (@Sendable (Row, any SQLDatabase) async throws -> String?)? = nil
        ) async throws {
            try await copy(table, into: target, key: key, columns: columns, joins: joins, where: condition, batch: batch, as: type, writeBatch: { rows, sql, report in
                var outcomes: [Outcome] = []
                for row in rows { outcomes.append(try await write(row, sql, &report)) }
                return outcomes
            }, verify: verify)
        }

        /// `copy` for a table whose rows are written a batch at a time: `writeBatch` gets every new or
        /// changed row of a batch and answers an outcome for each, in order (a few statements per batch
        /// rather than a few per row, where the import's time goes).
        public func copy<Row: Decodable & Sendable>(
            _ table: String, into target: String, key: String? = "id", columns: [String], joins: String = "", where condition: String? = nil, batch: Int = 1000, as type: Row.Type,
            writeBatch write: @escaping @Sendable ([Row], any SQLDatabase, inout TableReport) async throws -> [Outcome],
            verify: (@Sendable (Row, any SQLDatabase) async throws -> String?)? = nil
        ) async throws {
            var report = TableReport(source: table, target: target)
            let progress = Progress(table: "\(`import`.service) \(table)")
            let select = (["t.id AS legacy_id", "md5(t::text) AS fingerprint"] + columns).joined(separator: ", ")
            var last = ""
            var seen = Set<String>()
            var differences: [String] = []
            var differing = 0
            let started = ContinuousClock.now
            var reading = Duration.zero
            while true {
                let filter = ([#"t.id > \#(quoted(last))"#] + (condition.map { [$0] } ?? [])).joined(separator: " AND ")
                // The batch is chosen first, then joined: with the limit outside, PostgreSQL would walk the
                // primary key and test every row of an aggregated join against each row of the batch.
                let query = """
                    SELECT \(select) FROM (SELECT * FROM \(schema).\(table) t WHERE \(filter) ORDER BY t.id LIMIT \(batch)) t
                    \(joins) ORDER BY t.id
                    """.replacingOccurrences(of: "{schema}", with: schema)
                let rows: [any SQLRow]
                let asked = ContinuousClock.now
                do {
                    rows = try await monolith.raw(SQLQueryString(query)).all()
                    reading += asked.duration(to: .now)
                } catch {
                    // The server's own words (PostgreSQL's errors describe themselves only when reflected).
                    throw Refusal("reading \(table) failed: \(String(reflecting: error))")
                }
                guard let lastRow = rows.last else { break }
                last = try lastRow.decode(column: "legacy_id", as: String.self)
                let decoded: [(id: String, fingerprint: String, row: Row)] = try rows.map { row in
                    (try row.decode(column: "legacy_id", as: String.self), try row.decode(column: "fingerprint", as: String.self),
                     try row.decode(model: Row.self, keyDecodingStrategy: .snakeCase))
                }
                report.read += decoded.count
                for item in decoded { seen.insert(item.id) }
                if verifying {
                    let known = try await `import`.target.withConnection { sql in try await Self.bookkeeping(table, ids: decoded.map(\.id), on: sql) }
                    for item in decoded {
                        guard let entry = known[item.id] else {
                            differing += 1
                            if differences.count < 10 { differences.append("\(item.id): not imported") }
                            continue
                        }
                        if entry.outcome != "written" { report.skip("skipped on import: \(entry.outcome)"); continue }
                        var difference: String? = entry.fingerprint == item.fingerprint ? nil : "changed in the monolith since its import"
                        if difference == nil, let key {
                            let id = LegacyImport.id(table, item.id)
                            let found = try await `import`.target.withConnection { sql in
                                try await sql.select().column(SQLIdentifier(key)).from(target).where(SQLIdentifier(key), .equal, SQLBind(id)).first() != nil
                            }
                            if !found { difference = "imported, but \(target) has no row \(id)" }
                        }
                        if difference == nil, let verify {
                            let row = item.row
                            difference = try await `import`.target.withConnection { sql in try await verify(row, sql) }
                        }
                        if let difference {
                            differing += 1
                            if differences.count < 10 { differences.append("\(item.id): \(difference)") }
                        } else {
                            report.unchanged += 1
                        }
                    }
                } else {
                    let batchReport = report
                    report = try await writer.write { sql in
                        var report = batchReport
                        let known = try await Self.bookkeeping(table, ids: decoded.map(\.id), on: sql)
                        var changed: [(id: String, fingerprint: String, row: Row)] = []
                        for item in decoded {
                            if let entry = known[item.id], entry.fingerprint == item.fingerprint {
                                if entry.outcome == "written" { report.unchanged += 1 } else { report.skip(entry.outcome) }
                            } else {
                                changed.append(item)
                            }
                        }
                        var done: [(id: String, fingerprint: String, outcome: String)] = []
                        let outcomes = changed.isEmpty ? [] : try await write(changed.map(\.row), sql, &report)
                        for (item, outcome) in zip(changed, outcomes) {
                            switch outcome {
                            case .written:
                                report.written += 1
                                done.append((item.id, item.fingerprint, "written"))
                            case .skipped(let reason):
                                report.skip(reason)
                                done.append((item.id, item.fingerprint, reason))
                            }
                        }
                        try await Self.record(done, of: table, on: sql)
                        return report
                    }
                }
                progress.advance(by: decoded.count)
                if decoded.count < batch { break }
            }
            progress.finish()
            // Rows an earlier run imported that the monolith no longer has: reported, not deleted.
            let imported = try await `import`.target.withConnection { sql in
                try await sql.raw("SELECT legacy_id FROM _blytz_import WHERE source_table = \(bind: table)").all().map { try $0.decode(column: "legacy_id", as: String.self) }
            }
            report.deletedInSource = imported.filter { !seen.contains($0) }.count
            if verifying { report.differences = differences.isEmpty ? [] : differences + (differing > differences.count ? ["… \(differing - differences.count) more"] : []) }
            report.seconds = Self.seconds(started.duration(to: .now))
            report.readingSeconds = Self.seconds(reading)
            collected.append(report)
        }

        struct Entry { var fingerprint: String; var outcome: String }

        /// The bookkeeping of a batch's rows, in one statement: what each became, and the fingerprint of
        /// the monolith's row it was made from.
        static func record(_ rows: [(id: String, fingerprint: String, outcome: String)], of table: String, on sql: any SQLDatabase) async throws {
            guard !rows.isEmpty else { return }
            let now = Date().iso
            var insert = sql.insert(into: "_blytz_import").columns("source_table", "legacy_id", "target_id", "fingerprint", "outcome", "imported_at")
            for row in rows {
                insert = insert.values(SQLBind(table), SQLBind(row.id), SQLBind(LegacyImport.id(table, row.id)), SQLBind(row.fingerprint), SQLBind(row.outcome), SQLBind(now))
            }
            try await insert.onConflict(with: ["source_table", "legacy_id"]) { conflict in
                conflict.set(excludedValueOf: "target_id").set(excludedValueOf: "fingerprint").set(excludedValueOf: "outcome").set(excludedValueOf: "imported_at")
            }.run()
        }

        static func bookkeeping(_ table: String, ids: [String], on sql: any SQLDatabase) async throws -> [String: Entry] {
            guard !ids.isEmpty else { return [:] }
            var known: [String: Entry] = [:]
            let rows = try await sql.select().column("legacy_id").column("fingerprint").column("outcome").from("_blytz_import")
                .where("source_table", .equal, SQLBind(table)).where("legacy_id", .in, SQLBind.group(ids)).all()
            for row in rows {
                known[try row.decode(column: "legacy_id", as: String.self)] = Entry(
                    fingerprint: try row.decode(column: "fingerprint", as: String.self), outcome: try row.decode(column: "outcome", as: String.self)
                )
            }
            return known
        }

        static func seconds(_ duration: Duration) -> Double { (duration / .milliseconds(1)).rounded() / 1000 }

        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
    }

    /// Rows per second on standard error for a long copy, at most once a second; silent for short ones.
    final class Progress: @unchecked Sendable {
        let table: String
        let started = ContinuousClock.now
        var count = 0
        var lastShown = ContinuousClock.now

        init(table: String) { self.table = table }

        func advance(by rows: Int) {
            count += rows
            guard lastShown.duration(to: .now) > .seconds(1) else { return }
            lastShown = .now
            show(final: false)
        }

        func finish() {
            if started.duration(to: .now) > .seconds(1) { show(final: true) }
        }

        private func show(final: Bool) {
            let seconds = max(started.duration(to: .now) / .seconds(1), 0.001)
            let line = "\(table): \(count) rows, \(Int(Double(count) / seconds)) rows/s\(final ? ", done" : "")\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
