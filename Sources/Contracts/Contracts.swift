import Blytz
import BlytzData
import BlytzEvents
import BlytzServices

/// The contracts service's functions, by the names `functions.yaml` gives them.
public enum Contracts: BlytzService {
    public static let name = ServiceName.contracts

    public static let functions: [String: any FunctionHandler] = [
        "contracts-on-account-status": AccountStatusConsumer(),
    ]
}
