# syntax=docker/dockerfile:1
# runner's image: docker build -t runner .   (see deploy/README.md)
ARG NODE_IMAGE=node:22-bookworm-slim

# --- Build stage: compile TypeScript with the dev dependencies -----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# --- Runtime stage: production dependencies only, as the non-root `node` user (uid 1000) ---------
FROM ${NODE_IMAGE}
# Production semantics: protected endpoints answer 503 until their credentials are set. The sidecar
# listens on every interface of the container (the default, 127.0.0.1, is unreachable from outside).
ENV NODE_ENV=production \
    RUNNER_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=9464
WORKDIR /app
COPY package.json package-lock.json ./
# Without DATABASE_URL runner starts an embedded PostgreSQL under ./.runner/, so that directory is
# the node user's: enough to try the image out. Deployments set DATABASE_URL (compose.yaml,
# deploy/kubernetes/).
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p /app/.runner \
 && chown node:node /app/.runner
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY sql ./sql
USER node
EXPOSE 9464
# No curl in the slim image: node itself asks /readyz (200 ok; 503 stale heartbeat or no database),
# on HTTP_PORT if it was changed at run time.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||9464)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, no shell in between: SIGTERM from `docker stop` or the kubelet reaches node, which
# waits SHUTDOWN_GRACE_SECONDS for running jobs and exits 0.
ENTRYPOINT ["node", "bin/runner"]
CMD ["run"]
