import Blytz
import BlytzData

/// The communication service's functions, by the names `functions.yaml` gives them.
public enum Communication {
    public static let functions: [String: any FunctionHandler] = [
        "communication-ping": Ping(service: "communication"),
        "communication-echo": Echo(service: "communication"),
    ]

    /// The versioned schema of the service's database, applied in order.
    public static let migrations: [Migration] = []
}
