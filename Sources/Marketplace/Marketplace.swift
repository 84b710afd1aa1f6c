import Blytz
import BlytzData
import BlytzEvents
import BlytzServices

/// The marketplace service's functions, by the names `functions.yaml` gives them.
public enum Marketplace: BlytzService {
    public static let name = ServiceName.marketplace

    public static let functions: [String: any FunctionHandler] = [
        "marketplace-on-account-status": AccountStatusConsumer(),
    ]
}
