import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// `files import --from postgres://…`: every object the monolith knows only by its URL (VA avatars and
/// résumés, company logos, portfolio files) becomes a file record marked `external`, whose download
/// redirects to the URL, under the id every other service derives from that URL; and the monolith's
/// portfolio items, pointing at them. The bytes stay where they are (the README says how to copy them in).
enum Import {
    static let command = LegacyImport.command(service: "files") { session in
        try await profileFiles(session)
        try await companyFiles(session)
        try await portfolio(session)
    }

    static let time = LegacyImport.time

    /// The record of an object at `url` owned by `owner`, made or refreshed; its id is `Monolith.fileId(url)`.
    @discardableResult
    static func external(_ url: String, owner: String, at time: String, on sql: any SQLDatabase, report: inout LegacyImport.TableReport) async throws -> String? {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
            report.flag("not an http(s) URL, no file made")
            return nil
        }
        let id = Monolith.fileId(url)!
        // Upload URLs end in `<epoch-ms>_<name>`: the name is what the user uploaded.
        var filename = parsed.lastPathComponent
        if let underscore = filename.firstIndex(of: "_"), filename[..<underscore].allSatisfy(\.isNumber), !filename[..<underscore].isEmpty {
            filename = String(filename[filename.index(after: underscore)...])
        }
        let file = FileRecord(
            id: id, ownerUserId: owner, filename: filename.isEmpty ? "file" : filename, contentType: contentType(of: filename), size: 0, sha256: nil,
            visibility: .public, status: .external, expiresAt: nil, externalUrl: url, createdAt: time, updatedAt: time
        )
        if try await FileRecord.find(id, on: sql) == nil { try await file.insert(on: sql) } else { try await file.update(on: sql) }
        return id
    }

    /// A type by the name's extension (nothing was read of the bytes).
    static func contentType(of filename: String) -> String {
        let types = [
            "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "pdf": "application/pdf",
            "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "doc": "application/msword",
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "txt": "text/plain",
        ]
        return types[(filename as NSString).pathExtension.lowercased()] ?? "application/octet-stream"
    }

    struct ProfileFilesRow: Decodable, Sendable {
        var legacyId: String
        var userLegacyId: String
        var createdAt: String?
        var avatarUrl: String?
        var resumeUrl: String?
    }

    static func profileFiles(_ session: LegacyImport.Session) async throws {
        try await session.copy("va_profiles", into: "files", key: nil, columns: Monolith.ownerColumns + [
            "t.\"avatarUrl\" AS avatar_url", "t.\"resumeUrl\" AS resume_url",
        ], as: ProfileFilesRow.self) { row, sql, report in
            let urls = [row.avatarUrl, row.resumeUrl].compactMap { $0 }
            guard !urls.isEmpty else { return .skipped("no avatar or résumé") }
            for url in urls { try await external(url, owner: Monolith.userId(row.userLegacyId), at: row.createdAt ?? "", on: sql, report: &report) }
            return .written
        }
    }

    struct CompanyFilesRow: Decodable, Sendable {
        var legacyId: String
        var userLegacyId: String
        var createdAt: String?
        var logoUrl: String?
    }

    static func companyFiles(_ session: LegacyImport.Session) async throws {
        try await session.copy("companies", into: "files", key: nil, columns: Monolith.ownerColumns + ["t.\"logoUrl\" AS logo_url"], as: CompanyFilesRow.self) { row, sql, report in
            guard let url = row.logoUrl else { return .skipped("no logo") }
            try await external(url, owner: Monolith.userId(row.userLegacyId), at: row.createdAt ?? "", on: sql, report: &report)
            return .written
        }
    }

    struct PortfolioRow: Decodable, Sendable {
        var legacyId: String
        var vaLegacyUserId: String?
        var title: String
        var description: String
        var fileUrl: String
        var category: String?
        var technologies: String
        var featured: Bool
        var projectUrl: String?
        var createdAt: String
    }

    static func portfolio(_ session: LegacyImport.Session) async throws {
        try await session.copy("portfolio_items", into: "portfolio_items", columns: [
            Monolith.vaOwner,
            "t.title AS title", "t.description AS description", "t.\"fileUrl\" AS file_url", "t.category AS category",
            "\(LegacyImport.textArray("technologies")) AS technologies", "t.featured AS featured", "t.\"projectUrl\" AS project_url", "\(time("createdAt")) AS created_at",
        ], as: PortfolioRow.self) { row, sql, report in
            guard let va = row.vaLegacyUserId else { return .skipped("orphan: its VA profile is gone") }
            let owner = Monolith.userId(va)
            let file = try await external(row.fileUrl, owner: owner, at: row.createdAt, on: sql, report: &report)
            let technologies = Monolith.skills(row.technologies)
            if technologies.changed { report.map("technologies trimmed and deduplicated") }
            // The monolith's thumbnail is the file's URL with a query: no separate file.
            let item = PortfolioItem(
                id: LegacyImport.id("portfolio_items", row.legacyId), vaUserId: owner, title: row.title, description: row.description.isEmpty ? nil : row.description,
                fileId: file, thumbnailFileId: nil, category: row.category, technologies: technologies.skills, projectUrl: row.projectUrl, featured: row.featured,
                createdAt: row.createdAt, updatedAt: row.createdAt
            )
            try await sql.delete(from: PortfolioItem.table).where("id", .equal, SQLBind(item.id)).run()
            try await item.save(on: sql, inserting: true)
            return .written
        }
    }
}
