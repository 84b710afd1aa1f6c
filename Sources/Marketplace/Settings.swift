import Blytz

/// The marketplace's tunables, read from the function's environment (`MARKETPLACE_…`); each has a safe default.
struct Settings: Sendable {
    /// A search filter matching fewer postings than this drives the query (`SEARCH_RARE_FILTER`, 2000).
    var rareFilter: Int
    /// A skill held by fewer candidates than this is matched by reading all of them (`MATCH_RARE_SKILL`, 1000);
    /// see `Candidates`.
    var rareSkill: Int
    /// Candidates read per step of the walk in standing order (`MATCH_BATCH`, 50).
    var matchBatch: Int

    init(_ configuration: Configuration) {
        rareFilter = max(1, configuration.int("SEARCH_RARE_FILTER") ?? 2_000)
        rareSkill = max(1, configuration.int("MATCH_RARE_SKILL") ?? 1_000)
        matchBatch = max(1, configuration.int("MATCH_BATCH") ?? 50)
    }
}
