# Build: a static binary, the same command .ci/run builds with.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/jastar . \
 && mkdir -p /out/data

# Run: nothing but the binary (time zone data is embedded), as a non-root
# user, with the database on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jastar /jastar
# distroless nonroot is uid 65532; the volume must be writable by it.
COPY --from=build --chown=65532:65532 /out/data /data
ENV JASTAR_DB=/data/jastar.db
VOLUME /data
USER nonroot:nonroot
ENTRYPOINT ["/jastar"]
CMD ["run"]
