{{/* Names and labels shared by every manifest of the chart. */}}

{{- define "flashpoint.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flashpoint.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "flashpoint.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flashpoint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "flashpoint.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "flashpoint.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "flashpoint.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "flashpoint.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "flashpoint.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The Secret with FLASHPOINT_* secret settings: the user's own, or the chart's from secretEnv. */}}
{{- define "flashpoint.secretName" -}}
{{- if .Values.kafka.existingSecret -}}
{{- .Values.kafka.existingSecret -}}
{{- else if .Values.kafka.secretEnv -}}
{{- printf "%s-kafka" (include "flashpoint.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Settings the chart owns: a pod listens beyond loopback and keeps Faust's state in its volume. */}}
{{- define "flashpoint.chartSettings" -}}
FLASHPOINT_WEB_HOST: "0.0.0.0"
FLASHPOINT_WEB_PORT: {{ .Values.web.port | quote }}
FLASHPOINT_DATA_DIR: /app/data
{{- end -}}

{{/* The Kafka bootstrap servers (host:port,...) from the Faust broker URL(s). */}}
{{- define "flashpoint.bootstrapServers" -}}
{{- $urls := splitList ";" (.Values.settings.FLASHPOINT_BROKER | replace "," ";") -}}
{{- $hosts := list -}}
{{- range $urls -}}
{{- $host := . | trim | trimPrefix "kafka://" -}}
{{- if $host }}{{ $hosts = append $hosts $host }}{{ end -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end -}}

{{/* Environment, volumes and security shared by the worker and the topic-init Job. */}}
{{- define "flashpoint.envFrom" -}}
- configMapRef:
    name: {{ include "flashpoint.fullname" . }}
{{- with include "flashpoint.secretName" . }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end -}}

{{- define "flashpoint.volumeMounts" -}}
- name: data
  mountPath: /app/data
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: {{ .Values.kafka.tls.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "flashpoint.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "flashpoint.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "flashpoint.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
