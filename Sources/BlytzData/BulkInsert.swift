import SQLKit

extension SQLDatabase {
    /// Inserts `rows` (values for `columns`, in order) in as few statements as the engines' limit on bound
    /// values allows.
    public func insert(into table: String, columns: [String], rows: [[any SQLExpression]]) async throws {
        guard !columns.isEmpty else { return }
        for piece in boundPieces(rows, columns: columns.count) {
            var insert = self.insert(into: table).columns(columns)
            for row in piece { insert = insert.values(row) }
            try await insert.run()
        }
    }
}

/// `rows` in pieces of at most 16,000 bound values for `columns` values a row: within SQLite's limit
/// (32,766 a statement) and PostgreSQL's (65,535).
public func boundPieces<Row>(_ rows: [Row], columns: Int) -> [ArraySlice<Row>] {
    let perStatement = max(1, 16_000 / max(1, columns))
    return stride(from: 0, to: rows.count, by: perStatement).map { rows[$0..<min(rows.count, $0 + perStatement)] }
}
