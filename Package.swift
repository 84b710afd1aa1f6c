// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The six services of the API contract: each is a library of handlers plus a thin executable.
let services = ["Users", "Marketplace", "Contracts", "Payments", "Communication", "Files"]

/// What a service library needs beyond the SDK.
let extraDependencies: [String: [Target.Dependency]] = [
    "Communication": [
        .product(name: "SQLKit", package: "sql-kit"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOExtras", package: "swift-nio-extras"),
    ],
    "Files": [
        "BlytzObjects", "SigV4",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "MultipartKit", package: "multipart-kit"),
        .product(name: "SQLKit", package: "sql-kit"),
    ],
    "Marketplace": [.product(name: "SQLKit", package: "sql-kit")],
    "Payments": [
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "SQLKit", package: "sql-kit"),
    ],
    "Users": [
        .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
        .product(name: "JWTKit", package: "jwt-kit"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "SQLKit", package: "sql-kit"),
    ],
]

/// What every test target may import: the SDK, the data layer, the test support and the clients tests use.
let testDependencies: [Target.Dependency] = [
    "Blytz", "BlytzData", "BlytzEvents", "BlytzServices", "BlytzTesting",
    .product(name: "JWTKit", package: "jwt-kit"),
    .product(name: "Hummingbird", package: "hummingbird"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "SQLKit", package: "sql-kit"),
    .product(name: "AsyncHTTPClient", package: "async-http-client"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
]

/// One test target per module: the SDK, the manifest, the data layer, the runner, each service, and the
/// HTTP surface as a whole (APITests).
let testTargets: [Target] = [
    ("BlytzSDKTests", []),
    ("BlytzManifestTests", ["BlytzManifest"]),
    ("BlytzDataTests", ["BlytzAWS", "SigV4", .product(name: "PostgresKit", package: "postgres-kit"), .product(name: "NIOPosix", package: "swift-nio")]),
    ("BlytzRunnerTests", ["BlytzRunner", "BlytzManifest", "BlytzAWS", "SigV4", "Users", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")]),
    ("UsersTests", ["Users"]),
    ("CommunicationTests", ["Communication", "BlytzRunner", .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")]),
    ("MarketplaceTests", ["Marketplace", "BlytzRunner"]),
    ("ContractsTests", ["Contracts", "BlytzRunner"]),
    ("PaymentsTests", ["Payments", "BlytzRunner", .product(name: "Crypto", package: "swift-crypto"), .product(name: "PropertyBased", package: "swift-property-based")]),
    ("SigV4Tests", ["SigV4", .product(name: "Crypto", package: "swift-crypto")]),
    ("FilesTests", ["Files", "BlytzObjects", "SigV4", "BlytzRunner"]),
    ("APITests", ["BlytzManifest"]),
].map { (name: String, extra: [Target.Dependency]) in
    .testTarget(name: name, dependencies: testDependencies + extra, swiftSettings: swiftSettings)
}

let package = Package(
    name: "blytz",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "blytz", targets: ["BlytzCLI"]),
        .library(name: "Blytz", targets: ["Blytz"]),
        .library(name: "BlytzTesting", targets: ["BlytzTesting"]),
        .executable(name: "blytz-fixtures", targets: ["BlytzFixtures"]),
        .executable(name: "bench-baseline", targets: ["BenchBaseline"]),
    ] + services.map { .executable(name: $0.lowercased(), targets: ["\($0)Worker"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/async-kit.git", from: "1.22.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter's dependencies would double the build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // The manifest: functions.yaml model, validation with file:line, routes, cron.
        .target(
            name: "BlytzManifest",
            dependencies: ["BlytzEvents", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The handler SDK and the worker side of the Lambda Runtime API.
        .target(
            name: "Blytz",
            dependencies: [
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The contract between services: every event's payload and the bodies of synchronous calls.
        .target(name: "BlytzEvents", dependencies: ["Blytz"], swiftSettings: swiftSettings),
        // A database per service: SQLite (embedded) or PostgreSQL, one SQL path, migrations.
        .target(
            name: "BlytzData",
            dependencies: [
                "Blytz", "BlytzAWS",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "AsyncKit", package: "async-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What a service needs to work with the others: bearer-token identity verified against the user
        // service's JWKS, and the inter-service client with timeouts, retries and a circuit breaker.
        .target(
            name: "BlytzServices",
            dependencies: [
                "Blytz", "BlytzData", "BlytzEvents",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // AWS Signature Version 4: signed requests and presigned URLs, and their verification.
        .target(name: "SigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: swiftSettings),
        // Object storage behind one interface: a local directory (served by the runner) or S3-compatible.
        .target(
            name: "BlytzObjects",
            dependencies: [
                "SigV4",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // AWS's SNS, SQS and API Gateway management API, signed with SigV4: the event path and pushes on AWS.
        .target(
            name: "BlytzAWS",
            dependencies: [
                "Blytz", "SigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // fork/exec with a parent-death signal, which Foundation's Process cannot set.
        .target(name: "CBlytzSpawn"),
        // The local runner: gateway, service ports, Runtime API, worker pools, schedules, WebSockets.
        .target(
            name: "BlytzRunner",
            dependencies: [
                "Blytz", "BlytzData", "BlytzManifest", "BlytzObjects", "SigV4", "CBlytzSpawn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BlytzCLI",
            dependencies: [
                "BlytzRunner", "BlytzManifest", "Blytz", "BlytzData", "BlytzEvents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support: a context factory, a handler driver, and a client for the real runner.
        .target(
            name: "BlytzTesting",
            dependencies: [
                "Blytz", "BlytzData", "BlytzEvents", "BlytzManifest", "BlytzRunner", "BlytzServices", "CBlytzSpawn",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Handlers used by the runner's integration tests: crash, hang, slow, echo, queue, schedule, WebSocket.
        .executableTarget(
            name: "BlytzFixtures",
            dependencies: ["Blytz", "BlytzData", .product(name: "SQLKit", package: "sql-kit"), .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log")],
            path: "Tests/Fixtures/BlytzFixtures",
            swiftSettings: swiftSettings
        ),
        // The in-process baseline of the benchmark: the same handler behind a bare Hummingbird server.
        .executableTarget(
            name: "BenchBaseline",
            dependencies: ["Blytz", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
            path: "bench/BenchBaseline",
            swiftSettings: swiftSettings
        ),
    ]
        + testTargets
        + services.flatMap { name in
            [
                Target.target(
                    name: name,
                    dependencies: [
                        "Blytz", "BlytzData", "BlytzServices", "BlytzEvents",
                        .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
                    ] + (extraDependencies[name] ?? []),
                    swiftSettings: swiftSettings
                ),
                Target.executableTarget(
                    name: "\(name)Worker",
                    dependencies: [.byName(name: name), "BlytzData", "BlytzServices"],
                    swiftSettings: swiftSettings
                ),
            ]
        }
)
