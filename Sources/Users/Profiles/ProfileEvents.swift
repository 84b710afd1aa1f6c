import Foundation
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import SQLKit

extension FunctionContext {
    /// Publishes `ProfileUpdated` and keeps the user's display name and avatar in step with the profile.
    func profileChanged(_ change: ProfileUpdated, displayName: String?, avatarFileId: String?, on sql: any SQLDatabase) async throws {
        try await sql.update(UserRecord.table).set("display_name", to: SQLBind(displayName)).set("avatar_file_id", to: SQLBind(avatarFileId))
            .set("updated_at", to: SQLBind(now.iso)).where("id", .equal, SQLBind(change.userId)).run()
        try await publish(change, on: sql)
    }

    /// Publishes `ProfileUpdated` for the profile of `userId` after its aggregates changed (ratings, jobs,
    /// earnings, spending), so copies elsewhere stay current; nothing when the user has no profile.
    func profileAggregatesChanged(_ userId: String, on sql: any SQLDatabase) async throws {
        if let va = try await VAProfileRecord.find(userId, on: sql) {
            try await publish(ProfileUpdated(userId: userId, kind: .va, deleted: false, vaProfile: va.snapshot), on: sql)
        } else if let company = try await CompanyRecord.find(userId, on: sql) {
            try await publish(ProfileUpdated(userId: userId, kind: .company, deleted: false, companyProfile: company.snapshot), on: sql)
        }
    }
}
