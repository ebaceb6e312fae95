{{/* The chart name, or nameOverride. */}}
{{- define "appconfig-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object name: fullnameOverride, else <release>-<chart> unless the release name already holds it. */}}
{{- define "appconfig-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "appconfig-operator.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels that select the operator's pods; never change them, a Deployment's selector is immutable. */}}
{{- define "appconfig-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "appconfig-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "appconfig-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "appconfig-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: appconfig-operator
{{- end }}

{{- define "appconfig-operator.serviceAccountName" -}}
{{- default (include "appconfig-operator.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{- define "appconfig-operator.leaseName" -}}
{{- default (include "appconfig-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "appconfig-operator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Combinations of values the schema cannot express, failed with the value's name and the fix. */}}
{{- define "appconfig-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicaCount is %d but leaderElection.enabled is false: several replicas would reconcile the same resources at once; set leaderElection.enabled=true or replicaCount=1" (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.embeddedEmulator.enabled .Values.aws.endpointUrl }}
{{- fail "embeddedEmulator.enabled and aws.endpointUrl both choose where AppConfig calls go; set only one" }}
{{- end }}
{{- if and .Values.embeddedEmulator.enabled (gt (int .Values.replicaCount) 1) }}
{{- fail "embeddedEmulator.enabled runs a separate emulator in each pod, so replicas would not share AppConfig state; set replicaCount=1 for a try-out" }}
{{- end }}
{{- if and .Values.tenancy.defaultServiceAccount (not .Values.tenancy.enabled) }}
{{- fail "tenancy.defaultServiceAccount needs tenancy.enabled=true: the operator may only act as ServiceAccounts when the chart grants it their tokens" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.service.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.service.enabled=true: the ServiceMonitor scrapes through that Service" }}
{{- end }}
{{- if and .Values.prometheusRule.enabled (not .Values.metrics.serviceMonitor.enabled) (not .Values.prometheusRule.selector) }}
{{- fail "prometheusRule.enabled needs metrics.serviceMonitor.enabled=true, whose job and namespace labels the alerts select the operator's series by, or prometheusRule.selector naming the labels the operator's series have where something else scrapes them" }}
{{- end }}
{{- end }}
