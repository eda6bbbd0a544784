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

{{/* Values the chart cannot honour. */}}
{{- define "warren.validate" -}}
{{- if ne (int .Values.replicaCount) 1 -}}
{{- fail "replicaCount must be 1 for the single node: more pods would be independent brokers behind one Service (cluster.enabled=true runs owners and frontends)" -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) (or (not .Values.tls.cert) (not .Values.tls.key)) -}}
{{- fail "tls.enabled needs tls.existingSecret, or both tls.cert and tls.key" -}}
{{- end -}}
{{- if .Values.cluster.enabled -}}
{{- $owners := int .Values.cluster.owners -}}
{{- if lt $owners 1 -}}
{{- fail "cluster.owners must be at least 1 (3 or more to survive losing an owner)" -}}
{{- end -}}
{{- if lt (int .Values.cluster.frontends) 1 -}}
{{- fail "cluster.frontends must be at least 1: owners accept no AMQP" -}}
{{- end -}}
{{- $port := int .Values.cluster.port -}}
{{- if or (lt $port 1) (gt $port 65535) (eq $port (int .Values.broker.httpPort)) -}}
{{- fail "cluster.port must be a port (1-65535) other than broker.httpPort: an owner listens on both" -}}
{{- end -}}
{{- /* A voluntary eviction must leave a Raft majority of owners (3 owners: maxUnavailable 1). */ -}}
{{- $pdb := .Values.podDisruptionBudget -}}
{{- if and $pdb.enabled (kindIs "string" $pdb.maxUnavailable) -}}
{{- fail "podDisruptionBudget.maxUnavailable must be a count of owners in cluster mode (a percentage rounds up and could take a majority)" -}}
{{- end -}}
{{- if and $pdb.enabled (ge $owners 3) (gt (int $pdb.maxUnavailable) (sub $owners (add1 (div $owners 2)))) -}}
{{- fail (printf "podDisruptionBudget.maxUnavailable=%d would let evictions take %d owners of %d below a majority" (int $pdb.maxUnavailable) (int $pdb.maxUnavailable) $owners) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Cluster mode names. The StatefulSet's name stays within 52 characters so that its pods'
controller-revision-hash label and pod names stay within Kubernetes' 63.
*/}}
{{- define "warren.ownerName" -}}
{{- printf "%s-owner" (include "warren.fullname" . | trunc 45 | trimSuffix "-") -}}
{{- end -}}

{{/* The owners' headless Service: each owner pod's stable DNS name is <pod>.<this>.<namespace>.svc.<domain>. */}}
{{- define "warren.ownersServiceName" -}}
{{- printf "%s-owners" (include "warren.fullname" . | trunc 45 | trimSuffix "-") -}}
{{- end -}}

{{- define "warren.frontendName" -}}
{{- printf "%s-frontend" (include "warren.fullname" . | trunc 45 | trimSuffix "-") -}}
{{- end -}}

{{- define "warren.ownerSelectorLabels" -}}
{{ include "warren.selectorLabels" . }}
app.kubernetes.io/component: owner
{{- end -}}

{{- define "warren.frontendSelectorLabels" -}}
{{ include "warren.selectorLabels" . }}
app.kubernetes.io/component: frontend
{{- end -}}

{{/* The pods that serve clients (AMQP, management API): the single node, or the frontends. */}}
{{- define "warren.servingSelectorLabels" -}}
{{- if .Values.cluster.enabled -}}
{{ include "warren.frontendSelectorLabels" . }}
{{- else -}}
{{ include "warren.selectorLabels" . }}
{{- end -}}
{{- end -}}

{{/*
WARREN_OWNERS: node id i (1..cluster.owners) is the StatefulSet pod with ordinal i-1 (its
WARREN_NODE_ID_FROM_ORDINAL), at that pod's DNS name under the headless Service.
*/}}
{{- define "warren.ownersList" -}}
{{- $sts := include "warren.ownerName" . -}}
{{- $svc := include "warren.ownersServiceName" . -}}
{{- $entries := list -}}
{{- range $i := until (int .Values.cluster.owners) -}}
{{- $entries = append $entries (printf "%d=%s-%d.%s.%s.svc.%s:%d" (add1 $i) $sts $i $svc $.Release.Namespace $.Values.cluster.clusterDomain (int $.Values.cluster.port)) -}}
{{- end -}}
{{- join "," $entries -}}
{{- end -}}
