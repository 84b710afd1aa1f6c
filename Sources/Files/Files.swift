import Blytz
import BlytzData
import BlytzEvents
import BlytzObjects
import BlytzServices
import Foundation
import Logging
import SQLKit

/// The files service: uploads (direct, or presigned for large files), downloads with `Range`, sharing,
/// portfolios, on a local directory or S3-compatible storage. Each function's name is its
/// `functions.yaml` key.
public enum Files: BlytzService {
    public static let name = ServiceName.files

    public static let functions: [String: any FunctionHandler] = [
        "files-upload": UploadFile(),
        "files-uploads-create": CreateUpload(),
        "files-uploads-complete": FinishUpload(),
        "files-list": ListFiles(),
        "files-get": GetFile(),
        "files-content": DownloadFile(),
        "files-update": UpdateFile(),
        "files-delete": DeleteFile(),
        "files-sweep-uploads": SweepUploads(),

        "files-portfolio-create": CreatePortfolioItem(),
        "files-portfolio-update": UpdatePortfolioItem(),
        "files-portfolio-delete": DeletePortfolioItem(),
        "files-portfolio-get": GetPortfolioItem(),
        "files-portfolio-list": ListPortfolio(),

        "files-on-users": UserEvents(),
        "files-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of `files_db`, applied in order.
    public static let migrations: [Migration] = Schema.migrations

    /// `blytz seed` adds a portfolio with an image for the demo VA.
    public static var commands: [ServiceCommand] { Commands.all }

    /// The kit's parts, and the configured object storage (`STORAGE`; see `StorageSettings`).
    public static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws {
        try await ServiceParts.setup(configuration, logger, &dependencies)
        dependencies[StorageKey.self] = try StorageSettings.storage(configuration)
    }
}

/// `UserDeleted`: the user's objects and every row of theirs go — files, what was shared with them, their
/// portfolio. Idempotent (the kit's inbox; deleting what is gone is not an error).
struct UserEvents: EventConsumer {
    func handle(_ event: EventEnvelope<UserDeleted>, context: FunctionContext) async throws {
        let user = event.data.userId.lowercased()
        guard user.isUUID else { return }
        let storage = try context.storage
        for key in try await storage.list(prefix: FileRecord.objectKey(owner: user, id: "")) { try await storage.delete(key) }
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await sql.delete(from: "file_shares").where("user_id", .equal, SQLBind(user)).run()
            try await sql.delete(from: PortfolioItem.table).where("va_user_id", .equal, SQLBind(user)).run()
            try await sql.delete(from: FileRecord.table).where("owner_user_id", .equal, SQLBind(user)).run()
        }
    }
}
