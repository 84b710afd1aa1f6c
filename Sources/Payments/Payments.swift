import Blytz
import BlytzData
import BlytzEvents
import BlytzServices

/// The payments service's functions, by the names `functions.yaml` gives them.
public enum Payments: BlytzService {
    public static let name = ServiceName.payments

    public static let functions: [String: any FunctionHandler] = [
        "payments-on-account-status": AccountStatusConsumer(),
    ]
}
