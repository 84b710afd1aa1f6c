import Blytz
import BlytzData

/// The contracts service's functions, by the names `functions.yaml` gives them.
public enum Contracts {
    public static let functions: [String: any FunctionHandler] = [
        "contracts-ping": Ping(service: "contracts"),
        "contracts-echo": Echo(service: "contracts"),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
