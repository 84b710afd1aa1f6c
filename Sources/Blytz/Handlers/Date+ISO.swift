

extension Date {
    /// ISO-8601 UTC with milliseconds: how services store and answer times (sortable as text).
    public var iso: String { formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }

    /// Parses the `iso` form.
    public init?(iso text: String) {
        guard let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) else { return nil }
        self = date
    }

    /// This date moved by `duration`.
    public func adding(_ duration: Duration) -> Date { addingTimeInterval(duration / .seconds(1)) }
}
