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

    /// The record of an object at `url` owned by `owner`; its id is `Monolith.fileId(url)`. Nil for a URL that is not http(s).
    static func external(_ url: String, owner: String, at time: String, report: inout LegacyImport.TableReport) -> FileRecord? {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
            report.flag("not an http(s) URL, no file made")
            return nil
        }
        // Upload URLs end in `<epoch-ms>_<name>`: the name is what the user uploaded.
        var filename = parsed.lastPathComponent
        if let underscore = filename.firstIndex(of: "_"), filename[..<underscore].allSatisfy(\.isNumber), !filename[..<underscore].isEmpty {
            filename = String(filename[filename.index(after: underscore)...])
        }
        return FileRecord(
            id: Monolith.fileId(url)!, ownerUserId: owner, filename: filename.isEmpty ? "file" : filename, contentType: contentType(of: filename), size: 0, sha256: nil,
            visibility: .public, status: .external, expiresAt: nil, externalUrl: url, createdAt: time, updatedAt: time
        )
    }

    /// Makes or refreshes the records of `files` (one URL named twice is one file).
    static func save(_ files: [FileRecord], on sql: any SQLDatabase) async throws {
        var seen = Set<String>()
        try await LegacyImport.upsert(files.reversed().filter { seen.insert($0.id).inserted }, in: FileRecord.table, on: sql)
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
        ], as: ProfileFilesRow.self) { rows, sql, report in
            var files: [FileRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                let urls = [row.avatarUrl, row.resumeUrl].compactMap { $0 }
                guard !urls.isEmpty else { return .skipped("no avatar or résumé") }
                files += urls.compactMap { external($0, owner: Monolith.userId(row.userLegacyId), at: row.createdAt ?? "", report: &report) }
                return .written
            }
            try await save(files, on: sql)
            return outcomes
        }
    }

    struct CompanyFilesRow: Decodable, Sendable {
        var legacyId: String
        var userLegacyId: String
        var createdAt: String?
        var logoUrl: String?
    }

    static func companyFiles(_ session: LegacyImport.Session) async throws {
        try await session.copy("companies", into: "files", key: nil, columns: Monolith.ownerColumns + ["t.\"logoUrl\" AS logo_url"], as: CompanyFilesRow.self) { rows, sql, report in
            var files: [FileRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard let url = row.logoUrl else { return .skipped("no logo") }
                files += [external(url, owner: Monolith.userId(row.userLegacyId), at: row.createdAt ?? "", report: &report)].compactMap { $0 }
                return .written
            }
            try await save(files, on: sql)
            return outcomes
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
        ], as: PortfolioRow.self) { rows, sql, report in
            var files: [FileRecord] = []
            var items: [PortfolioItem] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard let va = row.vaLegacyUserId else { return .skipped("orphan: its VA profile is gone") }
                let owner = Monolith.userId(va)
                let file = external(row.fileUrl, owner: owner, at: row.createdAt, report: &report)
                if let file { files.append(file) }
                let technologies = Monolith.skills(row.technologies)
                if technologies.changed { report.map("technologies trimmed and deduplicated") }
                // The monolith's thumbnail is the file's URL with a query: no separate file.
                items.append(PortfolioItem(
                    id: LegacyImport.id("portfolio_items", row.legacyId), vaUserId: owner, title: row.title, description: row.description.isEmpty ? nil : row.description,
                    fileId: file?.id, thumbnailFileId: nil, category: row.category, technologies: technologies.skills, projectUrl: row.projectUrl, featured: row.featured,
                    createdAt: row.createdAt, updatedAt: row.createdAt
                ))
                return .written
            }
            try await save(files, on: sql)
            if !items.isEmpty {
                try await sql.delete(from: PortfolioItem.table).where("id", .in, SQLBind.group(items.map(\.id))).run()
                try await sql.insert(into: PortfolioItem.table, columns: items[0].columns.map(\.name), rows: items.map { $0.columns.map { SQLBind($0.value) } })
            }
            return outcomes
        }
    }
}
