import Blytz
import Foundation
import NIOCore
import Testing

/// The API Gateway event and answer read and written by `JSONReader`/`JSONWriter` agree with Foundation's
/// coders on every document either accepts, and refuse what is not JSON or not the shape.
@Suite struct GatewayJSONTests {
    static let event = APIGatewayV2Request(
        routeKey: "POST /jobs/{id}", rawPath: "/jobs/ä 1", rawQueryString: "a=1&b=%22", cookies: ["session=x; y", "theme=\u{1F600}"],
        headers: ["content-type": "application/json", "x-odd": "quote \" back\\slash\nline\ttab\u{01}\u{7F}", "user-agent": "curl/8"],
        queryStringParameters: ["a": "1", "b": "\""], pathParameters: ["id": "j/1"],
        requestContext: .init(
            domainName: "localhost", http: .init(method: "POST", path: "/jobs/ä 1", sourceIp: "127.0.0.1", userAgent: "curl/8"),
            requestId: "r-1", routeKey: "POST /jobs/{id}", time: "2026-12-07T10:00:00.000Z", timeEpoch: 1_796_637_600_000
        ),
        body: #"{"title":"Ünïcödé \u2028 and \"quotes\"","n":-12.5e3}"#, isBase64Encoded: false
    )

    @Test func anEventWrittenByTheWriterDecodesWithFoundationAndBackWithTheReader() throws {
        let written = Data(Self.event.json.readableBytesView)
        #expect(try JSONDecoder().decode(APIGatewayV2Request.self, from: written) == Self.event)
        #expect(try APIGatewayV2Request(json: written) == Self.event)
        var bare = Self.event
        (bare.cookies, bare.queryStringParameters, bare.pathParameters, bare.body) = (nil, nil, nil, nil)
        #expect(try APIGatewayV2Request(json: Data(bare.json.readableBytesView)) == bare)
        #expect(try JSONDecoder().decode(APIGatewayV2Request.self, from: Data(bare.json.readableBytesView)) == bare)
    }

    @Test func anEventFromFoundationOrAWSReadsTheSame() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        #expect(try APIGatewayV2Request(json: encoder.encode(Self.event)) == Self.event)
        // What API Gateway adds (authorizer claims, stage variables, numbers, nulls) is skipped.
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.event)) as! [String: Any]
        object["stageVariables"] = NSNull()
        object["extra"] = ["a": [1, 2.5, -3e-2, true, false, NSNull(), ["deep": ["x"]]]]
        var context = object["requestContext"] as! [String: Any]
        context["authorizer"] = ["jwt": ["claims": ["sub": "u1", "exp": 1_800_000_000], "scopes": NSNull()]]
        object["requestContext"] = context
        let withExtras = try JSONSerialization.data(withJSONObject: object)
        #expect(try APIGatewayV2Request(json: withExtras) == Self.event)
        // Escapes the writer never produces: `\/`, `\b`, `\f`, `\u` with surrogate pairs.
        let escaped = try APIGatewayV2Request(json: Data(#"{"version":"2.0","routeKey":"\/a\b\f\u00e9\ud83d\ude00","rawPath":"/","rawQueryString":"","headers":{},"requestContext":{"accountId":"1","apiId":"a","domainName":"d","domainPrefix":"p","http":{"method":"GET","path":"/","protocol":"HTTP/1.1","sourceIp":"1","userAgent":""},"requestId":"r","routeKey":"k","stage":"s","time":"t","timeEpoch":-5},"body":null,"isBase64Encoded":true}"#.utf8))
        #expect(escaped.routeKey == "/a\u{08}\u{0C}é\u{1F600}" && escaped.body == nil && escaped.requestContext.timeEpoch == -5 && escaped.isBase64Encoded)
    }

    @Test func answersAgreeWithFoundationBothWays() throws {
        let answers = [
            APIGatewayV2Response(statusCode: 201, headers: ["content-type": "application/json", "x-a": "\"q\""], cookies: ["a=1"], body: #"{"id":"é"}"#, isBase64Encoded: false),
            APIGatewayV2Response(statusCode: 204),
            APIGatewayV2Response(statusCode: 200, headers: [:], body: "AAEC", isBase64Encoded: true),
        ]
        for answer in answers {
            let written = Data(answer.json.readableBytesView)
            #expect(try JSONDecoder().decode(APIGatewayV2Response.self, from: written) == answer)
            #expect(try APIGatewayV2Response(json: written) == answer)
            #expect(try APIGatewayV2Response(json: JSON.encoder().encode(answer)) == answer)
        }
        let nulls = try APIGatewayV2Response(json: Data(#" {"statusCode": 404, "headers": null, "cookies": null, "body": null, "isBase64Encoded": null, "x": {}} "#.utf8))
        #expect(nulls == APIGatewayV2Response(statusCode: 404))
    }

    @Test func whatIsNotJSONOrNotTheShapeIsRefusedLikeFoundationRefusesIt() throws {
        let documents = [
            "", "{", "[]", "null", #"{"statusCode":"200"}"#, #"{"statusCode":200.5}"#, #"{"statusCode":1e-2}"#, #"{"body":"x"}"#,
            #"{"statusCode":200} x"#, #"{"statusCode":200,"body":"a"#, #"{"statusCode":200,"body":"\x"}"#,
            #"{"statusCode":200,"body":"\ud800"}"#, "{\"statusCode\":200,\"body\":\"\n\"}", #"{"statusCode":200,"headers":{"a":1}}"#,
            #"{"statusCode":200,"cookies":[1]}"#, #"{"statusCode":200,"isBase64Encoded":"true"}"#, #"{"statusCode":01}"#,
            #"{"statusCode":99999999999999999999}"#, #"{"statusCode":200,"x":tru}"#, #"{'statusCode':200}"#,
        ]
        for document in documents {
            let data = Data(document.utf8)
            #expect(throws: (any Error).self, "\(document)") { try APIGatewayV2Response(json: data) }
            #expect(throws: (any Error).self, "\(document)") { try JSONDecoder().decode(APIGatewayV2Response.self, from: data) }
        }
        // Foundation accepts a trailing comma and a bare minus sign; JSON does not, and neither does the reader.
        for document in [#"{"statusCode":200,}"#, #"{"statusCode":200,"x":-}"#, #"{"statusCode":200,"cookies":["a",]}"#] {
            #expect(throws: JSONReader.Malformed.self, "\(document)") { try APIGatewayV2Response(json: Data(document.utf8)) }
        }
        // Both accept a whole number written with a fraction or an exponent.
        for (document, status) in [(#"{"statusCode":200.0}"#, 200), (#"{"statusCode":1e2}"#, 100), (#"{"statusCode":-0}"#, 0)] {
            #expect(try APIGatewayV2Response(json: Data(document.utf8)).statusCode == status)
            #expect(try JSONDecoder().decode(APIGatewayV2Response.self, from: Data(document.utf8)).statusCode == status)
        }
        #expect(throws: JSONReader.MissingField(name: "statusCode")) { try APIGatewayV2Response(json: Data(#"{"body":"x"}"#.utf8)) }
        #expect(throws: (any Error).self) { try APIGatewayV2Response(json: Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])) }
        #expect(throws: (any Error).self) { try APIGatewayV2Request(json: Data(#"{"version":"2.0"}"#.utf8)) }
    }
}
