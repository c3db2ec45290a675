# syntax=docker/dockerfile:1
# One image for every process of the system: the whole workspace, run from its TypeScript
# sources with tsx (there is no build step). docker-compose.yml picks each service's entry
# point with `command`; the default is the edge.
# Node 24 LTS, the version the project pins (package.json, .nvmrc).
FROM node:24-bookworm-slim

WORKDIR /app
# The workspace's package.json files must be present for `npm ci` to link @bank/* packages,
# so the sources are copied first; the npm cache mount keeps rebuilds fast anyway.
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "packages/edge/src/main.ts"]
