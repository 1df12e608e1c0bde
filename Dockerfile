# Two stages: the SDK compiles the service to one native executable (Native AOT); the runtime stage holds only that
# executable, SQLite's native library, the rules agent's script and the personas. No .NET runtime is needed to run it.
#   docker build -t telnyx-ai-service .
#   docker build --build-arg OFFLINE_ENGINES=true -t telnyx-ai-service .   # with pocketsphinx and flite (no keys)
# .NET 10 images are Ubuntu 24.04; build and run on the same release so the executable finds the same glibc.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./scripts/publish

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble
ARG OFFLINE_ENGINES=false
RUN if [ "$OFFLINE_ENGINES" = "true" ]; then \
      apt-get update && apt-get install -y --no-install-recommends pocketsphinx pocketsphinx-en-us flite \
      && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /app
RUN mkdir /data && chown app /data
COPY --from=build /src/artifacts/publish/telnyx-ai-service /src/artifacts/publish/*.so ./
COPY --from=build /src/artifacts/publish/personas ./personas
COPY --from=build /src/artifacts/publish/Llm ./Llm
ENV PORT=3000 DATABASE_URL=sqlite:/data/calls.db
VOLUME /data
EXPOSE 3000
USER app
ENTRYPOINT ["/app/telnyx-ai-service"]
