import Blytz

/// The marketplace's tunables, read from the function's environment (`MARKETPLACE_…`); each has a safe default.
struct Settings: Sendable {
    /// A search filter matching fewer postings than this drives the query (`SEARCH_RARE_FILTER`, 2000).
    var rareFilter: Int

    init(_ configuration: Configuration) {
        rareFilter = max(1, configuration.int("SEARCH_RARE_FILTER") ?? 2_000)
    }
}
