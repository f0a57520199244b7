{{/* Name prefix of every object: the release name, plus the chart name when they differ. */}}
{{- define "panda.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Common labels (selector labels are added next to them). */}}
{{- define "panda.labels" -}}
app.kubernetes.io/part-of: panda
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" $name). */}}
{{- define "panda.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* host:port of a gRPC service, http://host:port of an HTTP one; (dict "root" $ "name" $name). */}}
{{- define "panda.address" -}}
{{- $svc := index .root.Values.services .name -}}
{{- $host := printf "%s-%s" (include "panda.fullname" .root) .name -}}
{{- if eq $svc.protocol "http" -}}
http://{{ $host }}:{{ $svc.port }}
{{- else -}}
{{ $host }}:{{ $svc.port }}
{{- end -}}
{{- end -}}

{{/* The PANDA_* environment of one service; (dict "root" $ "name" $name "svc" $svc). */}}
{{- define "panda.env" -}}
{{- $root := .root -}}
- name: PANDA_LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
{{- if eq .svc.protocol "http" }}
- name: PANDA_HTTP_HOST
  value: "0.0.0.0"
- name: PANDA_HTTP_PORT
  value: {{ .svc.port | quote }}
{{- else }}
- name: PANDA_GRPC_HOST
  value: "0.0.0.0"
- name: PANDA_GRPC_PORT
  value: {{ .svc.port | quote }}
{{- end }}
{{- range .svc.needs }}
{{- if eq . "database" }}
- name: PANDA_DATABASE_URL
  value: {{ $root.Values.database.url | quote }}
{{- else if eq . "nats" }}
- name: PANDA_NATS_URL
  value: {{ $root.Values.nats.url | quote }}
{{- else if eq . "queues" }}
- name: PANDA_QUEUES_FILE
  value: /etc/panda/queues.json
{{- else if eq . "workDir" }}
- name: PANDA_WORK_DIR
  value: /var/lib/panda/work
{{- else if eq . "gateway" }}
- name: PANDA_GATEWAY_URL
  value: {{ include "panda.address" (dict "root" $root "name" "pilot-gateway") | quote }}
{{- else }}
- name: {{ printf "PANDA_%s_ADDR" (upper .) }}
  value: {{ include "panda.address" (dict "root" $root "name" .) | quote }}
{{- end }}
{{- end }}
{{- end -}}
