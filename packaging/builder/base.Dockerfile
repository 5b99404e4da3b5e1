# Builder base image of `cargo xtask build`: the FrankenPHP static builder.
#
# Follows upstream's static-builder-musl.Dockerfile (github.com/php/frankenphp):
# Go + the static-php-cli toolchain on Alpine, the FrankenPHP sources of one
# release, and libphp compiled once for the configured PHP version and
# extension list. embed.Dockerfile then only embeds the app and links the
# binary (its cache key is PHP_VERSION, PHP_EXTENSIONS and PHP_EXTENSION_LIBS,
# set here as ENV).
#
# The build arguments come from packaging/release.toml ([frankenphp]) through
# `cargo xtask build` (`--dry-run` prints the command); they have no defaults,
# so the values exist in one place only. GO_VERSION must satisfy the `go` line
# of FrankenPHP's go.mod and caddy/go.mod (GOTOOLCHAIN=local: no other
# toolchain is fetched); for the FrankenPHP versions listed in
# xtask/src/build/plan.rs (GO_REQUIRED) the build refuses an older one before
# starting, and `go mod download` below stops on it in any case.
#
# Needs BuildKit (RUN --mount): GITHUB_TOKEN, when set for `cargo xtask build`,
# arrives as the secret `github_token` and exists only while build-static.sh
# runs: it is no build argument and in no layer.
#
# Pinned: the Go image (GO_VERSION), the FrankenPHP tag, Composer and xcaddy.
# The Alpine packages come from the Go image's Alpine release at build time.

ARG GO_VERSION
ARG COMPOSER_IMAGE=composer/composer:2.8.12-bin

FROM ${COMPOSER_IMAGE} AS composer

FROM golang:${GO_VERSION}-alpine

ARG FRANKENPHP_VERSION
ARG PHP_VERSION
ARG PHP_EXTENSIONS
ARG GO_VERSION
# Libraries static-php-cli builds besides what the extensions need (upstream's
# default set; brotli is added by build-static.sh).
ARG PHP_EXTENSION_LIBS=bzip2,freetype,libavif,libjpeg,liblz4,libwebp,libzip,nghttp2
ARG XCADDY_VERSION=v0.4.5

SHELL ["/bin/ash", "-eo", "pipefail", "-c"]

RUN if [ -z "$FRANKENPHP_VERSION" ] || [ -z "$PHP_VERSION" ] || [ -z "$PHP_EXTENSIONS" ] || [ -z "$GO_VERSION" ]; then \
        echo "FRANKENPHP_VERSION, PHP_VERSION, PHP_EXTENSIONS and GO_VERSION must be set: build with cargo xtask build" >&2; \
        exit 1; \
    fi

ENV FRANKENPHP_VERSION=${FRANKENPHP_VERSION} \
    PHP_VERSION=${PHP_VERSION} \
    PHP_EXTENSIONS=${PHP_EXTENSIONS} \
    PHP_EXTENSION_LIBS=${PHP_EXTENSION_LIBS} \
    GOTOOLCHAIN=local \
    COMPOSER_ALLOW_SUPERUSER=1 \
    SPC_LIBC=musl \
    SPC_REL_TYPE=binary \
    SPC_DEFAULT_C_FLAGS="-fPIE -fPIC -O3" \
    SPC_CMD_VAR_PHP_MAKE_EXTRA_LDFLAGS_PROGRAM="-Wl,-O3 -pie" \
    NO_COMPRESS=1

# NO_COMPRESS: no UPX. An UPX-packed binary starts slower, is flagged by
# scanners and would fall below binary.min_size_mb.

LABEL org.opencontainers.image.title="FrankenPHP static builder" \
      org.opencontainers.image.version="${FRANKENPHP_VERSION}"

RUN apk add --no-cache \
        alpine-sdk autoconf automake bash binutils bison build-base cmake curl \
        file flex g++ gcc git jq libgcc libstdc++ libtool linux-headers m4 make \
        pkgconfig php84 php84-common php84-ctype php84-curl php84-dom \
        php84-iconv php84-mbstring php84-openssl php84-pcntl php84-phar \
        php84-posix php84-session php84-sodium php84-tokenizer php84-xml \
        php84-xmlwriter wget xz \
    && ln -sf /usr/bin/php84 /usr/bin/php \
    && go install "github.com/caddyserver/xcaddy/cmd/xcaddy@${XCADDY_VERSION}"

COPY --from=composer /composer /usr/bin/composer

RUN git clone --depth 1 --branch "v${FRANKENPHP_VERSION}" \
        https://github.com/php/frankenphp.git /go/src/app

WORKDIR /go/src/app
# Fails here, not later, when GO_VERSION is older than go.mod's `go` line.
RUN go mod download && (cd caddy && go mod download)

# libphp for PHP_VERSION + PHP_EXTENSIONS, and a first (app-less) binary.
RUN --mount=type=secret,id=github_token,required=false \
    if [ -s /run/secrets/github_token ]; then \
        GITHUB_TOKEN="$(cat /run/secrets/github_token)"; export GITHUB_TOKEN; \
    fi; \
    ./build-static.sh \
    && rm -rf dist/static-php-cli/source/* \
    && "dist/frankenphp-linux-$(uname -m)" version
