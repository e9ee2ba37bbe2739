package id.ktpbridge.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Checks the manifests in {@code config/kubernetes/} against each other and against the bundle,
 * without a cluster: selectors, port names and numbers, ConfigMap/Secret references and keys,
 * the ServiceAccount the pods run as, environment variable names (each must be a property of the bundle in Camel's form), the
 * kustomization's file list, placeholders in the Secret and the pod's security settings.
 * Every check also runs on broken copies of the real manifests, to prove that it bites.
 */
class KubernetesManifestsTest {

    private static final Path BASE = Path.of(System.getProperty("basedir", "."));
    private static final Path K8S = BASE.resolve("config/kubernetes");
    private static final Path PROPERTIES = BASE.resolve("config/application.properties");
    private static final Path README = BASE.resolve("README.md");

    /** Environment variables that are no bundle property: read by the JVM itself (or its C library). */
    private static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS", "MALLOC_ARENA_MAX");
    /** Camel's default of camel.management.health-path. */
    private static final String CAMEL_HEALTH_PATH = "/observe/health";
    private static final String CAMEL_METRICS_PATH = "/observe/metrics";

    // ---- the real manifests ------------------------------------------------------------------

    @Test
    void theImageRunsTheJarAsTheUserAndOnThePortsTheDeploymentExpects() throws Exception {
        String deployment = Files.readString(K8S.resolve("deployment.yaml"));
        assertEquals(List.of(), dockerfileProblems(Files.readString(BASE.resolve("Dockerfile")), deployment));
        // and the check bites
        assertFalse(dockerfileProblems(Files.readString(BASE.resolve("Dockerfile")).replace("USER 10001:10001",
                "USER 0"), deployment).isEmpty());
        assertFalse(dockerfileProblems(Files.readString(BASE.resolve("Dockerfile")).replace("EXPOSE 8080 9876",
                "EXPOSE 8080"), deployment).isEmpty());
    }

    /** The Dockerfile against the Deployment: its user, its ports, the jar the build makes, the data folder. */
    private static List<String> dockerfileProblems(String dockerfile, String deployment) {
        List<String> problems = new ArrayList<>();
        java.util.regex.Matcher user = java.util.regex.Pattern.compile("runAsUser: (\\d+)\\s+runAsGroup: (\\d+)")
                .matcher(deployment);
        if (!user.find() || !dockerfile.contains("\nUSER " + user.group(1) + ":" + user.group(2) + "\n")) {
            problems.add("the image's USER is not the Deployment's runAsUser:runAsGroup");
        }
        java.util.regex.Matcher port = java.util.regex.Pattern.compile("containerPort: (\\d+)").matcher(deployment);
        String expose = dockerfile.lines().filter(l -> l.startsWith("EXPOSE ")).findFirst().orElse("");
        while (port.find()) {
            if (!List.of(expose.split(" ")).contains(port.group(1))) {
                problems.add("the image does not expose container port " + port.group(1));
            }
        }
        if (!dockerfile.contains("COPY target/ktp-scan-bridge.jar /app/ktp-scan-bridge.jar")
                || !dockerfile.contains("\"-jar\", \"/app/ktp-scan-bridge.jar\"")) {
            problems.add("the image does not run the shaded jar target/ktp-scan-bridge.jar");
        }
        if (!dockerfile.contains("ENV KTP_DATA_DIR=/data") || !deployment.contains("mountPath: /data")) {
            problems.add("the image's data folder is not the Deployment's /data volume");
        }
        return problems;
    }

    @Test
    void everyManifestParsesWithKindAndName() {
        Manifests m = Manifests.load(K8S);
        assertFalse(m.files.isEmpty(), "no manifests under " + K8S);
        assertEquals(List.of(), structureProblems(m));
        for (String kind : List.of("Deployment", "Service", "ConfigMap", "Secret", "ServiceAccount", "Kustomization")) {
            assertFalse(m.ofKind(kind).isEmpty(), "no " + kind + " in " + K8S);
        }
    }

    @Test
    void kustomizationListsEveryManifest() {
        assertEquals(List.of(), kustomizationProblems(Manifests.load(K8S)));
    }

    @Test
    void selectorsMatchThePodsOfTheDeployment() {
        assertEquals(List.of(), selectorProblems(Manifests.load(K8S)));
    }

    @Test
    void serviceTargetPortsAndProbesNameContainerPorts() {
        assertEquals(List.of(), portReferenceProblems(Manifests.load(K8S)));
    }

    @Test
    void theServiceTakesCallbacksToTheBundlesCallbackPort() {
        assertEquals(List.of(), callbackServiceProblems(Manifests.load(K8S), BundleProperties.load()));
    }

    @Test
    void containerPortsAndProbesMatchTheBundlesSettings() {
        assertEquals(List.of(), bundlePortProblems(Manifests.load(K8S), BundleProperties.load()));
    }

    @Test
    void configMapAndSecretReferencesResolve() {
        assertEquals(List.of(), referenceProblems(Manifests.load(K8S)));
    }

    @Test
    void everyEnvironmentVariableIsAPropertyOfTheBundle() {
        BundleProperties bundle = BundleProperties.load();
        // the sources of known names are read at all (a broken README parser would pass anything)
        assertTrue(bundle.knownEnvNames().containsAll(Set.of("GTF_API_URL", "KTP_CALLBACK_PORT",
                "KTP_DB_URL", "KTP_DB_USER", "KTP_DB_PASSWORD", "KTP_SOURCE_SFTP_PORT",
                "KTP_SOURCE_S3_SECRET_KEY", "GTF_HTTP_READ_TIMEOUT")), bundle.knownEnvNames().toString());
        assertEquals(List.of(), envNameProblems(Manifests.load(K8S), bundle));
    }

    @Test
    void replicasShareOnePostgresLedgerInClusterMode() {
        assertEquals(List.of(), clusterProblems(Manifests.load(K8S), BundleProperties.load()));
    }

    @Test
    void theDeploymentRunsSeveralReplicasSoTheClusterChecksApply() {
        // clusterProblems passes a Deployment of one replica without a look
        assertEquals(List.of(), replicaProblems(Manifests.load(K8S)));
    }

    @Test
    void credentialsComeFromTheSecretAndNeverFromTheConfigMap() {
        assertEquals(List.of(), credentialProblems(Manifests.load(K8S), BundleProperties.load()));
    }

    @Test
    void aPodMadeUnreadyByAnOutageCanStillBeEvicted() {
        assertEquals(List.of(), disruptionBudgetProblems(Manifests.load(K8S)));
    }

    @Test
    void theGracePeriodCoversThePreStopPauseAndTheBundlesOwnStop() {
        assertEquals(List.of(), gracePeriodProblems(Manifests.load(K8S), BundleProperties.load()));
    }

    @Test
    void aGracePeriodShorterThanPauseAndStopIsCaught() {
        List<String> problems = gracePeriodProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "terminationGracePeriodSeconds: 75", "terminationGracePeriodSeconds: 45")),
                BundleProperties.load());
        assertEquals(1, problems.size(), problems.toString());
    }

    @Test
    void eachResultTargetAddsItsPoolsWaitToTheGracePeriod() {
        // the shipped ConfigMap suggests adding s3 or http: each target's pool may be waited for too
        List<String> problems = gracePeriodProblems(mutated("configmap.yaml",
                yaml -> replaceOnce(yaml, "KTP_RESULTS_TARGETS: \"jdbc\"", "KTP_RESULTS_TARGETS: \"jdbc,s3,http\"")),
                BundleProperties.load());
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("pool waits 60 s"), problems.toString());
    }

    @Test
    void secretHoldsPlaceholdersOnly() {
        assertEquals(List.of(), secretPlaceholderProblems(Manifests.load(K8S)));
    }

    @Test
    void podRunsAsNonRootWithReadOnlyRootAndWritableDataAndTmp() {
        assertEquals(List.of(), podProblems(Manifests.load(K8S)));
    }

    // ---- the checks bite -----------------------------------------------------------------------

    @Test
    void aMisspelledVariableIsCaught() {
        List<String> problems = envNameProblems(mutated("configmap.yaml",
                yaml -> replaceOnce(yaml, "KTP_DB_URL:", "KTP_CALBACK_PORT:")), BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("KTP_CALBACK_PORT")), problems.toString());

        problems = envNameProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "name: KTP_DATA_DIR", "name: KTP_DATADIR")), BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("KTP_DATADIR")), problems.toString());
    }

    @Test
    void aMissingConfigMapSecretOrKeyIsCaught() {
        List<String> problems = referenceProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "name: ktp-scan-bridge-secrets", "name: ktp-scan-bridge-secret")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("Secret ktp-scan-bridge-secret ")), problems.toString());

        String keyRef = """
                            - name: GTF_PASS_KEY
                              valueFrom:
                                secretKeyRef:
                                  name: ktp-scan-bridge-secrets
                                  key: GTF_PASSKEY
                            - name: KTP_DB_URL
                              valueFrom:
                                configMapKeyRef:
                                  name: ktp-scan-bridge-config
                                  key: KTP_DB_URI
                """;
        problems = referenceProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "          env:\n", "          env:\n" + keyRef)));
        assertTrue(problems.stream().anyMatch(p -> p.contains("GTF_PASSKEY")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("KTP_DB_URI")), problems.toString());
    }

    @Test
    void aServiceAccountThatIsNotDefinedOrNotNamedIsCaught() {
        // IRSA's role goes on the pods' ServiceAccount: without one they run as the namespace's default
        List<String> problems = referenceProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "serviceAccountName: ktp-scan-bridge", "serviceAccountName: ktp-bridge")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("ServiceAccount ktp-bridge ")), problems.toString());

        problems = referenceProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "serviceAccountName: ktp-scan-bridge\n", "")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("no serviceAccountName")), problems.toString());

        Map<String, String> files = realFiles();
        assertTrue(files.remove("serviceaccount.yaml") != null, "serviceaccount.yaml is not in " + K8S);
        problems = referenceProblems(Manifests.of(files));
        assertTrue(problems.stream().anyMatch(p -> p.contains("ServiceAccount ktp-scan-bridge ")), problems.toString());
    }

    @Test
    void aSelectorThatMissesThePodsIsCaught() {
        List<String> problems = selectorProblems(mutated("service.yaml",
                yaml -> yaml.replace("app.kubernetes.io/instance: ktp-scan-bridge\n  ports",
                        "app.kubernetes.io/instance: ktp-bridge\n  ports")));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("Service ktp-scan-bridge")), problems.toString());
    }

    @Test
    void aWrongPortNameOrNumberIsCaught() {
        List<String> problems = portReferenceProblems(mutated("service.yaml",
                yaml -> replaceOnce(yaml, "targetPort: management", "targetPort: metrics")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("metrics")), problems.toString());

        problems = portReferenceProblems(mutated("deployment.yaml",
                yaml -> yaml.replace("path: /observe/health/ready\n              port: management",
                        "path: /observe/health/ready\n              port: 9877")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("9877")), problems.toString());

        problems = bundlePortProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "containerPort: 8080", "containerPort: 8081")), BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("ktp.callback.port")), problems.toString());

        // a ConfigMap that moves the callback port must move the container port too
        problems = bundlePortProblems(mutated("configmap.yaml",
                yaml -> yaml + "  KTP_CALLBACK_PORT: \"9090\"\n"), BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("9090")), problems.toString());
    }

    @Test
    void aServiceThatDoesNotReachTheCallbackPortIsCaught() {
        BundleProperties bundle = BundleProperties.load();
        // no Service port for callbacks: OneKYC's callbacks reach no pod
        List<String> problems = callbackServiceProblems(mutated("service.yaml", yaml -> replaceOnce(yaml,
                "    - name: callback\n      port: 8080\n      targetPort: callback\n      protocol: TCP\n", "")), bundle);
        assertTrue(problems.stream().anyMatch(p -> p.contains("no port of Service")), problems.toString());

        // a port that exists, but is the management port, by name or by number
        problems = callbackServiceProblems(mutated("service.yaml",
                yaml -> replaceOnce(yaml, "targetPort: callback", "targetPort: management")), bundle);
        assertTrue(problems.stream().anyMatch(p -> p.contains("no port of Service")), problems.toString());
        problems = callbackServiceProblems(mutated("service.yaml",
                yaml -> replaceOnce(yaml, "targetPort: callback", "targetPort: 9876")), bundle);
        assertTrue(problems.stream().anyMatch(p -> p.contains("no port of Service")), problems.toString());

        // the bundle listens on another port than the one the Service sends to
        problems = callbackServiceProblems(mutated("configmap.yaml",
                yaml -> yaml + "  KTP_CALLBACK_PORT: \"9090\"\n"), bundle);
        assertTrue(problems.stream().anyMatch(p -> p.contains("ktp.callback.port is 9090")), problems.toString());

        // no container port named callback at all
        problems = callbackServiceProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "- name: callback\n", "- name: callbacks\n")), bundle);
        assertTrue(problems.stream().anyMatch(p -> p.contains("no container port named 'callback'")), problems.toString());
    }

    @Test
    void oneReplicaOrNoneNamedIsCaught() {
        List<String> problems = replicaProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "  replicas: 3\n", "  replicas: 1\n")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("replicas is 1")), problems.toString());
        // Kubernetes' default is 1
        problems = replicaProblems(mutated("deployment.yaml", yaml -> replaceOnce(yaml, "  replicas: 3\n", "")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("replicas is not set")), problems.toString());
    }

    @Test
    void aCredentialInTheConfigMapOrTheDeploymentIsCaught() {
        BundleProperties bundle = BundleProperties.load();
        // moved from the Secret to the ConfigMap
        Map<String, String> files = realFiles();
        files.put("secret.yaml", replaceOnce(files.get("secret.yaml"), "  GTF_PASS_KEY: \"REPLACE_ME-gtf-pass-key\"\n", ""));
        files.put("configmap.yaml", files.get("configmap.yaml") + "  GTF_PASS_KEY: \"REPLACE_ME-gtf-pass-key\"\n");
        List<String> problems = credentialProblems(Manifests.of(files), bundle);
        assertTrue(problems.stream().anyMatch(p -> p.contains("ConfigMap ktp-scan-bridge-config holds GTF_PASS_KEY")),
                problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("GTF_PASS_KEY comes from ConfigMap ktp-scan-bridge-config")),
                problems.toString());

        // in the ConfigMap too, though the Secret's value wins (secretRef comes later)
        problems = credentialProblems(mutated("configmap.yaml",
                yaml -> yaml + "  KTP_DB_PASSWORD: \"REPLACE_ME-db-password\"\n"), bundle);
        assertEquals(List.of("ConfigMap ktp-scan-bridge-config holds KTP_DB_PASSWORD: a credential belongs in the Secret"),
                problems);

        // a literal value in the Deployment overrides the Secret's
        problems = credentialProblems(mutated("deployment.yaml", yaml -> replaceOnce(yaml, "          env:\n",
                "          env:\n            - name: KTP_CALLBACK_AUTH_TOKEN\n              value: \"t0ken\"\n")), bundle);
        assertTrue(problems.stream().anyMatch(p -> p.contains("KTP_CALLBACK_AUTH_TOKEN comes from a value in the Deployment")),
                problems.toString());

        // the Secret not handed to the container: none of them is set
        problems = credentialProblems(mutated("deployment.yaml", yaml -> replaceOnce(yaml,
                "            - secretRef:\n                name: ktp-scan-bridge-secrets\n", "")), bundle);
        for (String name : CREDENTIALS) {
            assertTrue(problems.stream().anyMatch(p -> p.contains(name + " is not set")), problems.toString());
        }
    }

    @Test
    void anUnlistedOrMissingFileIsCaught() {
        Map<String, String> files = realFiles();
        files.put("ingress.yaml", """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata:
                  name: ktp-scan-bridge
                """);
        files.put("kustomization.yaml", files.get("kustomization.yaml") + "  - hpa.yaml\n");
        List<String> problems = kustomizationProblems(Manifests.of(files));
        assertTrue(problems.stream().anyMatch(p -> p.contains("ingress.yaml")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("hpa.yaml")), problems.toString());
    }

    @Test
    void replicasWithoutASharedLedgerAreCaught() {
        List<String> problems = clusterProblems(mutated("configmap.yaml",
                yaml -> replaceOnce(yaml, "jdbc:postgresql://ktp-ledger-postgresql:5432/ktp_bridge",
                        "jdbc:h2:file:/data/ledger")), BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("ktp.db.url")), problems.toString());

        problems = clusterProblems(mutated("configmap.yaml",
                yaml -> replaceOnce(yaml, "KTP_CLUSTER_ENABLED: \"true\"", "KTP_CLUSTER_ENABLED: \"false\"")),
                BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("ktp.cluster.enabled")), problems.toString());

        // each pod's /data is its own: with the file drop on, a replica would end the others' inputs as gone
        problems = clusterProblems(mutated("configmap.yaml",
                yaml -> replaceOnce(yaml, "KTP_SOURCE_FILE_ENABLED: \"false\"", "KTP_SOURCE_FILE_ENABLED: \"true\"")),
                BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("ktp.source.file.enabled")), problems.toString());
    }

    @Test
    void anInstanceIdSharedByTheReplicasIsCaught() {
        List<String> problems = clusterProblems(mutated("configmap.yaml",
                yaml -> replaceOnce(yaml, "  KTP_CLUSTER_ENABLED: \"true\"\n",
                        "  KTP_CLUSTER_ENABLED: \"true\"\n  KTP_CLUSTER_INSTANCE_ID: \"bridge\"\n")), BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("ktp.cluster.instance-id (bridge) is the same in every replica")),
                problems.toString());

        problems = clusterProblems(mutated("deployment.yaml", yaml -> replaceOnce(yaml, "          env:\n",
                "          env:\n            - name: KTP_CLUSTER_INSTANCE_ID\n              value: \"bridge\"\n")),
                BundleProperties.load());
        assertTrue(problems.stream().anyMatch(p -> p.contains("ktp.cluster.instance-id (bridge)")), problems.toString());

        // each pod's own name is each replica's own id
        problems = clusterProblems(mutated("deployment.yaml", yaml -> replaceOnce(yaml, "          env:\n",
                "          env:\n            - name: KTP_CLUSTER_INSTANCE_ID\n              valueFrom:\n"
                        + "                fieldRef:\n                  fieldPath: metadata.name\n")),
                BundleProperties.load());
        assertEquals(List.of(), problems);
    }

    @Test
    void aBudgetThatCountsUnreadyPodsOrNoBudgetAtAllIsCaught() {
        List<String> problems = disruptionBudgetProblems(mutated("poddisruptionbudget.yaml",
                yaml -> replaceOnce(yaml, "unhealthyPodEvictionPolicy: AlwaysAllow",
                        "unhealthyPodEvictionPolicy: IfHealthyBudget")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("IfHealthyBudget")), problems.toString());

        Map<String, String> files = realFiles();
        assertTrue(files.remove("poddisruptionbudget.yaml") != null, "poddisruptionbudget.yaml is not in " + K8S);
        problems = disruptionBudgetProblems(Manifests.of(files));
        assertTrue(problems.stream().anyMatch(p -> p.contains("no PodDisruptionBudget")), problems.toString());
    }

    @Test
    void aRealLookingSecretOrAWritableRootIsCaught() {
        List<String> problems = secretPlaceholderProblems(mutated("secret.yaml",
                yaml -> replaceOnce(yaml, "\"REPLACE_ME-gtf-pass-key\"", "\"s3cr3t-Pass\"")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("GTF_PASS_KEY")), problems.toString());

        problems = podProblems(mutated("deployment.yaml",
                yaml -> replaceOnce(yaml, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("readOnlyRootFilesystem")), problems.toString());
    }

    // ---- the checks --------------------------------------------------------------------------

    static List<String> structureProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        m.docs().forEach(d -> {
            String where = d.file;
            if (str(d.body.get("apiVersion")) == null) {
                problems.add(where + ": a document without apiVersion");
            }
            if (d.kind() == null) {
                problems.add(where + ": a document without kind");
            } else if (!d.kind().equals("Kustomization")) {
                if (d.name() == null) {
                    problems.add(where + ": " + d.kind() + " without metadata.name");
                } else if (!seen.add(d.kind() + "/" + d.name())) {
                    problems.add(where + ": " + d.kind() + " " + d.name() + " is defined twice");
                }
            }
        });
        return problems;
    }

    static List<String> kustomizationProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        List<Doc> kustomizations = m.ofKind("Kustomization");
        if (kustomizations.size() != 1) {
            return List.of("expected one Kustomization, found " + kustomizations.size());
        }
        Doc k = kustomizations.get(0);
        Set<String> listed = new TreeSet<>();
        for (Object r : list(k.body.get("resources"))) {
            String path = Path.of(k.file).resolveSibling(String.valueOf(r)).normalize().toString();
            if (!listed.add(path)) {
                problems.add("kustomization.yaml lists " + r + " twice");
            }
        }
        Set<String> manifests = new TreeSet<>(m.files.keySet());
        manifests.remove(k.file);
        for (String f : manifests) {
            if (!listed.contains(f)) {
                problems.add("kustomization.yaml does not list " + f);
            }
        }
        for (String f : listed) {
            if (!manifests.contains(f)) {
                problems.add("kustomization.yaml lists " + f + ", which is not in config/kubernetes/");
            }
        }
        return problems;
    }

    static List<String> selectorProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        List<Doc> deployments = m.ofKind("Deployment");
        for (Doc d : deployments) {
            Map<String, Object> podLabels = map(path(d.body, "spec", "template", "metadata", "labels"));
            Map<String, Object> matchLabels = map(path(d.body, "spec", "selector", "matchLabels"));
            if (matchLabels.isEmpty()) {
                problems.add("Deployment " + d.name() + " has no spec.selector.matchLabels");
            } else if (!selects(matchLabels, podLabels)) {
                problems.add("Deployment " + d.name() + ": selector " + matchLabels + " does not match its pod labels " + podLabels);
            }
        }
        for (Doc s : m.ofKind("Service")) {
            Map<String, Object> selector = map(path(s.body, "spec", "selector"));
            check(problems, "Service " + s.name(), selector, deployments);
        }
        for (Doc p : m.ofKind("PodDisruptionBudget")) {
            Map<String, Object> selector = map(path(p.body, "spec", "selector", "matchLabels"));
            check(problems, "PodDisruptionBudget " + p.name(), selector, deployments);
        }
        return problems;
    }

    private static void check(List<String> problems, String what, Map<String, Object> selector, List<Doc> deployments) {
        if (selector.isEmpty()) {
            problems.add(what + " has no selector");
            return;
        }
        boolean any = deployments.stream().anyMatch(
                d -> selects(selector, map(path(d.body, "spec", "template", "metadata", "labels"))));
        if (!any) {
            problems.add(what + ": selector " + selector + " matches the pods of no Deployment");
        }
    }

    static List<String> portReferenceProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        List<Doc> deployments = m.ofKind("Deployment");
        for (Doc d : deployments) {
            for (Map<String, Object> c : containers(d)) {
                Map<String, Integer> ports = containerPorts(c);
                String where = "Deployment " + d.name() + " container " + c.get("name");
                for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                    Object probeBody = c.get(probe);
                    if (probeBody == null) {
                        continue;
                    }
                    Object port = path(probeBody, "httpGet", "port");
                    if (port == null) {
                        port = path(probeBody, "tcpSocket", "port");
                    }
                    if (port != null && resolvePort(port, ports) == null) {
                        problems.add(where + ": " + probe + " port " + port + " is no container port " + ports);
                    }
                }
                if (c.get("livenessProbe") == null || c.get("readinessProbe") == null) {
                    problems.add(where + " needs a livenessProbe and a readinessProbe");
                }
            }
        }
        for (Doc s : m.ofKind("Service")) {
            Map<String, Object> selector = map(path(s.body, "spec", "selector"));
            List<Map<String, Integer>> podPorts = deployments.stream()
                    .filter(d -> selects(selector, map(path(d.body, "spec", "template", "metadata", "labels"))))
                    .flatMap(d -> containers(d).stream())
                    .map(KubernetesManifestsTest::containerPorts)
                    .collect(Collectors.toList());
            for (Object p : list(path(s.body, "spec", "ports"))) {
                Map<String, Object> port = map(p);
                Object target = port.containsKey("targetPort") ? port.get("targetPort") : port.get("port");
                if (podPorts.stream().noneMatch(ports -> resolvePort(target, ports) != null)) {
                    problems.add("Service " + s.name() + " port " + port.get("name") + ": targetPort " + target
                            + " is no container port of the selected pods " + podPorts);
                }
            }
        }
        return problems;
    }

    /**
     * OneKYC's callbacks reach the bundle: a Service that selects the pods has a port whose
     * targetPort is the container port named callback, the port the bundle listens on for them
     * ({@code ktp.callback.port} as the container's environment makes it).
     */
    static List<String> callbackServiceProblems(Manifests m, BundleProperties bundle) {
        List<String> problems = new ArrayList<>();
        for (Doc d : m.ofKind("Deployment")) {
            Map<String, Object> podLabels = map(path(d.body, "spec", "template", "metadata", "labels"));
            List<Doc> services = m.ofKind("Service").stream()
                    .filter(s -> selects(map(path(s.body, "spec", "selector")), podLabels)).collect(Collectors.toList());
            // the serving containers; an init container is gone before a callback can come
            for (Object o : list(path(d.body, "spec", "template", "spec", "containers"))) {
                Map<String, Object> c = map(o);
                String where = "Deployment " + d.name() + " container " + c.get("name");
                Map<String, Integer> ports = containerPorts(c);
                Integer callback = ports.get("callback");
                if (callback == null) {
                    problems.add(where + ": no container port named 'callback' " + ports);
                    continue;
                }
                String listening = bundle.effective("ktp.callback.port", environment(m, c));
                if (!String.valueOf(callback).equals(listening)) {
                    problems.add(where + ": container port 'callback' is " + callback + " but ktp.callback.port is "
                            + listening);
                }
                boolean reached = services.stream().flatMap(s -> list(path(s.body, "spec", "ports")).stream())
                        .map(KubernetesManifestsTest::map)
                        .map(p -> p.containsKey("targetPort") ? p.get("targetPort") : p.get("port"))
                        .anyMatch(target -> callback.equals(resolvePort(target, ports)));
                if (!reached) {
                    problems.add(where + ": no port of Service " + services.stream().map(Doc::name).toList()
                            + " has the container port 'callback' (" + callback + ") as its targetPort");
                }
            }
        }
        return problems;
    }

    /** Port numbers, health and metrics paths as the bundle will serve them with this configuration. */
    static List<String> bundlePortProblems(Manifests m, BundleProperties bundle) {
        List<String> problems = new ArrayList<>();
        for (Doc d : m.ofKind("Deployment")) {
            for (Map<String, Object> c : containers(d)) {
                String where = "Deployment " + d.name() + " container " + c.get("name");
                Map<String, String> env = environment(m, c);
                Map<String, Integer> ports = containerPorts(c);

                String callback = bundle.effective("ktp.callback.port", env);
                if (!Objects.equals(String.valueOf(ports.get("callback")), callback)) {
                    problems.add(where + ": port 'callback' is " + ports.get("callback")
                            + " but ktp.callback.port is " + callback);
                }
                String management = bundle.effective("camel.management.port", env);
                if (!Objects.equals(String.valueOf(ports.get("management")), management)) {
                    problems.add(where + ": port 'management' is " + ports.get("management")
                            + " but camel.management.port is " + management);
                }
                if (!"true".equals(bundle.effective("camel.management.enabled", env))) {
                    problems.add(where + ": camel.management.enabled is not true, nothing serves the management port");
                }
                if (!"true".equals(bundle.effective("camel.management.health-check-enabled", env))) {
                    problems.add(where + ": camel.management.health-check-enabled is not true, the probes would fail");
                }
                String health = Objects.requireNonNullElse(bundle.effective("camel.management.health-path", env),
                        CAMEL_HEALTH_PATH);
                Map<String, String> expected = Map.of("livenessProbe", health + "/live", "readinessProbe", health + "/ready");
                expected.forEach((probe, path) -> {
                    Object get = path(c.get(probe), "httpGet");
                    if (get == null) {
                        problems.add(where + ": " + probe + " is no httpGet probe");
                        return;
                    }
                    if (!path.equals(str(map(get).get("path")))) {
                        problems.add(where + ": " + probe + " path is " + map(get).get("path") + ", expected " + path);
                    }
                    if (!Objects.equals(resolvePort(map(get).get("port"), ports), ports.get("management"))) {
                        problems.add(where + ": " + probe + " does not use the management port");
                    }
                });
                Map<String, Object> annotations = map(path(d.body, "spec", "template", "metadata", "annotations"));
                if ("true".equals(str(annotations.get("prometheus.io/scrape")))) {
                    if (!Objects.equals(str(annotations.get("prometheus.io/port")), management)) {
                        problems.add(where + ": prometheus.io/port " + annotations.get("prometheus.io/port")
                                + " is not the management port " + management);
                    }
                    if (!CAMEL_METRICS_PATH.equals(str(annotations.get("prometheus.io/path")))) {
                        problems.add(where + ": prometheus.io/path is not " + CAMEL_METRICS_PATH);
                    }
                    if (!"true".equals(bundle.effective("camel.management.metrics-enabled", env))) {
                        problems.add(where + ": scraped, but camel.management.metrics-enabled is not true");
                    }
                }
            }
        }
        return problems;
    }

    static List<String> referenceProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (Doc d : m.ofKind("Deployment")) {
            List<Map<String, Object>> containers = containers(d);
            for (Map<String, Object> c : containers) {
                String where = "Deployment " + d.name() + " container " + c.get("name");
                for (Object from : list(c.get("envFrom"))) {
                    Map<String, Object> f = map(from);
                    if (f.containsKey("configMapRef")) {
                        requireKeys(m, problems, where, "ConfigMap", str(map(f.get("configMapRef")).get("name")), List.of());
                    }
                    if (f.containsKey("secretRef")) {
                        requireKeys(m, problems, where, "Secret", str(map(f.get("secretRef")).get("name")), List.of());
                    }
                }
                for (Object e : list(c.get("env"))) {
                    Map<String, Object> var = map(e);
                    Map<String, Object> valueFrom = map(var.get("valueFrom"));
                    String what = where + " env " + var.get("name");
                    if (valueFrom.containsKey("configMapKeyRef")) {
                        Map<String, Object> ref = map(valueFrom.get("configMapKeyRef"));
                        requireKeys(m, problems, what, "ConfigMap", str(ref.get("name")), List.of(str(ref.get("key"))));
                    } else if (valueFrom.containsKey("secretKeyRef")) {
                        Map<String, Object> ref = map(valueFrom.get("secretKeyRef"));
                        requireKeys(m, problems, what, "Secret", str(ref.get("name")), List.of(str(ref.get("key"))));
                    } else if (!valueFrom.isEmpty() && !valueFrom.containsKey("fieldRef")
                            && !valueFrom.containsKey("resourceFieldRef")) {
                        problems.add(what + ": unknown valueFrom " + valueFrom.keySet());
                    } else if (valueFrom.isEmpty() && !var.containsKey("value")) {
                        problems.add(what + " has neither value nor valueFrom");
                    }
                }
            }
            String account = str(path(d.body, "spec", "template", "spec", "serviceAccountName"));
            if (account == null) {
                problems.add("Deployment " + d.name() + " names no serviceAccountName: its pods run as the namespace's"
                        + " default account, which an IRSA role annotation would not reach");
            } else if (m.find("ServiceAccount", account) == null) {
                problems.add("Deployment " + d.name() + " refers to ServiceAccount " + account
                        + " , which is not defined in config/kubernetes/");
            }
            Set<String> volumeNames = new TreeSet<>();
            for (Object v : list(path(d.body, "spec", "template", "spec", "volumes"))) {
                Map<String, Object> volume = map(v);
                volumeNames.add(str(volume.get("name")));
                String what = "Deployment " + d.name() + " volume " + volume.get("name");
                if (volume.containsKey("configMap")) {
                    Map<String, Object> ref = map(volume.get("configMap"));
                    requireKeys(m, problems, what, "ConfigMap", str(ref.get("name")), itemKeys(ref));
                }
                if (volume.containsKey("secret")) {
                    Map<String, Object> ref = map(volume.get("secret"));
                    requireKeys(m, problems, what, "Secret", str(ref.get("secretName")), itemKeys(ref));
                }
            }
            for (Map<String, Object> c : containers) {
                for (Object mount : list(c.get("volumeMounts"))) {
                    String name = str(map(mount).get("name"));
                    if (!volumeNames.contains(name)) {
                        problems.add("Deployment " + d.name() + " container " + c.get("name")
                                + " mounts volume " + name + ", which is not defined");
                    }
                }
            }
        }
        return problems;
    }

    private static List<String> itemKeys(Map<String, Object> ref) {
        return list(ref.get("items")).stream().map(i -> str(map(i).get("key"))).collect(Collectors.toList());
    }

    private static void requireKeys(Manifests m, List<String> problems, String where, String kind, String name,
            List<String> keys) {
        Doc target = m.find(kind, name);
        if (target == null) {
            problems.add(where + " refers to " + kind + " " + name + " , which is not defined in config/kubernetes/");
            return;
        }
        Set<String> defined = dataKeys(target);
        for (String key : keys) {
            if (!defined.contains(key)) {
                problems.add(where + " refers to key " + key + " of " + kind + " " + name + ", which has only " + defined);
            }
        }
    }

    /** Every variable name a container gets (env, and envFrom with its prefix) is a bundle property. */
    static List<String> envNameProblems(Manifests m, BundleProperties bundle) {
        List<String> problems = new ArrayList<>();
        Set<String> known = bundle.knownEnvNames();
        for (Doc d : m.ofKind("Deployment")) {
            for (Map<String, Object> c : containers(d)) {
                String where = "Deployment " + d.name() + " container " + c.get("name");
                Map<String, String> origins = new LinkedHashMap<>();
                for (Object from : list(c.get("envFrom"))) {
                    Map<String, Object> f = map(from);
                    String prefix = Objects.requireNonNullElse(str(f.get("prefix")), "");
                    String kind = f.containsKey("configMapRef") ? "ConfigMap" : "Secret";
                    String name = str(map(f.containsKey("configMapRef") ? f.get("configMapRef") : f.get("secretRef")).get("name"));
                    Doc source = m.find(kind, name);
                    if (source != null) {
                        dataKeys(source).forEach(k -> origins.put(prefix + k, kind + " " + name));
                    }
                }
                for (Object e : list(c.get("env"))) {
                    origins.put(str(map(e).get("name")), "env");
                }
                origins.forEach((name, origin) -> {
                    if (!JVM_VARIABLES.contains(name) && !known.contains(name)) {
                        problems.add(where + ": " + name + " (" + origin + ") is no property of the bundle"
                                + bundle.suggestion(name));
                    }
                });
            }
        }
        return problems;
    }

    /** More than one replica: cluster mode on, and a ledger all replicas share (not H2 in the pod). */
    static List<String> clusterProblems(Manifests m, BundleProperties bundle) {
        List<String> problems = new ArrayList<>();
        for (Doc d : m.ofKind("Deployment")) {
            Object replicas = path(d.body, "spec", "replicas");
            if (replicas instanceof Number n && n.intValue() <= 1) {
                continue;
            }
            for (Map<String, Object> c : containers(d)) {
                String where = "Deployment " + d.name() + " (" + replicas + " replicas) container " + c.get("name");
                Map<String, String> env = environment(m, c);
                if (!"true".equals(bundle.effective("ktp.cluster.enabled", env))) {
                    problems.add(where + ": ktp.cluster.enabled is not true");
                }
                String url = bundle.effective("ktp.db.url", env);
                if (url == null || !url.startsWith("jdbc:postgresql://")) {
                    problems.add(where + ": ktp.db.url (" + url + ") is no PostgreSQL database the replicas share");
                }
                // a value written out (ConfigMap, Secret, env value) is every replica's; a fieldRef is each pod's own
                String id = bundle.effective("ktp.cluster.instance-id", env);
                if (id != null) {
                    problems.add(where + ": ktp.cluster.instance-id (" + id + ") is the same in every replica,"
                            + " which the second to start is refused for");
                }
                if (!"false".equals(bundle.effective("ktp.source.file.enabled", env))) {
                    String dropFolder = bundle.effective("ktp.source.dir", env);
                    String volume = podOwnVolume(d, c, dropFolder);
                    if (volume != null) {
                        problems.add(where + ": ktp.source.file.enabled is not false, but ktp.source.dir ("
                                + dropFolder + ") is on " + volume + ", each pod's own");
                    }
                }
            }
        }
        return problems;
    }

    /** The shipped Deployment is a cluster's: more than one replica, named (Kubernetes runs 1 otherwise). */
    static List<String> replicaProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (Doc d : m.ofKind("Deployment")) {
            Object replicas = path(d.body, "spec", "replicas");
            if (replicas == null) {
                problems.add("Deployment " + d.name() + ": spec.replicas is not set (Kubernetes runs 1)");
            } else if (!(replicas instanceof Number n) || n.intValue() <= 1) {
                problems.add("Deployment " + d.name() + ": spec.replicas is " + replicas
                        + ", not more than 1: the cluster-mode checks are passed over");
            }
        }
        return problems;
    }

    /** The bundle's credentials (secret.yaml; README "Configuration"): GTF's client id and pass key, the callback's token, the ledger's login. */
    static final List<String> CREDENTIALS = List.of("GTF_CLIENT_ID", "GTF_PASS_KEY", "KTP_CALLBACK_AUTH_TOKEN",
            "KTP_DB_USER", "KTP_DB_PASSWORD");

    /**
     * Each credential reaches the container from the Secret (the value Kubernetes gives it, by
     * envFrom or secretKeyRef), and no ConfigMap holds one: a ConfigMap is readable where a Secret
     * is not, and shows in {@code kubectl describe}.
     */
    static List<String> credentialProblems(Manifests m, BundleProperties bundle) {
        List<String> problems = new ArrayList<>();
        for (String name : CREDENTIALS) {
            if (!bundle.knownEnvNames().contains(name)) {
                problems.add(name + " is no property of the bundle: the list of credentials is out of date");
            }
        }
        for (Doc configMap : m.ofKind("ConfigMap")) {
            for (String name : CREDENTIALS) {
                if (dataKeys(configMap).contains(name)) {
                    problems.add("ConfigMap " + configMap.name() + " holds " + name + ": a credential belongs in the Secret");
                }
            }
        }
        for (Doc d : m.ofKind("Deployment")) {
            for (Map<String, Object> c : containers(d)) {
                String where = "Deployment " + d.name() + " container " + c.get("name");
                Map<String, String> origins = origins(m, c);
                for (String name : CREDENTIALS) {
                    String origin = origins.get(name);
                    if (origin == null) {
                        problems.add(where + ": " + name + " is not set");
                    } else if (!origin.startsWith("Secret ")) {
                        problems.add(where + ": " + name + " comes from " + origin + ", not from a Secret");
                    }
                }
            }
        }
        return problems;
    }

    /**
     * Where each variable of a container gets its value, as {@link #environment} builds it (the
     * later envFrom wins, env over envFrom): "Secret name", "ConfigMap name" or "a value in the Deployment".
     * An envFrom source that is not defined counts too (referenceProblems reports it).
     */
    static Map<String, String> origins(Manifests m, Map<String, Object> container) {
        Map<String, String> origins = new LinkedHashMap<>();
        for (Object from : list(container.get("envFrom"))) {
            Map<String, Object> f = map(from);
            String prefix = Objects.requireNonNullElse(str(f.get("prefix")), "");
            String kind = f.containsKey("configMapRef") ? "ConfigMap" : "Secret";
            String name = str(map(f.get(kind.equals("ConfigMap") ? "configMapRef" : "secretRef")).get("name"));
            Doc source = m.find(kind, name);
            if (source != null) {
                dataKeys(source).forEach(k -> origins.put(prefix + k, kind + " " + name));
            }
        }
        for (Object e : list(container.get("env"))) {
            Map<String, Object> var = map(e);
            Map<String, Object> valueFrom = map(var.get("valueFrom"));
            String origin = valueFrom.containsKey("secretKeyRef")
                    ? "Secret " + str(map(valueFrom.get("secretKeyRef")).get("name"))
                    : valueFrom.containsKey("configMapKeyRef")
                            ? "ConfigMap " + str(map(valueFrom.get("configMapKeyRef")).get("name"))
                            : valueFrom.isEmpty() ? "a value in the Deployment" : "valueFrom " + valueFrom.keySet();
            origins.put(str(var.get("name")), origin);
        }
        return origins;
    }

    /**
     * The pod's own volume (emptyDir) or the container's own file system that holds {@code folder},
     * described; null when a mounted volume of another kind (one that can be shared) holds it.
     */
    private static String podOwnVolume(Doc deployment, Map<String, Object> container, String folder) {
        Map<String, Map<String, Object>> volumes = new TreeMap<>();
        for (Object v : list(path(deployment.body, "spec", "template", "spec", "volumes"))) {
            volumes.put(str(map(v).get("name")), map(v));
        }
        String longest = null;
        String name = null;
        for (Object mount : list(container.get("volumeMounts"))) {
            String at = str(map(mount).get("mountPath"));
            if (folder != null && at != null && (folder.equals(at) || folder.startsWith(at.endsWith("/") ? at : at + "/"))
                    && (longest == null || at.length() > longest.length())) {
                longest = at;
                name = str(map(mount).get("name"));
            }
        }
        if (name == null) {
            return "the container's own file system";
        }
        return volumes.getOrDefault(name, Map.of()).containsKey("emptyDir") ? "the emptyDir volume " + name : null;
    }

    /**
     * After {@code camel.main.shutdown-timeout}, Camel waits up to 10 s for each thread pool still
     * busy, one after the other: the bundle's submission, poll and delivery-retry workers, and one
     * pool per result target for its immediate attempts (BridgeConfiguration).
     */
    private static final long POOL_WAIT_SECONDS = 10;
    private static final int FIXED_POOLS = 3;

    /**
     * SIGKILL must not come before the preStop pause and the bundle's own stop
     * ({@code camel.main.shutdown-timeout}, then its pools' waits) are over, or in-flight
     * submissions are cut off.
     */
    static List<String> gracePeriodProblems(Manifests m, BundleProperties bundle) {
        List<String> problems = new ArrayList<>();
        for (Doc d : m.ofKind("Deployment")) {
            Map<String, Object> podSpec = map(path(d.body, "spec", "template", "spec"));
            Object grace = podSpec.get("terminationGracePeriodSeconds");
            long graceSeconds = grace instanceof Number n ? n.longValue() : 30; // Kubernetes' default
            for (Map<String, Object> c : containers(d)) {
                Object pause = path(c, "lifecycle", "preStop", "sleep", "seconds");
                long pauseSeconds = pause instanceof Number n ? n.longValue() : 0;
                String stop = bundle.effective("camel.main.shutdown-timeout", environment(m, c));
                long stopSeconds = stop == null ? 45 : Long.parseLong(stop.trim()); // Camel's default
                String targets = bundle.effective("ktp.results.targets", environment(m, c));
                long targetPools = targets == null ? 1 : java.util.Arrays.stream(targets.split(","))
                        .map(String::trim).filter(t -> !t.isEmpty()).distinct().count();
                long poolWaits = (FIXED_POOLS + targetPools) * POOL_WAIT_SECONDS;
                if (graceSeconds < pauseSeconds + stopSeconds + poolWaits + 5) {
                    problems.add("Deployment " + d.name() + " container " + c.get("name") + ": grace period "
                            + graceSeconds + " s < preStop " + pauseSeconds + " s + shutdown-timeout " + stopSeconds
                            + " s + pool waits " + poolWaits + " s + 5 s");
                }
            }
        }
        return problems;
    }

    /**
     * A budget must exist (drains take one replica at a time) and let unready pods go: readiness
     * follows OneKYC and the sources, so an outage makes every replica unready at once, and a budget
     * that counted them would block every node drain for as long as it lasts.
     */
    static List<String> disruptionBudgetProblems(Manifests m) {
        List<Doc> budgets = m.ofKind("PodDisruptionBudget");
        if (budgets.isEmpty()) {
            return List.of("no PodDisruptionBudget in config/kubernetes/");
        }
        List<String> problems = new ArrayList<>();
        for (Doc p : budgets) {
            Object policy = path(p.body, "spec", "unhealthyPodEvictionPolicy");
            if (!"AlwaysAllow".equals(str(policy))) {
                problems.add("PodDisruptionBudget " + p.name() + ": unhealthyPodEvictionPolicy is " + policy
                        + ", not AlwaysAllow");
            }
        }
        return problems;
    }

    /** The committed Secret must never hold a real value: empty, or a REPLACE_ME placeholder. */
    static List<String> secretPlaceholderProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (Doc s : m.ofKind("Secret")) {
            if (!"Opaque".equals(str(s.body.get("type")))) {
                problems.add("Secret " + s.name() + " is not of type Opaque");
            }
            Map<String, String> values = new TreeMap<>();
            map(s.body.get("stringData")).forEach((k, v) -> values.put(k, v == null ? "" : String.valueOf(v)));
            map(s.body.get("data")).forEach((k, v) -> values.put(k,
                    new String(Base64.getDecoder().decode(v == null ? "" : String.valueOf(v)), StandardCharsets.UTF_8)));
            values.forEach((k, v) -> {
                if (!v.isEmpty() && !v.startsWith("REPLACE_ME")) {
                    problems.add("Secret " + s.name() + " key " + k + " holds a value that is no REPLACE_ME placeholder");
                }
            });
        }
        return problems;
    }

    static List<String> podProblems(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (Doc d : m.ofKind("Deployment")) {
            Map<String, Object> podSpec = map(path(d.body, "spec", "template", "spec"));
            Map<String, Object> podSecurity = map(podSpec.get("securityContext"));
            Map<String, String> emptyDirs = new TreeMap<>();
            for (Object v : list(podSpec.get("volumes"))) {
                if (map(v).containsKey("emptyDir")) {
                    emptyDirs.put(str(map(v).get("name")), "emptyDir");
                }
            }
            for (Map<String, Object> c : containers(d)) {
                String where = "Deployment " + d.name() + " container " + c.get("name");
                Map<String, Object> security = map(c.get("securityContext"));
                if (!Boolean.TRUE.equals(security.get("runAsNonRoot")) && !Boolean.TRUE.equals(podSecurity.get("runAsNonRoot"))) {
                    problems.add(where + ": runAsNonRoot is not true");
                }
                if (!Boolean.TRUE.equals(security.get("readOnlyRootFilesystem"))) {
                    problems.add(where + ": readOnlyRootFilesystem is not true");
                }
                if (!Boolean.FALSE.equals(security.get("allowPrivilegeEscalation"))) {
                    problems.add(where + ": allowPrivilegeEscalation is not false");
                }
                Set<String> writable = new TreeSet<>();
                for (Object mount : list(c.get("volumeMounts"))) {
                    Map<String, Object> mt = map(mount);
                    if (emptyDirs.containsKey(str(mt.get("name"))) && !Boolean.TRUE.equals(mt.get("readOnly"))) {
                        writable.add(str(mt.get("mountPath")));
                    }
                }
                Map<String, String> env = environment(m, c);
                String dataDir = env.get("KTP_DATA_DIR");
                if (dataDir == null || !writable.contains(dataDir)) {
                    problems.add(where + ": KTP_DATA_DIR (" + dataDir + ") is not a writable emptyDir mount " + writable);
                }
                if (!writable.contains("/tmp")) {
                    problems.add(where + ": /tmp (java.io.tmpdir, HTTP uploads) is not a writable emptyDir mount");
                }
                String javaOptions = Objects.requireNonNullElse(env.get("JAVA_TOOL_OPTIONS"), "");
                if (!javaOptions.matches(".*-XX:MaxRAMPercentage=\\d+(\\.\\d+)?.*")) {
                    problems.add(where + ": JAVA_TOOL_OPTIONS does not set -XX:MaxRAMPercentage");
                }
                Map<String, Object> resources = map(c.get("resources"));
                for (String kind : List.of("requests", "limits")) {
                    for (String res : List.of("cpu", "memory")) {
                        if (path(resources, kind, res) == null) {
                            problems.add(where + ": resources." + kind + "." + res + " is not set");
                        }
                    }
                }
            }
        }
        return problems;
    }

    // ---- model -------------------------------------------------------------------------------

    /** One YAML document of a manifest file. */
    record Doc(String file, Map<String, Object> body) {
        String kind() {
            return str(body.get("kind"));
        }

        String name() {
            return str(path(body, "metadata", "name"));
        }
    }

    /** The manifests of a folder: relative file name → its YAML documents. */
    static final class Manifests {
        final Map<String, List<Doc>> files;

        private Manifests(Map<String, List<Doc>> files) {
            this.files = files;
        }

        static Manifests load(Path dir) {
            return of(readAll(dir));
        }

        static Manifests of(Map<String, String> texts) {
            Map<String, List<Doc>> files = new TreeMap<>();
            texts.forEach((file, text) -> {
                List<Doc> docs = new ArrayList<>();
                Load load = new Load(LoadSettings.builder().setLabel(file).build());
                for (Object o : load.loadAllFromString(text)) {
                    if (o == null) {
                        continue; // an empty document, e.g. after a trailing ---
                    }
                    if (!(o instanceof Map)) {
                        throw new AssertionError(file + ": a document that is not a mapping: " + o);
                    }
                    docs.add(new Doc(file, map(o)));
                }
                files.put(file, docs);
            });
            return new Manifests(files);
        }

        Stream<Doc> docs() {
            return files.values().stream().flatMap(List::stream);
        }

        List<Doc> ofKind(String kind) {
            return docs().filter(d -> kind.equals(d.kind())).collect(Collectors.toList());
        }

        Doc find(String kind, String name) {
            return docs().filter(d -> kind.equals(d.kind()) && Objects.equals(name, d.name())).findFirst().orElse(null);
        }
    }

    static Map<String, String> readAll(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            Map<String, String> texts = new TreeMap<>();
            for (Path p : paths.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().matches(".*\\.ya?ml"))
                    .collect(Collectors.toList())) {
                texts.put(dir.relativize(p).toString().replace('\\', '/'), Files.readString(p));
            }
            return texts;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> realFiles() {
        return new TreeMap<>(readAll(K8S));
    }

    private static Manifests mutated(String file, UnaryOperator<String> change) {
        Map<String, String> files = realFiles();
        String before = files.get(file);
        assertTrue(before != null, file + " is not in " + K8S);
        String after = change.apply(before);
        assertFalse(before.equals(after), "the mutation of " + file + " changed nothing");
        files.put(file, after);
        return Manifests.of(files);
    }

    private static String replaceOnce(String text, String what, String with) {
        assertTrue(text.contains(what), "'" + what + "' is not in the manifest");
        return text.replaceFirst(Pattern.quote(what), Matcher.quoteReplacement(with));
    }

    /**
     * What the bundle knows: the keys of {@code config/application.properties} and the properties in
     * the README's configuration tables (first column; "{@code a.b.c} / {@code d}" names a.b.c and a.b.d).
     */
    static final class BundleProperties {
        private static final Pattern KEY = Pattern.compile("[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+");
        private static final Pattern SHORT = Pattern.compile("[a-z][a-z0-9-]*");
        private static final Pattern CODE = Pattern.compile("`([^`]+)`");
        private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([^{}:]+)(?::([^{}]*))?}}");

        final Properties defaults;
        final Set<String> keys;

        private BundleProperties(Properties defaults, Set<String> keys) {
            this.defaults = defaults;
            this.keys = keys;
        }

        static BundleProperties load() {
            try {
                Properties props = new Properties();
                try (Reader r = Files.newBufferedReader(PROPERTIES, StandardCharsets.UTF_8)) {
                    props.load(r);
                }
                Set<String> keys = new TreeSet<>(props.stringPropertyNames());
                keys.addAll(readmeKeys(Files.readAllLines(README, StandardCharsets.UTF_8)));
                return new BundleProperties(props, keys);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        static Set<String> readmeKeys(List<String> lines) {
            Set<String> keys = new LinkedHashSet<>();
            boolean inTable = false;
            boolean configTable = false;
            for (String line : lines) {
                String t = line.trim();
                if (!t.startsWith("|")) {
                    inTable = false;
                    continue;
                }
                String[] cells = t.substring(1).split("(?<!\\\\)\\|");
                String first = cells.length == 0 ? "" : cells[0].trim();
                if (!inTable) {
                    inTable = true;
                    configTable = first.toLowerCase(Locale.ROOT).startsWith("property");
                    continue;
                }
                if (!configTable || first.matches("-+")) {
                    continue;
                }
                String lastFull = null;
                Matcher code = CODE.matcher(first);
                while (code.find()) {
                    String token = code.group(1).trim();
                    if (KEY.matcher(token).matches()) {
                        keys.add(token);
                        lastFull = token;
                    } else if (lastFull != null && SHORT.matcher(token).matches()) {
                        keys.add(lastFull.substring(0, lastFull.lastIndexOf('.') + 1) + token);
                    }
                }
            }
            return keys;
        }

        /** Camel's rule: upper case, '.' and '-' become '_' ({@code gtf.api-url} ↔ {@code GTF_API_URL}). */
        static String envName(String key) {
            return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
        }

        Set<String> knownEnvNames() {
            return keys.stream().map(BundleProperties::envName).collect(Collectors.toCollection(TreeSet::new));
        }

        /**
         * The value the bundle will use for a key in a container with this environment: the
         * environment variable wins over the bundled default; {{placeholders}} are resolved the same way.
         */
        String effective(String key, Map<String, String> env) {
            return resolve(key, env, 0);
        }

        private String resolve(String key, Map<String, String> env, int depth) {
            if (depth > 10) {
                throw new AssertionError("placeholder loop at " + key);
            }
            String value = env.containsKey(envName(key)) ? env.get(envName(key)) : defaults.getProperty(key);
            if (value == null) {
                return null;
            }
            Matcher p = PLACEHOLDER.matcher(value.trim());
            StringBuilder out = new StringBuilder();
            while (p.find()) {
                String inner = resolve(p.group(1).trim(), env, depth + 1);
                if (inner == null) {
                    inner = p.group(2);
                }
                if (inner == null) {
                    return null;
                }
                p.appendReplacement(out, Matcher.quoteReplacement(inner));
            }
            p.appendTail(out);
            return out.toString();
        }

        /** ", did you mean X?" for a name a few edits away from a known one (the bundle's own start-up rule). */
        String suggestion(String name) {
            return id.ktpbridge.UnknownSettings.nearest(name, knownEnvNames()).map(k -> ", did you mean " + k + "?")
                    .orElse("");
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** The environment of a container as Kubernetes builds it: envFrom first, env overrides. */
    static Map<String, String> environment(Manifests m, Map<String, Object> container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (Object from : list(container.get("envFrom"))) {
            Map<String, Object> f = map(from);
            String prefix = Objects.requireNonNullElse(str(f.get("prefix")), "");
            Doc source = f.containsKey("configMapRef")
                    ? m.find("ConfigMap", str(map(f.get("configMapRef")).get("name")))
                    : m.find("Secret", str(map(f.get("secretRef")).get("name")));
            if (source != null) {
                dataValues(source).forEach((k, v) -> env.put(prefix + k, v));
            }
        }
        for (Object e : list(container.get("env"))) {
            Map<String, Object> var = map(e);
            String value = str(var.get("value"));
            Map<String, Object> valueFrom = map(var.get("valueFrom"));
            for (String refKind : List.of("configMapKeyRef", "secretKeyRef")) {
                if (valueFrom.containsKey(refKind)) {
                    Map<String, Object> ref = map(valueFrom.get(refKind));
                    Doc source = m.find(refKind.startsWith("config") ? "ConfigMap" : "Secret", str(ref.get("name")));
                    value = source == null ? null : dataValues(source).get(str(ref.get("key")));
                }
            }
            env.put(str(var.get("name")), value);
        }
        return env;
    }

    static Set<String> dataKeys(Doc configMapOrSecret) {
        return dataValues(configMapOrSecret).keySet();
    }

    static Map<String, String> dataValues(Doc configMapOrSecret) {
        Map<String, String> values = new TreeMap<>();
        boolean secret = "Secret".equals(configMapOrSecret.kind());
        map(configMapOrSecret.body.get("data")).forEach((k, v) -> values.put(k, v == null ? ""
                : secret ? new String(Base64.getDecoder().decode(String.valueOf(v)), StandardCharsets.UTF_8)
                        : String.valueOf(v)));
        map(configMapOrSecret.body.get(secret ? "stringData" : "binaryData"))
                .forEach((k, v) -> values.put(k, v == null ? "" : String.valueOf(v)));
        return values;
    }

    static List<Map<String, Object>> containers(Doc deployment) {
        List<Map<String, Object>> all = new ArrayList<>();
        for (String field : List.of("initContainers", "containers")) {
            list(path(deployment.body, "spec", "template", "spec", field)).forEach(c -> all.add(map(c)));
        }
        return all;
    }

    /** Container port name → number (unnamed ports under their number). */
    static Map<String, Integer> containerPorts(Map<String, Object> container) {
        Map<String, Integer> ports = new TreeMap<>();
        for (Object p : list(container.get("ports"))) {
            Map<String, Object> port = map(p);
            Integer number = port.get("containerPort") instanceof Number n ? n.intValue() : null;
            String name = str(port.get("name"));
            ports.put(name != null ? name : String.valueOf(number), number);
        }
        return ports;
    }

    /** The container port a probe or targetPort names (by name or by number), or null. */
    static Integer resolvePort(Object ref, Map<String, Integer> ports) {
        if (ref instanceof Number n) {
            return ports.containsValue(n.intValue()) ? n.intValue() : null;
        }
        String s = str(ref);
        if (s != null && s.matches("\\d+")) {
            return ports.containsValue(Integer.parseInt(s)) ? Integer.parseInt(s) : null;
        }
        return ports.get(s);
    }

    static boolean selects(Map<String, Object> selector, Map<String, Object> labels) {
        return !selector.isEmpty() && selector.entrySet().stream()
                .allMatch(e -> Objects.equals(str(e.getValue()), str(labels.get(e.getKey()))));
    }

    static Object path(Object node, String... keys) {
        Object cur = node;
        for (String k : keys) {
            if (!(cur instanceof Map)) {
                return null;
            }
            cur = ((Map<?, ?>) cur).get(k);
        }
        return cur;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (o == null) {
            return Map.of();
        }
        if (!(o instanceof Map)) {
            throw new AssertionError("expected a mapping, found " + o);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        ((Map<Object, Object>) o).forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    static List<Object> list(Object o) {
        if (o == null) {
            return List.of();
        }
        if (!(o instanceof List)) {
            throw new AssertionError("expected a list, found " + o);
        }
        return new ArrayList<>((List<?>) o);
    }

    static String str(Object o) {
        return o == null ? null : String.valueOf(o);
    }
}
