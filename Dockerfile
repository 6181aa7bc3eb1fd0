# syntax=docker/dockerfile:1
# zaqar-bridge image: REST on 8888, WebSocket on 9000.
#   docker build -t zaqar-bridge:0.1.0 .
#   docker run --rm -p 8888:8888 -p 9000:9000 zaqar-bridge:0.1.0
# The Helm chart in helm/zaqar-bridge/ expects this layout (non-root uid 1000, read-only root
# filesystem, schemas/ next to dist/).

# Node 22 LTS on Debian 12, pinned by digest so a rebuild gets the same base. To move it forward:
#   docker buildx imagetools inspect node:22-bookworm-slim   (take the index digest it prints)
# (This digest is the public node:22.14-bookworm-slim index, taken from a published Dockerfile;
# no registry is reachable from our build machines to check a newer one.)
ARG NODE_IMAGE=node:22.14-bookworm-slim@sha256:bac8ff0b5302b06924a5e288fb4ceecef9c8bb0bb92515985d2efdc3a2447052

# ---- build: install everything, compile, then drop the dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY schemas ./schemas
COPY clients/js/package.json clients/js/tsconfig.json ./clients/js/
COPY clients/js/src ./clients/js/src
COPY ui ./ui
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: only what `node dist/main.js` reads ----
FROM ${NODE_IMAGE} AS runtime
# HOST: the app's default, 127.0.0.1, is unreachable from outside the container.
ENV NODE_ENV=production \
    HOST=0.0.0.0
WORKDIR /app
# Files stay owned by root: the app only reads them.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemas ./schemas
# The live-tail page (UI_ENABLED=true) and the SDK build it loads.
COPY --from=build /app/ui ./ui
COPY --from=build /app/clients/js/dist ./clients/js/dist
# The image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8888 9000
# main.js handles SIGTERM itself (graceful shutdown bounded by SHUTDOWN_TIMEOUT_MS), so node
# can run as PID 1 without an init.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
