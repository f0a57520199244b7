{{/*
Named templates shared by every PanDA service chart. A service chart's templates are one-liners
such as `{{ include "panda.deployment" . }}`; what differs between services is in its values.yaml:

  component    the service name (server, jedi, ...): image panda-<component>, object <release>-<component>
  protocol     grpc or http: which PANDA_*_PORT the main port is
  needs        which settings the service gets (database, nats, queues, workDir, pilotToken, gateway,
               and the names of other services whose address it needs: server, jedi, idds, harvester)
  migrations   enabled: the service owns a database schema (`node dist/main.js migrate`)
  metrics      (optional) enabled, port: Prometheus /metrics (PANDA_METRICS_PORT), a container and
               Service port named metrics, prometheus.io annotations, optional ServiceMonitor;
               without port (HTTP services only), /metrics is served on the main port (http)

Shared settings (image, database, NATS, secrets, ports, queues) live under `global` so that the
umbrella chart (charts/panda) sets them once for all.
*/}}

{{/* <release>-<component>: the name of every object of one service. */}}
{{- define "panda.fullname" -}}
{{- printf "%s-%s" .Release.Name .Values.component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of another service's objects; (dict "root" $ "name" "server"). */}}
{{- define "panda.peerName" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "panda.selectorLabels" -}}
app.kubernetes.io/name: {{ .Values.component }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object of the release, without name and component. */}}
{{- define "panda.baseLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: panda
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | default .Chart.Version | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "panda.labels" -}}
{{ include "panda.baseLabels" . }}
app.kubernetes.io/name: {{ .Values.component }}
app.kubernetes.io/component: {{ .Values.component }}
{{- end -}}

{{/*
Image of a component: <registry>/panda-<component>:<tag>. A service's own image.repository /
image.tag win (skaffold sets them to what it built). (dict "root" $ "image" .Values.image "component" "server")
*/}}
{{- define "panda.imageRef" -}}
{{- $g := .root.Values.global.image -}}
{{- $repo := .image.repository | default (printf "%s%s-%s" (ternary "" (printf "%s/" $g.registry) (empty $g.registry)) $g.repository .component) -}}
{{- $tag := .image.tag | default $g.tag | default .root.Chart.AppVersion -}}
{{- if hasPrefix "sha256:" $tag -}}
{{ $repo }}@{{ $tag }}
{{- else -}}
{{ $repo }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{- define "panda.image" -}}
{{ include "panda.imageRef" (dict "root" . "image" .Values.image "component" .Values.component) }}
{{- end -}}

{{/* NATS URL: global.nats.url, or the built-in StatefulSet of the umbrella chart. */}}
{{- define "panda.natsUrl" -}}
{{- .Values.global.nats.url | default (printf "nats://%s-nats:4222" .Release.Name) -}}
{{- end -}}

{{/* Secret holding the database URL: global.database.existingSecret or <release>-database. */}}
{{- define "panda.databaseSecret" -}}
{{- if .Values.global.database.existingSecret -}}
{{- .Values.global.database.existingSecret -}}
{{- else if eq .Values.global.database.builtin "cnpg" -}}
{{- printf "%s-postgresql-app" .Release.Name -}}
{{- else -}}
{{- printf "%s-database" .Release.Name -}}
{{- end -}}
{{- end -}}

{{/* Key of the URL in that Secret: CloudNativePG's <cluster>-app Secret calls it uri. */}}
{{- define "panda.databaseUrlKey" -}}
{{- if and (not .Values.global.database.existingSecret) (eq .Values.global.database.builtin "cnpg") -}}
uri
{{- else -}}
{{- .Values.global.database.urlKey -}}
{{- end -}}
{{- end -}}

{{- define "panda.pilotTokenSecret" -}}
{{- .Values.global.pilotToken.existingSecret | default (printf "%s-pilot-token" .Release.Name) -}}
{{- end -}}

{{/* host:port of a gRPC peer; http://<fqdn>:port of the gateway (pilots may run in another namespace). */}}
{{- define "panda.peerAddr" -}}
{{- printf "%s:%v" (include "panda.peerName" .) .root.Values.global.ports.grpc -}}
{{- end -}}

{{- define "panda.gatewayUrl" -}}
{{- printf "http://%s.%s.svc:%v" (include "panda.peerName" (dict "root" . "name" "pilot-gateway")) .Release.Namespace .Values.global.ports.http -}}
{{- end -}}

{{- define "panda.mainPort" -}}
{{- if eq .Values.protocol "http" }}{{ .Values.global.ports.http }}{{ else }}{{ .Values.global.ports.grpc }}{{ end -}}
{{- end -}}

{{/* Where /healthz and /readyz are served: the main port of an HTTP service, PANDA_HEALTH_PORT otherwise. */}}
{{- define "panda.probePortName" -}}
{{- if eq .Values.protocol "http" }}http{{ else }}health{{ end -}}
{{- end -}}

{{/* Whether the service has its own metrics port (metrics.port), not /metrics on its main port. */}}
{{- define "panda.metricsOwnPort" -}}
{{- if and (.Values.metrics).enabled .Values.metrics.port }}true{{ end -}}
{{- end -}}

{{/* Name and number of the port serving /metrics: metrics (metrics.port) or the main port. */}}
{{- define "panda.metricsPortName" -}}
{{- if include "panda.metricsOwnPort" . }}metrics{{ else }}{{ .Values.protocol }}{{ end -}}
{{- end -}}

{{- define "panda.metricsPortNumber" -}}
{{- if include "panda.metricsOwnPort" . }}{{ .Values.metrics.port }}{{ else }}{{ include "panda.mainPort" . }}{{ end -}}
{{- end -}}

{{/* Non-secret PANDA_* settings of a service: the data of its ConfigMap. */}}
{{- define "panda.envData" -}}
{{- $root := . -}}
PANDA_LOG_LEVEL: {{ .Values.global.logLevel | quote }}
{{- if eq .Values.protocol "http" }}
PANDA_HTTP_HOST: "0.0.0.0"
PANDA_HTTP_PORT: {{ .Values.global.ports.http | quote }}
{{- else }}
PANDA_GRPC_HOST: "0.0.0.0"
PANDA_GRPC_PORT: {{ .Values.global.ports.grpc | quote }}
PANDA_HEALTH_HOST: "0.0.0.0"
PANDA_HEALTH_PORT: {{ .Values.global.ports.health | quote }}
{{- end }}
{{- if include "panda.metricsOwnPort" . }}
PANDA_METRICS_HOST: "0.0.0.0"
PANDA_METRICS_PORT: {{ .Values.metrics.port | quote }}
{{- end }}
{{- if .Values.migrations.enabled }}
PANDA_MIGRATE_ON_START: {{ ternary "true" "false" (eq .Values.global.migrations.mode "onStart") | quote }}
{{- end }}
{{- range .Values.needs }}
{{- if eq . "nats" }}
PANDA_NATS_URL: {{ include "panda.natsUrl" $root | quote }}
{{- else if eq . "queues" }}
PANDA_QUEUES_FILE: /etc/panda/queues/queues.json
{{- if $root.Values.global.queues.customResources.watch }}
PANDA_QUEUES_CRD: "true"
PANDA_QUEUES_CRD_NAMESPACE: {{ $root.Release.Namespace | quote }}
{{- end }}
{{- else if eq . "workDir" }}
PANDA_WORK_DIR: /var/lib/panda/work
{{- else if eq . "gateway" }}
PANDA_GATEWAY_URL: {{ include "panda.gatewayUrl" $root | quote }}
{{- else if has . (list "server" "jedi" "idds" "harvester") }}
{{ printf "PANDA_%s_ADDR" (upper .) }}: {{ include "panda.peerAddr" (dict "root" $root "name" .) | quote }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.env }}
{{ $k }}: {{ tpl (toString $v) $root | quote }}
{{- end }}
{{- end -}}

{{/* Settings that come from Secrets, never from values: the database URL and the pilot-token
signing secret (PANDA_PILOT_TOKEN_SECRET: harvester signs worker tokens, pilot-gateway verifies). */}}
{{- define "panda.databaseUrlEnv" -}}
- name: PANDA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "panda.databaseSecret" . }}
      key: {{ include "panda.databaseUrlKey" . }}
{{- end -}}

{{- define "panda.secretEnv" -}}
{{- if has "database" .Values.needs }}
{{ include "panda.databaseUrlEnv" . }}
{{- end }}
{{- if has "pilotToken" .Values.needs }}
- name: PANDA_PILOT_TOKEN_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "panda.pilotTokenSecret" . }}
      key: {{ .Values.global.pilotToken.key }}
{{- end }}
{{- end -}}

{{- define "panda.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.global.securityContext.uid }}
runAsGroup: {{ .Values.global.securityContext.uid }}
fsGroup: {{ .Values.global.securityContext.uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "panda.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* The migrations container: `node dist/main.js migrate` with the database URL only. */}}
{{- define "panda.migrateContainer" -}}
- name: migrate
  image: {{ include "panda.image" . | quote }}
  imagePullPolicy: {{ .Values.global.image.pullPolicy }}
  args: ["migrate"]
  env:
    - name: PANDA_LOG_LEVEL
      value: {{ .Values.global.logLevel | quote }}
    {{- include "panda.databaseUrlEnv" . | nindent 4 }}
  resources:
    {{- toYaml .Values.migrations.resources | nindent 4 }}
  securityContext:
    {{- include "panda.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
{{- end -}}

{{- define "panda.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "panda.fullname" . }}-env
  labels:
    {{- include "panda.labels" . | nindent 4 }}
data:
  {{- include "panda.envData" . | nindent 2 }}
{{- end -}}

{{/* Whether the pods get an API token: to watch PandaQueues, or (harvester) to start pilot pods. */}}
{{- define "panda.automountToken" -}}
{{- $watch := and (has "queues" .Values.needs) .Values.global.queues.customResources.watch -}}
{{- ternary "true" "false" (or .Values.serviceAccount.automountToken $watch (hasKey .Values "workers")) -}}
{{- end -}}

{{- define "panda.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "panda.fullname" . }}
  labels:
    {{- include "panda.labels" . | nindent 4 }}
automountServiceAccountToken: {{ include "panda.automountToken" . }}
{{- end -}}

{{- define "panda.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "panda.fullname" . }}
  labels:
    {{- include "panda.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "panda.selectorLabels" . | nindent 4 }}
  ports:
    - name: {{ .Values.protocol }}
      port: {{ include "panda.mainPort" . }}
      targetPort: {{ .Values.protocol }}
      {{- if eq .Values.protocol "grpc" }}
      appProtocol: grpc
      {{- end }}
    {{- if include "panda.metricsOwnPort" . }}
    - name: metrics
      port: {{ .Values.metrics.port }}
      targetPort: metrics
      appProtocol: http
    {{- end }}
{{- end -}}

{{- define "panda.deployment" -}}
{{- if and .Values.singleton (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) -}}
{{- fail (printf "%s runs as exactly one replica (singleton): set replicaCount 1 and autoscaling.enabled false" .Values.component) -}}
{{- end -}}
{{- if and (.Values.metrics).enabled (not .Values.metrics.port) (ne .Values.protocol "http") -}}
{{- fail (printf "%s serves gRPC on its main port: metrics.enabled needs metrics.port" .Values.component) -}}
{{- end -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "panda.fullname" . }}
  labels:
    {{- include "panda.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if .Values.singleton }}
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "panda.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "panda.labels" . | nindent 8 }}
      annotations:
        checksum/env: {{ include "panda.envData" . | sha256sum }}
        {{- if and (.Values.metrics).enabled .Values.metrics.podAnnotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ include "panda.metricsPortNumber" . | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "panda.fullname" . }}
      automountServiceAccountToken: {{ include "panda.automountToken" . }}
      securityContext:
        {{- include "panda.podSecurityContext" . | nindent 8 }}
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      {{- if and .Values.migrations.enabled (eq .Values.global.migrations.mode "initContainer") }}
      initContainers:
        {{- include "panda.migrateContainer" . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .Values.component }}
          image: {{ include "panda.image" . | quote }}
          imagePullPolicy: {{ .Values.global.image.pullPolicy }}
          envFrom:
            - configMapRef:
                name: {{ include "panda.fullname" . }}-env
          {{- with (include "panda.secretEnv" . | trim) }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          ports:
            - name: {{ .Values.protocol }}
              containerPort: {{ include "panda.mainPort" . }}
            {{- if ne .Values.protocol "http" }}
            - name: health
              containerPort: {{ .Values.global.ports.health }}
            {{- end }}
            {{- if include "panda.metricsOwnPort" . }}
            - name: metrics
              containerPort: {{ .Values.metrics.port }}
            {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: {{ include "panda.probePortName" . }}
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet:
              path: /healthz
              port: {{ include "panda.probePortName" . }}
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: {{ include "panda.probePortName" . }}
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 2
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- include "panda.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with .Values.extraVolumeMounts }}
            {{- tpl (toYaml .) $ | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
        {{- with .Values.extraVolumes }}
        {{- tpl (toYaml .) $ | nindent 8 }}
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{- define "panda.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "panda.fullname" . }}
  labels:
    {{- include "panda.labels" . | nindent 4 }}
spec:
  {{- if .Values.podDisruptionBudget.minAvailable }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "panda.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{- define "panda.hpa" -}}
{{- if .Values.autoscaling.enabled -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "panda.fullname" . }}
  labels:
    {{- include "panda.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "panda.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}
{{- end -}}

{{/*
Database migrations as a pre-install/pre-upgrade hook Job. At that point none of the release's
own objects exist yet (ConfigMap, ServiceAccount, chart-made Secrets), so the Job uses only the
database Secret, which must already exist (global.database.existingSecret).
*/}}
{{- define "panda.migrationJob" -}}
{{- if and .Values.migrations.enabled (eq .Values.global.migrations.mode "hook") -}}
{{- if or .Values.global.secrets.create .Values.global.database.builtin -}}
{{- fail "global.migrations.mode=hook needs a database and Secret that exist before the release (external database, global.secrets.create=false); use mode initContainer with the built-in database" -}}
{{- end -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "panda.fullname" . }}-migrate
  labels:
    {{- include "panda.baseLabels" . | nindent 4 }}
    app.kubernetes.io/name: {{ .Values.component }}-migrate
    app.kubernetes.io/component: migrations
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ .Values.migrations.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migrations.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: 3600
  template:
    metadata:
      labels:
        {{- include "panda.baseLabels" . | nindent 8 }}
        app.kubernetes.io/name: {{ .Values.component }}-migrate
        app.kubernetes.io/component: migrations
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      securityContext:
        {{- include "panda.podSecurityContext" . | nindent 8 }}
      containers:
        {{- include "panda.migrateContainer" . | nindent 8 }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end -}}
{{- end -}}

{{/* A Prometheus Operator ServiceMonitor on the port serving /metrics (metrics.serviceMonitor.enabled). */}}
{{- define "panda.serviceMonitor" -}}
{{- if and (.Values.metrics).enabled (.Values.metrics.serviceMonitor).enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "panda.fullname" . }}
  labels:
    {{- include "panda.labels" . | nindent 4 }}
    {{- with .Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "panda.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: {{ include "panda.metricsPortName" . }}
      path: /metrics
      interval: {{ .Values.metrics.serviceMonitor.interval | default "30s" }}
{{- end -}}
{{- end -}}

{{/* Everything a plain service chart renders. */}}
{{- define "panda.service.all" -}}
{{ include "panda.serviceaccount" . }}
---
{{ include "panda.configmap" . }}
---
{{ include "panda.service" . }}
---
{{ include "panda.deployment" . }}
{{- with (include "panda.pdb" .) }}
---
{{ . }}
{{- end }}
{{- with (include "panda.hpa" .) }}
---
{{ . }}
{{- end }}
{{- with (include "panda.migrationJob" .) }}
---
{{ . }}
{{- end }}
{{- with (include "panda.serviceMonitor" .) }}
---
{{ . }}
{{- end }}
{{- end -}}
