import Blytz
import BlytzData
import BlytzServices

/// The payments service's functions, by the names `functions.yaml` gives them.
public enum Payments {
    public static let functions: [String: any FunctionHandler] = [
        "payments-ping": Ping(service: "payments"),
        "payments-echo": Echo(service: "payments"),
        "payments-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
