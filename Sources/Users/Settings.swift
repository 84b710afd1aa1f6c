import Foundation
import Blytz
import BlytzEvents

/// The user service's tunables, read from the function's environment; each has a safe default.
struct Settings: Sendable {
    /// bcrypt work factor (`BCRYPT_COST`, 4–31; default 12).
    var bcryptCost: UInt8
    /// Access token lifetime (`ACCESS_TOKEN_TTL_SECONDS`, default 900).
    var accessTokenTTL: Duration
    /// A service token's lifetime (`SERVICE_TOKEN_TTL_SECONDS`, default 300; never longer than an access token's).
    var serviceTokenTTL: Duration
    /// Refresh token lifetime (`REFRESH_TOKEN_TTL_SECONDS`, default 30 days).
    var refreshTokenTTL: Duration
    /// Password reset token lifetime (`RESET_TOKEN_TTL_SECONDS`, default 1 hour).
    var resetTokenTTL: Duration
    /// Email verification token lifetime (`VERIFY_TOKEN_TTL_SECONDS`, default 2 days).
    var verifyTokenTTL: Duration
    /// Failed logins per email allowed within the window before it is locked (`LOGIN_MAX_FAILURES_PER_EMAIL`, 5).
    var maxFailuresPerEmail: Int
    /// Failed logins per client address allowed within the window (`LOGIN_MAX_FAILURES_PER_ADDRESS`, 20).
    var maxFailuresPerAddress: Int
    /// The window failures are counted in, and the first lock's length (`LOGIN_LOCK_SECONDS`, 900).
    var lockDuration: Duration
    /// A search filter matching fewer profiles than this drives the query (`SEARCH_RARE_FILTER`, 2000).
    var rareFilter: Int

    init(_ configuration: Configuration) {
        bcryptCost = UInt8(clamping: min(31, max(4, configuration.int("BCRYPT_COST") ?? 12)))
        accessTokenTTL = .seconds(max(5, configuration.int("ACCESS_TOKEN_TTL_SECONDS") ?? 900))
        serviceTokenTTL = min(accessTokenTTL, .seconds(max(5, configuration.int("SERVICE_TOKEN_TTL_SECONDS") ?? 300)))
        refreshTokenTTL = .seconds(max(60, configuration.int("REFRESH_TOKEN_TTL_SECONDS") ?? 30 * 86_400))
        resetTokenTTL = .seconds(max(60, configuration.int("RESET_TOKEN_TTL_SECONDS") ?? 3_600))
        verifyTokenTTL = .seconds(max(60, configuration.int("VERIFY_TOKEN_TTL_SECONDS") ?? 2 * 86_400))
        maxFailuresPerEmail = max(1, configuration.int("LOGIN_MAX_FAILURES_PER_EMAIL") ?? 5)
        maxFailuresPerAddress = max(1, configuration.int("LOGIN_MAX_FAILURES_PER_ADDRESS") ?? 20)
        lockDuration = .seconds(max(1, configuration.int("LOGIN_LOCK_SECONDS") ?? 900))
        rareFilter = max(1, configuration.int("SEARCH_RARE_FILTER") ?? 2_000)
    }
}
