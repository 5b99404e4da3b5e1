# Embeds the application into the FrankenPHP static binary (`cargo xtask build`,
# step 4). Build context: packaging/builder/, where `package/` holds the app as
# it is embedded (archived source, app-overlay files, config files, Caddyfile
# and php.ini at its root).
#
# BASE_IMAGE (the builder base image) and BINARY_OUT (where the finished binary
# is left for `docker cp`) are set by cargo xtask build from
# packaging/release.toml. The container made from this image is never started:
# the binary is copied out of a created container.
#
# Needs BuildKit (RUN --mount): GITHUB_TOKEN arrives as the secret
# `github_token`, for Composer (GitHub downloads) and build-static.sh, and is
# in no layer.

ARG BASE_IMAGE
FROM ${BASE_IMAGE}

ARG BINARY_OUT

SHELL ["/bin/ash", "-eo", "pipefail", "-c"]

WORKDIR /go/src/app/dist/app
COPY package/ ./

# Production dependencies only, optimised autoloader; tests are not shipped.
# The app must have composer.json (checked before the build started, and here
# for builds of a kept package) and must end with vendor/autoload.php and
# webroot/index.php, or no binary is made.
RUN --mount=type=secret,id=github_token,required=false \
    if [ -s /run/secrets/github_token ]; then \
        COMPOSER_AUTH="{\"github-oauth\":{\"github.com\":\"$(cat /run/secrets/github_token)\"}}"; \
        export COMPOSER_AUTH; \
    fi; \
    test -f composer.json || { echo "the app has no composer.json: embed the OrangeScrum V4 source tree" >&2; exit 1; }; \
    composer install --no-dev --no-interaction --no-progress \
        --optimize-autoloader --ignore-platform-reqs; \
    test -f vendor/autoload.php || { echo "composer install left no vendor/autoload.php: check composer.json and the output above" >&2; exit 1; }; \
    test -f webroot/index.php || { echo "the app has no webroot/index.php (CakePHP's front controller): embed the OrangeScrum V4 source tree" >&2; exit 1; }; \
    rm -rf tests

WORKDIR /go/src/app
RUN --mount=type=secret,id=github_token,required=false \
    test -n "$BINARY_OUT" || { echo "BINARY_OUT must be set: build with cargo xtask build" >&2; exit 1; }; \
    if [ -s /run/secrets/github_token ]; then \
        GITHUB_TOKEN="$(cat /run/secrets/github_token)"; export GITHUB_TOKEN; \
    fi; \
    EMBED=dist/app/ ./build-static.sh \
    && mkdir -p "$(dirname "$BINARY_OUT")" \
    && cp "dist/frankenphp-linux-$(uname -m)" "$BINARY_OUT" \
    && "$BINARY_OUT" version

CMD ["/bin/sh"]
