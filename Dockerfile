# One image for every Deputy process (worker, api, sandbox, migrate); the
# command picks which. TypeScript runs through tsx, as in development.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
# The worker's V8 flags (src/main/workerNodeOptions.ts: a 64 MB young generation
# semi-space: ~10% less CPU per order); they only raise a ceiling for other commands.
ENV NODE_OPTIONS="--max-semi-space-size=64"
COPY package.json package-lock.json ./
# npm ci's postinstall applies these to node_modules (patch-package; see the README).
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
USER node
ENTRYPOINT ["node", "bin/deputy.js"]
CMD ["worker"]
