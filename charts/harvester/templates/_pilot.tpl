{{- define "panda.pilotPod" -}}
apiVersion: v1
kind: Pod
metadata:
  namespace: {{ .Values.workers.namespace | default .Release.Namespace }}
  labels:
    app.kubernetes.io/name: pilot
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/part-of: panda
    app.kubernetes.io/component: pilot
    app.kubernetes.io/managed-by: {{ include "panda.fullname" . }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ .Release.Name }}-pilot
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- include "panda.podSecurityContext" . | nindent 4 }}
  containers:
    - name: pilot
      image: {{ include "panda.imageRef" (dict "root" . "image" .Values.workers.image "component" "pilot") | quote }}
      imagePullPolicy: {{ .Values.global.image.pullPolicy }}
      env:
        - name: PANDA_PILOT_GATEWAY_URL
          value: {{ include "panda.gatewayUrl" . | quote }}
        - name: PANDA_PILOT_WORK_DIR
          value: /work
        - name: PANDA_PILOT_LOG_LEVEL
          value: {{ .Values.global.logLevel | quote }}
      resources:
        {{- toYaml .Values.workers.resources | nindent 8 }}
      securityContext:
        {{- include "panda.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: work
          mountPath: /work
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: work
      emptyDir:
        sizeLimit: {{ .Values.workers.workDirSizeLimit }}
    - name: tmp
      emptyDir:
        sizeLimit: 1Gi
  {{- with .Values.workers.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.workers.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
