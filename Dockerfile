# syntax=docker/dockerfile:1.7
# One image per service: docker build --build-arg SERVICE=server -t panda-server .
# SERVICE is a folder of services/: server, jedi, idds, harvester, pilot-gateway, monitor, pilot
# (the image harvester's kubernetes plugin starts for each worker), cli.
#
# The image runs `node /app/dist/main.js` under tini as user 1000 (node); the root filesystem
# can be read-only (the charts mount an emptyDir on /tmp). `migrate` as argument runs the
# service's database migrations and exits (the charts' hook Job / init container).
# Pin the base by digest for reproducible builds: --build-arg NODE_IMAGE=node:20.19.5-bookworm-slim@sha256:...

ARG NODE_IMAGE=node:20.19.5-bookworm-slim

# ---- build: install the whole workspace, build it, then prune one service with pnpm deploy
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=12.4.2
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH \
    CI=true
RUN npm install -g --no-fund --no-audit "pnpm@${PNPM_VERSION}"
WORKDIR /src
# Dependencies first (cached while the lockfile is unchanged).
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm config set store-dir /pnpm/store && pnpm fetch
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --prefer-offline && pnpm build
ARG SERVICE
RUN test -n "${SERVICE}" && test -f "services/${SERVICE}/package.json" || \
    { echo "build arg SERVICE must name a folder of services/ (got '${SERVICE}')" >&2; exit 1; }
# Production dependencies only, workspace packages (@panda/platform, @panda/proto) copied in.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter "@panda/${SERVICE}" deploy --prod --prefer-offline /out && \
    rm -rf /out/src /out/tsconfig.json /out/tsconfig.tsbuildinfo && \
    test -f /out/dist/main.js

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update && \
    apt-get install -y --no-install-recommends tini && \
    rm -rf /var/lib/apt/lists/*
ARG SERVICE
ENV NODE_ENV=production \
    PANDA_SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build --chown=root:root /out /app
# Numeric, so that Kubernetes can check runAsNonRoot; the node image's `node` user.
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/main.js"]
CMD []
LABEL org.opencontainers.image.source="panda-ts" \
      org.opencontainers.image.title="panda-${SERVICE}"
