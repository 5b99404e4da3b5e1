# Builder base image of `cargo xtask build`: the FrankenPHP static builder.
#
# Follows upstream's static-builder-musl.Dockerfile (github.com/php/frankenphp):
# Go + the static-php-cli toolchain on Alpine, the FrankenPHP sources of one
# release, and libphp compiled once for the configured PHP version and
# extension list. embed.Dockerfile then only embeds the app and links the
# binary; build-static.sh reuses this libphp (its cache key is PHP_VERSION,
# PHP_EXTENSIONS and PHP_EXTENSION_LIBS, set here as ENV).
#
# The three build arguments come from packaging/release.toml ([frankenphp])
# through docker-compose.yaml; they have no defaults so the values exist in
# one place only. The image is tagged
# <app>-builder-base:<frankenphp>-php<php>-<hash of the arguments and this
# file>, so editing either builds a new image instead of reusing a stale one.
#
# Every image and tool is pinned; nothing is "latest".

ARG GO_IMAGE=golang:1.25.4-alpine3.22
ARG COMPOSER_IMAGE=composer/composer:2.8.12-bin

FROM ${COMPOSER_IMAGE} AS composer

FROM ${GO_IMAGE}

ARG FRANKENPHP_VERSION
ARG PHP_VERSION
ARG PHP_EXTENSIONS
# Libraries static-php-cli builds besides what the extensions need (upstream's
# default set; brotli is added by build-static.sh).
ARG PHP_EXTENSION_LIBS=bzip2,freetype,libavif,libjpeg,liblz4,libwebp,libzip,nghttp2
ARG XCADDY_VERSION=v0.4.5

SHELL ["/bin/ash", "-eo", "pipefail", "-c"]

RUN if [ -z "$FRANKENPHP_VERSION" ] || [ -z "$PHP_VERSION" ] || [ -z "$PHP_EXTENSIONS" ]; then \
        echo "FRANKENPHP_VERSION, PHP_VERSION and PHP_EXTENSIONS must be set: build with cargo xtask build" >&2; \
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
        php84-mbstring php84-openssl php84-pcntl php84-phar php84-posix \
        php84-session php84-sodium php84-tokenizer php84-xml php84-xmlwriter \
        wget xz \
    && ln -sf /usr/bin/php84 /usr/bin/php \
    && go install "github.com/caddyserver/xcaddy/cmd/xcaddy@${XCADDY_VERSION}"

COPY --from=composer /composer /usr/bin/composer

RUN git clone --depth 1 --branch "v${FRANKENPHP_VERSION}" \
        https://github.com/php/frankenphp.git /go/src/app

WORKDIR /go/src/app
RUN go mod download && (cd caddy && go mod download)

# libphp for PHP_VERSION + PHP_EXTENSIONS, and a first (app-less) binary.
RUN ./build-static.sh \
    && rm -rf dist/static-php-cli/source/* \
    && "dist/frankenphp-linux-$(uname -m)" version
