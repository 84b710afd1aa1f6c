import Foundation

/// One scored item of a ranking: best score first; among equal scores, the higher `tiebreak` (a VA's
/// standing, a job's pay), then the greater id — the order candidates are walked in, so a walk can tell
/// when nothing unread can still tie its way onto the page.
struct Scored: Sendable, Equatable {
    var id: String
    var score: MatchScore
    var tiebreak: Double

    /// Where it stands among equal scores.
    var key: Position { Position(tiebreak: tiebreak, id: id) }

    /// Whether `self` ranks before `other`.
    func precedes(_ other: Scored) -> Bool {
        score.score != other.score.score ? score.score > other.score.score : key > other.key
    }

    /// Whether it comes after a page's cursor (the last item shown).
    func follows(_ cursor: Cursor?) -> Bool {
        guard let cursor else { return true }
        return score.score < cursor.score || (score.score == cursor.score && key < cursor.position)
    }

    /// A place in the order among equal scores.
    struct Position: Comparable, Sendable, Equatable {
        var tiebreak: Double
        var id: String

        static func < (a: Position, b: Position) -> Bool { a.tiebreak != b.tiebreak ? a.tiebreak < b.tiebreak : a.id < b.id }
    }

    /// The last item of a page, as its cursor carries it: `score|tiebreak` and the id.
    struct Cursor: Sendable, Equatable {
        var score: Double
        var position: Position

        init?(value: String, id: String) {
            let parts = value.split(separator: "|")
            guard parts.count == 2, let score = Double(parts[0]), let tiebreak = Double(parts[1]) else { return nil }
            self.score = score
            position = Position(tiebreak: tiebreak, id: id)
        }

        static func value(of item: Scored) -> String { "\(item.score.score)|\(item.tiebreak)" }
    }
}

/// A source of candidates read in an order that bounds everything it has not yet given: `bound` never
/// falls below the score of anything still to come, and `position` (once reading has begun) is above the
/// tiebreak position of anything still to come.
protocol CandidateSource: AnyObject {
    var bound: Double { get }
    var position: Scored.Position? { get }
    var exhausted: Bool { get }
    /// The next candidates with their scores, or sources to read instead of this one.
    func next() async throws -> CandidateStep
}

enum CandidateStep {
    case scored([Scored])
    case split([any CandidateSource])
}

/// The threshold walk: reads the source with the highest bound until no source can still place a candidate
/// among the best `count` after `cursor` — its bound is below the `count`-th score so far, or equal to it
/// with its position already past that item's. The result is exactly what scoring every candidate of every
/// source and sorting would give.
enum TopScores {
    static func walk(_ sources: [any CandidateSource], seeded: [Scored], count: Int, after cursor: Scored.Cursor?) async throws -> [Scored] {
        var best: [Scored] = []
        var seen = Set<String>()
        func add(_ items: [Scored]) {
            for item in items where item.follows(cursor) && seen.insert(item.id).inserted {
                let index = best.firstIndex { item.precedes($0) } ?? best.endIndex
                if index < count { best.insert(item, at: index) }
                if best.count > count { best.removeLast() }
            }
        }
        func useless(_ source: any CandidateSource) -> Bool {
            guard !source.exhausted else { return true }
            guard best.count == count, let last = best.last else { return false }
            if source.bound < last.score.score - 1e-9 { return true }
            if source.bound <= last.score.score + 1e-9, let position = source.position, position <= last.key { return true }
            return false
        }
        add(seeded)
        var sources = sources
        while true {
            sources.removeAll(where: useless)
            guard let top = sources.indices.max(by: { sources[$0].bound < sources[$1].bound }) else { break }
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
