# syntax=docker/dockerfile:1
# docker build -t appconfig-operator:dev .
#
# The image the Helm chart runs by default (ghcr.io/appconfig-operators/appconfig-operator).
# The build stage and the runtime base are both Debian 13 (trixie), so the binary runs against the
# glibc it was linked with; glibc is its only dynamic dependency.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-trixie AS build
WORKDIR /src
# Cargo reads every target the manifest declares, so the bench sources come along; tests and
# everything else stay out (see .dockerignore).
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin appconfig-operator \
    && cp target/release/appconfig-operator /usr/local/bin/appconfig-operator

# distroless/cc: glibc and CA certificates (the AWS SDK verifies TLS against the system roots),
# no shell, no package manager.
FROM gcr.io/distroless/cc-debian13:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="appconfig-operator" \
      org.opencontainers.image.description="Kubernetes operator that rolls out AWS AppConfig configuration the GitOps way" \
      org.opencontainers.image.source="https://github.com/appconfig-operators/appconfig-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /usr/local/bin/appconfig-operator /usr/local/bin/appconfig-operator
ENV PATH=/usr/local/bin:/usr/bin:/bin
# /healthz, /readyz and /metrics (--http-addr).
EXPOSE 8080
# The operator writes nothing to disk, so a read-only root file system works. The UID and GID
# are the chart's podSecurityContext (runAsUser/runAsGroup 65532).
USER 65532:65532
ENTRYPOINT ["appconfig-operator"]
