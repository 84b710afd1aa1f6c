import Foundation
import Blytz
import BlytzEvents
import HummingbirdBcrypt

/// bcrypt hashing at the configured cost, the password policy, and a dummy hash so that an unknown
/// email costs a login as much time as a wrong password.
struct Passwords: Sendable {
    let cost: UInt8
    /// A hash of a random secret at `cost`, verified against when the email is unknown.
    let dummyHash: String

    init(cost: UInt8) {
        self.cost = cost
        // A well-formed hash with a random salt and digest: verifying against it costs a real bcrypt run
        // at `cost` without spending one at start-up to make it.
        let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let body = String((0..<53).map { _ in alphabet.randomElement()! })
        dummyHash = "$2b$" + (cost < 10 ? "0\(cost)" : "\(cost)") + "$" + body
    }

    func hash(_ password: String) -> String { Bcrypt.hash(password, cost: cost) }

    func verify(_ password: String, hash: String?) -> Bool {
        guard let hash else {
            _ = Bcrypt.verify(password, hash: dummyHash)
            return false
        }
        return Bcrypt.verify(password, hash: hash)
    }

    /// The policy's violations for `password` under `field`: 10 characters at least, 72 bytes at most
    /// (bcrypt ignores what follows), not all one character.
    static func problems(_ password: String, field: String = "password") -> [Problem.FieldError] {
        if password.count < 10 { return [.init(field: field, message: "must be at least 10 characters")] }
        if password.utf8.count > 72 { return [.init(field: field, message: "must be at most 72 bytes")] }
        if Set(password).count < 3 { return [.init(field: field, message: "is too easy to guess")] }
        return []
    }
}
