import Foundation
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Logging
import SQLKit

/// The user service: identity, sessions and profiles. Each function's name is its `functions.yaml` key.
public enum Users: BlytzService {
    public static let name = ServiceName.users

    public static let functions: [String: any FunctionHandler] = [
        // The benchmarks' trivial functions (bench/bench.yaml, bench/profiles.yaml): warm, and cold.
        "users-ping": Ping(service: "users"),
        "users-cold": Ping(service: "users"),

        "users-register": Register(),
        "users-login": Login(),
        "users-refresh": Refresh(),
        "users-logout": Logout(),
        "users-me": Me(),
        "users-password-forgot": ForgotPassword(),
        "users-password-reset": ResetPassword(),
        "users-email-verify": VerifyEmail(),
        "users-jwks": KeySet(),
        "users-service-token": IssueServiceToken(),
        "users-purge-expired": PurgeExpired(),

        "users-list": ListUsers(),
        "users-get": GetUser(),
        "users-update": UpdateUser(),
        "users-delete": DeleteUser(),
        "users-basic": GetBasicUser(),
        "users-applications": GetApplications(),

        "users-va-create": CreateVAProfile(),
        "users-va-me": GetOwnVAProfile(),
        "users-va-update": UpdateVAProfile(),
        "users-va-delete": DeleteVAProfile(),
        "users-va-get": GetVAProfile(),
        "users-va-search": SearchVAProfiles(),
        "users-company-create": CreateCompanyProfile(),
        "users-company-me": GetOwnCompanyProfile(),
        "users-company-update": UpdateCompanyProfile(),
        "users-company-delete": DeleteCompanyProfile(),
        "users-company-get": GetCompanyProfile(),
        "users-company-search": SearchCompanies(),

        "users-on-review-posted": RecordReview(),
        "users-on-payment-completed": RecordPayment(),
        "users-on-escrow-released": RecordRelease(),
        "users-on-refund-issued": RecordRefund(),
        "users-on-contract-completed": RecordCompletedContract(),
    ]

    /// The versioned schema of `users_db`, applied in order.
    public static let migrations: [Migration] = Schema.migrations

    /// A worker's parts beside its database: settings, signing keys, and an authenticator that checks
    /// tokens against the local keys and the account's current status.
    public static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws {
        let environment = UsersEnvironment(configuration: configuration)
        dependencies[UsersEnvironmentKey.self] = environment
        let database = dependencies[DatabaseKey.self]
        dependencies[AuthenticatorKey.self] = Authenticator(verifier: TokenVerifier(keys: environment.keys)) { userId in
            guard let database else { return false }
            struct Row: Decodable { var status: String }
            let row = try await database.withConnection { sql in
                try await sql.select().column("status").from(UserRecord.table).where("id", .equal, SQLBind(userId)).first(decoding: Row.self)
            }
            return row?.status == UserRecord.Status.active.rawValue
        }
        try await ServiceParts.setup(configuration, logger, &dependencies)
    }

    /// `users create-admin`, `users rotate-key`, `users seed`.
    public static let commands: [ServiceCommand] = Commands.all
}
