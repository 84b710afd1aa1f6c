import Blytz
import BlytzData
import BlytzEvents
import BlytzServices

/// The contracts service: contracts, milestones with escrow, timesheets and invoices. Each function's name is its `functions.yaml` key.
public enum Contracts: BlytzService {
    public static let name = ServiceName.contracts

    public static let functions: [String: any FunctionHandler] = [
        "contracts-create": CreateContract(),
        "contracts-list": ListContracts(),
        "contracts-get": GetContract(),
        "contracts-update": UpdateContract(),
        "contracts-sign": SignContract(),
        "contracts-complete": CompleteContract(),
        "contracts-cancel": CancelContract(),

        "contracts-milestones-create": CreateMilestone(),
        "contracts-milestones-list": ListMilestones(),
        "contracts-milestones-update": UpdateMilestone(),
        "contracts-milestones-delete": DeleteMilestone(),
        "contracts-milestones-fund": FundMilestone(),
        "contracts-milestones-submit": SubmitMilestone(),
        "contracts-milestones-approve": ApproveMilestone(),
        "contracts-milestones-reject": RejectMilestone(),
        "contracts-on-payments": PaymentEvents(),
        "contracts-reconcile": ReconcileEscrow(),

        "contracts-timesheets-create": CreateTimesheet(),
        "contracts-timesheets-list": ListTimesheets(),
        "contracts-timesheets-update": UpdateTimesheet(),
        "contracts-timesheets-delete": DeleteTimesheet(),
        "contracts-timesheets-approve": ReviewTimesheet(action: .approve),
        "contracts-timesheets-reject": ReviewTimesheet(action: .reject),

        "contracts-invoices-issue": IssueInvoice(),
        "contracts-invoices-list": ListInvoices(),
        "contracts-invoices-get": GetInvoice(),
        "contracts-invoices-pay": PayInvoice(),
        "contracts-invoices-cancel": CancelInvoice(),
        "contracts-invoices-overdue": MarkOverdueInvoices(),

        "contracts-on-disputes": DisputeEvents(),
        "contracts-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of `contracts_db`, applied in order.
    public static let migrations: [Migration] = Schema.migrations

    public static var commands: [ServiceCommand] { Commands.all }
}
