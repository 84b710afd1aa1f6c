import Blytz
import Crypto
import Foundation
import HTTPTypes
import SQLKit

/// `Idempotency-Key` for unsafe routes: the first response to a key is kept (per caller, with a digest of
/// the request) in the same transaction as the route's writes, so a repeat gets that response back and
/// nothing happens twice — also when repeats race: one commits, the others roll back and replay it. The
/// same key with another request is a 422. Keys expire after `ttl` (24 h by default).
///
/// ```
/// return try await context.idempotent(request, scope: caller.userId) { sql in
///     try await sql.insert(into: ContractRecord.table)…run()
///     return .created(contract.view)
/// }
/// ```
public enum IdempotencyStore {
    public static let table = "_blytz_idempotency"
    /// The header a replayed response carries.
    public static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    /// A stored first response.
    struct Row: Codable, Sendable {
        var scope: String
        var key: String
        var fingerprint: String
        var status: Int
        var headers: String
        var body: String?
        var createdAt: String
        var expiresAt: String
    }

    /// The digest a repeat must match: method, path and body.
    public static func fingerprint(method: String, path: String, body: Data) -> String {
        var hash = SHA256()
        hash.update(data: Data("\(method.uppercased()) \(path)\n".utf8))
        hash.update(data: body)
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Runs `body` in a transaction once per `(scope, key)`; see the type's summary. Without a key it runs
    /// `body` in a transaction as any route would.
    public static func run<Output: ResponseBody & Codable>(
        key: String?, scope: String, fingerprint: String, now: Date, ttl: Duration = .seconds(86_400), in database: ServiceDatabase,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> FunctionResponse<Output>
    ) async throws -> FunctionResponse<Output> {
        guard let key, !key.isEmpty else { return try await database.transaction(body) }
        guard key.utf8.count <= 255 else {
            throw HTTPError(422, detail: "The Idempotency-Key is too long.", errors: [.init(field: "Idempotency-Key", message: "must be at most 255 characters")])
        }
        for attempt in 1...3 {
            do {
                return try await database.transaction { sql in
                    if let kept = try await find(scope: scope, key: key, on: sql) {
                        if kept.expiresAt > now.iso {
                            return try replay(kept, fingerprint: fingerprint, as: Output.self)
                        }
                        try await sql.delete(from: table).where("scope", .equal, SQLBind(scope)).where("key", .equal, SQLBind(key)).run()
                    }
                    let response = try await body(sql)
                    let encoded = try response.body?.encodedBody()
                    let row = Row(
                        scope: scope, key: key, fingerprint: fingerprint, status: response.status.code, headers: jsonText(response.headers.gatewayHeaders),
                        body: encoded.map { String(decoding: $0.data, as: UTF8.self) }, createdAt: now.iso, expiresAt: now.adding(ttl).iso
                    )
                    try await sql.insert(into: table).model(row, keyEncodingStrategy: .snakeCase).run()
                    return response
                }
            } catch where ServiceDatabase.isUniqueViolation(error) && attempt < 3 {
                // A concurrent repeat committed first: this one's writes rolled back; the next pass replays it.
                continue
            } catch {
                // A concurrent repeat may have committed while this one waited on its locks, and this one then
                // refused what the first had already done: the first's response is the answer.
                if let kept = try? await database.withConnection({ sql in try await find(scope: scope, key: key, on: sql) }), kept.expiresAt > now.iso {
                    return try replay(kept, fingerprint: fingerprint, as: Output.self)
                }
                throw error
            }
        }
        throw HTTPError(409, detail: "A request with this Idempotency-Key is still being processed; try again.")
    }

    static func find(scope: String, key: String, on sql: any SQLDatabase) async throws -> Row? {
        try await sql.select().column("*").from(table).where("scope", .equal, SQLBind(scope)).where("key", .equal, SQLBind(key))
            .first(decoding: Row.self, keyDecodingStrategy: .snakeCase)
    }

    static func replay<Output: ResponseBody & Decodable>(_ kept: Row, fingerprint: String, as: Output.Type) throws -> FunctionResponse<Output> {
        guard kept.fingerprint == fingerprint else {
            throw HTTPError(
                422, detail: "This Idempotency-Key was used for a different request.",
                errors: [.init(field: "Idempotency-Key", message: "was already used with another body or path")]
            )
        }
        var headers = HTTPFields(gatewayHeaders: fromJSONText(kept.headers, as: [String: String].self, fallback: [:]))
        headers[Self.replayedHeader] = "true"
        let output = try kept.body.map { try JSON.decoder().decode(Output.self, from: Data($0.utf8)) }
        return FunctionResponse(status: HTTPResponse.Status(code: kept.status), headers: headers, body: output)
    }

    /// Deletes expired keys; returns how many.
    @discardableResult
    public static func purge(now: Date, in database: ServiceDatabase) async throws -> Int {
        try await database.transaction { sql in
            struct Key: Decodable { var scope: String; var key: String }
            let expired = try await sql.select().columns("scope", "key").from(table).where("expires_at", .lessThanOrEqual, SQLBind(now.iso)).all(decoding: Key.self)
            try await sql.delete(from: table).where("expires_at", .lessThanOrEqual, SQLBind(now.iso)).run()
            return expired.count
        }
    }
}

extension FunctionContext {
    /// Runs `body` in a transaction once per `Idempotency-Key` of `request` and `scope` (usually the
    /// caller), replaying the first response to a repeat; see `IdempotencyStore`.
    public func idempotent<Input, Output: ResponseBody & Codable>(
        _ request: FunctionRequest<Input>, scope: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> FunctionResponse<Output>
    ) async throws -> FunctionResponse<Output> {
        try await IdempotencyStore.run(
            key: request.header(.idempotencyKey), scope: scope,
            fingerprint: IdempotencyStore.fingerprint(method: request.method.rawValue, path: request.path, body: request.body),
            now: now, in: try database, body
        )
    }
}
