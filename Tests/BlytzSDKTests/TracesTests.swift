import Blytz
import Testing

/// How a worker reads its caller's sampling decision from the `traceparent` it is handed.
@Suite struct TracesTests {
    @Test func theSampledFlagIsReadFromTheTraceparent() {
        #expect(Traces.isSampled("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
        #expect(!Traces.isSampled("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"))
        #expect(Traces.isSampled("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03"))
        // None, or one that cannot be read: decided afresh, as a new trace.
        #expect(Traces.isSampled(nil))
        #expect(Traces.isSampled("not a traceparent"))
        #expect(Traces.isSampled("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-zz"))
    }

    @Test func onlyParentBasedSamplersFollowTheCaller() {
        #expect(Traces.followsCallersSampling([:]))
        #expect(Traces.followsCallersSampling(["OTEL_TRACES_SAMPLER": "parentbased_traceidratio"]))
        #expect(Traces.followsCallersSampling(["OTEL_TRACES_SAMPLER": "ParentBased_Always_On"]))
        #expect(!Traces.followsCallersSampling(["OTEL_TRACES_SAMPLER": "always_on"]))
        #expect(!Traces.followsCallersSampling(["OTEL_TRACES_SAMPLER": "traceidratio"]))
    }
}
