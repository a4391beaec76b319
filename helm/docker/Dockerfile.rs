# rs (Reporting Server) image. Build from the repository root:
#   docker build -f helm/docker/Dockerfile.rs -t gvp/rs:$(cat VERSION) .
# Two stages on debian:12-slim: the build stage has the -dev packages and make, the
# runtime stage only the shared libraries rs links against. Runs as uid 10001.

FROM debian:12-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential pkg-config \
      libevent-dev libcjson-dev libpq-dev libsqlite3-dev libsnmp-dev libssl-dev npm \
 && rm -rf /var/lib/apt/lists/*
# the dashboard's chart library, built into rs (scripts/install-deps pins the version)
RUN cd /tmp && npm install --prefix /opt/uplot --no-package-lock --no-save --no-audit \
      --no-fund uplot@1.6.32
WORKDIR /src
COPY Makefile VERSION ./
COPY common/ common/
COPY rs/ rs/
RUN make BUILD=build UPLOT_DIR=/opt/uplot/node_modules/uplot build/bin/rs \
 && strip build/bin/rs

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libevent-2.1-7 libevent-pthreads-2.1-7 libevent-openssl-2.1-7 libssl3 libcjson1 libpq5 libsqlite3-0 libsnmp40 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 gvp \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent \
      --no-create-home --shell /usr/sbin/nologin gvp \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/rs /var/lib/rs/journal \
 && install -d -m 0755 /etc/gvp
COPY --from=build /src/build/bin/rs /usr/local/bin/rs
COPY etc/rs.json /etc/gvp/rs.json
COPY etc/mibs/ /usr/share/gvp/mibs/
USER 10001:10001
# working directory on the data volume: the default config's relative paths
# (rs.db, rs-journal) land there
WORKDIR /var/lib/rs
# STOMP, HTTP (/healthz /readyz /metrics, reporting API, dashboard at /)
EXPOSE 61616/tcp 8080/tcp
VOLUME ["/var/lib/rs"]
ENTRYPOINT ["/usr/local/bin/rs"]
CMD ["-c", "/etc/gvp/rs.json"]
