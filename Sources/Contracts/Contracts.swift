import Blytz
import BlytzData
import BlytzServices

/// The contracts service's functions, by the names `functions.yaml` gives them.
public enum Contracts {
    public static let functions: [String: any FunctionHandler] = [
        "contracts-ping": Ping(service: "contracts"),
        "contracts-echo": Echo(service: "contracts"),
        "contracts-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
