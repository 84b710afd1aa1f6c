import Crypto
import Foundation
import SigV4
import Testing

/// The signer against AWS's published examples: the S3 examples of "Signature Calculations for the
/// Authorization Header" and "Authenticating Requests: Using Query Parameters", and the general examples
/// of "Create a signed AWS API request" (the IAM request and the test suite's get-vanilla).
@Suite struct SigV4Tests {
    let s3 = SigV4Signer(
        credentials: AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "s3"
    )
    let may24 = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    let host = ("host", "examplebucket.s3.amazonaws.com")

    func signature(_ headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name == "Authorization" }?.value.components(separatedBy: "Signature=").last
    }

    func signedHeaders(_ headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name == "Authorization" }?.value.components(separatedBy: "SignedHeaders=").last?.components(separatedBy: ",").first
    }

    @Test func s3GetObjectWithRange() {
        let request = SigV4Signer.Request(method: "GET", path: "/test.txt", headers: [host, ("Range", "bytes=0-9")])
        let added = s3.signingHeaders(for: request, payloadHash: emptyHash, date: may24)
        #expect(signedHeaders(added) == "host;range;x-amz-content-sha256;x-amz-date")
        #expect(signature(added) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(added.first { $0.name == "x-amz-date" }?.value == "20130524T000000Z")
    }

    @Test func s3PutObject() {
        let body = "Welcome to Amazon S3."
        let hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        #expect(SigV4Signer.hex(Array(Data(body.utf8)).sha256) == hash)
        let request = SigV4Signer.Request(
            method: "PUT", path: "/test$file.text",
            headers: [host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")]
        )
        let added = s3.signingHeaders(for: request, payloadHash: hash, date: may24)
        #expect(signedHeaders(added) == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(signature(added) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func s3GetBucketLifecycleAndListObjects() {
        let lifecycle = SigV4Signer.Request(method: "GET", path: "/", query: [("lifecycle", "")], headers: [host])
        #expect(signature(s3.signingHeaders(for: lifecycle, payloadHash: emptyHash, date: may24)) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        let list = SigV4Signer.Request(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [host])
        #expect(signature(s3.signingHeaders(for: list, payloadHash: emptyHash, date: may24)) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func s3PresignedGetVerifiesAndExpires() throws {
        let request = SigV4Signer.Request(method: "GET", path: "/test.txt", headers: [host])
        let query = s3.presignedQuery(for: request, expires: 86_400, date: may24)
        #expect(query.last?.value == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(SigV4Signer.queryString(query).hasPrefix(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
        ))

        let secret = { (key: String) in key == "AKIAIOSFODNN7EXAMPLE" ? "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" : nil }
        func verify(method: String = "GET", path: String = "/test.txt", query: [(name: String, value: String)] = query, at now: Date) throws(PresignedURL.Failure) {
            try PresignedURL.verify(method: method, path: path, query: query, headers: [host], region: "us-east-1", service: "s3", now: now, secret: secret)
        }
        try verify(at: may24.addingTimeInterval(86_400))
        #expect(throws: PresignedURL.Failure.expired) { try verify(at: may24.addingTimeInterval(86_401)) }
        #expect(throws: PresignedURL.Failure.notYetValid) { try verify(at: may24.addingTimeInterval(-3_600)) }
        #expect(throws: PresignedURL.Failure.signatureMismatch) { try verify(method: "PUT", at: may24) }
        #expect(throws: PresignedURL.Failure.signatureMismatch) { try verify(path: "/other.txt", at: may24) }
        let longer = query.map { $0.name == "X-Amz-Expires" ? ($0.name, "172800") : $0 }
        #expect(throws: PresignedURL.Failure.signatureMismatch) { try verify(query: longer, at: may24) }
        #expect(throws: PresignedURL.Failure.missing("X-Amz-Signature")) { try verify(query: Array(query.dropLast()), at: may24) }
        #expect(throws: PresignedURL.Failure.unknownAccessKey) {
            try PresignedURL.verify(method: "GET", path: "/test.txt", query: query, headers: [host], region: "us-east-1", service: "s3", now: may24) { _ in nil }
        }
    }

    @Test func generalExamples() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "iam"
        )
        let august30 = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
        #expect(SigV4Signer.timestamp(august30) == "20150830T123600Z")
        #expect(SigV4Signer.date(fromTimestamp: "20150830T123600Z") == august30)
        #expect(signer.signingKey(day: "20150830").withUnsafeBytes { SigV4Signer.hex($0) } == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        let iam = SigV4Signer.Request(
            method: "GET", path: "/", query: [("Action", "ListUsers"), ("Version", "2010-05-08")],
            headers: [("Host", "iam.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        )
        let added = signer.signingHeaders(for: iam, payloadHash: emptyHash, date: august30)
        #expect(signedHeaders(added) == "content-type;host;x-amz-date")
        #expect(signature(added) == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")

        var vanilla = signer
        vanilla.service = "service"
        let get = SigV4Signer.Request(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")])
        #expect(signature(vanilla.signingHeaders(for: get, payloadHash: emptyHash, date: august30)) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func encodingFollowsRFC3986() {
        #expect(SigV4Signer.encode("a b/c~d*é") == "a%20b%2Fc~d%2A%C3%A9")
        #expect(SigV4Signer.canonicalPath("/photos/my file.png", doubleEncode: false) == "/photos/my%20file.png")
        #expect(SigV4Signer.canonicalPath("/a b", doubleEncode: true) == "/a%2520b")
    }
}

extension Array where Element == UInt8 {
    var sha256: [UInt8] { Array(SigV4Signer.sha256(Data(self))) }
}
