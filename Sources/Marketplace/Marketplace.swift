import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Logging

/// The marketplace service: job postings, proposals, hires and matching. Each function's name is its `functions.yaml` key.
public enum Marketplace: BlytzService {
    public static let name = ServiceName.marketplace

    public static let functions: [String: any FunctionHandler] = [
        "marketplace-jobs-create": CreatePosting(),
        "marketplace-jobs-update": UpdatePosting(),
        "marketplace-jobs-close": ClosePosting(),
        "marketplace-jobs-get": GetPosting(),
        "marketplace-jobs-mine": ListOwnPostings(),
        "marketplace-jobs-categories": ListCategories(),
        "marketplace-jobs-search": SearchPostings(),
        "marketplace-jobs-hires": ListHires(),

        "marketplace-proposals-submit": SubmitProposal(),
        "marketplace-proposals-list": ListProposals(),
        "marketplace-proposals-get": GetProposal(),
        "marketplace-proposals-update": UpdateProposal(),
        "marketplace-proposals-withdraw": WithdrawProposal(),
        "marketplace-proposals-reject": RejectProposal(),
        "marketplace-proposals-accept": AcceptProposal(),
        "marketplace-reconcile-accepts": ReconcileAccepts(),

        "marketplace-matches-recommendations": Recommendations(),
        "marketplace-matches-jobs": RecommendedJobs(),
        "marketplace-matches-vote": CastVote(),
        "marketplace-matches-list": ListMatches(),
        "marketplace-matches-get": GetMatch(),
        "marketplace-matches-archive": ArchiveMatch(),

        "marketplace-people": RefreshPeople(),

        "marketplace-on-account-status": AccountStatusConsumer(),
    ]

    /// The versioned schema of `marketplace_db`, applied in order.
    public static let migrations: [Migration] = Schema.migrations

    public static var commands: [ServiceCommand] { Commands.all }

    /// The kit's parts, and the worker's match index. A matching worker loads its index before it asks for
    /// its first request: a worker the runner adds under load takes requests only once it is warm, so no
    /// request waits for the load behind a busy pool.
    public static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws {
        try await ServiceParts.setup(configuration, logger, &dependencies)
        let index = MatchIndex()
        dependencies[MatchIndexKey.self] = index
        if let kind = MatchIndex.kind(forFunction: configuration["_HANDLER"]), let database = dependencies[DatabaseKey.self] {
            try await database.withConnection { sql in try await index.warm(kind, on: sql) }
        }
    }
}
