{{/* The chart name, or nameOverride. */}}
{{- define "kinesis-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<release>-<chart>` (just the release when it already holds the chart name), or fullnameOverride. */}}
{{- define "kinesis-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "kinesis-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "kinesis-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kinesis-operator
{{- end -}}

{{/* Selector labels of the operator's pods. */}}
{{- define "kinesis-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kinesis-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* Selector labels of the emulator's pod. */}}
{{- define "kinesis-operator.emulatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "kinesis-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: emulator
{{- end -}}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "kinesis-operator.serviceAccountName" -}}
{{- default (include "kinesis-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The image reference: repository:tag, or repository@digest when a digest is set. */}}
{{- define "kinesis-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The refusal of a value this chart needs and the release lacks. Every key has a default in
values.yaml, so a key is missing only when `helm upgrade --reuse-values` rendered this version
with the values of the version the release came from, which did not have the key yet (Helm
renders an empty flag otherwise, and the operator would not start). */}}
{{- define "kinesis-operator.missingValue" -}}
{{- printf "%s is missing: `helm upgrade --reuse-values` keeps the values of the chart version the release was installed with, which has no %s; upgrade with --reset-then-reuse-values, or with -f and your values file, instead" . . -}}
{{- end -}}

{{/* The emulator's image: with Flink on, the `-flink` variant (Java 17 and the Flink runner,
which `make image` builds beside the plain one); otherwise the operator's own image. */}}
{{- define "kinesis-operator.emulatorImage" -}}
{{- $flink := required (include "kinesis-operator.missingValue" "emulator.flink") .Values.emulator.flink -}}
{{- if not $flink.enabled -}}
{{- include "kinesis-operator.image" . -}}
{{- else -}}
{{- $repository := default .Values.image.repository $flink.image.repository -}}
{{- if $flink.image.digest -}}
{{- printf "%s@%s" $repository $flink.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default (printf "%s-flink" (default .Chart.AppVersion .Values.image.tag)) $flink.image.tag) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when leader election is on: `auto` means on with more than one replica. Two
replicas without it would both reconcile, so that combination is refused. */}}
{{- define "kinesis-operator.leaderElection" -}}
{{- $le := .Values.leaderElection.enabled -}}
{{- if and (kindIs "bool" $le) (not $le) (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "leaderElection.enabled=false with replicaCount=%d: every replica would reconcile the same objects; set replicaCount=1 or leave leaderElection.enabled at auto" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if or (and (kindIs "bool" $le) $le) (and (eq (toString $le) "auto") (gt (int .Values.replicaCount) 1)) -}}
true
{{- end -}}
{{- end -}}

{{/* The leader-election Lease's name. */}}
{{- define "kinesis-operator.leaseName" -}}
{{- default (include "kinesis-operator.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/* The emulator's in-cluster URL. */}}
{{- define "kinesis-operator.emulatorUrl" -}}
{{- printf "http://%s-emulator.%s.svc:%d" (include "kinesis-operator.fullname" .) .Release.Namespace (int .Values.emulator.port) -}}
{{- end -}}

{{/*
The kinds the operator reconciles, as RBAC resource names (plural). The operator's own
Role/ClusterRole grants exactly these; adding a reconciled kind is one more entry here, and
tests/chart.rs proves the grant is used.
*/}}
{{- define "kinesis-operator.reconciledResources" -}}
- kinesisstreams
- deliverystreams
- analyticsapplications
- streampolicies
{{- end -}}

{{/* Every kind of the API (what users are granted through the aggregated roles). */}}
{{- define "kinesis-operator.allResources" -}}
- kinesisstreams
- deliverystreams
- analyticsapplications
- streampolicies
{{- end -}}
