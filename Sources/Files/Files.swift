import Blytz
import BlytzData
import BlytzServices

/// The files service's functions, by the names `functions.yaml` gives them.
public enum Files {
    public static let functions: [String: any FunctionHandler] = [
        "files-ping": Ping(service: "files"),
        "files-echo": Echo(service: "files"),
        "files-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
