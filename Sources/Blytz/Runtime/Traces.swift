import Foundation
import Instrumentation
import ServiceContextModule
import Tracing

/// Spans through swift-distributed-tracing, without a global tracer: the process's tracer (set up from the
/// standard `OTEL_*` variables, absent when tracing is off) travels in the task's `ServiceContext` with the
/// current span, so whatever a handler calls — its database's transactions, its calls to other services,
/// its publishing — opens child spans, and `traceparent` headers and event envelopes carry them on.
public enum Traces {
    /// The key the tracer travels under in a `ServiceContext`.
    public enum TracerKey: ServiceContextKey {
        public typealias Value = any Tracer
        public static var nameOverride: String? { "blytz.tracer" }
    }

    /// The tracer of the task's context, if tracing is on.
    public static var tracer: (any Tracer)? { ServiceContext.current?[TracerKey.self] }

    /// Runs `body` in a span `name` of `kind`, a child of the task's current span, when the task carries a
    /// tracer; otherwise runs `body` with no span. An error thrown ends the span as failed.
    public static func span<T>(
        _ name: String, kind: SpanKind = .internal, attributes: [String: String] = [:], links: [String] = [],
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        guard let context = ServiceContext.current, let tracer = context[TracerKey.self] else { return try await body(nil) }
        return try await span(tracer, name, kind: kind, parent: context, attributes: attributes, links: links, body)
    }

    /// `span` with `tracer`, under `parent` (a top-level context for a root span).
    public static func span<T>(
        _ tracer: any Tracer, _ name: String, kind: SpanKind, parent: ServiceContext, attributes: [String: String] = [:], links: [String] = [],
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        try await opened(tracer, name, kind: kind, parent: parent, attributes: attributes, links: links, body)
    }

    private static func opened<Opened: Tracer, T>(
        _ tracer: Opened, _ name: String, kind: SpanKind, parent: ServiceContext, attributes: [String: String], links: [String],
        _ body: (_ span: (any Span)?) async throws -> T
    ) async rethrows -> T {
        var parent = parent
        parent[TracerKey.self] = tracer
        return try await tracer.withSpan(name, context: parent, ofKind: kind) { span in
            for (key, value) in attributes { span.attributes[key] = value }
            for traceparent in links {
                if let linked = context(traceparent: traceparent, tracer: tracer) { span.addLink(SpanLink(context: linked, attributes: [:])) }
            }
            return try await body(span)
        }
    }

    /// Starts a span `name` of `kind`, a child of the task's current span, for the caller to end (one with
    /// nothing inside it that opens spans: a call to another service); nil when the task is not traced.
    /// `traceparent` names it, for the callee.
    public static func start(_ name: String, kind: SpanKind, attributes: [String: String] = [:]) -> (span: any Span, traceparent: String?)? {
        guard let context = ServiceContext.current, let tracer = context[TracerKey.self] else { return nil }
        let span = tracer.startSpan(name, context: context, ofKind: kind)
        for (key, value) in attributes { span.attributes[key] = value }
        return (span, traceparent(of: span, tracer: tracer))
    }

    /// The W3C `traceparent` naming `span` (to hand to a worker, another service or an event).
    public static func traceparent(of span: any Span, tracer: any Tracer) -> String? {
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: HeaderInjector())
        return carrier["traceparent"]
    }

    /// The `traceparent` of the task's current span, if it is traced.
    public static var currentTraceparent: String? {
        guard let context = ServiceContext.current, let tracer = context[TracerKey.self] else { return nil }
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: HeaderInjector())
        return carrier["traceparent"]
    }

    /// `context`, its `traceparent` naming the task's current span when it is traced (what a message's
    /// handling publishes and calls is then under that message's span).
    public static func continuing(_ context: FunctionContext) -> FunctionContext {
        guard let traceparent = currentTraceparent else { return context }
        var context = context
        context.traceparent = traceparent
        return context
    }

    /// Whether `traceparent` says its trace is kept (its flags' lowest bit); true when there is none or it
    /// cannot be read, as a new trace would be decided afresh.
    public static func isSampled(_ traceparent: String?) -> Bool {
        guard let traceparent, traceparent.utf8.count == 55, let flags = UInt8(traceparent.suffix(2), radix: 16) else { return true }
        return flags & 1 == 1
    }

    /// Whether `environment`'s sampler follows the caller's decision: OpenTelemetry's default
    /// (`parentbased_always_on`) and every `parentbased_*` sampler do.
    public static func followsCallersSampling(_ environment: [String: String]) -> Bool {
        environment["OTEL_TRACES_SAMPLER"].map { $0.isEmpty || $0.lowercased().hasPrefix("parentbased_") } ?? true
    }

    /// What an event envelope's JSON says of where it came from: its type and the span that published it.
    public static func publisher(of envelope: String) -> (type: String, traceparent: String?)? {
        struct Published: Decodable { var type: String; var traceparent: String? }
        return (try? JSONDecoder().decode(Published.self, from: Data(envelope.utf8))).map { ($0.type, $0.traceparent) }
    }

    /// A context whose span is the one `traceparent` names (a remote parent, or what a link points at).
    public static func context(traceparent: String?, tracer: any Tracer) -> ServiceContext? {
        guard let traceparent else { return nil }
        var context = ServiceContext.topLevel
        tracer.extract(["traceparent": traceparent], into: &context, using: HeaderExtractor())
        return context.isEmpty ? nil : context
    }

    struct HeaderInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    struct HeaderExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }
}
