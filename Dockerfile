# One image for every Wake component: `wake <command>` (apiserver, relay, scheduler,
# node-agent, controller-manager, proxy).
#
# BASE is any Debian-like Node >= 20 image. Where a registry is reachable the default is used
# and the build installs and compiles here. Where none is (Wake's CI), BASE is the local
# wake/node-base image (libs/dev-servers/src/base-images.ts) and the build context comes with
# node_modules (production packages only) and dist already made on the host
# (libs/dev-servers/src/wake-image.ts); the same steps then skip npm.
ARG BASE=node:20-bookworm-slim
FROM ${BASE}

WORKDIR /opt/wake
# The API server makes its CA and serving certificate with the openssl command.
RUN command -v openssl >/dev/null \
  || (apt-get update && apt-get install -y --no-install-recommends openssl ca-certificates \
      && rm -rf /var/lib/apt/lists/*)

# `wake proxy` programs nat rules and a route: iptables and ip, where the base can install them
# (the busybox-based CI image has ip but no iptables; its proxy cannot run, nothing else needs it).
RUN command -v iptables >/dev/null || ! command -v apt-get >/dev/null \
  || (apt-get update && apt-get install -y --no-install-recommends iptables iproute2 \
      && rm -rf /var/lib/apt/lists/*)

COPY . .
RUN if [ ! -d dist ] || [ ! -d node_modules ]; then \
      npm ci --no-audit --no-fund \
      && npx nest build --all \
      && npm prune --omit=dev \
      && rm -rf /root/.npm; \
    fi \
  && node dist/apps/cli/apps/cli/src/main.js >/dev/null

ENV NODE_ENV=production
ENTRYPOINT ["node", "/opt/wake/dist/apps/cli/apps/cli/src/main.js"]
