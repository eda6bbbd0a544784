{{/*
Pod pieces shared by the single node's StatefulSet, the owners' StatefulSet and the frontends'
Deployment, so the three cannot drift apart.
*/}}

{{/*
Pod-level settings: pull secrets, grace period, security context, placement. Call with
(dict "root" $ "selector" <selector labels>): anti-affinity spreads the pods that selector matches.
*/}}
{{- define "warren.podSettings" -}}
{{- $root := .root -}}
{{- with $root.Values.imagePullSecrets -}}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{ end -}}
# SIGTERM → stop accepting, connection.close 320 to clients, exit within the grace period.
terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $root.Values.affinity }}
affinity:
  {{- toYaml $root.Values.affinity | nindent 2 }}
{{- else if eq $root.Values.podAntiAffinity "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- .selector | nindent 12 }}
{{- else if eq $root.Values.podAntiAffinity "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- .selector | nindent 14 }}
{{- end }}
{{- end -}}

{{/*
The Warren config file (default user), with TLS the certificate files, then broker.extraEnv.
Call with (dict "root" $ "tls" <bool>): owners take no AMQP, so they get no certificate.
*/}}
{{- define "warren.configEnv" -}}
{{- $root := .root -}}
- name: WARREN_CONFIG
  value: /etc/warren/secret/warren.json
{{- if .tls }}
- name: WARREN_TLS_CERT
  value: /etc/warren/tls/tls.crt
- name: WARREN_TLS_KEY
  value: /etc/warren/tls/tls.key
{{- if or $root.Values.tls.ca (and $root.Values.tls.existingSecret $root.Values.tls.existingSecretHasCa) }}
- name: WARREN_TLS_CA
  value: /etc/warren/tls/ca.crt
{{- end }}
{{- end }}
{{- with $root.Values.broker.extraEnv }}
{{- toYaml . | nindent 0 }}
{{- end }}
{{- end -}}

{{/* Startup and liveness on /healthz, readiness on /readyz, all on the HTTP port; preStop sleep. */}}
{{- define "warren.probes" -}}
startupProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: 2
  failureThreshold: 60
readinessProbe:
  httpGet: { path: /readyz, port: http }
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: 10
  failureThreshold: 3
{{- if gt (int .Values.preStopSleepSeconds) 0 }}
lifecycle:
  preStop:
    exec:
      command: ["sleep", {{ .Values.preStopSleepSeconds | quote }}]
{{- end }}
{{- end -}}

{{/*
Volumes from the chart's Secrets and the writable /tmp (the root filesystem is read-only).
Call with (dict "root" $ "tls" <bool>), as warren.configEnv.
*/}}
{{- define "warren.configVolumes" -}}
- name: default-user
  secret:
    secretName: {{ include "warren.userSecretName" .root }}
    items:
      - key: warren.json
        path: warren.json
{{- if .tls }}
- name: tls
  secret:
    secretName: {{ include "warren.tlsSecretName" .root }}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{/* The owners' per-pod PVC at /data. */}}
{{- define "warren.dataClaimTemplate" -}}
- metadata:
    name: data
    labels:
      {{- .selector | nindent 6 }}
  spec:
    accessModes:
      {{- toYaml .root.Values.persistence.accessModes | nindent 6 }}
    {{- if .root.Values.persistence.storageClass }}
    storageClassName: {{ .root.Values.persistence.storageClass | quote }}
    {{- end }}
    resources:
      requests:
        storage: {{ .root.Values.persistence.size }}
{{- end -}}
