# syntax=docker/dockerfile:1.7
# outrider/sidecar: the Outrider sidecar proxy on a jlinked JDK 25 runtime with an AOT cache.
#
#   docker build -f docker/sidecar.Dockerfile -t outrider/sidecar:0.1.0 .       (from the repository root)
#
# Stages: build (Maven: the jars) → jre (jlink: the modules in docker/jre-modules.txt) → tools (the installation
# plus curl and openssl) → aot (a training run through the image's own entry point writes the AOT cache) → the
# runtime image (debian:trixie-slim, non-root, read-only files). docker/README.md explains each stage, the build arguments and how to verify the result.

ARG JDK_IMAGE=eclipse-temurin:25-jdk
ARG BASE_IMAGE=debian:trixie-slim

# ---- build: outrider-proxy.jar and its lib/ (platform-independent, so built on the builder's platform) ----
FROM --platform=$BUILDPLATFORM ${JDK_IMAGE} AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY core/pom.xml core/
COPY proxy/pom.xml proxy/
COPY control-plane/pom.xml control-plane/
COPY tools/pom.xml tools/
COPY e2e/pom.xml e2e/
COPY bench/pom.xml bench/
COPY core/src/ core/src/
COPY proxy/src/ proxy/src/
# The Maven wrapper's distribution and the dependencies stay in a cache mount between builds.
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -DskipTests -pl proxy -am package
# Keep only the target platform's native libraries (netty-tcnative, epoll, io_uring): about 5 MB less.
ARG TARGETARCH
RUN set -eu; case "${TARGETARCH:-}" in amd64) keep=linux-x86_64 ;; arm64) keep=linux-aarch_64 ;; *) keep="" ;; esac; \
    if [ -n "$keep" ]; then \
      for f in proxy/target/lib/*-linux-*.jar proxy/target/lib/*-osx-*.jar proxy/target/lib/*-windows-*.jar; do \
        case "$f" in *"-$keep.jar") ;; *) rm -f "$f" ;; esac; \
      done; \
    fi

# ---- tools-build: outrider-tools.jar and its lib/ (ctl, inject, explain) for the tools image only; the sidecar
#      image below never carries them ----
FROM build AS tools-build
COPY tools/src/ tools/src/
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -DskipTests -pl tools -am package

# ---- jre: only the modules the jars need ----
FROM ${JDK_IMAGE} AS jre
COPY docker/jre-modules.txt /tmp/jre-modules.txt
RUN set -eu; \
    modules="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' /tmp/jre-modules.txt | paste -sd, -)"; \
    jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress zip-6 \
      --output /opt/outrider/jre

# ---- tools: the installation as it runs, plus curl, openssl, certs/mesh-ca.sh and `outrider` (ctl, inject, explain
#      from outrider-tools.jar under /opt/outrider-tools, which the sidecar image does not copy) for the AOT training
#      run below and the compose demo's mesh-init and setup steps: image outrider/tools, docker/compose.yaml ----
FROM ${BASE_IMAGE} AS tools
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl openssl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 outrider \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin outrider \
 && install -d -o 65532 -g 65532 -m 0750 /var/run/outrider \
      /var/lib/outrider/ca /var/lib/outrider/admin /var/lib/outrider/mesh /var/lib/outrider/join
COPY --from=jre /opt/outrider/jre/ /opt/outrider/jre/
COPY --from=build /src/proxy/target/outrider-proxy.jar /opt/outrider/app/
COPY --from=build /src/proxy/target/lib/ /opt/outrider/app/lib/
COPY config/jvm/sidecar.options /opt/outrider/jvm/
COPY docker/bin/sidecar-entrypoint docker/bin/healthcheck docker/bin/outrider-jvm.sh /opt/outrider/bin/
COPY certs/mesh-ca.sh /opt/outrider-tools/certs/
COPY --from=tools-build /src/tools/target/outrider-tools.jar /opt/outrider-tools/app/
COPY --from=tools-build /src/tools/target/lib/ /opt/outrider-tools/app/lib/
COPY docker/bin/outrider-tools /opt/outrider-tools/bin/outrider
COPY docker/compose/mesh-init.sh docker/compose/setup.sh /opt/outrider-tools/bin/
ENV OUTRIDER_HOME=/opt/outrider
USER 65532:65532

# ---- aot: a training run through the image's own entry point writes aot/sidecar.aot ----
FROM tools AS aot
USER root
COPY docker/training/ /build/docker/training/
ARG AOT_TRAINING_REQUESTS=300
RUN mkdir -p /opt/outrider/aot \
 && MESH_CA=/opt/outrider-tools/certs/mesh-ca.sh /build/docker/training/train-sidecar.sh "$AOT_TRAINING_REQUESTS" \
 && chmod -R a-w,a+rX /opt/outrider \
 && chmod 0555 /opt/outrider/bin/sidecar-entrypoint /opt/outrider/bin/healthcheck

# ---- the image ----
# debian:trixie-slim: glibc (netty-tcnative-boringssl-static and Netty's epoll/io_uring libraries are built
# against it) and bash + coreutils for the entry point and the health check; nothing else is installed.
FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="outrider-sidecar" \
      org.opencontainers.image.description="Outrider service-mesh sidecar proxy (mTLS, authn, authz, rate limits)" \
      org.opencontainers.image.version="${VERSION}"
RUN groupadd --gid 65532 outrider \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin outrider \
 && install -d -o 65532 -g 65532 -m 0750 /var/run/outrider \
 && install -d -m 0755 /etc/outrider /etc/outrider/mesh
# Root-owned and read-only for the process: the installation (with the AOT cache made for exactly these files;
# COPY keeps their modification times, which the cache checks) and the default config.
COPY --from=aot /opt/outrider/ /opt/outrider/
COPY --chmod=0444 docker/sidecar.yaml /etc/outrider/sidecar.yaml
ENV OUTRIDER_HOME=/opt/outrider \
    PATH=/opt/outrider/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER 65532:65532
# Inbound mTLS and health; the outbound (15001) and admin (15000) listeners are loopback-only.
EXPOSE 15006 15021
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["/opt/outrider/bin/healthcheck", "15021", "/ready"]
ENTRYPOINT ["/opt/outrider/bin/sidecar-entrypoint"]
