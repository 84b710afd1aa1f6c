import Blytz
import BlytzData
import BlytzEvents
import BlytzObjects
import BlytzServices
import Crypto
import Foundation
import HTTPTypes
import Logging
import SQLKit
import SigV4
import Synchronization

/// `POST /files` (signed in): a direct upload, the raw body (its `Content-Type`, `?filename=`,
/// `?visibility=`) or `multipart/form-data` (the first part with a filename, and `visibility` and
/// `filename` fields), up to `MAX_UPLOAD_BYTES` (413 above). The type is what the bytes are: a declared
/// type they do not match is refused with 415 naming what they are. Stores the bytes, records size and
/// SHA-256, emits `FileUploaded`, answers 201 with the file `ready`.
struct UploadFile: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var filename: String?
        var visibility: Visibility?

        init(_ reader: inout QueryReader) throws(HTTPError) {
            filename = reader.text("filename")
            visibility = reader.choice("visibility", Visibility.allCases.map(\.rawValue)).flatMap(Visibility.init(rawValue:))
            try reader.check()
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<FileView> {
        let query = try request.read(Query.self)
        let settings = StorageSettings(context.configuration)
        guard request.body.count <= settings.maxUploadBytes else {
            throw HTTPError(413, detail: "A direct upload is at most \(settings.maxUploadBytes) bytes; use POST /files/uploads for larger files.",
                            errors: [.init(field: "body", message: "must be at most \(settings.maxUploadBytes) bytes")])
        }
        var data = request.body
        var declared = ContentType.mediaType(request.header(.contentType))
        var filename = query.filename
        var visibility = query.visibility ?? .private
        if declared == "multipart/form-data" {
            guard let form = FormUpload(body: request.body, contentType: request.header(.contentType) ?? "") else {
                throw HTTPError(400, detail: "The multipart body has no file part (a part with a filename).", errors: [.init(field: "file", message: "is required")])
            }
            (data, declared) = (form.data, ContentType.mediaType(form.contentType))
            filename = form.fields["filename"] ?? form.filename ?? filename
            if let text = form.fields["visibility"] {
                guard let chosen = Visibility(rawValue: text) else { throw HTTPError.unprocessable([.init(field: "visibility", message: "must be private or public")]) }
                visibility = chosen
            }
        }
        guard !data.isEmpty else { throw HTTPError.unprocessable([.init(field: "body", message: "is empty")]) }
        let type = try ContentType.check(declared: declared, head: data)
        let id = UUID().uuidString.lowercased()
        let now = context.now.iso
        let file = FileRecord(
            id: id, ownerUserId: caller.userId, filename: safeFilename(filename),
            contentType: type, size: data.count, sha256: SigV4Signer.hex(SHA256.hash(data: data)), visibility: visibility, status: .ready,
            expiresAt: nil, createdAt: now, updatedAt: now
        )
        let storage = try context.storage
        try await Uploads.store { try await storage.put(file.key, data: data, contentType: type) }
        do {
            try await context.database.transaction { sql in
                try await file.insert(on: sql)
                try await context.publish(file.uploaded, on: sql)
            }
        } catch {
            try? await storage.delete(file.key)
            throw error
        }
        return .created(FileView(file, sharedWith: []), location: "/files/\(id)")
    }
}

/// The body of `POST /files/uploads`.
struct UploadRequest: Codable, Sendable, Validatable {
    var filename: String?
    var contentType: String?
    var size: Int?
    var sha256: String?
    var visibility: Visibility?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if filename?.isEmpty ?? true { errors.append(.init(field: "filename", message: "is required")) }
        if let type = contentType {
            if !ContentType.accepted.contains(type.lowercased()) { errors.append(.init(field: "contentType", message: "must be one of the stored types")) }
        } else { errors.append(.init(field: "contentType", message: "is required")) }
        if let size { if size < 1 { errors.append(.init(field: "size", message: "must be at least 1 byte")) } } else { errors.append(.init(field: "size", message: "is required")) }
        if let sha256, sha256.count != 64 || !sha256.allSatisfy(\.isHexDigit) { errors.append(.init(field: "sha256", message: "must be 64 hex digits")) }
        return errors
    }
}

/// What `POST /files/uploads` answers: the pending file, and where and how to send its bytes.
struct UploadTicket: Codable, Sendable, Equatable, ResponseBody {
    var file: FileView
    var uploadUrl: String
    var method: String
    var headers: [String: String]
    var expiresAt: String
}

/// `POST /files/uploads` (signed in): the presigned flow for a large file. Records the file `pending`
/// with its declared name, type, size (up to `MAX_PRESIGNED_BYTES`) and optional SHA-256, and answers a
/// URL to PUT the bytes to for an hour — S3's presigned PUT, or the runner's local object endpoint —
/// without them passing through a function. `POST /files/{id}/complete` then checks and readies it;
/// unfinished uploads are removed when they expire.
struct CreateUpload: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<UploadRequest>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<UploadTicket> {
        let settings = StorageSettings(context.configuration)
        let input = try request.input
        guard let size = input.size, let type = input.contentType?.lowercased() else { throw HTTPError.unprocessable([]) }
        guard size <= settings.maxPresignedBytes else {
            throw HTTPError(413, detail: "A file is at most \(settings.maxPresignedBytes) bytes.", errors: [.init(field: "size", message: "must be at most \(settings.maxPresignedBytes) bytes")])
        }
        let id = UUID().uuidString.lowercased()
        let now = context.now
        let expires = now.addingTimeInterval(TimeInterval(settings.uploadSeconds))
        let file = FileRecord(
            id: id, ownerUserId: caller.userId, filename: safeFilename(input.filename),
            contentType: type, size: size, sha256: input.sha256?.lowercased(), visibility: input.visibility ?? .private, status: .pending,
            expiresAt: expires.iso, createdAt: now.iso, updatedAt: now.iso
        )
        try await context.database.transaction { sql in try await file.insert(on: sql) }
        let url = try context.storage.presignedURL(.put, file.key, expires: settings.uploadSeconds, now: now)
        return .created(UploadTicket(file: FileView(file, sharedWith: []), uploadUrl: url, method: "PUT", headers: [:], expiresAt: expires.iso), location: "/files/\(id)")
    }
}

/// The body of `POST /files/{id}/complete`: the SHA-256 the client computed, if it did not declare it
/// when it asked to upload.
struct CompleteUpload: Codable, Sendable, OptionalBody, Validatable {
    var sha256: String?

    func validate() -> [Problem.FieldError] {
        guard let sha256, sha256.count != 64 || !sha256.allSatisfy(\.isHexDigit) else { return [] }
        return [.init(field: "sha256", message: "must be 64 hex digits")]
    }
}

/// `POST /files/{id}/complete` (its owner): checks what was uploaded — the declared size, the type the
/// bytes show, the SHA-256 (declared, or recorded now) — and makes the file `ready`, emitting
/// `FileUploaded`. Bytes that fail a check are removed and the upload stays pending (422 or 415 naming
/// what failed); completing a ready file answers it as it is.
struct FinishUpload: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<CompleteUpload>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<FileView> {
        let id = try request.parameter("id")
        let database = try context.database
        let storage = try context.storage
        let file = try await database.withConnection { sql in try await FileRecord.owned(id, by: caller, on: sql) }
        if file.status == .ready { return .ok(try await database.withConnection { sql in try await FileView.of(file, on: sql) }) }
        guard let info = try await Uploads.store({ try await storage.head(file.key) }) else {
            throw HTTPError(409, detail: "Nothing has been uploaded to this file's URL yet.")
        }
        let checked: (sha256: String, head: Data)
        do {
            guard info.size == file.size else {
                throw HTTPError.unprocessable([.init(field: "size", message: "the upload has \(info.size) bytes, not the \(file.size) declared")])
            }
            checked = try await Uploads.store { try await Uploads.digest(file.key, in: storage) }
            if let declared = try request.input.sha256?.lowercased() ?? file.sha256, declared != checked.sha256 {
                throw HTTPError.unprocessable([.init(field: "sha256", message: "the upload's SHA-256 is \(checked.sha256)")])
            }
            _ = try ContentType.check(declared: file.contentType, head: checked.head)
        } catch {
            try? await storage.delete(file.key)
            throw error
        }
        let now = context.now.iso
        let view = try await database.transaction { sql in
            guard var current = try await FileRecord.find(file.id, on: sql, forUpdate: true) else { throw HTTPError.notFound("There is no file \(id).") }
            if current.status == .pending {
                (current.status, current.sha256, current.expiresAt, current.updatedAt) = (.ready, checked.sha256, nil, now)
                try await current.update(on: sql)
                try await context.publish(current.uploaded, on: sql)
            }
            return try await FileView.of(current, on: sql)
        }
        return .ok(view)
    }
}

/// `files-sweep-uploads` (every 5 minutes): pending uploads past their expiry lose their bytes and their
/// row.
struct SweepUploads: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let database = try context.database
        let storage = try context.storage
        let expired = try await database.withConnection { sql in
            try await sql.select().column("*").from(FileRecord.table).where("status", .equal, SQLBind(FileStatus.pending.rawValue))
                .where("expires_at", .lessThan, SQLBind(context.now.iso)).limit(500)
                .all(decoding: FileRecord.self, keyDecodingStrategy: .snakeCase)
        }
        for file in expired {
            try await storage.delete(file.key)
            try await database.transaction { sql in
                try await sql.delete(from: FileRecord.table).where("id", .equal, SQLBind(file.id)).where("status", .equal, SQLBind(FileStatus.pending.rawValue)).run()
            }
        }
        if !expired.isEmpty { context.logger.info("unfinished uploads removed", metadata: ["count": "\(expired.count)"]) }
    }
}

/// What the routes share about storage.
enum Uploads {
    /// Runs a storage call; a storage that cannot be reached is a 503, a missing object a 404.
    static func store<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch ObjectStorageError.unavailable(let reason) {
            throw HTTPError(503, detail: "The file storage could not be reached (\(reason)); try again.", headers: [.retryAfter: "5"])
        } catch ObjectStorageError.notFound {
            throw HTTPError.notFound("The file's bytes are not in storage.")
        }
    }

    /// The SHA-256 of an object read a chunk at a time, and its first bytes (for the type).
    static func digest(_ key: ObjectKey, in storage: any ObjectStorage) async throws -> (sha256: String, head: Data) {
        let state = DigestState()
        try await storage.read(key) { chunk in state.add(chunk) }
        return state.finish()
    }
}

/// A running SHA-256 and the first 4 KiB, fed from `ObjectStorage.read`'s chunks.
private final class DigestState: Sendable {
    private let state = Mutex((hash: SHA256(), head: Data()))

    func add(_ chunk: Data) {
        state.withLock { state in
            state.hash.update(data: chunk)
            if state.head.count < 4096 { state.head.append(chunk.prefix(4096 - state.head.count)) }
        }
    }

    func finish() -> (sha256: String, head: Data) { state.withLock { (SigV4Signer.hex($0.hash.finalize()), $0.head) } }
}
