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

            // A second run changes nothing, and says so.
            let again = try Self.runImport(backend, from: monolith)
            for report in again.values {
                for table in report.tables { #expect(table.written == 0, "\(report.service) \(table.source) wrote \(table.written) again") }
            }
            #expect(Self.table(again, "users", "users")?.unchanged == 6 && Self.table(again, "users", "users")?.skipped.values.reduce(0, +) == 2)
        }
    }
}
