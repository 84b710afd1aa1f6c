import Blytz
import Foundation
import HTTPTypes
import Hummingbird

/// Turns an HTTP request into the API Gateway HTTP API v2.0 event a function receives, and a function's
/// answer back into an HTTP response.
enum EventMapping {
    static func event(
        request: Request, path: String, routeKey: String, parameters: [String: String], body: ByteBuffer,
        requestID: String, traceparent: String, sourceIP: String, host: String
    ) -> APIGatewayV2Request {
        var headers: [String: String] = [:]
        var cookies: [String] = []
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            if name == "cookie" {
                cookies += field.value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                continue
            }
            headers[name] = headers[name].map { "\($0),\(field.value)" } ?? field.value
        }
        headers["traceparent"] = traceparent
        headers["x-request-id"] = requestID
        let rawQuery = request.uri.query ?? ""
        let query = self.query(rawQuery)
        let contentType = headers["content-type"] ?? ""
        var bodyText: String?
        var isBase64 = false
        if body.readableBytes > 0 {
            if APIGatewayV2Response.isTextual(contentType), let text = body.getString(at: body.readerIndex, length: body.readableBytes),
                text.utf8.count == body.readableBytes
            {
                bodyText = text
            } else {
                bodyText = Data(body.readableBytesView).base64EncodedString()
                isBase64 = true
            }
        }
        let millis = wallClockMilliseconds()
        return APIGatewayV2Request(
            routeKey: routeKey, rawPath: path, rawQueryString: rawQuery, cookies: cookies.isEmpty ? nil : cookies,
            headers: headers, queryStringParameters: query.isEmpty ? nil : query,
            pathParameters: parameters.isEmpty ? nil : parameters,
            requestContext: .init(
                domainName: host,
                http: .init(method: request.method.rawValue, path: path, sourceIp: sourceIP, userAgent: headers["user-agent"] ?? ""),
                requestId: requestID, routeKey: routeKey, time: Timestamp.iso8601(milliseconds: millis), timeEpoch: millis
            ),
            body: bodyText, isBase64Encoded: isBase64
        )
    }

    /// Decoded query parameters; a repeated name's values joined with commas, as API Gateway does.
    static func query(_ raw: String) -> [String: String] {
        var query: [String: String] = [:]
        for pair in raw.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            query[name] = query[name].map { "\($0),\(value)" } ?? value
        }
        return query
    }

    private static func decode(_ text: Substring) -> String {
        let plus = text.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }

    /// A function's output as an HTTP response. Output that is not an API Gateway response object but is
    /// valid JSON is answered as a 200 JSON body, as API Gateway does; anything else is a 502.
    static func response(from output: ByteBuffer) -> Response? {
        if let decoded = try? output.withUnsafeReadableBytes({ try APIGatewayV2Response(json: $0) }) {
            guard (100...599).contains(decoded.statusCode) else { return nil }
            var fields = HTTPFields()
            for (name, value) in decoded.headers ?? [:] {
                if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
            }
            for cookie in decoded.cookies ?? [] { fields.append(HTTPField(name: .setCookie, value: cookie)) }
            let body = decoded.bodyData
            return Response(status: .init(code: decoded.statusCode), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        guard (try? JSONSerialization.jsonObject(with: Data(output.readableBytesView), options: [.fragmentsAllowed])) != nil else { return nil }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: output))
    }

    /// A problem+json response.
    static func problem(_ status: Int, _ detail: String, errors: [Problem.FieldError]? = nil, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = Problem.contentType
        let problem = Problem(status: status, detail: detail, errors: errors)
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: problem.encoded)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSON.encoder().encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
