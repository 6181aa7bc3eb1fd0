{{/*
Chart name, truncated to the 63 characters a label value allows.
*/}}
{{- define "zaqar-bridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: the release name, plus the chart name unless the
release name already contains it.
*/}}
{{- define "zaqar-bridge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "zaqar-bridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of a release (a Deployment's selector is immutable).
*/}}
{{- define "zaqar-bridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zaqar-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels of every object.
*/}}
{{- define "zaqar-bridge.labels" -}}
helm.sh/chart: {{ include "zaqar-bridge.chart" . }}
{{ include "zaqar-bridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: zaqar-bridge
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "zaqar-bridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zaqar-bridge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "zaqar-bridge.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Where the ConfigMap and the message-schema ConfigMap are mounted. */}}
{{- define "zaqar-bridge.configDir" -}}/etc/zaqar-bridge/config{{- end }}
{{- define "zaqar-bridge.schemaDir" -}}/etc/zaqar-bridge/schemas{{- end }}

{{/*
The app's config file (schemas/config.schema.json): `.Values.config` plus the backend the
chart derives from `rabbitmq` / `memory`, and the schema directory when one is mounted.
`server` is set through HOST/PORT/WS_PORT in the Deployment instead. The RabbitMQ URL is
not here: it comes from the Secret as RABBITMQ_URL.
*/}}
{{- define "zaqar-bridge.configJson" -}}
{{- $config := deepCopy .Values.config }}
{{- if .Values.rabbitmq.enabled }}
{{- $rabbit := dict "type" "rabbitmq" "exchange" .Values.rabbitmq.exchange }}
{{- if .Values.rabbitmq.streamClusterSize }}
{{- $_ := set $rabbit "streamClusterSize" (int .Values.rabbitmq.streamClusterSize) }}
{{- end }}
{{- $_ := set $config "backend" $rabbit }}
{{- else }}
{{- $backend := dict "type" "memory" }}
{{- if not (kindIs "invalid" .Values.memory.retentionMs) }}
{{- $_ := set $backend "retentionMs" (int64 .Values.memory.retentionMs) }}
{{- end }}
{{- $_ := set $config "backend" $backend }}
{{- end }}
{{- if .Values.messageSchemasConfigMap }}
{{- $validation := get $config "validation" | default dict }}
{{- $_ := set $validation "schemaDir" (include "zaqar-bridge.schemaDir" .) }}
{{- $_ := set $config "validation" $validation }}
{{- end }}
{{- toJson $config }}
{{- end }}

{{/* The shutdown deadline in whole seconds, rounded up. */}}
{{- define "zaqar-bridge.shutdownSeconds" -}}
{{- $ms := int64 (dig "shutdown" "timeoutMs" 10000 .Values.config) }}
{{- div (add $ms 999) 1000 }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the preStop sleep, then the app's own deadline, then 5 s of
slack before the kubelet's SIGKILL (style point 16: the deadline must be shorter than the
grace period minus the preStop sleep).
*/}}
{{- define "zaqar-bridge.gracePeriodSeconds" -}}
{{- $sleep := int64 .Values.termination.preStopSleepSeconds }}
{{- $deadline := int64 (include "zaqar-bridge.shutdownSeconds" .) }}
{{- if kindIs "invalid" .Values.termination.gracePeriodSeconds }}
{{- add $sleep $deadline 5 }}
{{- else }}
{{- $grace := int64 .Values.termination.gracePeriodSeconds }}
{{- if le $grace (add $sleep $deadline) }}
{{- fail (printf "termination.gracePeriodSeconds (%d) must exceed termination.preStopSleepSeconds (%d) + config.shutdown.timeoutMs in seconds (%d): otherwise the kubelet kills the pod before its graceful shutdown can finish" $grace $sleep $deadline) }}
{{- end }}
{{- $grace }}
{{- end }}
{{- end }}

{{/*
Refuses value combinations that would deploy something broken. Included by deployment.yaml.
*/}}
{{- define "zaqar-bridge.validate" -}}
{{- if .Values.rabbitmq.enabled }}
{{- if not .Values.rabbitmq.existingSecret }}
{{- fail "rabbitmq.enabled needs rabbitmq.existingSecret: the name of a Secret holding the AMQP URL under rabbitmq.secretKey (the chart never creates it)" }}
{{- end }}
{{- else }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount is %d but the memory backend runs as a single replica (each pod would hold its own, unrelated store); set rabbitmq.enabled=true to scale" (int .Values.replicaCount)) }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- fail "autoscaling.enabled needs the RabbitMQ backend: the memory backend runs as a single replica" }}
{{- end }}
{{- if .Values.podDisruptionBudget.enabled }}
{{- fail "podDisruptionBudget.enabled needs the RabbitMQ backend: on the single memory-backend replica it would only block node drains" }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not .Values.autoscaling.targetCPUUtilizationPercentage) (not .Values.autoscaling.targetMemoryUtilizationPercentage) }}
{{- fail "autoscaling.enabled needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both" }}
{{- end }}
{{- include "zaqar-bridge.validateLimits" . }}
{{- end }}

{{/*
The app's cross-field rule min <= default <= max on config.limits, with the app's defaults
(schemas/config.schema.json) for what is not set: refused here rather than crash-looping at boot.
*/}}
{{- define "zaqar-bridge.validateLimits" -}}
{{- $l := .Values.config.limits | default dict }}
{{- $rules := list
  (list "defaultMessageTtl" "minMessageTtl" 60 "defaultMessageTtl" 3600 "maxMessageTtl" 1209600)
  (list "defaultClaimTtl" "minClaimTtl" 60 "defaultClaimTtl" 300 "maxClaimTtl" 43200)
  (list "defaultClaimGrace" "minClaimGrace" 60 "defaultClaimGrace" 60 "maxClaimGrace" 43200)
  (list "defaultPageSize" "" 1 "defaultPageSize" 10 "maxMessagesPerPage" 20) }}
{{- range $rules }}
{{- $min := index . 2 }}{{- if and (ne (index . 1) "") (hasKey $l (index . 1)) }}{{- $min = index $l (index . 1) }}{{- end }}
{{- $val := index . 4 }}{{- if hasKey $l (index . 3) }}{{- $val = index $l (index . 3) }}{{- end }}
{{- $max := index . 6 }}{{- if hasKey $l (index . 5) }}{{- $max = index $l (index . 5) }}{{- end }}
{{- if or (lt (int64 $val) (int64 $min)) (gt (int64 $val) (int64 $max)) }}
{{- fail (printf "config.limits.%s must be between %d and %d (got %d): the service refuses it at boot" (index . 0) (int64 $min) (int64 $max) (int64 $val)) }}
{{- end }}
{{- end }}
{{- $subMin := 60 }}{{- if hasKey $l "minSubscriptionTtl" }}{{- $subMin = index $l "minSubscriptionTtl" }}{{- end }}
{{- if and (hasKey $l "defaultSubscriptionTtl") (lt (int64 (index $l "defaultSubscriptionTtl")) (int64 $subMin)) }}
{{- fail (printf "config.limits.defaultSubscriptionTtl must be at least %d: the service refuses it at boot" (int64 $subMin)) }}
{{- end }}
{{- end }}
