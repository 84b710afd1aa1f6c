/// What a token's holder is: a user's role, or `service` for a service acting on its own (a consumer,
/// schedule or reconciler; a service acting for a person carries that person's role).
public enum Role: String, Codable, Sendable, CaseIterable {
    case va
    case company
    case admin
    case service

    /// The roles an account can have.
    public static let people: [Role] = [.va, .company, .admin]
}

/// Whether an account may act.
public enum AccountState: String, Codable, Sendable, CaseIterable {
    case active
    case suspended
    case deleted
}

/// The services of the backend, as tokens, calls and events name them.
public enum ServiceName: String, Codable, Sendable, CaseIterable {
    case users
    case marketplace
    case contracts
    case payments
    case communication
    case files
}
