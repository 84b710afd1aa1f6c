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
        and retrying a request whose replica refused the connection on another one.
"""
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
        terms = []
        for term in rule.split(" || "):
            match = RULE_TERM.match(term.strip())
            if not match:
                raise SystemExit(f"{name}: a rule term this check does not understand: {term!r}")
            terms.append((match.group(1), match.group(2)))
        found[name] = (terms, labels)
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
    rows = json.load(open(routes_json))
    problems = []
    checked = 0
    for row in rows:
        gateway = row.get("gateway")
        if not gateway:
            continue
        path = sample("/" + gateway.split("/", 3)[3])
        owners = [name for name, (terms, _) in table.items() if matches(terms, path)]
        if owners != [row["service"]]:
            problems.append(f"{row['function']} ({path}) is routed to {owners or 'nothing'}, not {row['service']}")
        checked += 1
    for path in ["/_local/functions", "/@connections/abc", "/openapi.json", "/health", "/api", "/api/", "/api/no-such-segment/x",
                 "/api/_local/functions", "/api/@connections/abc"]:
        owners = [name for name, (terms, _) in table.items() if matches(terms, path)]
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
    table = routers(load(compose))
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
    for name, (terms, _) in sorted(table.items()):
        if name not in backends:
            continue
        for kind, value in terms:
            test = "path" if kind == "Path" else "path_beg"
            lines.append(f"  acl to_{name} {test} {value}")
        lines.append(f"  use_backend {name} if to_{name}")
    for name, addresses in sorted(backends.items()):
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
