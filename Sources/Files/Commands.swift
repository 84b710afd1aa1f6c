import Blytz
import BlytzData
import BlytzEvents
import BlytzObjects
import BlytzServices
import Crypto
import Foundation
import Logging
import SQLKit
import SigV4

/// The files service's commands (`blytz files …`; `blytz seed` runs `seed`).
enum Commands {
    static let all: [ServiceCommand] = [
        ServiceCommand("seed", run: seed),
        Import.command,
    ]

    /// `seed`: a featured portfolio item with an image for the demo VA (read from the user service, which
    /// `blytz seed` seeded first). Needs the backend running; does nothing twice.
    @Sendable
    static func seed(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        try await ServiceParts.withCommandContext("files-seed", database: database, configuration: configuration, logger: logger, setup: Files.setup) { context in
            guard let va = try await DemoPeople.profiles(context).vas.first(where: { $0.name == DemoPortfolio.va }) else {
                throw DemoPeople.missing()
            }
            return try await DemoPortfolio.seed(va: va.userId.lowercased(), context: context)
        }
    }
}

/// The demo portfolio of `blytz seed`.
enum DemoPortfolio {
    static let va = "Arjun Mehta"
    static let title = "Demo: inbox zero for a 40-person agency"
    /// A 24×24 PNG: a blue and amber checkerboard.
    static let image = Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAABgAAAAYCAIAAABvFaqvAAAALklEQVR42mP4sEUDDcnlnUBDxKhhGDWIjgaRpw1TzahB9DRoNGWP5rVRg+hiEACNEIQuUfA9qwAAAABJRU5ErkJggg==")!

    static func seed(va: String, context: FunctionContext) async throws -> String {
        struct Seeded: Encodable { var portfolioItem: String?; var file: String?; var skipped: Bool }
        let database = try context.database
        if try await database.withConnection({ sql in
            try await sql.select().column("id").from(PortfolioItem.table).where("title", .equal, SQLBind(title)).first()
        }) != nil {
            return jsonText(Seeded(portfolioItem: nil, file: nil, skipped: true))
        }
        let now = Date().iso
        let id = UUID().uuidString.lowercased()
        let file = FileRecord(
            id: id, ownerUserId: va, filename: "inbox-dashboard.png", contentType: "image/png",
            size: image.count, sha256: SigV4Signer.hex(SHA256.hash(data: image)), visibility: .public, status: .ready, expiresAt: nil, createdAt: now, updatedAt: now
        )
        try await context.storage.put(file.key, data: image, contentType: file.contentType)
        let item = PortfolioItem(
            id: UUID().uuidString.lowercased(), vaUserId: va, title: title,
            description: "Rules, labels and a weekly triage routine that took a shared inbox from 4,000 unread to zero in two weeks.",
            fileId: file.id, thumbnailFileId: file.id, category: "email-management", technologies: ["Gmail", "Google Workspace", "Zapier"],
            projectUrl: "https://blytz.work/demo", featured: true, createdAt: now, updatedAt: now
        )
        try await database.transaction { sql in
            try await file.insert(on: sql)
            try await item.save(on: sql, inserting: true)
            try await context.publish(file.uploaded, on: sql)
        }
        return jsonText(Seeded(portfolioItem: item.id, file: file.id, skipped: false))
    }
}
