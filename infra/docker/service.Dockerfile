# syntax=docker/dockerfile:1
# The image of every Node service in services/: the build argument SERVICE names the one to build
# (its folder there, and its name in compose.yaml, which builds them all from the repository root).
# One by hand, from the repository root:
#   docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=accounts -t tmuxme/accounts .
# The stages up to `runtime` are what every image has; what one service has besides (its port and
# command, the packages only some need, the gateway's pages, tunnel-sync's group and user) is in a
# stage of its own, `service-<name>`, and the last stage picks SERVICE's.
ARG SERVICE

# Every workspace manifest and the lockfile, as they are (for the gateway's pages) and without
# devDependencies (see the script) for the services' own install: each install runs again only
# when a dependency changes, not when a source does.
FROM node:20-bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN node infra/docker/manifests.mjs /manifests/all && node infra/docker/manifests.mjs /manifests/production --production

# The production dependencies of SERVICE, tsx included (it runs the TypeScript sources), and nothing
# else. No install script is needed at run time: esbuild, under tsx, ships its binary as a package.
FROM node:20-bookworm-slim AS dependencies
ARG SERVICE
WORKDIR /app
COPY --from=manifests /manifests/production ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace services/${SERVICE}

# The account pages the gateway serves, built by Vite (a devDependency of web/) into web/dist. Only
# service-gateway copies them, so no other image builds this stage.
FROM node:20-bookworm-slim AS web
WORKDIR /app
COPY --from=manifests /manifests/all ./
RUN npm ci --ignore-scripts --no-audit --no-fund --workspace web
COPY tsconfig.base.json ./
COPY web ./web
RUN npm run build --workspace @tmuxme/web

# What every service's image holds: its dependencies, its sources and the workspace packages they
# all use (service-kit and what it brings), run as node and checked on /readyz.
FROM node:20-bookworm-slim AS runtime
ARG SERVICE
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
# tsx compiles the sources with the repository's compiler options, as it does in development.
COPY tsconfig.base.json tsconfig.json ./
COPY packages/auth ./packages/auth
COPY packages/bus ./packages/bus
COPY packages/config ./packages/config
COPY packages/events ./packages/events
COPY packages/service-kit ./packages/service-kit
COPY services/${SERVICE} ./services/${SERVICE}
USER node
ENV HOST=0.0.0.0
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --start-interval=1s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# For the services that read SSH keys (keys, sessions, tunnel-sync).
FROM runtime AS runtime-ssh-keys
COPY packages/ssh-keys ./packages/ssh-keys

# Each service's port and command. CMD takes no build argument, so each stage names its own main.ts;
# node itself runs it (tsx only loads it), so docker stop's SIGTERM reaches the service's graceful shutdown.
FROM runtime AS service-accounts
ENV PORT=3001
EXPOSE 3001
CMD ["node", "--import", "tsx", "services/accounts/src/main.ts"]

FROM runtime-ssh-keys AS service-keys
ENV PORT=3002
EXPOSE 3002
CMD ["node", "--import", "tsx", "services/keys/src/main.ts"]

FROM runtime-ssh-keys AS service-sessions
ENV PORT=3003
EXPOSE 3003
CMD ["node", "--import", "tsx", "services/sessions/src/main.ts"]

FROM runtime AS service-notifier
ENV PORT=3004
EXPOSE 3004
CMD ["node", "--import", "tsx", "services/notifier/src/main.ts"]

FROM runtime-ssh-keys AS service-tunnel-sync
# Root, as the one exception: sshd's StrictModes wants the key files owned by root (root:tunnel
# 0640), and only root may give a file away. compose.yaml drops every capability but CHOWN.
USER root
# The box's sshd reads the three key files as the tunnel, tunnel-private and join users through this
# group, looked up here by name: its id must be the one in infra/tunnel-box/Dockerfile. The folder is where the box's volume goes.
RUN groupadd --system --gid 990 tunnel && mkdir -p /var/lib/tmuxme/tunnel-box
ENV PORT=3005
EXPOSE 3005
CMD ["node", "--import", "tsx", "services/tunnel-sync/src/main.ts"]

FROM runtime AS service-gateway
# Where the gateway looks by default (WEB_ROOT): the repository's web/dist.
COPY --from=web /app/web/dist ./web/dist
ENV PORT=8080
EXPOSE 8080
CMD ["node", "--import", "tsx", "services/gateway/src/main.ts"]

# The image: SERVICE's own stage. A SERVICE without one here stops the build (Docker then looks for
# an image named service-<name>, and finds none).
FROM service-${SERVICE}
