import SQLKit

/// A search filter over a table of terms, one row per (row id, term) with an index on (term, id): the
/// rows with a skill, or with a word starting with a prefix. How it joins the query is decided by counting
/// its matches, up to `rare`, over that index: a rare filter drives the query (its few ids are looked up
/// and sorted); a common one is probed row by row while the sort's index is walked, which stops after a page.
///
/// ```
/// let skill = TermFilter(table: "posting_skills", idColumn: "posting_id", match: .exact("excel"))
/// query = query.where(try await skill.condition(on: sql, rowId: SQLColumn("id", table: "job_postings"), rare: 2_000))
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

    /// The condition on the searched table's `rowId`; `rare`: below this many matches the filter drives the query.
    public func condition(on sql: any SQLDatabase, rowId: SQLColumn, rare: Int) async throws -> any SQLExpression {
        struct Count: Decodable { var n: Int }
        let limited = SQLSubquery.select { candidates(in: $0).limit(rare) }
        let count = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from(SQLAlias(limited, as: SQLIdentifier("candidates"))).first(decoding: Count.self)?.n ?? 0
        if count < rare {
            return SQLBinaryExpression(rowId, .in, SQLSubquery.select { candidates(in: $0) })
        }
        return Exists(subquery: SQLSubquery.select { builder in
            candidates(in: builder).where(SQLColumn(idColumn, table: "matched"), .equal, rowId)
        })
    }

    /// `SELECT id FROM <table> AS matched WHERE …`.
    func candidates(in builder: any SQLSubqueryClauseBuilder) -> any SQLSubqueryClauseBuilder {
        var builder = builder.column(SQLColumn(idColumn, table: "matched")).from(SQLAlias(SQLIdentifier(table), as: SQLIdentifier("matched")))
        for (column, value) in scope.sorted(by: { $0.key < $1.key }) { builder = builder.where(SQLColumn(column, table: "matched"), .equal, SQLBind(value)) }
        let term = SQLColumn(termColumn, table: "matched")
        switch match {
        case .exact(let value):
            return builder.where(term, .equal, SQLBind(value))
        case .prefix(let word):
            // Byte-ordered on both engines, so a prefix is an index range.
            return builder.where(term, .greaterThanOrEqual, SQLBind(word)).where(term, .lessThan, SQLBind(word + "\u{10FFFF}"))
        }
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
