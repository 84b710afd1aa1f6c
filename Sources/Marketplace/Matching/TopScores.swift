import Foundation

/// One scored item of a ranking: best score first; among equal scores, the higher `tiebreak` (a VA's
/// standing, a job's pay), then the greater id.
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

/// The best `count` items after `cursor` among those offered, best first: exactly what sorting everything
/// offered would give. Readers offer candidates in falling order of a bound on their scores and stop once
/// `excludes` says nothing at or under the bound can still enter.
struct Ranking {
    let count: Int
    let cursor: Scored.Cursor?
    private(set) var best: [Scored] = []

    init(count: Int, after cursor: Scored.Cursor?) {
        (self.count, self.cursor) = (count, cursor)
    }

    mutating func offer(_ item: Scored) {
        guard count > 0, item.follows(cursor) else { return }
        if best.count == count, let last = best.last, !item.precedes(last) { return }
        guard !best.contains(where: { $0.id == item.id }) else { return }
        best.insert(item, at: best.firstIndex { item.precedes($0) } ?? best.endIndex)
        if best.count > count { best.removeLast() }
    }

    /// Whether no item scoring at most `bound` — and, when it ties the page's last score, placed at or
    /// below `position` — can still enter.
    func excludes(bound: Double, position: Scored.Position? = nil) -> Bool {
        guard best.count == count, let last = best.last else { return count == 0 }
        if bound < last.score.score - 1e-9 { return true }
        if bound <= last.score.score + 1e-9, let position, position <= last.key { return true }
        return false
    }
}
