import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// Counts failed sign-ins per email and per client address. Past the limit within the window, the key
/// is locked; each further lock of the same key lasts twice as long (capped at a day).
struct LoginThrottle: Sendable {
    struct Row: Codable, Sendable {
        var key: String
        var failures: Int
        var windowStartedAt: String
        var lockedUntil: String?
        var locks: Int
    }

    let settings: Settings

    func keys(email: String, address: String) -> [(key: String, limit: Int)] {
        [("email:\(email.normalizedEmail)", settings.maxFailuresPerEmail), ("address:\(address)", settings.maxFailuresPerAddress)]
    }

    /// How long until a locked key opens again; nil when none is locked.
    func retryAfter(email: String, address: String, on sql: any SQLDatabase, now: Date = Date()) async throws -> Int? {
        let names = keys(email: email, address: address).map(\.key)
        let rows = try await sql.select().column("*").from("login_throttle").where("key", .in, SQLBind.group(names))
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        let waits = rows.compactMap { $0.lockedUntil.flatMap(Date.init(iso:)) }.filter { $0 > now }.map { Int($0.timeIntervalSince(now).rounded(.up)) }
        return waits.max()
    }

    func recordFailure(email: String, address: String, on sql: any SQLDatabase, now: Date = Date()) async throws {
        for (key, limit) in keys(email: email, address: address) {
            // Concurrent first failures of one key must not collide: make the row, then lock it.
            try await sql.insert(into: "login_throttle").model(Row(key: key, failures: 0, windowStartedAt: now.iso, locks: 0), keyEncodingStrategy: .snakeCase)
                .ignoringConflicts(with: ["key"]).run()
            guard var row = try await sql.select().column("*").from("login_throttle").where("key", .equal, SQLBind(key)).for(.update)
                .first(decoding: Row.self, keyDecodingStrategy: .snakeCase)
            else { continue }
            if let started = Date(iso: row.windowStartedAt), now.timeIntervalSince(started) > settings.lockDuration / .seconds(1) {
                row.failures = 0
                row.windowStartedAt = now.iso
            }
            row.failures += 1
            if row.failures >= limit {
                let lock = min(settings.lockDuration * (1 << min(row.locks, 10)), .seconds(86_400))
                row.lockedUntil = now.adding(lock).iso
                row.locks += 1
                row.failures = 0
                row.windowStartedAt = now.iso
            }
            try await sql.update("login_throttle").set("failures", to: SQLBind(row.failures)).set("window_started_at", to: SQLBind(row.windowStartedAt))
                .set("locked_until", to: SQLBind(row.lockedUntil)).set("locks", to: SQLBind(row.locks))
                .where("key", .equal, SQLBind(key)).run()
        }
    }

    /// A successful sign-in clears the email's count (the address keeps its own).
    func recordSuccess(email: String, on sql: any SQLDatabase) async throws {
        try await sql.delete(from: "login_throttle").where("key", .equal, SQLBind("email:\(email.normalizedEmail)")).run()
    }
}
