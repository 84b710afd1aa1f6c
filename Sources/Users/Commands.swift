import Foundation
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Logging
import SQLKit

/// The user service's commands (`blytz users …` and `blytz seed` run them through the `users` executable).
/// `create-admin --email E`, `rotate-key`, `seed`, `seed-profiles --count N`.
enum Commands {
    static let all: [ServiceCommand] = [
        ServiceCommand("create-admin", run: createAdmin),
        ServiceCommand("rotate-key", run: rotateKey),
        ServiceCommand("seed", run: seed),
        ServiceCommand("seed-profiles", run: seedProfiles),
        Import.command,
        ServiceCommand("invite", run: Import.invite),
    ]

    /// Asks at the terminal without echoing; nil when there is none.
    static func prompt(_ question: String) -> String? {
        guard isatty(0) != 0, let typed = getpass(question) else { return nil }
        let answer = String(cString: typed)
        return answer.isEmpty ? nil : answer
    }

    static func option(_ name: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    /// `create-admin --email E` with the password in `BLYTZ_ADMIN_PASSWORD` (or `--password`, which other
    /// users of the machine can see in the process list).
    @Sendable
    static func createAdmin(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        guard let email = option("email", in: arguments)?.normalizedEmail, email.isPlausibleEmail else {
            throw CommandRefusal("usage: create-admin --email <email> (password in BLYTZ_ADMIN_PASSWORD)")
        }
        guard let password = configuration["BLYTZ_ADMIN_PASSWORD"] ?? option("password", in: arguments) ?? prompt("Password for \(email): ") else {
            throw CommandRefusal("set BLYTZ_ADMIN_PASSWORD to the new admin's password, or run it at a terminal")
        }
        if let problem = Passwords.problems(password).first { throw CommandRefusal("password \(problem.message)") }
        let user = try await createUser(email: email, password: password, role: .admin, verified: true, database: database, configuration: configuration)
        struct Created: Encodable { var created: Bool; var id, email, role: String }
        return jsonText(Created(created: user.created, id: user.id, email: email, role: "admin"))
    }

    /// Inserts a user (with `UserCreated`), or finds the one with this email; an existing user of another role is refused.
    static func createUser(
        email: String, password: String, role: Caller.Role, verified: Bool, displayName: String? = nil, database: ServiceDatabase,
        configuration: Configuration
    ) async throws -> (id: String, created: Bool) {
        if let existing = try await database.withConnection({ sql in try await UserRecord.find(email: email, on: sql) }) {
            guard existing.role == role else { throw CommandRefusal("\(email) already exists with the role \(existing.role.rawValue)") }
            return (existing.id, false)
        }
        let now = Date().iso
        let user = UserRecord(
            id: UUID().uuidString.lowercased(), email: email, passwordHash: Passwords(cost: Settings(configuration).bcryptCost).hash(password),
            role: role, status: .active, emailVerified: verified, preferences: "{}", displayName: displayName, createdAt: now, updatedAt: now
        )
        try await database.transaction { sql in
            try await user.insert(on: sql)
            try await Outbox.write(
                EventEnvelope(id: UUID().uuidString.lowercased(), type: UserCreated.type, source: "users", time: now, subject: user.id,
                              data: UserCreated(userId: user.id, email: email, role: role), traceparent: nil),
                on: sql
            )
        }
        return (user.id, true)
    }

    /// `rotate-key`: a new signing key for the development key file (production rotates its secret instead).
    @Sendable
    static func rotateKey(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        let store = SigningKeyStore(configuration: configuration, accessTokenTTL: Settings(configuration).accessTokenTTL)
        guard case .file(let path, _) = store.origin else { throw CommandRefusal("the keys come from JWT_SIGNING_KEYS; rotate them where that secret is kept") }
        let key = try SigningKeyStore.rotate(path: path, accessTokenTTL: store.accessTokenTTL)
        struct Rotated: Encodable { var rotated, file: String }
        return jsonText(Rotated(rotated: key.kid, file: path))
    }

    /// `seed`: a demo company and VAs with profiles (password `BLYTZ_SEED_PASSWORD`, default `blytz-demo-pass`).
    @Sendable
    static func seed(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        let password = configuration["BLYTZ_SEED_PASSWORD"] ?? "blytz-demo-pass"
        var accounts: [String] = []
        let company = try await createUser(
            email: "company@demo.blytz.work", password: password, role: .company, verified: true, displayName: "Acme Remote Ops", database: database,
            configuration: configuration
        )
        accounts.append("company@demo.blytz.work")
        if company.created {
            var record = CompanyRecord(userId: company.id, name: "", bio: "", country: "", industry: "", verificationLevel: "basic", totalSpentCents: 0, visible: true, createdAt: Date().iso, updatedAt: Date().iso)
            record.apply(CompanyInput(name: "Acme Remote Ops", bio: "A growing e-commerce brand that hires VAs for support and operations.", country: "US", website: "https://acme.example", industry: "e-commerce", companySize: "11-50", foundedYear: 2017))
            let made = record
            try await database.transaction { sql in try await made.save(on: sql, inserting: true) }
        }
        for va in DemoData.vas {
            let user = try await createUser(
                email: va.email, password: password, role: .va, verified: true, displayName: va.input.name, database: database, configuration: configuration
            )
            accounts.append(va.email)
            guard user.created else { continue }
            let record = DemoData.profile(userId: user.id, va.input, createdAt: Date().iso)
            try await database.transaction { sql in try await record.save(on: sql, inserting: true) }
        }
        struct Seeded: Encodable { var accounts: [String]; var password: String }
        return jsonText(Seeded(accounts: accounts, password: password))
    }

    /// `seed-profiles --count N`: N synthetic VAs with profiles, for the search benchmark.
    @Sendable
    static func seedProfiles(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        guard let count = option("count", in: arguments).flatMap(Int.init), count > 0 else { throw CommandRefusal("usage: seed-profiles --count <n>") }
        let started = ContinuousClock.now
        var generator = SplitMix(seed: UInt64(option("seed", in: arguments).flatMap(UInt64.init) ?? 42))
        let batch = 500
        for start in stride(from: 0, to: count, by: batch) {
            let size = min(batch, count - start)
            let rows = (0..<size).map { DemoData.synthetic(index: start + $0, using: &generator) }
            try await database.transaction { sql in
                var users = sql.insert(into: UserRecord.table).columns("id", "email", "password_hash", "role", "status", "email_verified", "preferences", "display_name", "created_at", "updated_at")
                for (user, profile) in rows {
                    users = users.values(SQLBind(user.id), SQLBind(user.email), SQLBind(user.passwordHash), SQLBind("va"), SQLBind("active"), SQLBind(true), SQLBind("{}"), SQLBind(profile.name), SQLBind(user.createdAt), SQLBind(user.createdAt))
                }
                try await users.run()
                try await sql.insert(into: VAProfileRecord.table).models(rows.map(\.1), keyEncodingStrategy: .snakeCase).run()
                var skills = sql.insert(into: "va_skills").columns("skill", "user_id")
                var terms = sql.insert(into: "profile_terms").columns("kind", "term", "user_id")
                for (_, profile) in rows {
                    for skill in Set(profile.skillList.map { $0.lowercased() }) { skills = skills.values(SQLBind(skill), SQLBind(profile.userId)) }
                    for term in profile.searchWords { terms = terms.values(SQLBind("va"), SQLBind(term), SQLBind(profile.userId)) }
                }
                try await skills.run()
                try await terms.run()
            }
        }
        // Fresh statistics for the planner; on PostgreSQL also the visibility map, so index-only probes
        // do not visit the table (autovacuum would get there later).
        let analyze: SQLQueryString = database.engine == .postgres ? "VACUUM ANALYZE" : "ANALYZE"
        try await database.withConnection { sql in try await sql.raw(analyze).run() }
        let seconds = started.duration(to: .now) / .seconds(1)
        struct Seeded: Encodable { var profiles: Int; var seconds: Double }
        return jsonText(Seeded(profiles: count, seconds: (seconds * 10).rounded() / 10))
    }
}
