import Blytz
import BlytzData

/// The users service's functions, by the names `functions.yaml` gives them.
public enum Users {
    public static let functions: [String: any FunctionHandler] = [
        "users-ping": Ping(service: "users"),
        "users-echo": Echo(service: "users"),
        // The benchmark's cold-start function (bench/bench.yaml).
        "users-cold": Ping(service: "users"),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
