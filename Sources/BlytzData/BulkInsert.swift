import SQLKit

extension SQLDatabase {
    /// Inserts `rows` (values for `columns`, in order) in as few statements as the engines' limit on bound
    /// values allows (SQLite's is 32,766 a statement).
    public func insert(into table: String, columns: [String], rows: [[any SQLExpression]]) async throws {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let perStatement = Swift.max(1, 16_000 / columns.count)
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            var insert = self.insert(into: table).columns(columns)
            for row in rows[start..<Swift.min(rows.count, start + perStatement)] { insert = insert.values(row) }
            try await insert.run()
        }
    }
}
