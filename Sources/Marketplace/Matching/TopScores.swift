import Foundation

/// One scored item of a ranking: best score first, then smallest id.
struct Scored: Sendable, Equatable {
    var id: String
    var score: MatchScore

    /// Whether `self` ranks before `other`.
    func precedes(_ other: Scored) -> Bool {
        score.score != other.score.score ? score.score > other.score.score : id < other.id
    }

    /// Whether it comes after a page's cursor (the last item shown).
    func follows(_ cursor: (score: Double, id: String)?) -> Bool {
        guard let cursor else { return true }
        return score.score < cursor.score || (score.score == cursor.score && id > cursor.id)
    }
}

/// A source of candidates read in an order that bounds the score of every candidate it has not yet given:
/// `bound` never falls below the score of anything still to come.
protocol CandidateSource: AnyObject {
    var bound: Double { get }
    var exhausted: Bool { get }
    /// The next candidates with their scores, or sources to read instead of this one.
    func next() async throws -> CandidateStep
}

enum CandidateStep {
    case scored([Scored])
    case split([any CandidateSource])
}

/// The threshold walk: reads the source with the highest bound until no source can still place a candidate
/// among the best `count` after `cursor` (every bound below the `count`-th score so far). The result is
/// exactly what scoring every candidate of every source and sorting would give.
enum TopScores {
    static func walk(
        _ sources: [any CandidateSource], seeded: [Scored], count: Int, after cursor: (score: Double, id: String)?
    ) async throws -> [Scored] {
        var best: [Scored] = []
        var seen = Set<String>()
        func add(_ items: [Scored]) {
            for item in items where item.follows(cursor) && seen.insert(item.id).inserted {
                let index = best.firstIndex { item.precedes($0) } ?? best.endIndex
                if index < count { best.insert(item, at: index) }
                if best.count > count { best.removeLast() }
            }
        }
        add(seeded)
        var sources = sources
        while true {
            sources.removeAll { $0.exhausted }
            guard let top = sources.indices.max(by: { sources[$0].bound < sources[$1].bound }) else { break }
            // An unseen candidate can tie the last kept score and still precede it by id, so only a bound
            // strictly below that score ends the walk.
            if best.count == count, let last = best.last, sources[top].bound < last.score.score { break }
            switch try await sources[top].next() {
            case .scored(let items): add(items)
            case .split(let parts):
                sources.remove(at: top)
                sources += parts
            }
        }
        return best
    }
}
