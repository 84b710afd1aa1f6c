import SQLKit

/// A search filter over a table of terms, one row per (row id, term) with an index on (term, id): the
/// rows with a skill, or with a word starting with a prefix. How filters join the query is decided by
/// counting their matches, up to `rare`, over that index: a rare filter drives the query (its few ids,
/// narrowed by the other filters, are looked up and sorted); common ones are probed row by row while the
/// sort's index is walked, which stops after a page.
///
/// ```
/// let skill = TermFilter(table: "posting_skills", idColumn: "posting_id", match: .exact("excel"))
/// for condition in try await TermFilter.conditions([skill], on: sql, rowId: SQLColumn("id", table: "job_postings"), rare: 2_000) {
///     query = query.where(condition)
/// }
/// ```
public struct TermFilter: Sendable {
    public enum Match: Sendable {
        case exact(String)
        case prefix(String)
    }

    public var table: String
    public var idColumn: String
    public var termColumn: String
    public var match: Match
    /// Further equalities on the terms table (such as the kind of profile).
    public var scope: [String: String]

    public init(table: String, idColumn: String, termColumn: String = "term", match: Match, scope: [String: String] = [:]) {
        self.table = table
        self.idColumn = idColumn
        self.termColumn = termColumn
        self.match = match
        self.scope = scope
    }

    /// The conditions on the searched table's `rowId` that all of `filters` hold. When the rarest has fewer
    /// than `rare` matches it drives alone: the others are joined to its few ids inside the same subquery
    /// (an intersection over the terms' indexes, before any searched row is read). Otherwise each is probed
    /// row by row.
    public static func conditions(_ filters: [TermFilter], on sql: any SQLDatabase, rowId: SQLColumn, rare: Int) async throws -> [any SQLExpression] {
        let counts = try await count(filters, on: sql, upTo: rare)
        guard let driver = counts.indices.min(by: { counts[$0] < counts[$1] }), counts[driver] < rare else {
            return filters.map { $0.probe(rowId) }
        }
        let lead = filters[driver]
        let others = filters.indices.filter { $0 != driver }.map { filters[$0] }
        return [SQLBinaryExpression(rowId, .in, SQLSubquery.select { builder in
            var builder = lead.candidates(in: builder)
            for (index, other) in others.enumerated() {
                let alias = "joined\(index)"
                builder = builder.join(SQLAlias(SQLIdentifier(other.table), as: SQLIdentifier(alias)), method: SQLJoinMethod.inner,
                                       on: SQLColumn(other.idColumn, table: alias), .equal, SQLColumn(lead.idColumn, table: "matched"))
                for condition in other.terms(alias: alias) { builder = builder.where(condition) }
            }
            return builder
        })]
    }

    /// Each filter's matches, counted up to `limit` over its index, in one statement.
    static func count(_ filters: [TermFilter], on sql: any SQLDatabase, upTo limit: Int) async throws -> [Int] {
        guard !filters.isEmpty else { return [] }
        var select = sql.select()
        for (index, filter) in filters.enumerated() {
            let limited = SQLSubquery.select { filter.candidates(in: $0).limit(limit) }
            let count = SQLSubquery.select { $0.column(SQLFunction("COUNT", args: SQLLiteral.all)).from(SQLAlias(limited, as: SQLIdentifier("candidates"))) }
            select = select.column(count, as: "n\(index)")
        }
        guard let row = try await select.first() else { return filters.map { _ in 0 } }
        return try filters.indices.map { try row.decode(column: "n\($0)", as: Int.self) }
    }

    /// `EXISTS (SELECT id FROM <table> AS matched WHERE … AND matched.id = rowId)`.
    func probe(_ rowId: SQLColumn) -> any SQLExpression {
        Exists(subquery: SQLSubquery.select { builder in candidates(in: builder).where(SQLColumn(idColumn, table: "matched"), .equal, rowId) })
    }

    /// `SELECT id FROM <table> AS matched WHERE …`.
    func candidates(in builder: any SQLSubqueryClauseBuilder) -> any SQLSubqueryClauseBuilder {
        var builder = builder.column(SQLColumn(idColumn, table: "matched")).from(SQLAlias(SQLIdentifier(table), as: SQLIdentifier("matched")))
        for condition in terms(alias: "matched") { builder = builder.where(condition) }
        return builder
    }

    /// What a row of the terms table (as `alias`) must hold: the scope's equalities and the term.
    func terms(alias: String) -> [any SQLExpression] {
        var conditions: [any SQLExpression] = scope.sorted(by: { $0.key < $1.key }).map { column, value in
            SQLBinaryExpression(SQLColumn(column, table: alias), .equal, SQLBind(value))
        }
        let term = SQLColumn(termColumn, table: alias)
        switch match {
        case .exact(let value):
            conditions.append(SQLBinaryExpression(term, .equal, SQLBind(value)))
        case .prefix(let word):
            // Byte-ordered on both engines, so a prefix is an index range.
            conditions.append(SQLBinaryExpression(term, .greaterThanOrEqual, SQLBind(word)))
            conditions.append(SQLBinaryExpression(term, .lessThan, SQLBind(word + "\u{10FFFF}")))
        }
        return conditions
    }

    /// `EXISTS (subquery)`; SQLKit has no builder for it.
    public struct Exists: SQLExpression {
        public let subquery: any SQLExpression

        public init(subquery: any SQLExpression) {
            self.subquery = subquery
        }

        public func serialize(to serializer: inout SQLSerializer) {
            serializer.write("EXISTS ")
            subquery.serialize(to: &serializer)
        }
    }
}

/// The words of a text that `q` matches by prefix: lower-cased, split on anything not a letter or digit,
/// once each, at most 300 of at most 40 characters.
public func searchTerms(_ texts: [String]) -> [String] {
    var seen = Set<String>()
    var terms: [String] = []
    for text in texts {
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) where word.count <= 40 {
            let term = String(word)
            if seen.insert(term).inserted { terms.append(term) }
            if terms.count == 300 { return terms }
        }
    }
    return terms
}

/// The words of a query, split the same way (at most five; a word longer than any stored term simply
/// matches nothing).
public func queryWords(_ q: String?) -> [String] {
    var words: [String] = []
    for word in (q ?? "").lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) where !words.contains(String(word)) {
        words.append(String(word.prefix(100)))
        if words.count == 5 { break }
    }
    return words
}
