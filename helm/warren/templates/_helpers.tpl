{{/* Chart name, truncated to the 63-character DNS label limit. */}}
{{- define "warren.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name; the release name alone if it already contains the chart name. */}}
{{- define "warren.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "warren.selectorLabels" -}}
app.kubernetes.io/name: {{ include "warren.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "warren.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "warren.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: warren
{{- end -}}

{{- define "warren.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Secret holding warren.json with the default user (created by the chart unless existingSecret). */}}
{{- define "warren.userSecretName" -}}
{{- default (printf "%s-default-user" (include "warren.fullname" .)) .Values.defaultUser.existingSecret -}}
{{- end -}}

{{- define "warren.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "warren.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{/* Refuse values that need clustering, which is not available yet. */}}
{{- define "warren.validate" -}}
{{- if .Values.cluster.enabled -}}
{{- fail "cluster.enabled=true: clustering (owners over gRPC, Raft) is not available yet; see docs/operations.md" -}}
{{- end -}}
{{- if ne (int .Values.replicaCount) 1 -}}
{{- fail "replicaCount must be 1 until clustering lands: more pods would be independent brokers behind one Service" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) (or (not .Values.tls.cert) (not .Values.tls.key)) -}}
{{- fail "tls.enabled needs tls.existingSecret, or both tls.cert and tls.key" -}}
{{- end -}}
{{- end -}}
