# syntax=docker/dockerfile:1.7
# outrider/control-plane: the Outrider control plane on a jlinked JDK 25 runtime with an AOT cache.
#
#   docker build -f docker/control-plane.Dockerfile -t outrider/control-plane:0.1.0 .   (from the repository root)
#
# Stages: build (Maven: the jars) → jre (jlink: the modules in docker/jre-modules.txt) → aot (a training run
# through the image's own entry point writes the AOT cache) → the runtime image (debian:trixie-slim, non-root,
# read-only files). docker/README.md explains each stage, the build arguments and how to verify the result.

ARG JDK_IMAGE=eclipse-temurin:25-jdk
ARG BASE_IMAGE=debian:trixie-slim

# ---- build: outrider-control-plane.jar and its lib/ (platform-independent, so built on the builder's platform) ----
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
COPY control-plane/src/ control-plane/src/
# The Maven wrapper's distribution and the dependencies stay in a cache mount between builds.
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -DskipTests -pl control-plane -am package
# Keep only the target platform's native libraries (netty-tcnative, epoll, io_uring): about 5 MB less.
ARG TARGETARCH
RUN set -eu; case "${TARGETARCH:-}" in amd64) keep=linux-x86_64 ;; arm64) keep=linux-aarch_64 ;; *) keep="" ;; esac; \
    if [ -n "$keep" ]; then \
      for f in control-plane/target/lib/*-linux-*.jar control-plane/target/lib/*-osx-*.jar control-plane/target/lib/*-windows-*.jar; do \
        case "$f" in *"-$keep.jar") ;; *) rm -f "$f" ;; esac; \
      done; \
    fi

# ---- jre: only the modules the jars need ----
FROM ${JDK_IMAGE} AS jre
COPY docker/jre-modules.txt /tmp/jre-modules.txt
RUN set -eu; \
    modules="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' /tmp/jre-modules.txt | paste -sd, -)"; \
    jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress zip-6 \
      --output /opt/outrider/jre

# ---- aot: the installation as it runs, and a training run that writes aot/control-plane.aot ----
FROM ${BASE_IMAGE} AS aot
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl openssl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=jre /opt/outrider/jre/ /opt/outrider/jre/
COPY --from=build /src/control-plane/target/outrider-control-plane.jar /opt/outrider/app/
COPY --from=build /src/control-plane/target/lib/ /opt/outrider/app/lib/
COPY config/jvm/control-plane.options /opt/outrider/jvm/
COPY docker/bin/control-plane-entrypoint docker/bin/healthcheck docker/bin/outrider-jvm.sh /opt/outrider/bin/
COPY certs/mesh-ca.sh /build/certs/
COPY docker/training/ /build/docker/training/
ARG AOT_TRAINING_ROUNDS=60
RUN mkdir -p /opt/outrider/aot \
 && OUTRIDER_HOME=/opt/outrider /build/docker/training/train-control-plane.sh "$AOT_TRAINING_ROUNDS" \
 && chmod -R a-w,a+rX /opt/outrider \
 && chmod 0555 /opt/outrider/bin/control-plane-entrypoint /opt/outrider/bin/healthcheck

# ---- the image ----
# debian:trixie-slim: glibc (netty-tcnative-boringssl-static and Netty's epoll/io_uring libraries are built
# against it) and bash + coreutils for the entry point and the health check; nothing else is installed.
FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="outrider-control-plane" \
      org.opencontainers.image.description="Outrider control plane (policy API, signed snapshots, workload CA)" \
      org.opencontainers.image.version="${VERSION}"
RUN groupadd --gid 65532 outrider \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin outrider \
 && install -d -o 65532 -g 65532 -m 0750 /var/lib/outrider \
 && install -d -m 0755 /etc/outrider /etc/outrider/ca /etc/outrider/signing
# Root-owned and read-only for the process: the installation (with the AOT cache made for exactly these files;
# COPY keeps their modification times, which the cache checks). Writable at run time: /var/lib/outrider (the
# store: a volume or PersistentVolumeClaim) and /tmp (tmpfs or emptyDir).
COPY --from=aot /opt/outrider/ /opt/outrider/
ENV OUTRIDER_HOME=/opt/outrider \
    PATH=/opt/outrider/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER 65532:65532
# The API (HTTPS, TLS 1.3) for sidecars and operators.
EXPOSE 15010
# HTTPS only: the check is that the API accepts connections (Kubernetes probes GET /v1/health over HTTPS).
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
  CMD ["/opt/outrider/bin/healthcheck", "--tcp", "15010"]
ENTRYPOINT ["/opt/outrider/bin/control-plane-entrypoint"]
