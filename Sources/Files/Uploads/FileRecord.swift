import Blytz
import BlytzData
import BlytzEvents
import BlytzObjects
import BlytzServices
import Foundation
import SQLKit

/// Whether anyone may download a file, or only its owner, the users it is shared with and admins.
enum Visibility: String, Codable, Sendable, CaseIterable {
    case `private`, `public`
}

/// `pending` until its bytes are in storage and checked (the presigned flow), then `ready`; `external`
/// for a file known only by its URL elsewhere (one the monolith linked to), whose download redirects there.
enum FileStatus: String, Codable, Sendable, CaseIterable {
    case pending, ready, external

    /// Whether the file can be read: its bytes are here, or at its external URL.
    var isReadable: Bool { self != .pending }
}

/// A row of `files`: whose file, what its bytes are (`contentType` as detected from them, `size`,
/// `sha256`), and who may read it. Its bytes are at `users/<owner>/<id>` in the storage.
struct FileRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var ownerUserId: String
    var filename: String
    var contentType: String
    var size: Int
    var sha256: String?
    var visibility: Visibility
    var status: FileStatus
    /// When an unfinished upload is removed.
    var expiresAt: String?
    /// Where an `external` file's bytes are.
    var externalUrl: String? = nil
    var createdAt: String
    var updatedAt: String

    static let table = "files"

    var key: ObjectKey { ObjectKey(Self.objectKey(owner: ownerUserId, id: id))! }

    static func objectKey(owner: String, id: String) -> String { "users/\(owner)/\(id)" }

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> FileRecord? {
        guard id.isUUID else { return nil }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: FileRecord.self, keyDecodingStrategy: .snakeCase)
    }

    /// The file `id` as `caller` may read it: a public ready file is anyone's to read; otherwise its
    /// owner's, an admin's, or that of a user it is shared with. 404 for anyone else, who may not learn
    /// that it exists.
    static func readable(_ id: String, by caller: Caller?, on sql: any SQLDatabase) async throws -> FileRecord {
        guard let file = try await find(id, on: sql) else { throw HTTPError.notFound("There is no file \(id).") }
        if file.status.isReadable && file.visibility == .public { return file }
        if let caller, caller.userId == file.ownerUserId || caller.isAdmin { return file }
        if let caller, file.status.isReadable, try await shares(of: file.id, on: sql).contains(caller.userId) { return file }
        throw HTTPError.notFound("There is no file \(id).")
    }

    /// The file `id` as its owner (or an admin) may change it; 404 for anyone else.
    static func owned(_ id: String, by caller: Caller, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> FileRecord {
        guard let file = try await find(id, on: sql, forUpdate: forUpdate), file.ownerUserId == caller.userId || caller.isAdmin else {
            throw HTTPError.notFound("There is no file \(id).")
        }
        return file
    }

    static func shares(of id: String, on sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column("user_id").from("file_shares").where("file_id", .equal, SQLBind(id)).orderBy("user_id")
            .all(decoding: ShareRow.self, keyDecodingStrategy: .snakeCase).map(\.userId)
    }

    func insert(on sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
    }

    func update(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
            .where("id", .equal, SQLBind(id)).run()
    }

    var uploaded: FileUploaded {
        FileUploaded(fileId: id, ownerUserId: ownerUserId, filename: filename, contentType: contentType, size: size, sha256: sha256 ?? "", visibility: visibility.rawValue)
    }
}

private struct ShareRow: Decodable { var userId: String }

/// A file as the API shows it: its row, who it is shared with, and where to download it.
@dynamicMemberLookup
struct FileView: Codable, Sendable, Equatable, ResponseBody {
    var file: FileRecord
    var sharedWith: [String]
    var contentUrl: String

    init(_ file: FileRecord, sharedWith: [String]) {
        self.file = file
        self.sharedWith = sharedWith
        contentUrl = "/files/\(file.id)/content"
    }

    subscript<T>(dynamicMember path: KeyPath<FileRecord, T>) -> T { file[keyPath: path] }

    static func of(_ file: FileRecord, on sql: any SQLDatabase) async throws -> FileView {
        FileView(file, sharedWith: try await FileRecord.shares(of: file.id, on: sql))
    }

    private enum Extra: String, CodingKey { case sharedWith, contentUrl }

    init(from decoder: any Decoder) throws {
        file = try FileRecord(from: decoder)
        let extra = try decoder.container(keyedBy: Extra.self)
        sharedWith = try extra.decode([String].self, forKey: .sharedWith)
        contentUrl = try extra.decode(String.self, forKey: .contentUrl)
    }

    func encode(to encoder: any Encoder) throws {
        try file.encode(to: encoder)
        var extra = encoder.container(keyedBy: Extra.self)
        try extra.encode(sharedWith, forKey: .sharedWith)
        try extra.encode(contentUrl, forKey: .contentUrl)
    }
}

/// A filename as a client may give it: its last path component, without control characters, at most 255
/// bytes; "file" when nothing is left.
func safeFilename(_ name: String?) -> String {
    let last = (name ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
    var cleaned = String(last.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.map(Character.init))
        .trimmingCharacters(in: .whitespaces)
    while cleaned.utf8.count > 255 { cleaned.removeLast() }
    return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "file" : cleaned
}
