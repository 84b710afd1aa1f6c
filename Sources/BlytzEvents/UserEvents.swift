import Blytz

/// A new account (`POST /auth/register`). The verification token reaches only the welcome mail.
public struct UserCreated: Event {
    public static let type: EventType = "UserCreated"
    public var userId: String
    public var email: String
    public var role: Role
    public var verificationToken: String?
    public var verificationExpiresAt: String?
    public var subject: String { userId }

    public init(userId: String, email: String, role: Role, verificationToken: String? = nil, verificationExpiresAt: String? = nil) {
        self.userId = userId
        self.email = email
        self.role = role
        self.verificationToken = verificationToken
        self.verificationExpiresAt = verificationExpiresAt
    }
}

/// An account changed (`PATCH /users/{id}`, email verified): which fields, and the role and status after.
public struct UserUpdated: Event {
    public static let type: EventType = "UserUpdated"
    public var userId: String
    /// The names of the fields that changed (`status`, `role`, `preferences`, `emailVerified`).
    public var fields: [String]
    public var role: Role?
    public var status: AccountState?
    public var subject: String { userId }

    public init(userId: String, fields: [String], role: Role? = nil, status: AccountState? = nil) {
        self.userId = userId
        self.fields = fields
        self.role = role
        self.status = status
    }
}

/// An account was deactivated (`DELETE /users/{id}`): other services anonymise or clean up.
public struct UserDeleted: Event {
    public static let type: EventType = "UserDeleted"
    public var userId: String
    public var role: Role
    public var subject: String { userId }

    public init(userId: String, role: Role) {
        self.userId = userId
        self.role = role
    }
}

/// A password reset was asked for; the one-time token reaches only the reset mail.
public struct PasswordResetRequested: Event {
    public static let type: EventType = "PasswordResetRequested"
    public var userId: String
    public var email: String
    public var token: String
    public var expiresAt: String
    public var subject: String { userId }

    public init(userId: String, email: String, token: String, expiresAt: String) {
        self.userId = userId
        self.email = email
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// A profile was created, changed (by its owner, or by new ratings, jobs or earnings) or deleted: the
/// fields other services keep copies of. Apply it only if newer than the copy held (the envelope's time).
public struct ProfileUpdated: Event {
    public static let type: EventType = "ProfileUpdated"
    public var userId: String
    /// `va` or `company`: which of the two profiles.
    public var kind: Role
    public var deleted: Bool
    public var vaProfile: VAProfileSnapshot?
    public var companyProfile: CompanySnapshot?
    public var subject: String { userId }

    public init(userId: String, kind: Role, deleted: Bool, vaProfile: VAProfileSnapshot? = nil, companyProfile: CompanySnapshot? = nil) {
        self.userId = userId
        self.kind = kind
        self.deleted = deleted
        self.vaProfile = vaProfile
        self.companyProfile = companyProfile
    }
}

/// A VA profile as other services keep it: what search, matching and display need (no earnings).
public struct VAProfileSnapshot: Codable, Sendable, Equatable {
    public var userId: String
    public var name: String
    public var bio: String
    public var country: String
    public var timezone: String?
    public var hourlyRateCents: Int
    public var currency: String
    public var skills: [String]
    public var availability: String
    public var available: Bool
    public var averageRating: Double
    public var totalReviews: Int
    public var completedJobs: Int
    public var verificationLevel: String
    public var avatarFileId: String?
    public var updatedAt: String

    public init(
        userId: String, name: String, bio: String, country: String, timezone: String?, hourlyRateCents: Int, currency: String,
        skills: [String], availability: String, available: Bool, averageRating: Double, totalReviews: Int, completedJobs: Int,
        verificationLevel: String, avatarFileId: String?, updatedAt: String
    ) {
        self.userId = userId
        self.name = name
        self.bio = bio
        self.country = country
        self.timezone = timezone
        self.hourlyRateCents = hourlyRateCents
        self.currency = currency
        self.skills = skills
        self.availability = availability
        self.available = available
        self.averageRating = averageRating
        self.totalReviews = totalReviews
        self.completedJobs = completedJobs
        self.verificationLevel = verificationLevel
        self.avatarFileId = avatarFileId
        self.updatedAt = updatedAt
    }
}

/// A company profile as other services keep it.
public struct CompanySnapshot: Codable, Sendable, Equatable {
    public var userId: String
    public var name: String
    public var country: String
    public var industry: String
    public var logoFileId: String?
    public var verificationLevel: String
    public var updatedAt: String

    public init(userId: String, name: String, country: String, industry: String, logoFileId: String?, verificationLevel: String, updatedAt: String) {
        self.userId = userId
        self.name = name
        self.country = country
        self.industry = industry
        self.logoFileId = logoFileId
        self.verificationLevel = verificationLevel
        self.updatedAt = updatedAt
    }
}
