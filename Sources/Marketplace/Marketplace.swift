import Blytz
import BlytzData
import BlytzServices

/// The marketplace service's functions, by the names `functions.yaml` gives them.
public enum Marketplace {
    public static let functions: [String: any FunctionHandler] = [
        "marketplace-ping": Ping(service: "marketplace"),
        "marketplace-echo": Echo(service: "marketplace"),
        "marketplace-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
