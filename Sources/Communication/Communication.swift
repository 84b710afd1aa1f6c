import Blytz
import BlytzData
import BlytzServices

/// The communication service's functions, by the names `functions.yaml` gives them.
public enum Communication {
    public static let functions: [String: any FunctionHandler] = [
        "communication-ping": Ping(service: "communication"),
        "communication-echo": Echo(service: "communication"),
        "communication-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
