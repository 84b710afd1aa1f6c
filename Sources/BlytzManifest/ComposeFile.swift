import Yams

/// The self-hosted deployment of a manifest (`blytz compose`): a Docker Compose file, the container image
/// recipe it builds, and the settings file it reads, all derived from the manifest.
///
/// - Traefik v3 with the Docker provider is the only published port; each service's labels route every
///   first path segment it owns under `/api` (and its WebSocket path) to it, strip `/api` as the local
///   gateway does, and health-check replicas on `/health`;
/// - one container per service runs `blytz serve <service>` with `deploy.replicas` replicas; all share the
///   PostgreSQL event queue, and the data volume (the user service's development signing keys, logs);
/// - PostgreSQL holds one database per service, each created by the one-shot `migrate` container
///   (`blytz migrate`), which every service waits for;
/// - settings and secrets come from `.env` beside the compose file (also read for `${…}` in it).
public enum ComposeFile {
    public struct Options: Sendable {
        /// The image every BlytzWork container runs (built from the generated recipe).
        public var image = "blytzwork:latest"
        /// Replicas of each service, unless `replicas` names it.
        public var defaultReplicas = 2
        public var replicas: [String: Int] = [:]
        public var traefikImage = "traefik:v3.3"
        public var postgresImage = "postgres:17-bookworm"
        /// The Swift toolchain image that builds the release executables.
        public var builderImage = "swift:6.3-bookworm"
        /// The manifest's path relative to the build context (the package root).
        public var manifest = "functions.yaml"
        /// Where the files are written, relative to the package root.
        public var directory = "deploy"

        public init() {}
    }

    /// Where the compose file expects its settings, beside itself.
    public static let environmentFile = ".env"
    /// Where every container keeps its local state.
    public static let dataDirectory = "/var/lib/blytz"
    /// The executables' folder in the image.
    public static let binDirectory = "/app/bin"

    /// The Traefik rule sending a service's requests to it: each first segment it owns, exactly or as a
    /// prefix followed by `/`, under `/api`.
    public static func rule(forSegments segments: [String]) -> String {
        segments.sorted().map { "Path(`/api/\($0)`) || PathPrefix(`/api/\($0)/`)" }.joined(separator: " || ")
    }

    /// The compose file (YAML).
    public static func compose(_ manifest: Manifest, options: Options = Options()) throws -> String {
        let routes = RouteTable(manifest: manifest)
        let database = "postgres://blytz:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}@postgres:5432"
        let shared: Node = [
            "BLYTZ_DATABASE_URL": quoted(database),
            "BLYTZ_QUEUE_URL": quoted(database + "/blytz_events"),
            "BLYTZ_GATEWAY_URL": "http://traefik",
            "BLYTZ_DATA_DIR": quoted(dataDirectory),
        ]
        var traefikCommand: [Node] = [
            "--providers.docker=true", "--providers.docker.exposedbydefault=false", "--entrypoints.web.address=:80", "--ping=true",
        ]
        var traefikVolumes: [Node] = ["/var/run/docker.sock:/var/run/docker.sock:ro"]
        if manifest.legacy != nil {
            traefikCommand.append(Node("--providers.file.filename=\(legacyRoutesMount)"))
            traefikVolumes.append(quoted("./\(legacyRoutesFile):\(legacyRoutesMount):ro"))
        }
        var services: [(Node, Node)] = [
            ("traefik", [
                "image": quoted(options.traefikImage),
                "command": .sequence(.init(traefikCommand)),
                "ports": [quoted("${BLYTZ_HTTP_PORT:-80}:80")],
                "volumes": .sequence(.init(traefikVolumes)),
                "healthcheck": ["test": ["CMD", "traefik", "healthcheck", "--ping"], "interval": "10s", "timeout": "3s", "retries": 3],
                "restart": "unless-stopped",
            ]),
            ("postgres", [
                "image": quoted(options.postgresImage),
                "env_file": [quoted(environmentFile)],
                "environment": ["POSTGRES_USER": "blytz"],
                "volumes": ["postgres-data:/var/lib/postgresql/data"],
                "healthcheck": ["test": ["CMD", "pg_isready", "-U", "blytz"], "interval": "5s", "timeout": "3s", "retries": 10],
                "restart": "unless-stopped",
            ]),
            ("migrate", [
                "image": quoted(options.image),
                "build": ["context": quoted(context(options)), "dockerfile": quoted("\(options.directory)/Dockerfile")],
                "command": ["migrate"],
                "env_file": [quoted(environmentFile)],
                "environment": shared,
                "volumes": [quoted("blytz-data:\(dataDirectory)")],
                "depends_on": ["postgres": ["condition": "service_healthy"]],
                "restart": quoted("no"),
            ]),
        ]
        for service in manifest.services {
            let segments = routes.segments.filter { $0.value == service.name }.map(\.key)
            var labels: [(Node, Node)] = [(Node("traefik.enable"), quoted("true"))]
            if !segments.isEmpty {
                let prefix = "traefik.http"
                let pairs: [(String, String)] = [
                    ("\(prefix).routers.\(service.name).rule", rule(forSegments: segments)),
                    ("\(prefix).routers.\(service.name).entrypoints", "web"),
                    ("\(prefix).routers.\(service.name).middlewares", "\(service.name)-strip-api"),
                    ("\(prefix).middlewares.\(service.name)-strip-api.stripprefix.prefixes", "/api"),
                    ("\(prefix).services.\(service.name).loadbalancer.server.port", "\(service.port)"),
                    ("\(prefix).services.\(service.name).loadbalancer.healthcheck.path", "/health"),
                    ("\(prefix).services.\(service.name).loadbalancer.healthcheck.interval", "5s"),
                ]
                labels += pairs.map { (Node($0.0), quoted($0.1)) }
            }
            services.append((.init(service.name), [
                "image": quoted(options.image),
                "command": ["serve", .init(service.name), "--port", quoted("\(service.port)")],
                "env_file": [quoted(environmentFile)],
                "environment": shared,
                "volumes": [quoted("blytz-data:\(dataDirectory)")],
                "depends_on": ["migrate": ["condition": "service_completed_successfully"], "postgres": ["condition": "service_healthy"]],
                "deploy": ["replicas": .init(String(options.replicas[service.name] ?? options.defaultReplicas))],
                "healthcheck": [
                    "test": ["CMD", quoted("\(binDirectory)/blytz"), "health", "--port", quoted("\(service.port)")],
                    "interval": "10s", "timeout": "3s", "retries": 3, "start_period": "30s",
                ],
                "stop_grace_period": "30s",
                "restart": "unless-stopped",
                "labels": .mapping(.init(labels)),
            ]))
        }
        let document: Node = [
            "services": .mapping(.init(services)),
            "volumes": ["postgres-data": [:], "blytz-data": [:]],
        ]
        return "# The self-hosted deployment of \(options.manifest), written by `blytz compose`: regenerate it, do not edit it.\n"
            + (try Yams.serialize(node: document, width: -1))
    }

    /// The Traefik dynamic configuration beside the compose file that routes the monolith's prefixes.
    public static let legacyRoutesFile = "traefik-legacy.yaml"
    static let legacyRoutesMount = "/etc/traefik/legacy.yaml"
    /// Above any rule length, Traefik's default priority, so the monolith's prefixes win over a service's segments.
    public static let legacyPriority = 1_000_000

    /// The Traefik routes of the manifest's `legacy` prefixes (file provider): each forwarded to the monolith
    /// unchanged and nothing stripped; as the local gateway does, the monolith sees its own Host and the client's in
    /// `X-Forwarded-Host`. Nil when the manifest names no monolith.
    public static func legacyRoutes(_ manifest: Manifest) throws -> String? {
        guard let legacy = manifest.legacy else { return nil }
        guard !legacy.prefixes.isEmpty else { return "# The monolith owns no prefix any more: every path goes to the services.\n" }
        let rule = legacy.prefixes.sorted().map { prefix in
            let base = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            return "Path(`\(base)`) || PathPrefix(`\(base)/`)"
        }.joined(separator: " || ")
        let document: Node = [
            "http": [
                "routers": ["legacy": [
                    "rule": quoted(rule), "entryPoints": ["web"], "service": "legacy", "priority": .init(String(legacyPriority)),
                ]],
                "services": ["legacy": ["loadBalancer": ["passHostHeader": "false", "servers": [["url": quoted(legacy.upstream)]]]]],
            ],
        ]
        return "# The monolith's remaining prefixes, written by `blytz compose` from the manifest's `legacy`: move a prefix out to switch its service on.\n"
            + (try Yams.serialize(node: document, width: -1))
    }

    /// The container image recipe: release executables built with the static Swift runtime, in a slim
    /// runtime image that holds only them, the manifest and CA certificates, running as a non-root user.
    public static func dockerfile(_ manifest: Manifest, options: Options = Options()) -> String {
        let products = (["blytz"] + manifest.services.map(\.executable)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let copies = products.map { "\"$bin/\($0)\"" }.joined(separator: " ")
        return """
            # The BlytzWork image, written by `blytz compose` from \(options.manifest): regenerate it, do not edit it.
            # Build from the package root: docker build -f \(options.directory)/Dockerfile -t \(options.image) .
            FROM \(options.builderImage) AS build
            WORKDIR /src
            COPY Package.swift ./
            COPY Sources Sources
            COPY Tests Tests
            RUN swift build -c release --static-swift-stdlib \\
             && bin="$(swift build -c release --show-bin-path)" \\
             && mkdir -p /out && cp \(copies) /out/ && strip /out/*

            FROM debian:bookworm-slim
            RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata && rm -rf /var/lib/apt/lists/* \\
             && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin blytz \\
             && mkdir -p \(dataDirectory) && chown blytz \(dataDirectory)
            COPY --from=build /out/ \(binDirectory)/
            COPY \(options.manifest) /app/functions.yaml
            WORKDIR /app
            ENV BLYTZ_DATA_DIR=\(dataDirectory)
            USER blytz
            HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["\(binDirectory)/blytz", "health"]
            ENTRYPOINT ["\(binDirectory)/blytz"]

            """
    }

    /// The build context's ignore file, beside the recipe (`deploy/Dockerfile.dockerignore`).
    public static func dockerignore(options: Options = Options()) -> String {
        [".build", ".git", "local/.data", "local/.venv", options.directory].joined(separator: "\n") + "\n"
    }

    /// The settings file to copy to `.env` and fill in.
    public static func environmentExample(_ manifest: Manifest) -> String {
        var lines = [
            "# Settings and secrets of the self-hosted deployment; copy to .env beside compose.yaml and fill in.",
            "# The password of the PostgreSQL server's `blytz` user (every service's database and the event queue).",
            "POSTGRES_PASSWORD=",
            "# The key services derive their shared secrets from: `openssl rand -hex 32`.",
            "BLYTZ_SERVICE_KEY=",
            "# The published HTTP port of Traefik.",
            "BLYTZ_HTTP_PORT=80",
            "# Traces: an OpenTelemetry collector's OTLP/HTTP endpoint (export is off while unset); other OTEL_* variables apply too.",
            "# OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318",
            "# Each service's secrets (see the README of each); left empty, a service uses its development default where it has one.",
        ]
        for service in manifest.services {
            for secret in service.secrets {
                lines.append("\(service.name.uppercased())_\(secret)=")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The build context (the package root) as seen from the compose file's folder.
    private static func context(_ options: Options) -> String {
        String(repeating: "../", count: options.directory.split(separator: "/").filter { $0 != "." }.count).dropLast().description
    }

    private static func quoted(_ text: String) -> Node {
        .scalar(.init(text, .implicit, .doubleQuoted))
    }
}
