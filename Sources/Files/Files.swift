import Blytz
import BlytzData
import BlytzEvents
import BlytzServices

/// The files service's functions, by the names `functions.yaml` gives them.
public enum Files: BlytzService {
    public static let name = ServiceName.files

    public static let functions: [String: any FunctionHandler] = [
        "files-on-account-status": AccountStatusConsumer(),
    ]
}
