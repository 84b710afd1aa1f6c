import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import ServiceLifecycle
@_spi(WSInternal) import WSCore

/// The runner's HTTP/1.1 connections, with WebSocket upgrades decided by the service's `$connect`
/// function. Unlike a plain upgrade channel, a refused upgrade is answered with the status and
/// problem document `$connect` gave, as API Gateway does, before any upgrade happens.
struct RunnerChannel: ServerChildChannel, HTTPChannelHandler {
    /// What the first request of a connection turned out to be.
    enum Negotiated: Sendable {
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, WebSocketHub.Refusal)
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, WebSocketHub.Handler)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
        /// Whether the first request's head has arrived (an upgrade's negotiation may take a while).
        let begun: NIOLoopBoundBox<Bool>
    }

    /// The context WebSocket handlers receive.
    struct Context: WebSocketContext {
        let logger: Logger
    }

    let responder: Responder
    let hub: WebSocketHub
    /// The service whose port this is; nil for the gateway.
    let listener: String?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let decision = NIOLoopBoundBox<WebSocketHub.Negotiation?>(nil, eventLoop: channel.eventLoop)
            let begun = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: WebSocketHub.maxMessageBytes,
                shouldUpgrade: { [hub, listener] channel, head in
                    begun.value = true
                    let headers = head.headers.map { ($0.name, $0.value) }
                    let sourceIP = channel.remoteAddress?.ipAddress ?? "127.0.0.1"
                    let promise = channel.eventLoop.makePromise(of: WebSocketHub.Negotiation.self)
                    promise.completeWithTask { await hub.negotiate(uri: head.uri, headers: headers, sourceIP: sourceIP, listener: listener) }
                    return promise.futureResult.map { negotiation in
                        decision.value = negotiation
                        if case .accept = negotiation { return HTTPHeaders() }
                        return nil
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard case .accept(let handler) = decision.value else { throw ChannelError.inappropriateOperationForState }
                        let frames = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return .websocket(frames, handler)
                    }
                }
            )
            let configuration = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if case .refuse(let refusal) = decision.value { return .refused(http, refusal) }
                        return .http(http)
                    }
                }
            )
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<Negotiated>(upgradeConfiguration: configuration)
            pipeline.enablePipelining = false
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            negotiated.whenComplete { _ in begun.value = true }
            return Value(negotiated: negotiated, channel: channel, begun: begun)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            // A connection whose first request has not begun yet is closed on shutdown; one whose request
            // is being negotiated is answered first.
            let negotiated = try await withGracefulShutdownHandler {
                try await value.negotiated.get()
            } onGracefulShutdown: {
                value.channel.eventLoop.execute {
                    if !value.begun.value { value.channel.close(promise: nil) }
                }
            }
            switch negotiated {
            case .http(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let refusal):
                try await http.executeThenClose { _, outbound in
                    var head = HTTPResponse(status: .init(code: refusal.status))
                    head.headerFields[.contentType] = "application/problem+json"
                    head.headerFields[.contentLength] = "\(refusal.body.readableBytes)"
                    head.headerFields[.connection] = "close"
                    try await outbound.write(contentsOf: [.head(head), .body(refusal.body), .end(nil)])
                }
            case .websocket(let frames, let handler):
                _ = try await WebSocketHandler.handle(
                    type: .server,
                    configuration: .init(
                        extensions: [], autoPing: .enabled(timePeriod: .seconds(30)), validateUTF8: true,
                        maxFrameSize: WebSocketHub.maxMessageBytes
                    ),
                    asyncChannel: frames, context: Context(logger: logger), handler: handler
                )
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }
}
