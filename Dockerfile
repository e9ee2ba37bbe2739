# The image config/kubernetes/deployment.yaml runs: the shaded jar on a JRE, as a non-root user.
# Build the jar first (mvn -B package -DskipTests), then: docker build -t <registry>/ktp-scan-bridge:<tag> .
# The routes and the embedded defaults are inside the jar; settings come from the environment
# (ConfigMap, Secret), or from a config/application.properties mounted into /app/config.
FROM eclipse-temurin:17-jre
# the uid and gid the Deployment's securityContext runs as
RUN groupadd --system --gid 10001 ktp \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin ktp
WORKDIR /app
COPY target/ktp-scan-bridge.jar /app/ktp-scan-bridge.jar
# the one folder the bundle writes (ledger, spool copies, results); the Deployment mounts an emptyDir
# there, and a plain docker run a volume
ENV KTP_DATA_DIR=/data
RUN mkdir /data && chown 10001:10001 /data
VOLUME /data
USER 10001:10001
# ktp.callback.port (OneKYC's callbacks) and camel.management.port (health, metrics)
EXPOSE 8080 9876
# not bin/ktp-scan-bridge: its fixed heap and fast-compiler-only settings are for batch runs; in
# the pod the heap follows the memory limit (JAVA_TOOL_OPTIONS in the Deployment) and the JVM's
# full compiler pays off in a process that runs for days
ENTRYPOINT ["java", "-jar", "/app/ktp-scan-bridge.jar"]
