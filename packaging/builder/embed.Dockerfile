# Embeds the application into the FrankenPHP static binary (`cargo xtask build`,
# step 4). Build context: packaging/builder/, where `package/` holds the app as
# it is embedded (archived source, config overrides, Caddyfile, php.ini).
#
# BASE_IMAGE (the builder base image) and BINARY_OUT (where the finished binary
# is left for `docker cp`) come from docker-compose.yaml, filled by cargo xtask
# build from packaging/release.toml. The container made from this image is
# never started: the binary is copied out of a created container.

ARG BASE_IMAGE
FROM ${BASE_IMAGE}

ARG BINARY_OUT

SHELL ["/bin/ash", "-eo", "pipefail", "-c"]

WORKDIR /go/src/app/dist/app
COPY package/ ./

# Production dependencies only, optimised autoloader; tests are not shipped.
RUN if [ -f composer.json ]; then \
        composer install --no-dev --no-interaction --no-progress \
            --optimize-autoloader --classmap-authoritative --ignore-platform-reqs; \
    fi \
    && rm -rf tests

WORKDIR /go/src/app
RUN test -n "$BINARY_OUT" || { echo "BINARY_OUT must be set: build with cargo xtask build" >&2; exit 1; }; \
    EMBED=dist/app/ ./build-static.sh \
    && mkdir -p "$(dirname "$BINARY_OUT")" \
    && cp "dist/frankenphp-linux-$(uname -m)" "$BINARY_OUT" \
    && "$BINARY_OUT" version

CMD ["/bin/sh"]
