# syntax=docker/dockerfile:1
#
# Switchboard runs its TypeScript directly on Node 24 (type stripping): there is no build step,
# and the `node@24` devDependency is not needed because the base image IS Node 24.

# --- dependencies: production node_modules only --------------------------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
# Native addons (argon2, msgpackr-extract) ship prebuilt binaries for linux x64/arm64; the toolchain
# is the fallback when a prebuild does not match. It stays in this stage, not in the image.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SWITCHBOARD_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
WORKDIR /app
# Code and dependencies stay owned by root: the app user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY config ./config
COPY src ./src
COPY adapters ./adapters
COPY workers ./workers
# The official image's unprivileged user (uid 1000).
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "src/cli/main.ts", "start"]
