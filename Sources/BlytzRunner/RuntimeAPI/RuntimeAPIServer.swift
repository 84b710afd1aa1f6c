import Blytz
import BlytzManifest
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The AWS Lambda Runtime API as one worker sees it, on a loopback port of its own, so every request
/// on it belongs to that worker: `GET /2018-06-01/runtime/invocation/next`, `POST …/{id}/response`,
/// `POST …/{id}/error` and `POST /2018-06-01/runtime/init/error`.
struct RuntimeAPIServer: Sendable {
    let channel: any Channel

    var port: Int { channel.localAddress?.port ?? 0 }

    static func start(group: any EventLoopGroup, pool: FunctionPool, worker: Int) async throws -> RuntimeAPIServer {
        let functionName = pool.function.name
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Every header this server writes is built here from checked values (ids it made, the
                    // function's name, a traceparent it wrote), so NIO's per-write header validation is off.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(RuntimeAPIHandler(pool: pool, worker: worker, functionName: functionName))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return RuntimeAPIServer(channel: channel)
    }

    func close() async {
        try? await channel.close()
    }
}

/// Serves the Runtime API requests of one worker connection.
final class RuntimeAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let pool: FunctionPool
    let worker: Int
    let functionArn: String
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(pool: FunctionPool, worker: Int, functionName: String) {
        self.pool = pool
        self.worker = worker
        self.functionArn = "arn:aws:lambda:local:000000000000:function:\(functionName)"
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            self.head = nil
            route(head, context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch (head.method, RuntimeAPIPath(head.uri)) {
        case (.GET, .next):
            let promise = context.eventLoop.makePromise(of: NextInvocation.self)
            pool.next(worker: worker, promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let next): deliver(next, context: context)
                case .failure: context.close(promise: nil)
                }
            }
        case (.POST, .answer(let invocation, let isError)):
            let accepted = pool.respond(
                worker: worker, invocation: invocation, body: body, isError: isError,
                published: head.headers.first(name: FunctionRuntime.publishedHeader) != nil
            )
            if accepted {
                reply(context, 202, json: #"{"status":"OK"}"#)
            } else {
                reply(context, 400, error: "Invalid request ID", type: "InvalidRequestID")
            }
        case (.POST, .initError):
            pool.initFailed(worker: worker, reason: Self.errorMessage(body))
            reply(context, 202, json: #"{"status":"OK"}"#)
        default:
            reply(context, 404, error: "Not found", type: "NotFound")
        }
    }

    private func deliver(_ next: NextInvocation, context: ChannelHandlerContext) {
        var headers: HTTPHeaders = [
            "Content-Type": "application/json",
            "Content-Length": "\(next.payload.readableBytes)",
            "Lambda-Runtime-Aws-Request-Id": next.id,
            "Lambda-Runtime-Deadline-Ms": "\(next.deadlineEpochMilliseconds)",
            "Lambda-Runtime-Invoked-Function-Arn": functionArn,
        ]
        if let traceparent = next.traceparent {
            headers.add(name: "traceparent", value: traceparent)
            headers.add(name: "Lambda-Runtime-Trace-Id", value: TraceContext.xrayHeader(traceparent))
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(next.payload))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func reply(_ context: ChannelHandlerContext, _ status: Int, error: String, type: String) {
        reply(context, status, json: #"{"errorMessage":"\#(error)","errorType":"\#(type)"}"#)
    }

    private func reply(_ context: ChannelHandlerContext, _ status: Int, json: String) {
        let headers: HTTPHeaders = ["Content-Type": "application/json", "Content-Length": "\(json.utf8.count)"]
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: json)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The `errorMessage` of a Runtime API error body, or the body itself.
    static func errorMessage(_ body: ByteBuffer) -> String {
        struct RuntimeError: Decodable { var errorMessage: String? }
        let text = String(buffer: body)
        let decoded = try? JSONDecoder().decode(RuntimeError.self, from: Data(text.utf8))
        return decoded?.errorMessage ?? (text.isEmpty ? "no reason given" : text)
    }
}

/// The Runtime API paths a worker may ask for, read from a request's URI (its query ignored).
enum RuntimeAPIPath: Equatable {
    /// `/2018-06-01/runtime/invocation/next`
    case next
    /// `/2018-06-01/runtime/invocation/{id}/response` or `…/{id}/error`
    case answer(invocation: String, isError: Bool)
    /// `/2018-06-01/runtime/init/error`
    case initError
    case unknown

    init(_ uri: String) {
        self = Self.read(uri) ?? .unknown
    }

    private static func read(_ uri: String) -> Self? {
        var path = Substring(uri).utf8
        if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
        guard path.starts(with: "/2018-06-01/runtime/".utf8) else { return nil }
        let rest = path.dropFirst("/2018-06-01/runtime/".utf8.count)
        if rest.elementsEqual("invocation/next".utf8) { return .next }
        if rest.elementsEqual("init/error".utf8) { return .initError }
        guard rest.starts(with: "invocation/".utf8) else { return nil }
        // invocation/{id}/response or invocation/{id}/error, the id non-empty and without a slash.
        let tail = rest.dropFirst("invocation/".utf8.count)
        guard let slash = tail.firstIndex(of: UInt8(ascii: "/")), slash != tail.startIndex else { return nil }
        let id = String(Substring(tail[..<slash]))
        let action = tail[tail.index(after: slash)...]
        if action.elementsEqual("response".utf8) { return .answer(invocation: id, isError: false) }
        if action.elementsEqual("error".utf8) { return .answer(invocation: id, isError: true) }
        return nil
    }
}
