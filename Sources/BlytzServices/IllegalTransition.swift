import Blytz

/// A change a lifecycle refuses in the state it is in: answered 409, naming that state.
///
/// ```
/// case (.pending, .sign): .pending
/// default: throw IllegalTransition(what: "contract", state: rawValue, action: action.rawValue)
/// ```
public struct IllegalTransition: HTTPResponseError, Equatable {
    public var what: String
    public var state: String
    public var action: String

    public init(what: String, state: String, action: String) {
        self.what = what
        self.state = state
        self.action = action
    }

    public var problem: Problem {
        Problem(status: 409, detail: "The \(what) is \(state); it cannot be \(action).", errors: [.init(field: "status", message: "is \(state)")])
    }
}
