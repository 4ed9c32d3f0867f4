{{/* The metadata lines each CRD gets (indented under `metadata:`). */}}
{{- define "kinesis-operator-crds.metadata" -}}
{{- if .Values.keep }}
  annotations:
    helm.sh/resource-policy: keep
{{- end }}
  labels:
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/part-of: kinesis-operator
    helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{ end -}}
