import Blytz

/// The contracts service's functions, by the names `functions.yaml` gives them.
public enum Contracts {
    public static let functions: [String: any FunctionHandler] = [
        "contracts-ping": Ping(service: "contracts"),
        "contracts-echo": Echo(service: "contracts"),
    ]
}
