import Foundation
import Blytz
import BlytzServices
import BlytzData
import SQLKit

/// The data of `ProfileUpdated`: the profile as other services may keep it (no earnings), or its deletion.
struct ProfileChange: Codable, Sendable {
    var userId: String
    var kind: String
    var deleted: Bool
    var vaProfile: VAProfileView?
    var companyProfile: CompanyView?
}

extension FunctionContext {
    /// Publishes `ProfileUpdated` and keeps the user's display name and avatar in step with the profile.
    func profileChanged(_ change: ProfileChange, displayName: String?, avatarFileId: String?, on sql: any SQLDatabase) async throws {
        try await sql.update("users").set("display_name", to: SQLBind(displayName)).set("avatar_file_id", to: SQLBind(avatarFileId))
            .set("updated_at", to: SQLBind(Date().iso)).where("id", .equal, SQLBind(change.userId)).run()
        try await publish("ProfileUpdated", subject: change.userId, data: change, on: sql)
    }
}
