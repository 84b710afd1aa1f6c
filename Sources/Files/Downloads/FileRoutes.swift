import Blytz
import BlytzData
import BlytzEvents
import BlytzObjects
import BlytzServices
import Foundation
import HTTPTypes
import SQLKit

/// `GET /files/{id}/content` (anyone for a public file; its owner, the users it is shared with and
/// admins for a private one — 404 for others): the bytes with their type, length, `ETag` (the SHA-256),
/// `Last-Modified` and a `Content-Disposition` carrying the original name (RFC 6266, UTF-8 encoded).
/// `Range` (one range: first bytes, suffix, middle) answers 206 with `Content-Range`, an unsatisfiable
/// one 416; a matching `If-None-Match` answers 304. A file larger than `INLINE_BYTES` is a redirect to a
/// presigned GET for five minutes (the storage honours `Range` the same way).
struct DownloadFile: HTTPFunction {
    static let access = Access.anyoneKnown

    func handle(_ request: FunctionRequest<Empty>, caller: Caller?, context: FunctionContext) async throws -> FunctionResponse<FileBytes> {
        let id = try request.parameter("id")
        let file = try await context.database.withConnection { sql in try await FileRecord.readable(id, by: caller, on: sql) }
        if file.status == .external, let url = file.externalUrl {
            return FunctionResponse(status: .found, headers: [.location: url, .cacheControl: "no-store"], body: nil)
        }
        guard file.status == .ready, let sha256 = file.sha256 else { throw HTTPError(409, detail: "The file's upload has not been completed.") }
        let etag = "\"\(sha256)\""
        var headers: HTTPFields = [
            .eTag: etag, .lastModified: HTTPDate.format(file.updatedAt), .acceptRanges: "bytes",
            .cacheControl: file.visibility == .public ? "public, max-age=300" : "private, no-cache",
            .contentDisposition: Self.disposition(file), HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if let match = request.header(.ifNoneMatch), Self.matches(match, etag: etag) {
            return FunctionResponse(status: .notModified, headers: headers, body: nil)
        }
        let storage = try context.storage
        let settings = StorageSettings(context.configuration)
        if file.size > settings.inlineBytes {
            headers[.location] = storage.presignedURL(.get, file.key, expires: settings.downloadSeconds, now: context.now)
            headers[.cacheControl] = "no-store"
            return FunctionResponse(status: .found, headers: headers, body: nil)
        }
        switch ByteRange.parse(request.header(.range), size: file.size) {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(file.size)"
            throw HTTPError(416, detail: "The range is outside the file's \(file.size) bytes.", headers: headers)
        case .range(let range):
            let data = try await Uploads.store { try await storage.get(file.key, range: range) }
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)"
            return FunctionResponse(status: .partialContent, headers: headers, body: FileBytes(Bytes(data, contentType: file.contentType)))
        case .whole:
            let data = try await Uploads.store { try await storage.get(file.key, range: nil) }
            return FunctionResponse(status: .ok, headers: headers, body: FileBytes(Bytes(data, contentType: file.contentType)))
        }
    }

    static func matches(_ header: String, etag: String) -> Bool {
        header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains { tag in
            tag == "*" || tag == etag || tag == "W/\(etag)"
        }
    }

    /// Shown in place for media, saved for anything else; the name as ASCII and as UTF-8 (`filename*`).
    static func disposition(_ file: FileRecord) -> String {
        let inline = ["image/", "video/", "audio/", "application/pdf"].contains { file.contentType.hasPrefix($0) }
        let ascii = String(file.filename.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        let encoded = file.filename.addingPercentEncoding(withAllowedCharacters: .init(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? "file"
        return "\(inline ? "inline" : "attachment"); filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}

/// A file's bytes, in whichever of the stored types it is (the API document lists each).
struct FileBytes: ResponseBody, SchemaDescribing, AlternateMedia {
    var bytes: Bytes

    init(_ bytes: Bytes) { self.bytes = bytes }

    func encodedBody() throws -> (data: Data, contentType: String)? { try bytes.encodedBody() }

    static func jsonSchema(_ schemas: SchemaCollector) -> JSONValue { ["type": "string", "format": "binary"] }
    static var contentType: String { "application/octet-stream" }
    static var alternateMedia: [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: ContentType.accepted.map { ($0, $0 == "application/json" ? [:] : ["type": "string", "format": "binary"]) })
    }
}

/// HTTP dates (IMF-fixdate) of the ISO-8601 times rows keep.
enum HTTPDate {
    static func format(_ iso: String) -> String {
        let date = (try? Date(iso, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(iso, strategy: .iso8601)) ?? Date()
        return date.formatted(Date.VerbatimFormatStyle(
            format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
            locale: Locale(identifier: "en_US_POSIX"), timeZone: TimeZone(identifier: "GMT")!, calendar: Calendar(identifier: .gregorian)
        ))
    }
}

/// `GET /files` (signed in): the caller's files, newest first (`?status=`); an admin's `?ownerUserId=`.
struct ListFiles: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var ownerUserId: String?
        var status: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            ownerUserId = reader.uuid("ownerUserId")
            status = reader.choice("status", FileStatus.allCases.map(\.rawValue))
            try reader.check()
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<FileView>> {
        let filters = try request.read(Query.self)
        if let owner = filters.ownerUserId { try caller.requireSelfOrAdmin(owner) }
        let owner = filters.ownerUserId ?? caller.userId
        let (rows, shares) = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(FileRecord.table).where("owner_user_id", .equal, SQLBind(owner))
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            let rows = try await NewestFirst<FileStatus>.keyset.select(query, page: filters.page)
                .all(decoding: FileRecord.self, keyDecodingStrategy: .snakeCase)
            var shares: [String: [String]] = [:]
            for row in rows.prefix(filters.page.limit) { shares[row.id] = try await FileRecord.shares(of: row.id, on: sql) }
            return (rows, shares)
        }
        return .ok(filters.page.page(rows, { FileView($0, sharedWith: shares[$0.id] ?? []) }) { ($0.createdAt, $0.id) })
    }
}

/// `GET /files/{id}` (whoever may read the file): its metadata.
struct GetFile: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<FileView> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in
            let file = try await FileRecord.readable(id, by: caller, on: sql)
            let view = try await FileView.of(file, on: sql)
            // Who else may read it is the owner's business.
            return file.ownerUserId == caller.userId || caller.isAdmin ? view : FileView(file, sharedWith: [])
        })
    }
}

/// The body of `PATCH /files/{id}`.
struct FileChange: Codable, Sendable, Validatable {
    var visibility: Visibility?
    /// The users, besides the owner and admins, who may read a private file (a contract's other party, a
    /// dispute's): replaces the list.
    var sharedWith: [String]?
    /// Users added to those it is shared with (a dispute's evidence): keeps the others.
    var shareWith: [String]?

    func validate() -> [Problem.FieldError] {
        [("sharedWith", sharedWith), ("shareWith", shareWith)].compactMap { field, users in
            guard let users else { return nil }
            if users.count > 50 { return .init(field: field, message: "must have at most 50 users") }
            if !users.allSatisfy(\.isUUID) { return .init(field: field, message: "must be user ids") }
            return nil
        }
    }
}

/// `PATCH /files/{id}` (its owner or an admin): visibility, and who a private file is shared with
/// (`sharedWith` replaces the list, `shareWith` adds to it).
struct UpdateFile: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<FileChange>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<FileView> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var file = try await FileRecord.owned(id, by: caller, on: sql, forUpdate: true)
            let change = try request.input
            if let visibility = change.visibility { file.visibility = visibility }
            file.updatedAt = now
            try await file.update(on: sql)
            if change.sharedWith != nil || change.shareWith != nil {
                var shares = change.sharedWith ?? []
                if change.sharedWith == nil { shares = try await FileRecord.shares(of: file.id, on: sql) }
                shares += change.shareWith ?? []
                try await sql.delete(from: "file_shares").where("file_id", .equal, SQLBind(file.id)).run()
                for user in Set(shares.map { $0.lowercased() }) where user != file.ownerUserId {
                    try await sql.insert(into: "file_shares").columns("file_id", "user_id").values(SQLBind(file.id), SQLBind(user)).run()
                }
            }
            return try await FileView.of(file, on: sql)
        })
    }
}

/// `DELETE /files/{id}` (its owner or an admin): removes the bytes, then the metadata; portfolio items
/// that showed it keep their text. 204.
struct DeleteFile: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let id = try request.parameter("id")
        let database = try context.database
        let file = try await database.withConnection { sql in try await FileRecord.owned(id, by: caller, on: sql) }
        let storage = try context.storage
        try await Uploads.store { try await storage.delete(file.key) }
        try await database.transaction { sql in
            try await sql.delete(from: FileRecord.table).where("id", .equal, SQLBind(file.id)).run()
        }
        return .noContent
    }
}
