"""Reads the routing a generated compose file's Traefik labels express, checks it, and turns it into a
reverse proxy configuration that routes the same way.

    compose_routes.py check COMPOSE ROUTES_JSON
        Parses COMPOSE with a real compose implementation (`docker-compose config`), reads each service's
        router rule back from its labels, and checks that every route of the manifest (ROUTES_JSON, from
        `blytz routes --json`) reaches the service that owns it and no other, that nothing outside the
        API (the runner's own endpoints, unknown segments) is routed, and that each router strips /api,
        targets the port the service is served on and health-checks /health.

    compose_routes.py haproxy COMPOSE LISTEN_PORT SERVICE=HOST:PORT[,HOST:PORT…]…
        Prints an HAProxy configuration listening on 127.0.0.1:LISTEN_PORT that routes as the labels do
        (the same rules, /api stripped) to the given replicas of each service, health-checking /health
        and retrying a request whose replica refused the connection on another one. Where the compose file
        mounts the monolith's routes (the manifest's `legacy`), `legacy=HOST:PORT` names the monolith: its
        prefixes go to it first and unchanged, as Traefik's higher priority for that router does.
"""
import os
import json
import re
import subprocess
import sys

import yaml

RULE_TERM = re.compile(r"^(Path|PathPrefix)\(`([^`]*)`\)$")


def load(compose):
    """The compose file as a real compose implementation reads it (variables resolved, schema checked)."""
    output = subprocess.run(["docker-compose", "-f", compose, "config"], check=True, capture_output=True, text=True).stdout
    return yaml.safe_load(output)


def legacy_router(compose, config):
    """The terms of the monolith's router from the file provider's file the compose file mounts, or None."""
    traefik = config["services"].get("traefik") or {}
    flags = [item for item in traefik.get("command") or [] if item.startswith("--providers.file.filename=")]
    if not flags:
        return None
    mounted = flags[0].split("=", 1)[1]
    for volume in traefik.get("volumes") or []:
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) else volume.split(":")[:2]
        if target == mounted:
            path = source if os.path.isabs(source) else os.path.join(os.path.dirname(os.path.abspath(compose)), source)
            document = yaml.safe_load(open(path)) or {}
            router = ((document.get("http") or {}).get("routers") or {}).get("legacy")
            if router is None:
                return []
            servers = document["http"]["services"][router["service"]]["loadBalancer"]["servers"]
            if not servers or router.get("priority", 0) < 100000:
                raise SystemExit("the legacy router has no server or does not outrank the services' rules")
            return parse_rule("legacy", router["rule"])
    raise SystemExit(f"traefik reads {mounted}, which no volume provides")


def parse_rule(name, rule):
    terms = []
    for term in rule.split(" || "):
        match = RULE_TERM.match(term.strip())
        if not match:
            raise SystemExit(f"{name}: a rule term this check does not understand: {term!r}")
        terms.append((match.group(1), match.group(2)))
    return terms


def owners_of(table, legacy, path):
    """Who answers `path`: the monolith first where its router matches (its priority is higher), else the services."""
    if legacy and matches(legacy, path):
        return ["legacy"]
    return [name for name, (terms, _) in table.items() if matches(terms, path)]


def routers(config):
    """Service → (terms of its rule, its labels), for each service Traefik routes to."""
    found = {}
    for name, service in config["services"].items():
        labels = service.get("labels") or {}
        if labels.get("traefik.enable") != "true":
            continue
        rule = labels.get(f"traefik.http.routers.{name}.rule")
        if rule is None:
            continue
        found[name] = (parse_rule(name, rule), labels)
    return found


def matches(terms, path):
    return any(path == value if kind == "Path" else path.startswith(value) for kind, value in terms)


def sample(path):
    """A concrete request path for a route pattern: each {param} a value, a greedy {name+} two segments."""
    path = re.sub(r"\{[^}]+\+\}", "a/b", path)
    return re.sub(r"\{[^}]+\}", "x1", path)


def check(compose, routes_json):
    config = load(compose)
    table = routers(config)
    legacy = legacy_router(compose, config)
    rows = json.load(open(routes_json))
    problems = []
    checked = 0
    for row in rows:
        gateway = row.get("gateway")
        if not gateway:
            continue
        path = sample("/" + gateway.split("/", 3)[3])
        owners = owners_of(table, legacy, path)
        expected = "legacy" if row.get("legacy") else row["service"]
        if owners != [expected]:
            problems.append(f"{row['function']} ({path}) is routed to {owners or 'nothing'}, not {expected}")
        checked += 1
    for path in ["/_local/functions", "/@connections/abc", "/openapi.json", "/health", "/api", "/api/", "/api/no-such-segment/x",
                 "/api/_local/functions", "/api/@connections/abc"]:
        owners = owners_of(table, legacy, path)
        if owners:
            problems.append(f"{path} is routed to {owners}; nothing should be")
    for name, (_, labels) in table.items():
        service = config["services"][name]
        command = service.get("command") or []
        port = command[command.index("--port") + 1] if "--port" in command else None
        prefix = "traefik.http"
        middleware = labels.get(f"{prefix}.routers.{name}.middlewares")
        if labels.get(f"{prefix}.middlewares.{middleware}.stripprefix.prefixes") != "/api":
            problems.append(f"{name}: its router does not strip /api")
        if labels.get(f"{prefix}.services.{name}.loadbalancer.server.port") != port or port is None:
            problems.append(f"{name}: Traefik targets port {labels.get(f'{prefix}.services.{name}.loadbalancer.server.port')}, it is served on {port}")
        if labels.get(f"{prefix}.services.{name}.loadbalancer.healthcheck.path") != "/health":
            problems.append(f"{name}: replicas are not health-checked on /health")
        if command[:2] != ["serve", name]:
            problems.append(f"{name}: runs {command}, not `blytz serve {name}`")
    if problems:
        raise SystemExit("\n".join(problems))
    print(f"{checked} routes reach their service through {len(table)} routers; nothing else is routed")


def haproxy(compose, listen, backends):
    config = load(compose)
    table = routers(config)
    legacy = legacy_router(compose, config)
    lines = [
        "global",
        "  maxconn 4096",
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 60s",
        "  timeout server 60s",
        "  timeout tunnel 1h",
        "  retries 3",
        "  option redispatch 1",
        "  retry-on conn-failure empty-response",
        f"frontend api",
        f"  bind 127.0.0.1:{listen}",
    ]
    if legacy and "legacy" in backends:
        for kind, value in legacy:
            lines.append(f"  acl to_legacy {'path' if kind == 'Path' else 'path_beg'} {value}")
        lines.append("  use_backend legacy if to_legacy")
    for name, (terms, _) in sorted(table.items()):
        if name not in backends:
            continue
        for kind, value in terms:
            test = "path" if kind == "Path" else "path_beg"
            lines.append(f"  acl to_{name} {test} {value}")
        lines.append(f"  use_backend {name} if to_{name}")
    for name, addresses in sorted(backends.items()):
        if name == "legacy":
            # The monolith gets the request as the client sent it: nothing stripped, nothing retried elsewhere.
            # As Traefik's router with passHostHeader false: the monolith's own Host, the client's in X-Forwarded-Host.
            lines += ["backend legacy", "  http-request set-header X-Forwarded-Proto http", "  http-request set-header X-Forwarded-Host %[req.hdr(host)]",
                      f"  http-request set-header Host {addresses[0]}"]
            lines += [f"  server legacy{index} {address}" for index, address in enumerate(addresses)]
            continue
        lines += [
            f"backend {name}",
            "  balance roundrobin",
            "  option httpchk GET /health",
            "  default-server inter 500ms fall 2 rise 1",
            "  http-request replace-path ^/api(/.*) \\1",
            # A request that reached a replica is tried again elsewhere only when repeating it is safe.
            "  http-request disable-l7-retry if !METH_GET !METH_HEAD",
        ]
        for index, address in enumerate(addresses):
            lines.append(f"  server {name}{index} {address} check")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "haproxy":
        backends = {}
        for item in sys.argv[4:]:
            name, addresses = item.split("=", 1)
            backends[name] = addresses.split(",")
        haproxy(sys.argv[2], sys.argv[3], backends)
    else:
        raise SystemExit(__doc__)
