#if canImport(Glibc)
import Glibc
#endif
import Blytz
import BlytzData
import BlytzTesting
import Foundation
import Logging
import NIOHTTP1
import SQLKit
import Testing

/// `blytz import`: a monolith built from its schema with the pitfalls MONOLITH.md lists
/// (`Tests/Fixtures/monolith`), imported into the running backend's databases, checked through the new
/// services' own API; then run again, changed and run again, verified.
@Suite(.serialized, .timeLimit(.minutes(8))) struct ImportTests {
    /// A new database on the test server holding the monolith's schema and the fixture's rows.
    static func monolith() async throws -> String {
        let url = try await TestDatabase.newPostgresURL()
        try await execute(["schema.sql", "fixture.sql"].map { "Tests/Fixtures/monolith/\($0)" }, on: url)
        return url
    }

    /// Runs each statement of the SQL files (statements end with `;` at the end of a line).
    static func execute(_ files: [String], on url: String) async throws {
        let database = try ServiceDatabase.open(.postgres(url: url), maxConnections: 1, logger: Logger(label: "monolith"))
        try await using(database, cleanup: { await $0.shutdown() }) { database in
            for file in files {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                let statements = text.components(separatedBy: ";\n").map { statement in
                    statement.split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                }.filter { !$0.isEmpty }
                try await database.withConnection { sql in
                    for statement in statements { try await sql.raw(SQLQueryString(statement)).run() }
                }
            }
        }
    }

    /// A monolith of `users` users and their rows (about ten per user), generated in the database.
    static func generated(users: Int) async throws -> String {
        let url = try await TestDatabase.newPostgresURL()
        try await execute(["Tests/Fixtures/monolith/schema.sql"], on: url)
        let generator = NSTemporaryDirectory() + "blytz-generate-\(UUID().uuidString).sql"
        try String(contentsOfFile: "Tests/Fixtures/monolith/generate.sql", encoding: .utf8).replacingOccurrences(of: "{n}", with: String(users))
            .write(toFile: generator, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: generator) }
        try await execute([generator], on: url)
        return url
    }

    static func execute(_ statement: String, on url: String) async throws {
        let database = try ServiceDatabase.open(.postgres(url: url), maxConnections: 1, logger: Logger(label: "monolith"))
        try await using(database, cleanup: { await $0.shutdown() }) { database in
            try await database.withConnection { sql in try await sql.raw(SQLQueryString(statement)).run() }
        }
    }

    /// `blytz import` into the backend's databases; the reports it printed, by service.
    static func runImport(_ backend: Backend, from url: String, _ extra: [String] = [], expectFailure: Bool = false) throws -> [String: LegacyImport.Report] {
        let ran = try blytz(["import", "--from", url, "--json", "--data-dir", backend.runner.dataDirectory] + extra, environment: backend.settings)
        #expect((ran.status == 0) != expectFailure, "\(ran.output)")
        var reports: [String: LegacyImport.Report] = [:]
        for line in ran.output.split(separator: "\n") {
            if let report = try? JSONDecoder().decode(LegacyImport.Report.self, from: Data(line.utf8)) { reports[report.service] = report }
        }
        return reports
    }

    static func table(_ reports: [String: LegacyImport.Report], _ service: String, _ source: String) -> LegacyImport.TableReport? {
        reports[service]?.tables.first { $0.source == source }
    }

    /// Signs in as an imported user the way they would: the invitation's reset token sets a password.
    static func claim(_ backend: Backend, legacyId: String, email: String) async throws -> Backend.Session {
        let id = LegacyImport.id("users", legacyId)
        let reset = try await backend.lastEvent("PasswordResetRequested", subject: id)
        let token = try #require(reset["token"])
        let set = try await backend.call(.POST, "/auth/password/reset", json: #"{"token":"\#(token)","password":"imported at last 1"}"#)
        #expect(set.status == 200 || set.status == 204, "\(set.text)")
        let login = try await backend.login(email, "imported at last 1")
        #expect(login.status == 200, "\(login.text)")
        return try login.json(Backend.Session.self)
    }

    static let maria = "FbVaUid000000000000000001BB"
    static let acme = "FbCompanyUid00000000000001A"

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func theMonolithArrivesAndTheNewServicesAnswerForIt(engine: ServiceDatabase.Engine) async throws {
        let monolith = try await Self.monolith()
        try await Backend.with(engine) { backend in
            let reports = try Self.runImport(backend, from: monolith)
            let users = try #require(Self.table(reports, "users", "users"))
            #expect(users.read == 8 && users.written == 6)
            #expect(users.skipped == ["email already used by an earlier account (case-insensitive)": 1, "unknown role 'superuser'": 1])
            #expect(users.mapped["role 'company' with only a VA profile → va"] == 1)
            let profiles = try #require(Self.table(reports, "users", "va_profiles"))
            #expect(profiles.read == 3 && profiles.written == 3)

            // Imported accounts have no password: a login fails until the invitation's link sets one.
            #expect(try await backend.login("maria@va.example", "anything at all 1").status == 401)
            let invited = try blytz(["users", "invite", "--imported", "--data-dir", backend.runner.dataDirectory], environment: backend.settings)
            #expect(invited.status == 0 && invited.output.contains(#""invited":6"#), "\(invited.output)")
            let maria = try await Self.claim(backend, legacyId: Self.maria, email: "maria@va.example")
            let me = try await backend.call(.GET, "/auth/me", token: maria.accessToken)
            #expect(me.status == 200 && me.text.contains(#""role":"va""#), "\(me.text)")

            // The profile as the new service shows it: rate in cents, skills deduplicated, derived figures rebuilt.
            let profile = try await backend.call(.GET, "/profiles/va/\(LegacyImport.id("users", Self.maria))", token: maria.accessToken)
            #expect(profile.status == 200, "\(profile.text)")
            struct Profile: Decodable { var hourlyRateCents: Int; var skills: [String]; var country: String; var totalReviews: Int; var languages: [[String: String]]; var avatarFileId: String? }
            let shown = try profile.json(Profile.self)
            #expect(shown.hourlyRateCents == 1500 && shown.skills == ["Excel", "Customer Support"] && shown.country == "PH")
            #expect(shown.totalReviews == 0 && shown.languages.count == 2)
            #expect(shown.avatarFileId == LegacyImport.id("file", "https://storage.example/blytz/FbVaUid000000000000000001BB/profile_picture/1700000000000_me.png"))
            let found = try await backend.call(.GET, "/profiles/va?q=bookkeep", token: maria.accessToken)
            #expect(found.text.contains(LegacyImport.id("users", Self.maria)), "\(found.text)")
            let shared = try await backend.call(.GET, "/profiles/va/\(LegacyImport.id("users", "cboth000000000000000000007"))", token: maria.accessToken)
            #expect(shared.text.contains(#""totalReviews":1"#) && shared.text.contains(#""averageRating":4"#), "\(shared.text)")
            let acme = try await backend.call(.GET, "/profiles/company/\(LegacyImport.id("users", Self.acme))", token: maria.accessToken)
            #expect(acme.status == 200 && acme.text.contains(#""companySize":"11-50""#), "\(acme.text)")

            let acmeSession = try await Self.claim(backend, legacyId: Self.acme, email: "owner@acme.example")
            try await Self.checkTheRestOfTheJourney(backend, reports: reports, maria: maria.accessToken, acme: acmeSession.accessToken)

            // A second run changes nothing, and says so.
            let again = try Self.runImport(backend, from: monolith)
            #expect(again.count == 6)
            for report in again.values {
                for table in report.tables { #expect(table.written == 0, "\(report.service) \(table.source) wrote \(table.written) again") }
            }
            #expect(Self.table(again, "users", "users")?.unchanged == 6 && Self.table(again, "users", "users")?.skipped.values.reduce(0, +) == 2)
            let said = try blytz(["import", "--from", monolith, "--data-dir", backend.runner.dataDirectory, "--only", "files"], environment: backend.settings)
            #expect(said.output.contains("nothing changed since the last run"), "\(said.output)")

            // The monolith changes: a new account, an edited posting, a deleted notification. The next run
            // brings just that, and reports what it no longer finds.
            try await Self.execute(#"""
                INSERT INTO blytz_hire.users (id, email, role, "lastSeenAt", "createdAt", "updatedAt") VALUES ('FbLateComer0000000000000009', 'late@example.com', 'va', now(), now(), now())
                """#, on: monolith)
            try await Self.execute(#"UPDATE blytz_hire.job_postings SET title = 'Bookkeeper, two shops', "updatedAt" = now() WHERE id = 'cposting0000000000000000001'"#, on: monolith)
            try await Self.execute(#"DELETE FROM blytz_hire.notifications WHERE id = 'cnotif0000000000000000003'"#, on: monolith)
            let delta = try Self.runImport(backend, from: monolith)
            #expect(Self.table(delta, "users", "users")?.written == 1)
            #expect(Self.table(delta, "marketplace", "job_postings")?.written == 1 && Self.table(delta, "marketplace", "proposals")?.written == 0)
            #expect(Self.table(delta, "communication", "notifications")?.deletedInSource == 1)
            let posting = LegacyImport.id("job_postings", "cposting0000000000000000001")
            #expect(try await backend.call(.GET, "/jobs/\(posting)", token: maria.accessToken).text.contains("Bookkeeper, two shops"))

            // --verify finds both sides alike, then names a row the new side lost.
            let verified = try Self.runImport(backend, from: monolith, ["--verify"])
            #expect(verified.values.allSatisfy { $0.mode == "verify" && $0.tables.allSatisfy { ($0.differences ?? []).isEmpty } })
            try await Self.withDatabase(backend, "marketplace") { sql in
                try await sql.raw("DELETE FROM proposals WHERE id = \(bind: LegacyImport.id("proposals", "cproposal00000000000000003"))").run()
            }
            let failed = try Self.runImport(backend, from: monolith, ["--verify"], expectFailure: true)
            #expect(Self.table(failed, "marketplace", "proposals")?.differences?.first?.contains("cproposal00000000000000003") == true)
        }
    }

    /// The marketplace, contracts, payments, communication and files as the two parties see them.
    static func checkTheRestOfTheJourney(_ backend: Backend, reports: [String: LegacyImport.Report], maria: String, acme: String) async throws {
        struct Page: Decodable { var items: [[String: JSONValue]] }
        func items(_ path: String, _ token: String) async throws -> [[String: JSONValue]] {
            let reply = try await backend.call(.GET, path, token: token)
            #expect(reply.status == 200, "\(path): \(reply.text)")
            return try reply.json(Page.self).items
        }
        let posting = LegacyImport.id("job_postings", "cposting0000000000000000001")
        #expect(try await items("/jobs/mine", acme).count == 2)
        let job = try await backend.call(.GET, "/jobs/\(posting)", token: maria)
        #expect(job.text.contains(#""budgetCents":1999"#) && job.text.contains(#""status":"open""#) && job.text.contains(#""excel""#), "\(job.text)")
        #expect(try await backend.call(.GET, "/jobs/categories").text.contains(#"{"category":"finance","openJobs":1}"#))
        let proposals = try await items("/proposals?jobPostingId=\(posting)", acme)
        #expect(proposals.count == 2 && proposals.contains { $0["bidCents"] == .number(2501) }, "\(proposals)")
        #expect(Self.table(reports, "marketplace", "proposals")?.rounded == 1)

        let contracts = try await items("/contracts", acme)
        #expect(contracts.count == 2)
        let contract = LegacyImport.id("contracts", "ccontract0000000000000000001")
        let milestones = try await items("/contracts/\(contract)/milestones", maria)
        #expect(Set(milestones.compactMap { Self.text($0["status"]) }) == ["paid", "submitted"] && milestones.contains { $0["amountCents"] == .number(10) })
        let invoices = try await items("/invoices", acme)
        #expect(Set(invoices.compactMap { Self.text($0["number"]) }) == ["INV-2026-000001", "INV-2026-000002"], "\(invoices)")

        // Payments: in the ledger, so the summary counts them; the 100× amount flagged, kept as it was.
        #expect(try await items("/payments", acme).count == 4)
        let refunded = try await backend.call(.GET, "/payments/\(LegacyImport.id("payments", "cpayment000000000000000003"))", token: acme)
        #expect(refunded.text.contains(#""status":"partially_refunded""#) && refunded.text.contains(#""refundedCents":400"#), "\(refunded.text)")
        let summary = try await backend.call(.GET, "/payments/summary", token: maria)
        #expect(summary.text.contains(#""receivedCents":181709"#) || summary.text.contains("181709"), "\(summary.text)")
        #expect(Self.table(reports, "payments", "payments")?.flagged.keys.contains { $0.hasPrefix("amount 100×") } == true)
        #expect(Self.table(reports, "payments", "payments")?.centsWritten == 205_898)
        let reviews = try await items("/reviews?targetUserId=\(LegacyImport.id("users", "cboth000000000000000000007"))", maria)
        #expect(reviews.count == 1 && reviews[0]["rating"] == .number(4))

        // Chat from the notifications table, and a payment notification of the new kind.
        let notifications = try await items("/notifications", maria)
        #expect(notifications.count == 1 && notifications[0]["type"] == .string("PaymentCompleted"), "\(notifications)")
        let conversations = try await items("/chat/conversations", maria)
        #expect(conversations.count == 1)
        if case .string(let conversation)? = conversations.first?["id"] {
            #expect(try await items("/chat/conversations/\(conversation)/messages", acme).count == 2)
        }

        // The portfolio keeps its file, an external link.
        let portfolio = try await items("/portfolio?vaUserId=\(LegacyImport.id("users", Self.maria))", maria)
        #expect(portfolio.count == 1)
        if case .string(let file)? = portfolio.first?["fileId"] {
            let shown = try await backend.call(.GET, "/files/\(file)", token: maria)
            #expect(shown.text.contains(#""status":"external""#) && shown.text.contains("1700000000003_books.png"), "\(shown.text)")
        }
    }

    static func text(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    /// Runs `body` on a service's database as the backend configured it.
    static func withDatabase<T: Sendable>(_ backend: Backend, _ service: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let location: DatabaseLocation = backend.settings["\(service.uppercased())_DATABASE_URL"].map { .postgres(url: $0) }
            ?? .sqlite(path: backend.runner.dataDirectory + "/\(service)_db.sqlite")
        let database = try ServiceDatabase.open(location, maxConnections: 1, logger: Logger(label: "test"))
        return try await using(database, cleanup: { await $0.shutdown() }) { database in try await database.withConnection(body) }
    }

    @Test func anImportKilledHalfWayResumesWhereItStopped() async throws {
        let monolith = try await Self.generated(users: 6000)
        try await Backend.with(.sqlite) { backend in
            // The CLI and the services' imports it started are all killed once the users' import has committed
            // its first batches.
            let progress = backend.runner.dataDirectory + "/import-progress"
            FileManager.default.createFile(atPath: progress, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: LocalRunner.buildDirectory + "/blytz")
            process.arguments = ["import", "--from", monolith, "--only", "users", "--data-dir", backend.runner.dataDirectory]
            process.environment = ProcessInfo.processInfo.environment.merging(backend.settings) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: progress)
            try process.run()
            struct Count: Decodable { var count: Int }
            func imported() async throws -> Int {
                try await Self.withDatabase(backend, "users") { sql in
                    try await sql.raw("SELECT count(*) AS count FROM _blytz_import WHERE source_table = 'users'").first(decoding: Count.self)?.count ?? 0
                }
            }
            // Its progress line says a batch of users has committed.
            #expect(await eventually(within: .seconds(60)) { ((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "").contains("users users: ") })
            Self.killTree(process.processIdentifier)
            process.waitForExit()
            let before = try await imported()
            #expect(before >= 1000 && before < 6000, "\(before) users imported when the import was killed")

            let resumed = try Self.runImport(backend, from: monolith, ["--only", "users"])
            let users = try #require(Self.table(resumed, "users", "users"))
            #expect(users.read == 6000 && users.unchanged == before && users.written == 6000 - before, "\(users)")
            try await Self.withDatabase(backend, "users") { sql in
                let rows = try await sql.raw("SELECT count(*) AS count FROM users").first(decoding: Count.self)?.count
                #expect(rows == 6000)
            }
            #expect(try Self.runImport(backend, from: monolith, ["--only", "users"]).values.allSatisfy { $0.tables.allSatisfy { $0.written == 0 } })
        }
    }

    /// SIGKILLs `pid` and every process it started, children first.
    static func killTree(_ pid: Int32) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let child = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // `pid (name) state ppid …`: the parent is the second field after the name.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == pid { killTree(child) }
        }
        kill(pid, SIGKILL)
    }

    @Test func aDryRunWritesNothing() async throws {
        let monolith = try await Self.monolith()
        try await Backend.with(.sqlite) { backend in
            let reports = try Self.runImport(backend, from: monolith, ["--dry-run"])
            #expect(reports.count == 6 && reports.values.allSatisfy { $0.mode == "dry-run" })
            #expect(Self.table(reports, "marketplace", "job_postings")?.written == 2)
            #expect(try await backend.call(.GET, "/jobs/categories").text == #"{"items":[]}"#)
            let real = try Self.runImport(backend, from: monolith)
            #expect(Self.table(real, "marketplace", "job_postings")?.written == 2)
        }
    }
}
