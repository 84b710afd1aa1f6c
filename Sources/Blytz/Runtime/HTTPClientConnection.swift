import NIOCore
import NIOHTTP1
import NIOPosix

/// One persistent HTTP/1.1 connection making sequential requests, or two at once with HTTP/1.1
/// pipelining: what the Runtime API loop needs, with none of a pooled client's per-request cost.
public final class HTTPClientConnection: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer
    }

    struct Closed: Error {}

    let channel: any Channel
    let host: String

    private init(channel: any Channel, host: String) {
        self.channel = channel
        self.host = host
    }

    public static func connect(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> HTTPClientConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // The callers' headers are fixed names with values they made; NIO's per-write validation is off.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler())
                }
            }
            .connect(host: host, port: port)
            .get()
        return HTTPClientConnection(channel: channel, host: "\(host):\(port)")
    }

    public func request(_ method: HTTPMethod, _ uri: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) async throws -> Response {
        let (outbound, response) = outbound(method, uri, headers: headers, body: body)
        channel.writeAndFlush(outbound, promise: nil)
        return try await response.get()
    }

    /// Sends two requests in one write, the second without waiting for the first's response (HTTP/1.1
    /// pipelining; the server answers them in order), and returns both responses.
    public func pipelined(
        _ method: HTTPMethod, _ uri: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil,
        then secondMethod: HTTPMethod, _ secondURI: String
    ) async throws -> (Response, Response) {
        let (first, firstResponse) = outbound(method, uri, headers: headers, body: body)
        let (second, secondResponse) = outbound(secondMethod, secondURI, headers: [:], body: nil)
        channel.write(first, promise: nil)
        channel.writeAndFlush(second, promise: nil)
        return (try await firstResponse.get(), try await secondResponse.get())
    }

    private func outbound(_ method: HTTPMethod, _ uri: String, headers: HTTPHeaders, body: ByteBuffer?) -> (ResponseHandler.Outbound, EventLoopFuture<Response>) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
        head.headers.replaceOrAdd(name: "Host", value: host)
        head.headers.replaceOrAdd(name: "Content-Length", value: "\(body?.readableBytes ?? 0)")
        let promise = channel.eventLoop.makePromise(of: Response.self)
        return (ResponseHandler.Outbound(head: head, body: body, promise: promise), promise.futureResult)
    }

    public func close() async {
        try? await channel.close()
    }

    /// Writes requests and pairs each complete response with the oldest waiting promise.
    final class ResponseHandler: ChannelDuplexHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundIn = Outbound
        typealias OutboundOut = HTTPClientRequestPart

        struct Outbound {
            var head: HTTPRequestHead
            var body: ByteBuffer?
            var promise: EventLoopPromise<Response>
        }

        private var waiting = CircularBuffer<EventLoopPromise<Response>>()
        private var head: HTTPResponseHead?
        private var body: ByteBuffer?

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let request = unwrapOutboundIn(data)
            waiting.append(request.promise)
            context.write(wrapOutboundOut(.head(request.head)), promise: nil)
            if let body = request.body, body.readableBytes > 0 {
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            }
            context.write(wrapOutboundOut(.end(nil)), promise: promise)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                self.body = nil
            case .body(var part):
                if body == nil { body = part } else { body!.writeBuffer(&part) }
            case .end:
                guard let head, let promise = waiting.popFirst() else { return }
                promise.succeed(Response(status: Int(head.status.code), headers: head.headers, body: body ?? ByteBuffer()))
                self.head = nil
                self.body = nil
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            failAll(Closed())
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failAll(error)
            context.close(promise: nil)
        }

        private func failAll(_ error: any Error) {
            while let promise = waiting.popFirst() { promise.fail(error) }
        }
    }
}
