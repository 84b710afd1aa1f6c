import CoreFoundation
import Foundation
import Blytz
import BlytzEvents
import BlytzServices
import JWTKit

/// The ES256 keys access tokens are signed with. The newest unretired key signs; a retired key stays
/// published (and accepted) until every token it signed has expired, so rotation never logs anyone out.
///
/// Production reads the ring from `JWT_SIGNING_KEYS` (the file's JSON, from a secret store) or
/// `JWT_SIGNING_KEYS_FILE`; development generates `<data>/users/signing-keys.json` on first start.
struct SigningKeyRing: Sendable {
    struct StoredKey: Codable, Sendable, Equatable {
        var kid: String
        /// PKCS#8 PEM of the P-256 private key.
        var privateKey: String
        var createdAt: String
        var retiredAt: String?
    }

    struct File: Codable, Sendable {
        var keys: [StoredKey]
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    let stored: [StoredKey]
    let privateKeys: [String: ES256PrivateKey]

    init(_ file: File) throws {
        guard !file.keys.isEmpty else { throw Invalid(description: "the signing key ring is empty") }
        stored = file.keys
        var keys: [String: ES256PrivateKey] = [:]
        for key in file.keys {
            do { keys[key.kid] = try ES256PrivateKey(pem: key.privateKey) } catch { throw Invalid(description: "signing key \(key.kid) is not a P-256 PEM private key") }
        }
        privateKeys = keys
    }

    /// The key that signs new tokens.
    var current: StoredKey {
        stored.filter { $0.retiredAt == nil }.max { $0.createdAt < $1.createdAt } ?? stored.max { $0.createdAt < $1.createdAt }!
    }

    /// Keys whose tokens may still be valid: unretired ones, and retired ones for one token lifetime more.
    func published(now: Date, accessTokenTTL: Duration) -> [StoredKey] {
        stored.filter { key in
            guard let retired = key.retiredAt.flatMap(Date.init(iso:)) else { return true }
            return retired.adding(accessTokenTTL) > now
        }
    }

    /// The public half of `published` as a JWKS.
    func jwks(now: Date, accessTokenTTL: Duration) -> JWKS {
        JWKS(keys: published(now: now, accessTokenTTL: accessTokenTTL).compactMap { key in
            guard let parameters = privateKeys[key.kid]?.publicKey.parameters else { return nil }
            return JWK.ecdsa(.es256, identifier: JWKIdentifier(string: key.kid), x: parameters.x, y: parameters.y, curve: .p256)
        })
    }

    static func newKey(now: Date) -> StoredKey {
        let key = ES256PrivateKey()
        return StoredKey(kid: "k-" + String(UUID().uuidString.lowercased().prefix(13)), privateKey: key.pemRepresentation, createdAt: now.iso)
    }

    /// A ring with a fresh current key; the old current one retires now, and keys retired longer than
    /// `accessTokenTTL` ago are dropped.
    func rotated(now: Date, accessTokenTTL: Duration) -> File {
        var keys = published(now: now, accessTokenTTL: accessTokenTTL)
        for index in keys.indices where keys[index].retiredAt == nil { keys[index].retiredAt = now.iso }
        keys.append(Self.newKey(now: now))
        return File(keys: keys)
    }
}

/// Where the ring lives and how it is (re)loaded; warm workers pick up a rotation by the file's change.
actor SigningKeyStore: SigningKeySource {
    enum Origin: Sendable {
        case inline(String)
        case file(String, createIfMissing: Bool)
    }

    let origin: Origin
    let accessTokenTTL: Duration
    private var loaded: (ring: SigningKeyRing, signer: JWTKeyCollection, keys: SigningKeys, stamp: String?)?

    init(origin: Origin, accessTokenTTL: Duration) {
        self.origin = origin
        self.accessTokenTTL = accessTokenTTL
    }

    /// From `JWT_SIGNING_KEYS`, `JWT_SIGNING_KEYS_FILE`, or the development file under the data directory.
    init(configuration: Configuration, accessTokenTTL: Duration) {
        if let inline = configuration["JWT_SIGNING_KEYS"], !inline.isEmpty {
            self.init(origin: .inline(inline), accessTokenTTL: accessTokenTTL)
        } else if let path = configuration["JWT_SIGNING_KEYS_FILE"], !path.isEmpty {
            self.init(origin: .file(path, createIfMissing: false), accessTokenTTL: accessTokenTTL)
        } else {
            let path = configuration.dataDirectory + "/users/signing-keys.json"
            self.init(origin: .file(path, createIfMissing: true), accessTokenTTL: accessTokenTTL)
        }
    }

    /// The ring as it is now, reloaded when its file changed.
    func ring() async throws -> (ring: SigningKeyRing, signer: JWTKeyCollection) {
        let state = try await current()
        return (state.ring, state.signer)
    }

    /// The keys tokens are verified with: the loaded ones, without looking at the file on every request;
    /// a token naming a key they lack (`refresh`) reloads the ring if its file changed.
    func signingKeys(refresh: Bool) async throws -> SigningKeys {
        if !refresh, let loaded { return loaded.keys }
        return try await current().keys
    }

    private func current() async throws -> (ring: SigningKeyRing, signer: JWTKeyCollection, keys: SigningKeys, stamp: String?) {
        let loadedStamp: String?
        let data: Data
        switch origin {
        case .inline(let json):
            if let loaded { return loaded }
            loadedStamp = nil
            data = Data(json.utf8)
        case .file(let path, let create):
            let stamp = Self.fileStamp(path)
            if let loaded, stamp != nil, loaded.stamp == stamp { return loaded }
            if stamp == nil {
                guard create else { throw SigningKeyRing.Invalid(description: "no signing key file at \(path)") }
                try Self.createFile(at: path)
            }
            loadedStamp = Self.fileStamp(path)
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let file: SigningKeyRing.File
        do { file = try JSONDecoder().decode(SigningKeyRing.File.self, from: data) } catch {
            throw SigningKeyRing.Invalid(description: "the signing key ring is not valid JSON: \(error)")
        }
        let ring = try SigningKeyRing(file)
        let signer = JWTKeyCollection()
        for (kid, key) in ring.privateKeys { await signer.add(ecdsa: key, kid: JWKIdentifier(string: kid)) }
        var publicKeys: [String: ES256PublicKey] = [:]
        for key in ring.published(now: Date(), accessTokenTTL: accessTokenTTL) { publicKeys[key.kid] = ring.privateKeys[key.kid]?.publicKey }
        let state = (ring, signer, await SigningKeys(publicKeys), loadedStamp)
        loaded = state
        return state
    }

    /// The file's identity and change time; a rotation replaces the file, so its inode changes. One `stat`:
    /// `FileManager.attributesOfItem` also reads the password and group databases for the owner's names,
    /// on every request that signs or publishes keys.
    static func fileStamp(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return "\(status.st_ino)-\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }

    /// Writes a one-key ring; of several processes starting at once, the first to link its file wins.
    static func createFile(at path: String) throws {
        try write(SigningKeyRing.File(keys: [SigningKeyRing.newKey(now: Date())]), to: path, replacing: false)
    }

    /// Writes `file` to `path` with mode 0600 through a temporary file, so readers never see half a ring.
    static func write(_ file: SigningKeyRing.File, to path: String, replacing: Bool) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(path).\(ProcessInfo.processInfo.processIdentifier).\(UUID().uuidString.prefix(8)).tmp"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard FileManager.default.createFile(atPath: temporary, contents: try encoder.encode(file), attributes: [.posixPermissions: 0o600]) else {
            throw SigningKeyRing.Invalid(description: "cannot write \(temporary)")
        }
        defer { unlink(temporary) }
        if replacing {
            guard rename(temporary, path) == 0 else { throw SigningKeyRing.Invalid(description: "cannot replace \(path) (errno \(errno))") }
        } else if link(temporary, path) != 0 && errno != EEXIST {
            throw SigningKeyRing.Invalid(description: "cannot create \(path) (errno \(errno))")
        }
    }

    /// Rotates the ring file: a new current key; the previous one keeps verifying until its tokens expire.
    static func rotate(path: String, accessTokenTTL: Duration) throws -> SigningKeyRing.StoredKey {
        if fileStamp(path) == nil { try createFile(at: path) }
        let ring = try SigningKeyRing(try JSONDecoder().decode(SigningKeyRing.File.self, from: Data(contentsOf: URL(fileURLWithPath: path))))
        let file = ring.rotated(now: Date(), accessTokenTTL: accessTokenTTL)
        try write(file, to: path, replacing: true)
        return file.keys.last!
    }
}
